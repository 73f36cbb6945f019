"""The v2 sample cases: a MILD teaching course rendered from phantom v2 patients (SPEC §10).

Per patient, the images a proceduralist works through — a true AP at the target
level, a lateral, the contralateral-oblique (CLO) epidurogram with an axial planning
slice, and the cine of the 6 G portal docking on the lamina — and patients in whom
the right answer is *do not proceed*. Each case's ``truth.json`` carries the
patient's parameters, the C-arm geometry, the 3D landmarks behind the answer key and
``"decision": {"proceed": bool, "reason": ...}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flannot.model.decision import with_truth_decision
from flannot.phantom.dicom_writer import XAParams, build_xa, dataset_bytes
from flannot.phantom.planning import PIXEL_MM, SIZE, ct_bytes, ct_dataset, make_slice
from flannot.phantom.scene import (
    AUTHOR,
    CREATED,
    MU_STEEL,
    Key,
    Scene,
    answer_key,
    dock_point,
    expose,
    exposure_for,
    line_integrals,
    make_scene,
    portal_chords,
    view_carm,
)
from flannot.phantom.volume import PatientParams, draw_patient

#: decision reasons (the key another component reads: ``truth["decision"]["reason"]``)
REASONS = ("no_laminar_shelf", "epidurogram_not_at_target", "spondylolisthesis_grade2")
CINE_FRAMES = 8


@dataclass(frozen=True)
class Patient:
    """A v2 phantom patient: a seed and the overrides that make its teaching point."""

    pid: str
    seed: int
    overrides: tuple[tuple[str, Any], ...] = ()

    def params(self) -> PatientParams:
        return draw_patient(self.seed, **dict(self.overrides))


PATIENTS = {
    "p1": Patient(
        "p1",
        101,
        (
            ("lf_mm", {("L4-L5", "left"): 4.2, ("L4-L5", "right"): 3.6}),
            ("slip", None),
            ("habitus", "normal"),
            ("epidurogram", "good"),
            ("transitional", "none"),
            ("lordosis_deg", 47.0),
        ),
    ),
    "p2": Patient(
        "p2",
        202,
        (("slip", ("L4", 36.0)), ("habitus", "normal"), ("transitional", "none")),
    ),
    "p3": Patient(
        "p3",
        303,
        (
            ("habitus", "obese"),
            ("epidurogram", "interrupted"),
            ("side", "right"),
            ("slip", None),
            ("transitional", "sacralised_l5"),
        ),
    ),
    "p4": Patient(
        "p4",
        404,
        (
            ("laminar_shelf", False),
            ("lf_mm", {("L4-L5", "left"): 2.1}),
            ("slip", None),
            ("habitus", "normal"),
            ("epidurogram", "good"),
            ("transitional", "l6"),
            ("target", "L4-L5"),
        ),
    ),
}


@dataclass(frozen=True)
class CourseCase:
    """One v2 case."""

    case_id: str
    patient: str
    view: str  # ap | lateral | clo-left | clo-right
    title: str
    notes: str
    cine: bool = False
    planning: bool = False
    decision: tuple[bool, str | None] = (True, None)


P1_OK = (True, None)

V2_CASES: tuple[CourseCase, ...] = (
    CourseCase(
        "p1-ap",
        "p1",
        "ap",
        "Patient 1: true AP at L4-L5, endplates squared",
        (
            "**True AP at the target level.** The C-arm is tilted until the L4-L5 endplates "
            "are seen as single lines (squared) and the spinous process sits midway between "
            "the pedicles. Count the levels from the sacrum up, find the L4-L5 interlaminar "
            "window (the lucent gap between the laminae, where the ligament is not covered "
            "by bone) and confirm the level before anything else."
        ),
    ),
    CourseCase(
        "p1-lateral",
        "p1",
        "lateral",
        "Patient 1: lateral",
        (
            "**Lateral.** Mark the body corners of each vertebra: the disc heights, the "
            "alignment of the posterior body line (no slip here) and the canal behind it. "
            "The lateral gives depth: the laminae and spinous processes lie behind the canal."
        ),
    ),
    CourseCase(
        "p1-clo-left",
        "p1",
        "clo-left",
        "Patient 1: contralateral oblique, left approach, epidurogram; planning CT",
        (
            "**Contralateral oblique (CLO) for a left approach.** The C-arm is turned until "
            "the beam runs along the left L4 lamina, so the lamina is seen edge-on as a "
            "dense bar; its ventral margin continues into the **ventral interlaminar line "
            "(VILL)**. The epidural contrast outlines the dorsal epidural space at L4-L5 on "
            "the left: the instruments must stay dorsal to both lines. On a projection the "
            "ligament's thickness is a geometric measurement only.\n\n"
            "**Planning CT.** The axial slice through L4-L5 is where the ligamentum flavum "
            "thickness is graded: the MIST criterion (2.5 mm or more, defined on MRI/CT "
            "slices) flags the left ligament as hypertrophic."
        ),
        planning=True,
    ),
    CourseCase(
        "p1-cine-docked",
        "p1",
        "clo-left",
        "Patient 1: CLO cine, 6 G portal docking on the left L4 lamina",
        (
            "**Docking.** The 6 G portal advances from dorsal and caudal and stops on the "
            "**dorsal surface of the L4 lamina** — bone, not ligament. Its tip is dorsal to "
            "the epidural contrast and to the VILL. From here a bone rongeur removes lamina "
            "(laminotomy) and only then is the hypertrophic ligament removed, always working "
            "dorsal to the contrast line."
        ),
        cine=True,
    ),
    CourseCase(
        "p2-lateral-slip",
        "p2",
        "lateral",
        "Patient 2: lateral, L4 slipped forward on L5",
        (
            "**Spondylolisthesis.** The posterior body line steps forward at L4-L5: L4 has "
            "slipped on L5 by more than a quarter of L5's depth (Meyerding grade II). MILD "
            "is indicated for stenosis with at most a grade I slip: **do not proceed**."
        ),
        decision=(False, "spondylolisthesis_grade2"),
    ),
    CourseCase(
        "p3-clo-right-interrupted",
        "p3",
        "clo-right",
        "Patient 3: CLO, right approach, epidurogram not seen at L4-L5 right (obese)",
        (
            "**Epidurogram not at the target.** The right L4 lamina and the VILL are seen, "
            "but no contrast outlines the dorsal epidural space at L4-L5 on the right; "
            "without it there is no ventral safety boundary at the target level and side: "
            "**do not proceed** until contrast is seen there. The image is noisier and "
            "flatter than patient 1's: a large patient scatters more and receives fewer "
            "quanta. Count carefully: L5 is fused to the sacrum here (sacralised L5)."
        ),
        decision=(False, "epidurogram_not_at_target"),
    ),
    CourseCase(
        "p4-clo-left-no-shelf",
        "p4",
        "clo-left",
        "Patient 4: CLO, left approach, no laminar shelf at L4 (previous laminotomy)",
        (
            "**No laminar shelf.** Where the left L4 lamina should be seen edge-on there is "
            "no bone: a previous laminotomy removed it. The portal must dock on bone; with "
            "no lamina to dock on at the target level and side, **do not proceed**. Count "
            "carefully: this patient has six lumbar vertebrae (L6)."
        ),
        planning=True,
        decision=(False, "no_laminar_shelf"),
    ),
)


@dataclass
class CourseFiles:
    """The files of one v2 case (bytes) and its parsed case and truth."""

    case: CourseCase
    files: dict[str, bytes]
    annotations: dict[str, Any]
    truth: dict[str, Any]
    display: NDArray[np.uint8] = field(
        repr=False, default_factory=lambda: np.zeros((1, 1, 1), np.uint8)
    )


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


def _pt(p: Any, nd: int = 3) -> list[float]:
    return [_r(v, nd) for v in np.asarray(p, float).ravel()]


def _study_seed(patient: Patient, set_seed: int) -> int:
    return 1_000_000 + patient.seed * 1000 + int(set_seed)


def generate_course_case(
    case: CourseCase | str, seed: int = 0, scenes: dict[str, Scene] | None = None
) -> CourseFiles:
    """Render one v2 case in memory.

    Parameters
    ----------
    case
        A :class:`CourseCase` or its id.
    seed
        The set's seed: quantum noise only (each patient's anatomy is fixed).
    scenes
        A cache of prepared patients (``pid`` → :class:`Scene`), filled as needed.
    """
    if isinstance(case, str):
        by_id = {c.case_id: c for c in V2_CASES}
        if case not in by_id:
            raise KeyError(f"no v2 case {case!r}; choose from {', '.join(by_id)}")
        case = by_id[case]
    patient = PATIENTS[case.patient]
    scenes = {} if scenes is None else scenes
    if case.patient not in scenes:
        scenes[case.patient] = make_scene(patient.params())
    scene = scenes[case.patient]
    params = scene.params
    carm = view_carm(scene, case.view)
    exposure = exposure_for(params)
    base = line_integrals(scene, carm)
    noise_seed = [int(seed), patient.seed, V2_CASES.index(case)]
    frames: list[NDArray[np.uint16]] = []
    windows: list[tuple[float, float]] = []
    annotations: list[dict[str, Any]] = []
    portal: dict[str, Any] = {}
    if case.cine:
        dock, arrive = dock_point(scene)
        entry = dock - arrive * 90.0
        static = answer_key(scene, carm, case.view)
        fractions = 0.35 + 0.65 * (1 - (1 - np.linspace(0, 1, CINE_FRAMES)) ** 1.5)
        for f, frac in enumerate(fractions):
            tip = entry + (dock - entry) * frac
            li = base + MU_STEEL * portal_chords(carm, entry, tip)
            rng_seed = int(np.random.SeedSequence([*noise_seed, f]).generate_state(1)[0])
            stored, window = expose(scene, carm, li, rng_seed, exposure)
            frames.append(stored)
            windows.append(window)
            anns = [{**a, "id": a["id"] + (f"-f{f}" if f else ""), "frame": f} for a in static]
            key = Key(carm)
            key.add(
                f"c-portal-f{f}" if f else "c-portal",
                "cannula",
                "line",
                key.project(np.stack([entry, tip])),
                "6 G portal: entry to tip"
                + (" (docked on the lamina)" if f == CINE_FRAMES - 1 else ""),
                frame=f,
                level=params.target,
                side=params.side,
                instrument="portal",
            )
            annotations += anns + key.annotations
        portal = {
            "entry_lps": _pt(entry),
            "dock_lps": _pt(dock),
            "direction_lps": _pt(arrive, 6),
            "fractions": [_r(x) for x in fractions],
            "radius_mm": 2.55,
        }
    else:
        rng_seed = int(np.random.SeedSequence(noise_seed).generate_state(1)[0])
        stored, window = expose(scene, carm, base, rng_seed, exposure)
        frames.append(stored)
        windows.append(window)
        annotations = answer_key(scene, carm, case.view)
    stack = np.stack(frames)
    study_seed = _study_seed(patient, seed)
    uid_seed = study_seed
    xa = XAParams(
        seed=uid_seed,
        case_id=case.case_id,
        title=case.title,
        view_label=case.view.upper(),
        primary_angle=carm.primary_deg,
        secondary_angle=carm.secondary_deg,
        patient_orientation=carm.patient_orientation(),
        imager_pixel_spacing=carm.pixel_mm,
        sid=carm.sid,
        sod=carm.sod,
        ermf=carm.magnification,
        transfer_syntax="jpegls" if case.cine else "explicit",
        frame_time_ms=250.0 if case.cine else None,
        windows=[(windows[0][0], windows[0][1], "FULL")],
        contrast_agent="Iohexol 240 mgI/ml" if case.view.startswith("clo") else None,
        kvp=80.0,
        series_number=V2_CASES.index(case) + 20,
    )
    ds = build_xa(stack, xa)
    spacing = carm.pixel_mm / carm.magnification
    files = {"image.dcm": dataset_bytes(ds)}
    image = {
        "path": "image.dcm",
        "sop_instance_uid": str(ds.SOPInstanceUID),
        "frames": int(stack.shape[0]),
        "spacing_mm": [_r(spacing, 6), _r(spacing, 6)],
        "calibration": "magnification_corrected",
        "rows": carm.rows,
        "columns": carm.cols,
        "projection": [[float(f"{x:.10g}") for x in row] for row in carm.projection],
    }
    case_json: dict[str, Any] = {
        "flannot_version": 1,
        "case_id": case.case_id,
        "protocol": "mild",
        "image": image,
    }
    planning_truth = None
    if case.planning:
        sl = make_slice(scene)
        ct = ct_dataset(sl, seed=uid_seed, study_seed=study_seed, case_id=case.case_id)
        files["planning.dcm"] = ct_bytes(ct)
        case_json["planning"] = {
            "path": "planning.dcm",
            "sop_instance_uid": str(ct.SOPInstanceUID),
            "frames": 1,
            "spacing_mm": [PIXEL_MM, PIXEL_MM],
            "calibration": "pixel_spacing",
            "rows": SIZE,
            "columns": SIZE,
            "modality": "CT",
            "plane": "axial",
        }
        for side, poly in sorted(sl.lf.items()):
            if poly:
                annotations.append(
                    _planning_ann(
                        f"lf-ct-{side}",
                        "ligamentum_flavum",
                        poly,
                        params.target,
                        side,
                        f"{params.target} {side} ligamentum flavum on the axial CT",
                    )
                )
        planning_truth = {
            "pixel_mm": PIXEL_MM,
            "origin_lps": _pt(sl.origin),
            "row_direction": _pt(sl.row_dir, 6),
            "column_direction": _pt(sl.col_dir, 6),
            "lf_axial_thickness_mm": {k: _r(v, 3) for k, v in sorted(sl.lf_axial_mm.items())},
            "hypertrophic": {k: bool(v >= 2.5) for k, v in sorted(sl.lf_axial_mm.items())},
            "criterion": "MIST: ligamentum flavum >= 2.5 mm on an axial MRI/CT slice",
        }
    case_json["annotations"] = annotations
    case_json["notes"] = case.notes
    case_json["created"] = CREATED
    case_json["modified"] = CREATED
    case_json["x_phantom"] = {
        "version": 2,
        "patient": case.patient,
        "seed": int(seed),
        "view": case.view,
    }
    proceed, reason = case.decision
    rows = _truth_rows(scene, case, planning_truth, annotations)
    truth = {
        "case_id": case.case_id,
        "phantom_version": 2,
        "patient": case.patient,
        "seed": int(seed),
        "view": case.view,
        "decision": {"proceed": bool(proceed), "reason": reason},
        "params": params.summary(),
        "spacing_mm": [_r(spacing, 6), _r(spacing, 6)],
        "calibration": "magnification_corrected",
        "geometry": _geometry(carm),
        "landmarks_lps": _landmarks(scene),
        "planning": planning_truth,
        "portal": portal or None,
        "measurements": rows,
        "author": AUTHOR,
    }
    # the reference answer key records the right answer: proceed, or do not and why
    with_truth_decision(case_json, truth)
    files["annotations.json"] = _json(case_json)
    files["truth.json"] = _json(truth)
    top = (1 << 12) - 1
    display = np.clip(np.rint(stack.astype(np.float64) * 255.0 / top), 0, 255).astype(np.uint8)
    return CourseFiles(case, files, case_json, truth, display)


def _row(ann: dict[str, Any], name: str, value: Any, unit: str) -> dict[str, Any]:
    return {
        "annotation_id": ann["id"],
        "frame": ann.get("frame", 0),
        "type": ann["type"],
        "level": ann.get("level"),
        "side": ann.get("side"),
        "name": name,
        "value": value,
        "unit": unit,
    }


def _truth_rows(
    scene: Scene, case: CourseCase, planning: dict[str, Any] | None, anns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Measurement truth known from the model independently of the answer-key drawing:
    body heights and the slip (lateral), the docked tip (cine), the LF on the CT slice."""
    by_id = {a["id"]: a for a in anns}
    params = scene.params
    rows: list[dict[str, Any]] = []
    up, lo = params.target.split("-")
    if case.view == "lateral":
        for lvl in (up, lo):
            ann = by_id.get(f"v-{lvl}")
            if ann is not None:
                h = 2 * scene.vert(lvl).h
                rows.append(_row(ann, "anterior_height", _r(h, 3), "mm"))
                rows.append(_row(ann, "posterior_height", _r(h, 3), "mm"))
        ann = by_id.get(f"v-{up}")
        if ann is not None:
            row = _row(ann, "slip_percent", _r(slip_percent(scene, up, lo), 3), "%")
            row["level"] = params.target  # a between-neighbours measure: the interspace
            rows.append(row)
    if case.cine:
        last = max(a["frame"] for a in anns)
        ann = next(a for a in anns if a["type"] == "cannula" and a["frame"] == last)
        rows.append(_row(ann, "tip_to_lamina", 0.0, "mm"))
        rows.append(_row(ann, "tip_in_lf", False, ""))
    if planning is not None:
        for side, t in planning["lf_axial_thickness_mm"].items():
            ann = by_id.get(f"lf-ct-{side}")
            if ann is not None:
                rows.append(_row(ann, "max_thickness", t, "mm"))
                rows.append(_row(ann, "hypertrophic", bool(t >= 2.5), ""))
    return rows


