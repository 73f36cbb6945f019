"""A scripted course: a teaching set, trainees with known error patterns, their Checks.

For the tests of the course report (SPEC §16), its benchmark and the docs' picture:
every attempt is drawn by a script from the reference with a known error, scored
with :func:`flannot.teach.score.score_case` and recorded in the attempt history, so
the report must show exactly the patterns the script put in.

Patterns (:data:`PATTERNS`):

``good``
    the reference with sub-pixel jitter: passes every time.
``level_high``
    counts one level too high: every vertebra labelled one level cranial, and the
    portal (with its contrast line, lamina and ligamentum flavum) placed one
    interspace cranial — a wrong-level procedure, ``level_offset`` −1.
``level_low``
    the same one level too low (``level_offset`` +1); the sacrum, which would be
    "S2", is left unlabelled (a missed vertebra).
``crosses``
    the portal tip 3 mm past the epidural contrast line: a safety violation.
``improves``
    tip and outlines off by 8 mm, then 4 mm, then 0.6 mm: fails, fails, passes.

And one hard case (:data:`HARD_CASE`, ``case-03``): everybody's first attempt
at it has the portal tip 5 mm too caudal (a ``tip_error`` failure), so it is the
case with the lowest pass rate.

The cases are constructed geometry (no image file is needed to score them):
0.2 mm pixels, L1–S1 vertebral bodies with four corners, and at the case's target
interspace the lamina, the ligamentum flavum, the epidural contrast line and a
docked MILD portal.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PATTERNS", "Trainee", "build_course", "reference_case_dict"]

PATTERNS = ("good", "level_high", "level_low", "crosses", "improves")
SPACING = (0.2, 0.2)
LEVELS = ("L1", "L2", "L3", "L4", "L5", "S1")
ALL_LEVELS = ("T12", *LEVELS)
TARGETS = ("L4-L5", "L3-L4", "L2-L3")
#: index of the case whose first attempt everybody gets wrong (tip 5 mm off)
HARD_CASE = 2
STEP = 150.0  # px between vertebral centres (30 mm)
START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
#: scripted educator ratings by pattern: (global rating, entrustment, level confirmed on AP)
RATINGS = {
    "good": (4, "supervision only", True),
    "level_high": (2, "active help", False),
    "level_low": (2, "active help", False),
    "crosses": (1, "show and tell", True),
    "improves": (3, "passive help", True),
}


@dataclass(frozen=True)
class Trainee:
    """A scripted trainee: a folder name and an error pattern."""

    name: str
    pattern: str


def _a(id: str, type: str, kind: str, points: Any, **attrs: Any) -> dict[str, Any]:
    out = {
        "id": id,
        "type": type,
        "frame": 0,
        "geometry": {"kind": kind, "points": np.round(np.asarray(points, float), 3).tolist()},
    }
    out.update({k: v for k, v in attrs.items() if v is not None})
    return out


def _rows(case_index: int) -> list[float]:
    shift = (case_index % 3) * 10.0
    return [100.0 + k * STEP + shift for k in range(len(LEVELS))]


def _target(case_index: int) -> tuple[str, str]:
    return TARGETS[case_index % len(TARGETS)], ("left", "right")[case_index % 2]


def _procedure(
    case_index: int, level: str, side: str, row_shift: float = 0.0, lf_mm: float | None = None
) -> list[dict[str, Any]]:
    """Lamina, LF, contrast line and docked portal at interspace ``level`` (row of the
    reference target plus ``row_shift``)."""
    rows = _rows(case_index)
    target, _ = _target(case_index)
    upper = LEVELS.index(target.split("-")[0])
    r = (rows[upper] + rows[upper + 1]) / 2 + row_shift
    lf_px = (lf_mm if lf_mm is not None else 2.4 + 0.4 * (case_index % 5)) / SPACING[1]
    lamina_level = level.split("-")[0]
    return [
        _a("la1", "lamina", "polygon", [[r - 60, 420], [r - 60, 520], [r - 10, 520], [r - 10, 420]],
           level=lamina_level, side=side),
        _a("lf1", "ligamentum_flavum", "polygon",
           [[r - 30, 530], [r - 30, 530 + lf_px], [r + 30, 530 + lf_px], [r + 30, 530]],
           level=level, side=side),
        _a("ec1", "epidural_contrast", "path", [[r - 80, 560], [r, 560], [r + 80, 560]],
           level=level, side=side),
        _a("c1", "cannula", "line", [[r - 120, 250 - 15 * (case_index % 4)], [r - 35, 420]],
           level=level, side=side, instrument="portal"),
    ]  # fmt: skip


def _vertebrae(case_index: int, labels: tuple[str | None, ...] = LEVELS) -> list[dict[str, Any]]:
    """Vertebral bodies (four corners); a ``None`` label leaves that vertebra out."""
    out = []
    for k, (r, level) in enumerate(zip(_rows(case_index), labels, strict=True)):
        if level is None:
            continue
        h = 45.0 + 3.0 * k + 2.0 * (case_index % 4)  # half height: bodies differ by level
        w = 70.0
        corners = [[r - h, 300 - w], [r - h, 300 + w], [r + h, 300 + w], [r + h, 300 - w]]
        out.append(_a(f"v{k + 1}", "vertebra", "polygon", corners, level=level))
    return out


def _case(case_id: str, annotations: list[dict[str, Any]], author: str | None = None) -> dict:
    out: dict[str, Any] = {
        "flannot_version": 1,
        "case_id": case_id,
        "protocol": "mild",
        "image": {"path": "image.dcm", "spacing_mm": list(SPACING),
                  "calibration": "magnification_corrected"},
        "annotations": annotations,
        "notes": "",
    }  # fmt: skip
    if author:
        out["author"] = author
    return out


def reference_case_dict(case_index: int, case_id: str) -> dict[str, Any]:
    """The answer key of scripted case ``case_index``."""
    target, side = _target(case_index)
    return _case(case_id, _vertebrae(case_index) + _procedure(case_index, target, side))


def _shift_level(level: str, by: int) -> str | None:
    """``level`` counted ``by`` levels lower (``None`` past the end of T12…S1)."""
    seq = ALL_LEVELS
    out = []
    for p in level.split("-"):
        k = seq.index(p) + by
        if not 0 <= k < len(seq):
            return None
        out.append(seq[k])
    return "-".join(out)


def _jitter(anns: list[dict[str, Any]], rng: np.random.Generator, sd: float) -> None:
    for a in anns:
        pts = np.asarray(a["geometry"]["points"], float)
        a["geometry"]["points"] = np.round(pts + rng.normal(0, sd, pts.shape), 3).tolist()


def _move(anns: list[dict[str, Any]], d_row: float, d_col: float, only: str | None = None) -> None:
    for a in anns:
        if only is None or a["type"] == only:
            pts = np.asarray(a["geometry"]["points"], float) + [d_row, d_col]
            a["geometry"]["points"] = pts.tolist()


def attempt_case_dict(
    pattern: str, case_index: int, case_id: str, attempt: int, rng: np.random.Generator
) -> dict[str, Any]:
    """An attempt (1-based ``attempt``) at scripted case ``case_index`` with ``pattern``."""
    target, side = _target(case_index)
    if pattern in ("level_high", "level_low"):
        by = -1 if pattern == "level_high" else 1
        labels = tuple(_shift_level(lv, by) for lv in LEVELS)
        anns = _vertebrae(case_index, labels)
        placed = _shift_level(target, by)
        assert placed is not None  # the targets leave a level above and below
        anns += _procedure(case_index, placed, side, row_shift=by * STEP)
    else:
        anns = _vertebrae(case_index) + _procedure(case_index, target, side)
    _jitter(anns, rng, 0.5)
    if pattern == "crosses":  # tip 3 mm (15 px) past the contrast line at column 560
        tip = next(a for a in anns if a["type"] == "cannula")["geometry"]["points"]
        tip[-1] = [tip[-1][0], 575.0]
    elif pattern == "improves":
        off = {1: 40.0, 2: 20.0, 3: 3.0}.get(attempt, 3.0)  # px: 8, 4, 0.6 mm
        for t in ("cannula", "ligamentum_flavum", "lamina"):
            _move(anns, off, -off / 2 if t == "cannula" else 0.0, only=t)
    elif pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}")
    if case_index == HARD_CASE and attempt == 1:
        _move(anns, 25.0, 0.0, only="cannula")  # the portal 5 mm too caudal
    return _case(case_id, anns)


def _second_key(case_index: int, case_id: str, rng: np.random.Generator) -> dict[str, Any]:
    """Another educator's answer key: LF drawn 1 px thicker, corners and tip jittered."""
    data = reference_case_dict(case_index, case_id)
    for a in data["annotations"]:
        pts = np.asarray(a["geometry"]["points"], float)
        if a["type"] == "ligamentum_flavum":
            pts[1:3, 1] += 1.0
        else:
            pts = pts + rng.normal(0, 1.0, pts.shape)
        a["geometry"]["points"] = np.round(pts, 3).tolist()
    data["author"] = "dr-kim"
    return data


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def build_course(
    folder: str | os.PathLike[str],
    trainees: list[Trainee] | None = None,
    n_cases: int = 4,
    n_attempts: int = 3,
    *,
    seed: int = 0,
    second_keys: int = 3,
    assess: bool = True,
) -> Path:
    """Write a teaching set with a scripted course into the empty ``folder``.

    Each trainee checks every case ``n_attempts`` times, a week apart (attempt
    ``k`` of every case in week ``k``); every Check is scored and recorded
    (:func:`flannot.teach.history.record`). With ``assess``, an educator
    (``dr-lee``) fills in the rubric of each trainee's last attempt per case with
    the ratings of :data:`RATINGS`. ``second_keys`` cases get a second answer
    key by ``dr-kim`` under ``keys/dr-kim/`` for the inter-rater agreement.

    Returns the set's folder.
    """
    from flannot.model.case import Case
    from flannot.teach.history import record
    from flannot.teach.rubric import assess as fill_rubric
    from flannot.teach.rubric import save_assessment
    from flannot.teach.score import score_case
    from flannot.teach.teaching_set import TeachingSet

    if trainees is None:
        trainees = [Trainee(f"t-{p}", p) for p in PATTERNS]
    rng = np.random.default_rng(seed)
    ts = TeachingSet.new(folder, "Scripted MILD course")
    root = ts.root
    refs = {}
    for i in range(n_cases):
        cid = f"case-{i + 1:02d}"
        _write_json(root / "cases" / cid / "annotations.json", reference_case_dict(i, cid))
        ts.data["cases"].append({"case_id": cid, "path": f"cases/{cid}"})
        refs[cid] = Case.from_dict(reference_case_dict(i, cid))
        if i < second_keys:
            _write_json(root / "keys" / "dr-kim" / f"{cid}.json", _second_key(i, cid, rng))
    ts.save()
    tol = ts.tolerances
    for t_index, t in enumerate(trainees):
        folder_t = root / "attempts" / t.name
        for i, (cid, ref) in enumerate(refs.items()):
            file = folder_t / f"{cid}.json"
            result = att = None
            for k in range(1, n_attempts + 1):
                data = attempt_case_dict(t.pattern, i, cid, k, rng)
                att = Case.from_dict(data)
                result = score_case(ref, att, tol)
                when = START + timedelta(days=7 * (k - 1), minutes=10 * i + t_index)
                record(file, result, trainee=t.name, time=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
            if att is None:
                continue
            att.author = t.name
            att.save(file, force=True)
            if assess:
                rating, zwisch, level_ok = RATINGS[t.pattern]
                a = fill_rubric(
                    ref, att, educator="dr-lee", result=result, tolerances=tol,
                    ticks={"views_in_order": True, "level_confirmed_ap": level_ok},
                    global_rating=rating, entrustment=zwisch, attempt_number=n_attempts,
                    time=(START + timedelta(days=7 * n_attempts)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                )  # fmt: skip
                save_assessment(file, a)
    return root
