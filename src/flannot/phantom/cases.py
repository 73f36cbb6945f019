"""The sample cases: images, reference annotations and truth from the exact geometry.

Each case renders one view of the phantom (:mod:`~flannot.phantom.anatomy`,
:mod:`~flannot.phantom.project`) into an XA object
(:mod:`~flannot.phantom.dicom_writer`) and writes the answer key straight from
the phantom's geometry: the annotation shapes are *constructed* so that their
exact geometric measure is the truth value (an LF band whose inscribed diameter is
the LF thickness, a canal polygon whose narrowest width across its long axis is the
canal width, and so on). Truth is in the image's calibrated mm: the isocentre
(patient-plane) mm for ``magnification_corrected`` images and the detector mm
(patient mm × SID/SOD) for ``detector_plane`` images.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from skimage.measure import points_in_poly

from flannot.phantom import anatomy as A
from flannot.phantom.burn import text_mask
from flannot.phantom.dicom_writer import XAParams, build_xa
from flannot.phantom.project import (
    BODY_A,
    BODY_B,
    BODY_Y,
    Exposure,
    View,
    body_chord,
    expose,
    project,
    project_solid,
    to_stored,
    trabecular_texture,
)

SID = 1000.0  # source–detector distance, mm
SOD = 800.0  # source–isocentre distance, mm
MAG = SID / SOD  # 1.25 at the isocentre
DETECTOR_PIXEL = 0.6  # 0.3 mm flat-panel pixels binned 2 × 2 (fluoroscopy mode)
ISO_SPACING = DETECTOR_PIXEL / MAG  # 0.48 mm at the isocentre
CREATED = "2026-11-21T10:00:00Z"
AUTHOR = "flannot phantom (reference)"
CANNULA_ANGLE = 40.0  # portal inclination to the image horizontal in the CLO view, degrees


@dataclass(frozen=True)
class CaseDef:
    """How one sample case is made."""

    case_id: str
    title: str
    view: str  # ap | lateral | oblique
    angle: float  # C-arm rotation about the long axis (see project.View)
    variant: str  # normal | hypertrophic
    calibration: str  # ermf | distances | ermf+distances | detector
    photometric: str = "MONOCHROME2"
    transfer_syntax: str = "explicit"
    size: int = 512
    bits: int = 12
    frames: int = 1
    side: str | None = None  # LF side seen in profile (obliques)
    ball: bool = False
    burned_in: bool = True
    modality: str = "XA"
    notes: str = ""


CASES: tuple[CaseDef, ...] = (
    CaseDef(
        "ap",
        "AP lumbar spine T12–S1",
        "ap",
        0.0,
        "normal",
        "detector",
        notes=(
            "**AP view.** Count from the last rib-bearing vertebra (T12) down to S1; the "
            "pedicles are the paired ovals (the 'eyes'), the spinous processes sit in the "
            "midline and the **interlaminar windows** are the lucent gaps between the "
            "laminae, bounded laterally by the inferior articular processes. They widen "
            "caudally (≈17 mm at L1-L2 to ≈31 mm at L5-S1).\n\n"
            "**Calibration: detector plane.** The header has Imager Pixel Spacing only, so "
            "every mm here is measured at the detector: anatomy at the isocentre is "
            "magnified by SID/SOD = 1.25, and all reference values are 25 % larger than "
            "the patient's true dimensions."
        ),
    ),
    CaseDef(
        "lateral",
        "Lateral lumbar spine T12–S1, calibration sphere",
        "lateral",
        90.0,
        "normal",
        "ermf+distances",
        ball=True,
        notes=(
            "**Lateral view.** Mark the four body corners of L1–S1 (superior-anterior, "
            "superior-posterior, inferior-posterior, inferior-anterior). The **spinal "
            "canal** is the band between the posterior vertebral body line and the "
            "laminae/spinous-process bases; normal bony AP diameter 13–15 mm.\n\n"
            "**Calibration:** Estimated Radiographic Magnification Factor 1.25 (SID 1000, "
            "SOD 800): mm are corrected to the isocentre plane. The 25 mm steel sphere "
            "taped over the spinous processes lies at the isocentre depth, so a user "
            "calibration on it agrees with the header."
        ),
    ),
    CaseDef(
        "clo-left",
        "Contralateral oblique 45°, left LF normal, epidurogram",
        "oblique",
        45.0,
        "normal",
        "distances",
        side="left",
        notes=(
            "**Contralateral oblique (45°).** The beam runs along the left lamina, so the "
            "left lamina is seen in profile and the **epidural contrast line** outlines the "
            "ventral surface of the left ligamentum flavum. The LF is the lucent band "
            "between the ventral lamina line and the contrast line: here **normal, ≈3.1 mm**. "
            "flannot reports the thickness with its calibration but no `hypertrophic` flag: "
            "the MIST 2.5 mm threshold is an MRI criterion, measured on an axial slice, and "
            "is never applied to a projection. Compare with *clo-right-hypertrophic*.\n\n"
            "Look for the 'scottie dog': transverse process (nose), pedicle (eye), superior "
            "articular process (ear), pars (neck), inferior articular process (front leg).\n\n"
            "**Calibration:** from Distance Source to Patient/Detector (patient-plane mm)."
        ),
    ),
    CaseDef(
        "clo-right-hypertrophic",
        "Contralateral oblique 45°, right LF hypertrophic",
        "oblique",
        135.0,
        "hypertrophic",
        "ermf",
        side="right",
        transfer_syntax="rle",
        notes=(
            "**Contralateral oblique (45°), right side.** Compare with *clo-left*: the band "
            "between the lamina and the contrast line is **≈5 mm (hypertrophic)** at L3-L4 "
            "and L4-L5. Hypertrophy is diagnosed on axial MRI (the MIST consensus threshold "
            "for percutaneous decompression is ≥ 2.5 mm, an MRI criterion), so flannot "
            "shows the thickness here without a diagnostic flag. This is the tissue MILD "
            "removes, always working dorsal to the contrast line.\n\n"
            "**Calibration:** Estimated Radiographic Magnification Factor only. "
            "**Transfer syntax:** RLE lossless."
        ),
    ),
    CaseDef(
        "lateral-stenotic",
        "Lateral lumbar spine, central stenosis L4-L5",
        "lateral",
        90.0,
        "hypertrophic",
        "ermf+distances",
        photometric="MONOCHROME1",
        transfer_syntax="rle",
        modality="DX",
        notes=(
            "**Lateral view, degenerative stenosis.** The bony canal is normal; disc bulge "
            "ventrally and LF hypertrophy/buckling dorsally narrow it at the disc levels: "
            "L3-L4 ≈10.8 mm and L4-L5 ≈8.4 mm. Stenosis is graded on axial CT/MR (Verbiest: "
            "relative 10–13 mm, absolute < 10 mm), so this projection reports the widths "
            "with their calibration and no grade.\n\n"
            "**A digital spot image (DX) stored MONOCHROME1** (white = 0, Presentation LUT "
            "Shape INVERSE): a correct viewer inverts it exactly once, so bone still shows "
            "white."
        ),
    ),
    CaseDef(
        "cine",
        "CLO 45° cine: 6 G portal advancing to L4-L5 left",
        "oblique",
        45.0,
        "hypertrophic",
        "ermf+distances",
        side="left",
        transfer_syntax="jpegls",
        size=384,
        bits=8,
        frames=24,
        burned_in=False,
        notes=(
            "**Cine, contralateral oblique.** The 5.1 mm (6 G) portal advances from a "
            "caudal paramedian entry toward the left L4-L5 interlaminar space. Watch "
            "**tip_to_contrast**: the tip must stay dorsal to (on the entry side of) the "
            "epidural contrast line in every frame.\n\n"
            "**Caution:** this diagrammatic phantom's last frame stops with the tip inside "
            "the ligamentum flavum band. That is not where a MILD portal is docked: in MILD "
            "the portal is docked on the dorsal surface of the lamina, a bone rongeur makes "
            "the laminotomy, and only then do tissue sculpters remove ligament.\n\n"
            "**Transfer syntax:** JPEG-LS lossless, 8 bit, 24 frames at 8 fps."
        ),
    ),
)

CANAL_MIN_WIDTH = {  # (variant, interspace) -> narrowest canal width at the disc, mm
    ("normal", "L3-L4"): 13.6,
    ("normal", "L4-L5"): 13.4,
    ("hypertrophic", "L3-L4"): 10.8,
    ("hypertrophic", "L4-L5"): 8.4,
}


@dataclass
class GeneratedCase:
    """A case in memory: the DICOM dataset, the pixel frames and the answer key."""

    definition: CaseDef
    dataset: Any  # pydicom.Dataset
    stored: NDArray[np.integer]  # (frames, rows, cols) stored values
    annotations: dict[str, Any]
    truth: dict[str, Any]
    spacing_mm: float
    calibration: str
    display: NDArray[np.uint8] | None = field(repr=False, default=None)  # (frames, rows, cols)


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


def _pts(points: NDArray[np.float64]) -> list[list[float]]:
    return [[_r(r), _r(c)] for r, c in np.asarray(points, float)]


def _shoelace(p: NDArray[np.float64]) -> float:
    y, x = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _max_feret(p: NDArray[np.float64]) -> float:
    d = p[:, None, :] - p[None, :, :]
    return float(np.sqrt((d**2).sum(-1)).max())


def _point_polyline(p: NDArray[np.float64], line: NDArray[np.float64]) -> float:
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.clip(((p - a) * ab).sum(1) / (ab**2).sum(1), 0.0, 1.0)
    return float(np.hypot(*(p - (a + t[:, None] * ab)).T).min())


class _Key:
    """Collects annotations and truth rows for one case."""

    def __init__(self, case: CaseDef, spacing: float) -> None:
        self.case = case
        self.spacing = spacing  # the image's calibrated mm per pixel
        self.annotations: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        ann_id: str,
        type_: str,
        kind: str,
        points,
        *,
        frame: int = 0,
        level: str | None = None,
        side: str | None = None,
        note: str = "",
        **extra: Any,
    ) -> NDArray[np.float64]:
        pts = np.array(_pts(points))
        ann: dict[str, Any] = {"id": ann_id, "type": type_}
        if level is not None:
            ann["level"] = level
        if side is not None:
            ann["side"] = side
        ann.update(extra)
        ann["frame"] = frame
        ann["geometry"] = {"kind": kind, "points": pts.tolist()}
        ann["note"] = note
        ann["author"] = AUTHOR
        ann["created"] = CREATED
        ann["modified"] = CREATED
        self.annotations.append(ann)
        return pts

    def truth(
        self,
        ann_id: str,
        type_: str,
        name: str,
        value: Any,
        unit: str,
        *,
        frame: int = 0,
        level: str | None = None,
        side: str | None = None,
    ) -> None:
        if isinstance(value, float):
            value = _r(value)
        self.rows.append(
            {
                "annotation_id": ann_id,
                "frame": frame,
                "type": type_,
                "level": level,
                "side": side,
                "name": name,
                "value": value,
                "unit": unit,
            }
        )


def _k(case: CaseDef) -> float:
    """Image mm per patient mm at the isocentre."""
    return MAG if case.calibration == "detector" else 1.0


def _view(case: CaseDef, ph: A.Phantom) -> View:
    v = ph.vertebrae
    if case.view in ("ap", "lateral"):
        zc = 0.5 * (v["L1"].center[2] + v["S1"].center[2])
        return View(
            case.angle, case.size, case.size, ISO_SPACING, 0.0 if case.view == "ap" else 5.0, zc
        )
    assert case.side is not None, "an oblique case names the side seen in profile"
    f = ph.flava[("L4-L5", case.side)]
    if case.frames > 1:
        tip, entry = _cannula_path(ph, case.side)
        mid = 0.5 * (tip + entry)
        e_u = View(case.angle, 1, 1, 1, 0, 0).e_u
        return View(
            case.angle,
            case.size,
            case.size,
            ISO_SPACING,
            float(mid @ e_u) - 8.0,
            float(mid[2]) + 4.0,
        )
    return View(
        case.angle, case.size, case.size, ISO_SPACING, f.s_dorsal - 12.0, v["L4"].center[2] + 8.0
    )


def _cannula_path(ph: A.Phantom, side: str) -> tuple[NDArray, NDArray]:
    """Final tip (1 mm inside the LF, 6 mm lateral of the midline) and the skin entry."""
    f = ph.flava[("L4-L5", side)]
    a0 = f.along_range[0] + 1.0
    z_mid = 0.5 * (f.z_range[0] + f.z_range[1])
    tip = f.normal * (f.s_dorsal - 1.0) + f.along * (a0 + 6.0) + np.array([0.0, 0.0, z_mid])
    al = math.radians(CANNULA_ANGLE)
    d = math.cos(al) * f.normal - math.sin(al) * np.array([0.0, 0.0, 1.0])
    # skin entry: where the ray from the tip leaves the body's elliptic cylinder
    qa = (d[0] / BODY_A) ** 2 + (d[1] / BODY_B) ** 2
    qb = 2 * (tip[0] * d[0] / BODY_A**2 + (tip[1] - BODY_Y) * d[1] / BODY_B**2)
    qc = (tip[0] / BODY_A) ** 2 + ((tip[1] - BODY_Y) / BODY_B) ** 2 - 1
    lam = (-qb + math.sqrt(qb * qb - 4 * qa * qc)) / (2 * qa)
    return tip, tip + lam * d


def _spec(case: CaseDef, ph_variant: str) -> A.PhantomSpec:
    ball = None
    if case.ball:
        v = A.place_vertebrae()
        ball = (0.0, BODY_Y + BODY_B + 12.5, float(v["L2"].center[2]))
    sides = (case.side,) if case.side else ()
    return A.PhantomSpec(A.lf_spec(ph_variant), contrast_sides=sides, ball_center=ball)


def _is_bone(s: A.Solid) -> bool:
    return not any(
        s.name.startswith(p) for p in ("gas", "psoas", "LF", "contrast", "calibration", "portal")
    )


def _calibration_fields(case: CaseDef) -> dict[str, Any]:
    c = case.calibration
    return {
        "sid": SID if "distances" in c else None,
        "sod": SOD if "distances" in c else None,
        "ermf": MAG if "ermf" in c else None,
    }


def generate_case(case: CaseDef | str, seed: int = 0) -> GeneratedCase:
    """Render one sample case in memory (image, annotations dict, truth dict).

    Parameters
    ----------
    case
        A :class:`CaseDef` or the id of one of :data:`CASES`.
    seed
        Seeds the quantum noise, bowel gas and trabecular texture; the anatomy and so
        the truth do not depend on it.
    """
    if isinstance(case, str):
        by_id = {c.case_id: c for c in CASES}
        if case not in by_id:
            raise KeyError(f"no sample case {case!r}; choose from {', '.join(by_id)}")
        case = by_id[case]
    index = [c.case_id for c in CASES].index(case.case_id) if case in CASES else 99
    rng = np.random.default_rng([int(seed), index])
    ph = A.build_phantom(_spec(case, case.variant), np.random.default_rng([int(seed), 1000]))
    view = _view(case, ph)
    spacing = ISO_SPACING * _k(case)
    calibration = (
        "detector_plane" if case.calibration == "detector" else ("magnification_corrected")
    )
    key = _Key(case, spacing)

    bone = project([s for s in ph.solids if _is_bone(s)], view, with_body=False)
    soft = project([s for s in ph.solids if not _is_bone(s)], view, with_body=True)
    texture = trabecular_texture(rng, bone.shape)
    exposure = Exposure()
    top = (1 << case.bits) - 1
    body_cols = body_chord(view) > 1.5

    frames_log = []
    tip_positions: list[NDArray] = []
    if case.frames > 1:
        assert case.side is not None, "a cine names the side of its portal"
        tip_final, entry = _cannula_path(ph, case.side)
        fractions = 0.45 + 0.55 * (1 - (1 - np.linspace(0, 1, case.frames)) ** 1.6)
        for f in fractions:
            tip = entry + (tip_final - entry) * f
            tip_positions.append(tip)
            total = bone + soft
            for s in A.cannula_solids(entry, tip):
                project_solid(s, view, total)
            frames_log.append(expose(total, rng, exposure, bone, texture))
    else:
        frames_log.append(expose(bone + soft, rng, exposure, bone, texture))

    ref = frames_log[0][:, body_cols]
    lo, hi = np.percentile(ref, [1.0, 99.8])
    lo, hi = float(lo - 0.05 * (hi - lo)), float(hi + 0.1 * (hi - lo))
    stored = np.stack([to_stored(f, case.bits, lo, hi) for f in frames_log])

    lines = [
        f"PHANTOM^LUMBAR  ID FLANNOT-PHANTOM-{seed}",
        f"2026-11-21 10:00  {case.view.upper()}  {case.case_id}",
    ]
    if case.burned_in:
        mask, box = text_mask(lines, stored.shape[1:], origin=(6, 6))
        stored[:, mask] = top
        r0, c0, r1, c1 = box
        key.add(
            "redact-1",
            "redaction",
            "rectangle",
            [[r0 - 2, c0 - 2], [r0 - 2, c1 + 2], [r1 + 2, c1 + 2], [r1 + 2, c0 - 2]],
            note="Burned-in patient name, ID and date: blank before sharing.",
        )

    display = stored.astype(np.float64) * (255.0 / top)
    if case.photometric == "MONOCHROME1":
        stored = (top - stored).astype(stored.dtype)

    _annotate(case, ph, view, key, tip_positions)

    windows = [(top / 2, top + 1, "FULL"), (top * 0.55, top * 0.6, "BONE")]
    if case.photometric == "MONOCHROME1":
        windows = [(top - c, w, e) for c, w, e in windows]
    cal = _calibration_fields(case)
    params = XAParams(
        seed=int(seed),
        case_id=case.case_id,
        title=case.title,
        view_label=case.view.upper(),
        primary_angle=_primary_angle(case.angle),
        secondary_angle=0.0,
        patient_orientation=_orientation(case.angle),
        imager_pixel_spacing=DETECTOR_PIXEL,
        sid=cal["sid"],
        sod=cal["sod"],
        ermf=cal["ermf"],
        photometric=case.photometric,
        bits_stored=case.bits,
        transfer_syntax=case.transfer_syntax,
        frame_time_ms=125.0 if case.frames > 1 else None,
        windows=windows,
        contrast_agent="Iohexol 240 mgI/ml" if case.side else None,
        burned_in=case.burned_in,
        modality=case.modality,
        series_number=index + 1 if index < 99 else 1,
    )
    ds = build_xa(stored, params)
    rows, cols = stored.shape[1:]
    annotations = {
        "flannot_version": 1,
        "case_id": case.case_id,
        "protocol": "mild",
        "image": {
            "path": "image.dcm",
            "sop_instance_uid": str(ds.SOPInstanceUID),
            "frames": int(stored.shape[0]),
            "spacing_mm": [_r(spacing, 6), _r(spacing, 6)],
            "calibration": calibration,
            "rows": int(rows),
            "columns": int(cols),
        },
        "annotations": key.annotations,
        "notes": case.notes,
        "created": CREATED,
        "modified": CREATED,
        "x_phantom": {"seed": int(seed), "title": case.title, "view": case.view},
    }
    truth = {
        "case_id": case.case_id,
        "seed": int(seed),
        "view": case.view,
        "spacing_mm": [_r(spacing, 6), _r(spacing, 6)],
        "calibration": calibration,
        "measurements": key.rows,
        "geometry": _geometry(case, ph, view),
    }
    return GeneratedCase(
        case,
        ds,
        stored,
        annotations,
        truth,
        spacing,
        calibration,
        np.clip(np.rint(display), 0, 255).astype(np.uint8),
    )


def _primary_angle(angle: float) -> float:
    # LAO positive: our 45° view (beam along the left lamina) is labelled LAO 45,
    # the 135° view (right lamina) RAO 45, the lateral 90
    return {0.0: 0.0, 90.0: 90.0, 45.0: 45.0, 135.0: -45.0}.get(angle, angle)


def _orientation(angle: float) -> tuple[str, str]:
    return {0.0: ("L", "F"), 90.0: ("P", "F"), 45.0: ("LP", "F"), 135.0: ("RP", "F")}[angle]


def _annotate(case: CaseDef, ph: A.Phantom, view: View, key: _Key, tips: list[NDArray]) -> None:
    k = _k(case)
    s = view.spacing  # isocentre mm per pixel: patient mm → pixels
    verts = ph.vertebrae
    if case.view == "ap":
        for name in A.ANNOTATED_LEVELS:
            c = view.to_pixel(verts[name].center[None])
            key.add(
                f"v-{name}",
                "vertebra",
                "point",
                c,
                level=name,
                note="Body centre."
                if name != "L1"
                else "L1: the first vertebra below the last rib-bearing level (T12).",
            )
        names = list(A.ANNOTATED_LEVELS)
        for up, lo in zip(names[:-1], names[1:], strict=True):
            _interlaminar(ph, view, key, up, lo, k)
    if case.view == "lateral":
        for name in A.ANNOTATED_LEVELS:
            v = verts[name]
            pts = key.add(
                f"v-{name}", "vertebra", "polygon", view.to_pixel(v.corners()), level=name
            )
            mm = pts * s * k
            key.truth(
                f"v-{name}",
                "vertebra",
                "anterior_height",
                float(np.hypot(*(mm[0] - mm[3]))),
                "mm",
                level=name,
            )
            key.truth(
                f"v-{name}",
                "vertebra",
                "posterior_height",
                float(np.hypot(*(mm[1] - mm[2]))),
                "mm",
                level=name,
            )
        for level in ("L3-L4", "L4-L5"):
            _canal(ph, view, key, level, case.variant, k)
        ball = ph.spec.ball_center
        if case.ball and ball is not None:
            r = ph.spec.ball_diameter / 2
            ends = view.to_pixel(
                np.array([[0.0, ball[1] - r, ball[2]], [0.0, ball[1] + r, ball[2]]])
            )
            key.add(
                "cal-1",
                "calibration",
                "line",
                ends,
                length_mm=ph.spec.ball_diameter,
                note="Diameter of the 25 mm steel calibration sphere at the isocentre depth.",
            )
    if case.view == "oblique":
        assert case.side is not None, "an oblique case names the side seen in profile"
        levels = ("L4-L5",) if case.frames > 1 else ("L3-L4", "L4-L5")
        frames = range(case.frames)
        for frame in frames:
            for level in levels:
                lf_pts = _flavum(ph, view, key, level, case.side, k, frame)
                contrast = _contrast(ph, view, key, level, case.side, frame)
            if tips:
                _cannula(ph, view, key, frame, tips[frame], case.side, k, contrast, lf_pts)


def _interlaminar(ph: A.Phantom, view: View, key: _Key, up: str, lo: str, k: float) -> None:
    """AP interlaminar window: a hexagon W wide (between the inferior articular processes)
    and as tall as the gap between the laminae."""
    vu, vl = ph.vertebrae[up], ph.vertebrae[lo]
    width = vu.spec.il_width
    z_top = vu.world(np.array([0.0, vu.y_canal_dorsal, vu.lamina_z()[1]]))[2]
    if lo == "S1":
        z_bot = vl.world(np.array([0.0, vl.y_canal_dorsal, A.S1_LAMINA_Z + A.S1_LAMINA_HALF]))[2]
    else:
        z_bot = vl.world(np.array([0.0, vl.y_canal_dorsal, vl.lamina_z()[0]]))[2]
    zm = 0.5 * (z_top + z_bot)
    x0 = float(vu.center[0])
    hw = width / 2
    world = np.array(
        [
            [x0 - 0.6 * hw, 0, z_top],
            [x0 + 0.6 * hw, 0, z_top],
            [x0 + hw, 0, zm],
            [x0 + 0.6 * hw, 0, z_bot],
            [x0 - 0.6 * hw, 0, z_bot],
            [x0 - hw, 0, zm],
        ]
    )
    level = f"{up}-{lo}"
    pts = key.add(
        f"il-{level}",
        "interlaminar_space",
        "polygon",
        view.to_pixel(world),
        level=level,
        note="The AP target window between the laminae." if level == "L4-L5" else "",
    )
    mm = pts * view.spacing * k
    key.truth(
        f"il-{level}",
        "interlaminar_space",
        "width",
        float(mm[:, 1].max() - mm[:, 1].min()),
        "mm",
        level=level,
    )
    key.truth(
        f"il-{level}",
        "interlaminar_space",
        "height",
        float(mm[:, 0].max() - mm[:, 0].min()),
        "mm",
        level=level,
    )
    key.truth(f"il-{level}", "interlaminar_space", "area", _shoelace(mm), "mm2", level=level)


def _canal(ph: A.Phantom, view: View, key: _Key, level: str, variant: str, k: float) -> None:
    """Lateral canal polygon from mid-body to mid-body, symmetric about its long axis,
    with a waist (disc bulge + LF buckling) at the disc: its narrowest width is the
    stenosis value."""
    up, lo = (ph.vertebrae[n] for n in level.split("-"))
    wall = float(up.world(np.array([0.0, up.spec.depth / 2, 0.0]))[1])  # posterior wall y
    bony = up.spec.canal_ap
    axis_y = wall + bony / 2
    z0 = float(up.center[2])
    z1 = float(lo.center[2])
    zd_top = float(up.world(np.array([0.0, up.spec.depth / 2, -up.spec.hp / 2]))[2])
    zd_bot = float(lo.world(np.array([0.0, lo.spec.depth / 2, lo.spec.hp / 2]))[2])
    zw = 0.5 * (zd_top + zd_bot)
    w_min = CANAL_MIN_WIDTH[(variant, level)]
    profile = [(z0, bony), (zd_top + 3.0, bony), (zw, w_min), (zd_bot - 3.0, bony), (z1, bony)]
    ventral = [[0.0, axis_y - w / 2, z] for z, w in profile]
    dorsal = [[0.0, axis_y + w / 2, z] for z, w in reversed(profile)]
    pts = key.add(
        f"canal-{level}",
        "spinal_canal",
        "polygon",
        view.to_pixel(np.array(ventral + dorsal)),
        level=level,
        note=f"Narrowest at the disc: {w_min * k:g} mm.",
    )
    mm = pts * view.spacing * k
    width = w_min * k
    key.truth(f"canal-{level}", "spinal_canal", "min_width", width, "mm", level=level)
    key.truth(f"canal-{level}", "spinal_canal", "area", _shoelace(mm), "mm2", level=level)
    # no stenosis_grade truth: the grade is a CT/MR criterion, never given on a projection


def _flavum(
    ph: A.Phantom, view: View, key: _Key, level: str, side: str, k: float, frame: int
) -> NDArray:
    """LF band seen edge-on: two parallel sides ``t`` apart, pointed (45°) end caps."""
    f = ph.flava[(level, side)]
    t = f.thickness
    a = f.along_range[0] + 6.0
    z_lo, z_hi = f.z_range
    ud, uv, um = f.s_dorsal, f.s_dorsal - t, f.s_dorsal - t / 2
    cap = t / 2

    def w(u: float, z: float) -> list[float]:
        p = f.normal * u + f.along * a
        return [p[0], p[1], z]

    world = np.array(
        [
            w(um, z_hi),
            w(ud, z_hi - cap),
            w(ud, z_lo + cap),
            w(um, z_lo),
            w(uv, z_lo + cap),
            w(uv, z_hi - cap),
        ]
    )
    ann = f"lf-{level}-{side}" + (f"-f{frame}" if frame else "")
    note = (
        ""
        if frame
        else (
            f"{'Hypertrophic' if t > 4 else 'Normal'} ligamentum flavum, {t:g} mm thick "
            "(patient mm): the band between the ventral lamina line and the contrast line."
        )
    )
    pts = key.add(
        ann,
        "ligamentum_flavum",
        "polygon",
        view.to_pixel(world),
        level=level,
        side=side,
        frame=frame,
        note=note,
    )
    mm = pts * view.spacing * k
    key.truth(
        ann, "ligamentum_flavum", "max_thickness", t * k, "mm", level=level, side=side, frame=frame
    )
    key.truth(
        ann, "ligamentum_flavum", "area", _shoelace(mm), "mm2", level=level, side=side, frame=frame
    )
    key.truth(
        ann,
        "ligamentum_flavum",
        "length",
        _max_feret(mm),
        "mm",
        level=level,
        side=side,
        frame=frame,
    )
    # no hypertrophic truth: MIST's 2.5 mm is an MRI criterion, never given on a projection
    return pts


def _contrast(ph: A.Phantom, view: View, key: _Key, level: str, side: str, frame: int) -> NDArray:
    f = ph.flava[(level, side)]
    spec = ph.spec
    u = f.s_dorsal - f.thickness - spec.contrast_gap - spec.contrast_thickness / 2
    a = f.along_range[0] + 6.0
    z_lo, z_hi = f.z_range
    world = np.array(
        [[*(f.normal * u + f.along * a)[:2], z] for z in (z_hi, 0.5 * (z_lo + z_hi), z_lo)]
    )
    ann = f"contrast-{level}-{side}" + (f"-f{frame}" if frame else "")
    return key.add(
        ann,
        "epidural_contrast",
        "path",
        view.to_pixel(world),
        level=level,
        side=side,
        frame=frame,
        note=""
        if frame
        else "Dorsal epidural contrast: the ventral safety "
        "boundary. Never advance a working instrument past it.",
    )


def _cannula(
    ph: A.Phantom,
    view: View,
    key: _Key,
    frame: int,
    tip: NDArray,
    side: str,
    k: float,
    contrast: NDArray,
    lf_pts: NDArray,
) -> None:
    _, entry = _cannula_path(ph, side)
    ann = f"portal-f{frame}"
    pts = key.add(
        ann,
        "cannula",
        "line",
        view.to_pixel(np.array([entry, tip])),
        level="L4-L5",
        side=side,
        instrument="portal",
        frame=frame,
        note="" if frame else "6 G (5.1 mm) MILD portal: entry → tip.",
    )
    mm = pts * view.spacing * k
    d = mm[1] - mm[0]
    key.truth(
        ann, "cannula", "length", float(np.hypot(*d)), "mm", level="L4-L5", side=side, frame=frame
    )
    angle = math.degrees(math.atan2(abs(d[0]), abs(d[1])))
    key.truth(ann, "cannula", "angle", angle, "deg", level="L4-L5", side=side, frame=frame)
    # the tip is always on the entry (dorsal) side of the contrast line here: positive
    dist = _point_polyline(mm[1], contrast * view.spacing * k)
    key.truth(ann, "cannula", "tip_to_contrast", dist, "mm", level="L4-L5", side=side, frame=frame)
    inside = bool(points_in_poly(pts[1:2], lf_pts)[0])
    key.truth(ann, "cannula", "tip_in_lf", inside, "", level="L4-L5", side=side, frame=frame)


def _geometry(case: CaseDef, ph: A.Phantom, view: View) -> dict[str, Any]:
    return {
        "units": "patient mm at the isocentre unless named otherwise",
        "source_to_detector_mm": SID,
        "source_to_isocentre_mm": SOD,
        "magnification": MAG,
        "detector_pixel_mm": DETECTOR_PIXEL,
        "isocentre_pixel_mm": ISO_SPACING,
        "image_mm_per_patient_mm": _k(case),
        "view_angle_deg": case.angle,
        "projection": "weak perspective (parallel beam magnified by SID/SOD at the isocentre)",
        "variant": case.variant,
        "ligamentum_flavum_thickness_mm": {
            f"{lvl} {side}": t for (lvl, side), t in sorted(ph.spec.lf_thickness.items())
        },
        "vertebrae": {
            s.name: {
                "anterior_height": s.ha,
                "posterior_height": s.hp,
                "depth": s.depth,
                "width": s.width,
                "canal_ap": s.canal_ap,
                "lamina_thickness": s.lamina_t,
                "disc_height_below": s.disc_below,
                "interlaminar_width_below": s.il_width,
            }
            for s in A.LEVELS
        },
        "calibration_sphere_mm": ph.spec.ball_diameter if ph.spec.ball_center else None,
        "portal_outer_diameter_mm": 5.1 if case.frames > 1 else None,
    }