def slip_percent(scene: Scene, up: str, lo: str) -> float:
    """Forward slip of ``up`` on ``lo`` (% of ``lo``'s superior endplate), from the 3D
    corners in ``lo``'s sagittal frame: the posterior-inferior corner of ``up`` against
    the posterior-superior corner of ``lo``, along ``lo``'s endplate."""
    v, w = scene.vert(up), scene.vert(lo)
    cu, cl = v.corners(), w.corners()
    endplate = cl[1] - cl[0]  # superior-anterior -> superior-posterior
    length = float(np.linalg.norm(endplate))
    return float((cl[1] - cu[2]) @ endplate / length / length * 100.0)


def _planning_ann(
    ann_id: str, type_: str, poly: list[list[float]], level: str, side: str | None, note: str
) -> dict[str, Any]:
    ann: dict[str, Any] = {"id": ann_id, "type": type_, "level": level}
    if side is not None:
        ann["side"] = side
    ann["frame"] = 0
    ann["image"] = "planning"
    ann["geometry"] = {"kind": "polygon", "points": poly}
    ann["note"] = note
    ann["author"] = AUTHOR
    ann["created"] = CREATED
    ann["modified"] = CREATED
    return ann


def _geometry(carm: Any) -> dict[str, Any]:
    d, u, v = carm.axes
    return {
        "primary_deg": _r(carm.primary_deg, 4),
        "secondary_deg": _r(carm.secondary_deg, 4),
        "patient_position": "HFP",
        "isocentre_lps": _pt(carm.isocentre),
        "sid_mm": carm.sid,
        "sod_mm": carm.sod,
        "magnification_isocentre": _r(carm.magnification, 6),
        "detector": [carm.rows, carm.cols],
        "pixel_mm": carm.pixel_mm,
        "source_lps": _pt(carm.source),
        "towards_detector": _pt(d, 9),
        "column_direction": _pt(u, 9),
        "row_direction": _pt(v, 9),
        "projection": [[float(f"{x:.10g}") for x in row] for row in carm.projection],
    }


def _landmarks(scene: Scene) -> dict[str, Any]:
    an = scene.anatomy
    out: dict[str, Any] = {}
    for lvl, v in an.verts.items():
        out[lvl] = {
            "centre": _pt(v.centre),
            "axis": _pt(v.up, 6),
            "corners": [_pt(c) for c in v.corners()],
            "spinous_tip": _pt(an.spinous_tip(lvl)),
            "pedicles": {s: _pt(an.pedicle_centre(lvl, s)) for s in ("left", "right")},
        }
    return out


def _json(obj: Any) -> bytes:
    import json

    return (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()
