"""CT-backed cases of a teaching set: the trainee acquires the views (SPEC §15 training mode).

A CT-backed case holds a CT and its vertebra labelmap instead of a fixed image, and a
task; the trainee turns the virtual C-arm (:mod:`flannot.sim.training`) and is scored
on the views obtained (:mod:`flannot.sim.view_score`)::

    cases/<case-id>/
      ct.nii.gz          # the CT, voxels and geometry only (re-written: no header text)
      labels.nii.gz      # its vertebra labelmap, same grid
      sim.json           # task, files, landmarks (see below)
      image.dcm          # the first task view at its ideal angles: the reference shot
      annotations.json   # its answer key (vertebrae, spinous tips, pedicles)
      truth.json         # the 3D truth of that shot
    attempts/<trainee>/<case-id>-shots/   # the trainee's shots (shot-NNN.dcm, shots.json)

``sim.json``::

    {"flannot_sim_version": 1,
     "ct": "ct.nii.gz", "labels": "labels.nii.gz",
     "task": {"target": "L4-L5", "side": "left", "views": ["ap", "clo-left"],
              "shot_budget": 8, "dose_budget": null, "position": "prone",
              "protocol": "mild", "label_map": "totalsegmentator", "kvp": 80, "mas": 2},
     "detector": 512, "pixel_mm": 0.6,
     "landmarks": [{"level": "L4", "centroid_lps": [...], "axis_lps": [...],
                    "spinous_tip_lps": [...], "pedicles_lps": {"left": [...], ...}}, ...]}

The landmarks are computed once, when the case is added, so scoring reads no CT. The
reference shot and its answer key let everything that expects an image (validation,
thumbnails, exports, the Quiz dock) work on the case unchanged.

A DICOM CT series is stored as NIfTI: only the voxels and the patient geometry are
kept, so no identifier of its headers reaches the set (PS3.15's aim, by construction);
a NIfTI input is re-written with a fresh header for the same reason (its free-text
``descrip``, ``aux_file`` and ``db_name`` fields are dropped).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flannot.errors import FlannotError

SIM_FILE = "sim.json"
SIM_VERSION = 1
CT_FILE = "ct.nii.gz"
LABELS_FILE = "labels.nii.gz"
SHOTS_SUFFIX = "-shots"


@dataclass
class CTCase:
    """A CT-backed case as read from its folder."""

    folder: Path
    ct: Path
    labels: Path
    task: Any  # flannot.sim.training.Task
    landmarks: list[Any]  # flannot.sim.view_score.Landmarks
    detector: int
    pixel_mm: float

    @property
    def case_id(self) -> str:
        return self.folder.name


def is_ct_case(folder: str | os.PathLike[str]) -> bool:
    """Whether a case folder is CT-backed (holds ``sim.json``)."""
    return (Path(folder) / SIM_FILE).is_file()


def shots_dir(attempt_file: str | os.PathLike[str]) -> Path:
    """The shots folder of an attempt: ``attempts/<trainee>/<case-id>-shots/`` beside
    ``<case-id>.json``."""
    p = Path(attempt_file)
    return p.with_name(p.stem + SHOTS_SUFFIX)


def _read_sim(folder: Path) -> dict[str, Any]:
    from flannot.versioned_json import read_versioned

    missing = f"not a CT-backed case (no {SIM_FILE})"
    data, _ = read_versioned(folder / SIM_FILE, "flannot_sim_version", SIM_VERSION, missing, folder)
    return data


def _inside(folder: Path, rel: Any, what: str, path: Path) -> Path:
    if not isinstance(rel, str) or not rel:
        raise FlannotError(f"'{what}' must name a file in the case folder", path)
    p = (folder / rel).resolve()
    if folder.resolve() not in p.parents:
        raise FlannotError(f"'{what}' {rel!r} leaves the case folder", path)
    return p


def load_ct_case(folder: str | os.PathLike[str]) -> CTCase:
    """Read a CT-backed case (:class:`CTCase`); one-line :class:`FlannotError` when wrong."""
    from flannot.sim.training import Task
    from flannot.sim.view_score import landmarks

    root = Path(folder)
    data = _read_sim(root)
    path = root / SIM_FILE
    try:
        task = Task.from_dict(data.get("task"))  # type: ignore[arg-type]
    except FlannotError as exc:
        raise FlannotError(f"task: {exc.reason}", path) from None
    try:
        marks = landmarks(data.get("landmarks") or [])
    except (KeyError, TypeError, ValueError) as exc:
        raise FlannotError(f"landmarks: bad entry ({exc})", path) from None
    return CTCase(
        root,
        _inside(root, data.get("ct", CT_FILE), "ct", path),
        _inside(root, data.get("labels", LABELS_FILE), "labels", path),
        task,
        marks,
        int(data.get("detector", 512)),
        float(data.get("pixel_mm", 0.6)),
    )


def validate_ct_case(folder: str | os.PathLike[str], *, read_volumes: bool = True) -> list[Any]:
    """Problems of a CT-backed case, for ``flannot validate`` (SPEC §8; :class:`Problem`).

    Checks ``sim.json`` (version, task: level, side, views of the protocol, budgets),
    that the CT and labelmap exist (and, with ``read_volumes``, load and share a grid),
    and that the target's vertebrae are among the landmarks.
    """
    from flannot.model.validate import Problem
    from flannot.sim.view_score import find_target

    root = Path(folder)
    file = str(root / SIM_FILE)
    try:
        case = load_ct_case(root)
    except FlannotError as exc:
        return [Problem("$", exc.reason, "error", file)]
    problems = []
    for key, p in (("ct", case.ct), ("labels", case.labels)):
        if not p.is_file():
            problems.append(Problem(f"$.{key}", f"{p.name} is missing", "error", file))
    if not case.landmarks:
        problems.append(Problem("$.landmarks", "no vertebra landmarks", "error", file))
    else:
        try:
            find_target(case.landmarks, case.task.target)
        except FlannotError as exc:
            problems.append(Problem("$.task.target", exc.reason, "error", file))
    if read_volumes and not problems:
        from flannot.sim.volume import load_ct, load_labels

        try:
            load_labels(case.labels, load_ct(case.ct))
        except FlannotError as exc:
            problems.append(Problem("$.labels", exc.reason, "error", file))
    return problems


def _write_nifti(path: Path, data: np.ndarray, affine_lps: np.ndarray) -> None:
    """A fresh NIfTI (RAS+ affine, no header text), written atomically."""
    import nibabel as nib

    from flannot.atomic import atomic_write_bytes
    from flannot.sim.volume import RAS_TO_LPS

    img = nib.Nifti1Image(data, RAS_TO_LPS @ np.asarray(affine_lps, float))
    img.header.set_qform(img.affine, code=1)
    img.header.set_sform(img.affine, code=1)
    tmp = path.with_name(path.name + ".part.nii.gz")
    nib.save(img, str(tmp))
    try:
        atomic_write_bytes(path, tmp.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)


def add_ct_case(
    set_root: str | os.PathLike[str],
    ct: str | os.PathLike[str],
    labels: str | os.PathLike[str],
    task: Any,
    *,
    case_id: str | None = None,
    title: str | None = None,
    detector: int = 512,
    pixel_mm: float = 0.6,
    seed: int = 0,
) -> str:
    """Add a CT-backed case to a teaching set (``flannot set add SET --ct CT --labels SEG``).

    Parameters
    ----------
    set_root
        The teaching set.
    ct, labels
        A NIfTI file or DICOM CT series folder, and its labelmap on the same grid.
    task
        A :class:`flannot.sim.training.Task` or its ``sim.json`` dict.
    case_id, title
        Default: the set's next ``case-NNN``; the title defaults to the task.
    detector, pixel_mm, seed
        The C-arm's detector for the trainee's shots and the reference shot.

    Returns
    -------
    str
        The new case's id. The case is built in a temporary folder and renamed into
        place, then listed in ``flannot-set.json``: never half-added.
    """
    from flannot.sim.anatomy import find_vertebrae
    from flannot.sim.case import SimRequest, simulate, write_case
    from flannot.sim.training import Task
    from flannot.sim.view_score import find_target, landmarks
    from flannot.sim.volume import label_convention, load_ct, load_labels
    from flannot.teach.teaching_set import TeachingSet, fresh_dir

    ts = TeachingSet.open(set_root)
    task = task if isinstance(task, Task) else Task.from_dict(task)
    task = task.check()
    volume = load_ct(Path(ct))
    seg = load_labels(Path(labels), volume)
    verts = find_vertebrae(seg, volume, label_convention(task.label_map))
    find_target(verts, task.target)  # the target must be labelled
    cid = case_id or ts.next_case_id()
    if cid in ts.case_ids or (ts.root / "cases" / cid).exists():
        raise FlannotError(f"case {cid!r} already exists in the set", ts.root)
    cases = ts.root / "cases"
    cases.mkdir(parents=True, exist_ok=True)
    tmp = fresh_dir(cases, f".{cid}.", ".tmp")
    try:
        hu = np.clip(np.rint(np.asarray(volume.hu)), -32768, 32767).astype(np.int16)
        _write_nifti(tmp / CT_FILE, hu, volume.affine)
        seg_type = np.uint8 if seg.max() < 256 else np.uint16
        _write_nifti(tmp / LABELS_FILE, seg.astype(seg_type), volume.affine)
        first = task.views[0]
        req = SimRequest(
            str(tmp / CT_FILE),
            str(tmp / LABELS_FILE),
            label_map=task.label_map,
            view=first,
            target=task.target.split("-")[0],
            detector=detector,
            pixel=pixel_mm,
            kvp=task.kvp,
            seed=seed,
            position=task.position,
            case_id=cid,
            protocol=task.protocol,
        )
        sim = simulate(req)
        write_case(sim.files, tmp)
        sim_data = {
            "flannot_sim_version": SIM_VERSION,
            "ct": CT_FILE,
            "labels": LABELS_FILE,
            "task": task.to_dict(),
            "detector": int(detector),
            "pixel_mm": float(pixel_mm),
            "reference_view": first,
            "landmarks": [m.to_dict() for m in landmarks(verts)],
        }
        from flannot.atomic import atomic_write_text

        atomic_write_text(tmp / SIM_FILE, json.dumps(sim_data, indent=2) + "\n")
        final = cases / cid
        if final.exists():
            raise FlannotError(f"case {cid!r} already exists in the set", ts.root)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    views = ", ".join(task.views)
    ts.data["cases"].append(
        {
            "case_id": cid,
            "path": f"cases/{cid}",
            "title": title or f"C-arm: {views} at {task.target}",
            "view": first,
            "kind": "ct",
            "provenance": {"source": "CT", "ct": Path(ct).name, "labels": Path(labels).name},
        }
    )
    ts.save()
    return cid


def open_training(
    folder: str | os.PathLike[str],
    shots: str | os.PathLike[str] | None = None,
    *,
    detector: int | None = None,
    seed: int = 0,
) -> Any:
    """A :class:`flannot.sim.training.TrainingSession` on a CT-backed case.

    ``shots`` is the attempt's shots folder; a session recorded there is resumed.
    ``detector`` overrides the case's detector size (a smaller one for tests).
    """
    from flannot.sim.render import prepare
    from flannot.sim.training import SHOTS_FILE, TrainingSession
    from flannot.sim.volume import load_ct

    case = load_ct_case(folder)
    prep = prepare(load_ct(case.ct), case.task.kvp)
    n = int(detector or case.detector)
    pixel = case.detector * case.pixel_mm / n  # the same field on fewer pixels
    if shots is not None and (Path(shots) / SHOTS_FILE).is_file():
        return TrainingSession.resume(Path(shots), prep, case.landmarks, seed=seed)
    return TrainingSession(
        prep,
        case.landmarks,
        case.task,
        detector=n,
        pixel_mm=pixel,
        out_dir=None if shots is None else Path(shots),
        case_id=case.case_id,
        seed=seed,
    )


def training_items(
    folder: str | os.PathLike[str],
    shots: str | os.PathLike[str],
    tolerances: dict[str, Any] | None = None,
) -> list[Any]:
    """The view-quality items of an attempt's shots (the entry point ``flannot score``
    calls for a CT-backed case; SPEC §6 item format).

    A missing shots folder scores every view as not obtained (and zero shots).
    """
    from flannot.sim.training import SHOTS_FILE, read_record
    from flannot.sim.view_score import find_target, score_views
    from flannot.sim.views import resolve_view

    case = load_ct_case(folder)
    shot_list = read_record(Path(shots))["shots"] if (Path(shots) / SHOTS_FILE).is_file() else []
    task = case.task
    return score_views(
        [resolve_view(v, task.protocol) for v in task.views],
        find_target(case.landmarks, task.target),
        shot_list,
        position=task.position,
        side=task.side,
        budget=task.shot_budget,
        dose_budget=task.dose_budget,
        tolerances=tolerances,
    )


def score_ct_attempt(
    reference_case_file: str | os.PathLike[str],
    attempt_case_file: str | os.PathLike[str],
    tolerances: dict[str, Any] | None = None,
) -> list[Any]:
    """:func:`training_items` for a reference case file and an attempt case file
    (``SET/attempts/<trainee>/<case-id>.json``; its shots are beside it); ``[]`` when the
    reference is not CT-backed — the one call :func:`flannot.teach.score.score_case`'s
    caller needs."""
    folder = Path(reference_case_file)
    folder = folder if folder.is_dir() else folder.parent
    if not is_ct_case(folder):
        return []
    return training_items(folder, shots_dir(attempt_case_file), tolerances)


def write_attempt_case(
    reference_case_file: str | os.PathLike[str],
    attempt_file: str | os.PathLike[str],
    trainee: str,
) -> Path:
    """Create or update the attempt case whose image is the shots acquisition.

    ``attempt_file`` is ``SET/attempts/<trainee>/<case-id>.json``; its image is the
    ``<case-id>-shots/`` folder (one frame per shot, SPEC §2), so the trainee annotates
    any shot (annotation ``frame`` = shot index − 1). Existing annotations are kept; the
    frame count and calibration follow the shots.
    """
    from flannot.model.case import Case, ImageRef
    from flannot.sim.training import read_record

    ref = Case.load(reference_case_file)
    path = Path(attempt_file)
    shots = shots_dir(path)
    rec = read_record(shots)
    n = len(rec["shots"])
    if n == 0:
        raise FlannotError("no shot taken yet", shots)
    first = rec["shots"][0]
    spacing = float(first["pixel_mm"]) * float(first["sod"]) / float(first["sid"])
    image = ImageRef(
        path=shots.name,
        frames=n,
        spacing_mm=(spacing, spacing),
        calibration="magnification_corrected",
        rows=int(first["rows"]),
        columns=int(first["cols"]),
    )
    if path.is_file():
        case = Case.load(path)
        case.image = image
    else:
        case = Case(
            case_id=ref.case_id,
            image=image,
            annotations=[],
            protocol=ref.protocol,
            author=trainee,
        )
    case.save(path)
    return path


def reference_on_shots(folder: str | os.PathLike[str], attempt: Any) -> Any:
    """The answer key of the trainee's own shots, for scoring what they annotated on them.

    A CT-backed case has no fixed image: the trainee annotates any of their shots. For
    every frame the attempt has annotations on, the landmarks (vertebra centroids,
    spinous process tips and pedicles where the protocol declares them) are projected
    with that shot's geometry (``shots.json``; frame ``n`` = shot ``n + 1``), exactly as
    ``flannot sim`` projects its answer key. Returns a :class:`flannot.model.case.Case`
    on the attempt's image, to score with :func:`flannot.teach.score.score_case`.

    Parameters
    ----------
    folder
        The CT-backed reference case folder.
    attempt
        The attempt :class:`~flannot.model.case.Case` (loaded from
        ``attempts/<trainee>/<case-id>.json``; its shots are beside it).
    """
    from flannot.model.case import Case
    from flannot.protocols import get_protocol
    from flannot.sim.training import read_record
    from flannot.sim.view_score import shot_carm

    case = load_ct_case(folder)
    proto = get_protocol(case.task.protocol)
    levels = set(proto.vertebra_levels)
    kinds: list[tuple[str, str | None]] = [("vertebra", None)]
    if proto.find_type("spinous_process") is not None:
        kinds.append(("spinous_process", None))
    if proto.find_type("pedicle") is not None:
        kinds += [("pedicle", "left"), ("pedicle", "right")]
    shots = read_record(shots_dir(attempt.path))["shots"]
    frames = sorted({int(getattr(a, "frame", 0) or 0) for a in attempt.annotations})
    anns: list[dict[str, Any]] = []
    for frame in frames:
        if not 0 <= frame < len(shots):
            continue
        carm = shot_carm(shots[frame])
        for m in case.landmarks:
            if m.level not in levels:
                continue
            for type_, side in kinds:
                if type_ == "vertebra":
                    point = m.centroid
                elif type_ == "spinous_process":
                    point = m.spinous_tip
                else:
                    point = m.pedicles.get(side or "")
                if point is None:
                    continue
                r, c = carm.project(point)[0]
                if not (-0.5 <= r <= carm.rows - 0.5 and -0.5 <= c <= carm.cols - 0.5):
                    continue
                ann: dict[str, Any] = {
                    "id": f"{type_}-{m.level}{'-' + side if side else ''}-f{frame}",
                    "type": type_,
                    "level": m.level,
                    "frame": frame,
                    "geometry": {"kind": "point", "points": [[float(r), float(c)]]},
                }
                if side:
                    ann["side"] = side
                anns.append(ann)
    data = {
        "flannot_version": 1,
        "case_id": attempt.case_id,
        "protocol": case.task.protocol,
        "image": {**attempt.image.to_dict(), "path": str(attempt.image_path)},
        "annotations": anns,
    }
    return Case.from_dict(data)


def score_ct_case(
    folder: str | os.PathLike[str],
    attempt_file: str | os.PathLike[str],
    tolerances: dict[str, Any] | None = None,
) -> Any:
    """Score an attempt at a CT-backed case (SPEC §6, §15): the annotations on the shots
    against :func:`reference_on_shots`, then the views, shots and dose
    (:func:`training_items`). Returns a :class:`flannot.teach.score.CaseScore`."""
    from flannot.model.case import Case
    from flannot.teach.score import CaseScore, score_case

    attempt = Case.load(attempt_file)
    items: list[Any] = []
    if attempt.annotations:
        items = score_case(reference_on_shots(folder, attempt), attempt, tolerances).items
    items += training_items(folder, shots_dir(attempt_file), tolerances)
    return CaseScore(str(attempt.case_id), all(it.passed for it in items), items)
