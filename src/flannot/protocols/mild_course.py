"""The MILD course: the sequence of images a proceduralist works through, and where to stop.

Each :class:`CourseStep` is one image of the sequence (true AP at the target level,
lateral, contralateral-oblique epidurogram, portal docked on the lamina, bone-rongeur
laminotomy, tissue sculpter in the ligamentum flavum) with what it must show and the
do-not-proceed criteria (the protocol's ``decision_reasons``) judged on it. Teaching
notes of sample cases are written from it (:func:`step_notes`), and
``docs/mild-course.md`` is its long form with every source (the tests keep the two
in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from flannot.protocols.mild import MILD

__all__ = ["COURSE", "SOURCES", "CourseStep", "course_markdown", "step", "step_notes"]

#: The references the steps cite by key (full citations: docs/mild-course.md).
SOURCES: dict[str, str] = {
    "brown": (
        "Brown LL. Minimally invasive lumbar decompression (MILD procedure), ch. 38 of an "
        "interventional pain atlas (indications and relevant clinical contraindications)"
    ),
    "deer2012": (
        "Deer TR, Kim CK, Bowman RG, et al. Study of percutaneous lumbar decompression and "
        "treatment algorithm for patients suffering from neurogenic claudication. "
        "Pain Physician 2012;15:451-460"
    ),
    "ifu": "Vertos Medical. mild® Devices Kit — Instructions for Use",
    "furman2012": (
        "Furman MB, Jasper NR, Lin HW. Fluoroscopic contralateral oblique view in interlaminar "
        "interventions: a technical note. Pain Med 2012;13:1389-1396"
    ),
    "gill2015": (
        "Gill JS, Aner M, Nagda JV, et al. Contralateral oblique view is superior to the "
        "lateral view for lumbar epidural access. Pain Med 2015;16:68-80"
    ),
    "furman2018": (
        "Furman MB, Lee TS, Berkwits L. Atlas of Image-Guided Spinal Procedures, 2nd ed. "
        "Elsevier 2018"
    ),
    "mody2008": (
        "Mody MG, Nourbakhsh A, Stahl DL, et al. The prevalence of wrong level surgery among "
        "spine surgeons. Spine 2008;33:194-198"
    ),
    "meyerding": "Meyerding HW. Spondylolisthesis. Surg Gynecol Obstet 1932;54:371-377",
    "mist": (
        "Deer TR, et al. The MIST guidelines. Pain Pract 2019;19:250-274 (LF >= 2.5 mm on MRI/CT)"
    ),
    "encore": (
        "MiDAS ENCORE: Benyamin RM, Staats PS, et al., Pain Physician 2016 (6-month and "
        "1-year reports, PMID 26815247 and 27228511); Staats PS, Chafin TB, Golovac S, et al., "
        "Reg Anesth Pain Med 2018;43:789-794 (2 years)"
    ),
}


@dataclass(frozen=True)
class CourseStep:
    """One image of the MILD sequence.

    Attributes
    ----------
    key
        Short name (``ap``, ``lateral``, ``clo_epidurogram``, ``dock``, ``laminotomy``,
        ``sculpt``).
    title
        Heading for notes and docs.
    view
        The protocol view the image is taken in (``ap``, ``lateral``, ``clo-left``).
    instrument
        The instrument in the image, if any (a protocol ``instruments`` value).
    look_for
        What the image must show before the operator goes on, in a teacher's words.
    stop_if
        Keys of the protocol's ``decision_reasons`` judged on this image.
    sources
        Keys of :data:`SOURCES`.
    """

    key: str
    title: str
    view: str
    instrument: str | None
    look_for: str
    stop_if: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


COURSE: tuple[CourseStep, ...] = (
    CourseStep(
        "ap",
        "True AP at the target level",
        "ap",
        None,
        "Count the levels up from the sacrum and centre the target interspace. Tilt the C-arm "
        "until the endplates of the target level are squared (each a single line, not an "
        "oval) and the spinous process sits midway between the pedicles. A level counted "
        "wrongly here makes every later image a wrong-level procedure.",
        (),
        ("furman2018", "mody2008"),
    ),
    CourseStep(
        "lateral",
        "Lateral",
        "lateral",
        None,
        "Confirm the level and see the depth of the laminae and the spinolaminar line. The "
        "lateral also shows a slip of one vertebra on the next: a slip of a quarter of the "
        "endplate or more (Meyerding grade II) is outside the indication for MILD.",
        ("spondylolisthesis_grade2",),
        ("brown", "meyerding"),
    ),
    CourseStep(
        "clo_epidurogram",
        "Contralateral-oblique epidurogram",
        "clo-left",
        "needle",
        "Turn the C-arm about 45-50° away from the side of approach: the laminae look like "
        "ellipses, the interlaminar window opens, and the ventral interlaminar line (VILL) "
        "joins their ventral margins. Contrast through an epidural needle outlines the dorsal "
        "epidural space at the target level and side: the line no instrument may cross. If "
        "that contrast is not seen at the level and side, there is no safety line.",
        ("epidurogram_not_at_target",),
        ("brown", "furman2012", "gill2015", "deer2012"),
    ),
    CourseStep(
        "dock",
        "Portal docked on the lamina",
        "clo-left",
        "portal",
        "The 6 G portal is advanced with its trocar and docked on the dorsal surface of the "
        "lamina of the target level — on bone, dorsal to the ligamentum flavum, the contrast "
        "and the VILL. A lamina with no shelf to dock on means the portal has nothing to rest "
        "on at this level.",
        ("no_laminar_shelf",),
        ("brown", "deer2012", "ifu"),
    ),
    CourseStep(
        "laminotomy",
        "Bone rongeur: laminotomy",
        "clo-left",
        "bone_rongeur",
        "Through the portal, the bone rongeur removes small pieces of the lamina to open a "
        "window onto the ligamentum flavum; its tip stays dorsal to the contrast line and "
        "the VILL in every image.",
        (),
        ("deer2012", "ifu"),
    ),
    CourseStep(
        "sculpt",
        "Tissue sculpter: ligamentum flavum removed",
        "clo-left",
        "tissue_sculpter",
        "The tissue sculpter removes hypertrophic ligamentum flavum through the laminotomy, "
        "piece by piece, still dorsal to the contrast line and the VILL. Whether the ligament "
        "is hypertrophic (2.5 mm or more) was decided on the MRI or CT before the procedure, "
        "not on these projections.",
        (),
        ("deer2012", "ifu", "mist"),
    ),
)


def step(key: str) -> CourseStep:
    """The course step called ``key``; ``KeyError`` when there is none."""
    for s in COURSE:
        if s.key == key:
            return s
    raise KeyError(key)


def step_notes(key: str, stop_reason: str | None = None) -> str:
    """Teaching notes (Markdown) for a case showing step ``key``.

    Parameters
    ----------
    key
        A :data:`COURSE` step.
    stop_reason
        When the case's right answer is "do not proceed", the protocol's reason key;
        the notes then say what the operator does instead.
    """
    s = step(key)
    lines = [f"**{s.title}.** {s.look_for}"]
    stops = [MILD.decision_reason(k) for k in s.stop_if]
    if stops:
        lines.append("Stop here if: " + "; ".join(r.label for r in stops if r is not None) + ".")
    if stop_reason is not None:
        reason = MILD.decision_reason(stop_reason)
        if reason is None:
            raise KeyError(stop_reason)
        lines.append(f"**The right answer here is do not proceed: {reason.label}.** "
                     f"{reason.action[:1].upper()}{reason.action[1:]}.")  # fmt: skip
    lines.append("Sources: " + "; ".join(SOURCES[k] for k in s.sources) + ".")
    return "\n\n".join(lines)


def course_markdown() -> str:
    """The course as a Markdown list of steps with their stop criteria (for docs and notes)."""
    out = []
    for i, s in enumerate(COURSE, 1):
        view = f"view `{s.view}`" + (f", instrument `{s.instrument}`" if s.instrument else "")
        out.append(f"{i}. **{s.title}** ({view}). {s.look_for}")
        for k in s.stop_if:
            r = MILD.decision_reason(k)
            if r is not None:
                out.append(f"   - do not proceed (`{k}`): {r.label}")
    return "\n".join(out)
