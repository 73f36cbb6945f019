"""Assessment: compare a trainee's attempt with the reference, per case (SPEC §6).

>>> from flannot.teach.score import score, score_case
>>> results = score("my-set", "my-set/attempts/alice")  # doctest: +SKIP
>>> [(r.case_id, r.passed) for r in results]  # doctest: +SKIP

Every error is an item ``{annotation_id, type, level, side, metric, value, unit,
passed, message}``; a case passes when every item passes. Metrics:

``level_offset``
    vertebrae, matched to the reference **by position** (Hungarian assignment on
    the distance in mm between centres, per frame): attempt level minus
    reference level, 0 = right, −1 = named one level too cranial. Also a
    trajectory (portal, needle) the attempt placed at another level than the
    reference target: unmatched reference and attempt trajectories of the same type
    and frame are paired in a second pass (same side first, then nearest tip) and
    the item fails, naming a **wrong-level procedure** ("portal placed at L3-L4;
    the target was L4-L5: wrong-level procedure"); the pair keeps its tip, entry
    and angle errors.
``landmark_error``
    mm between the vertebra's corners (mean over the four) or centres.
``dice``, ``iou``, ``hd95``, ``msd``
    regions, matched by type, frame, level and side. Thin bands (the protocol's
    ``Scoring.BAND``, e.g. the ligamentum flavum) pass or fail on their boundary
    (``msd``, mean surface distance, and ``hd95``) and thickness; their Dice is
    reported but not graded, because Dice punishes a thin band for a sub-mm shift.
    Boundary lines (``Scoring.BOUNDARY``: contrast line, VILL) get ``msd``/``hd95``.
``tip_error``, ``entry_error``, ``angle_error``, ``crossed_contrast``
    trajectories; ``crossed_contrast`` is a safety violation, listed first: the
    attempt's tip is past any safety boundary of the reference (the protocol's
    ``Role.SAFETY_BOUNDARY`` types: contrast line, VILL) in that frame, whatever
    level or side either carries.
``decision``, ``decision_reason``
    the case-level decision (:mod:`flannot.teach.scoring.decision`): proceeding where
    the reference says do not proceed is a safety failure listed first; a matching
    "do not proceed" is followed by its reason (value: the attempt's reason key).
``measurement_error``
    attempt minus reference of the measurement each type declares as scored
    (``scored_measurement``: canal ``min_width``, LF ``max_thickness``).
``missing_case``
    a case of the reference set without an attempt.

A missed reference annotation is an item with the type's first metric (``dice``
0 for regions, ``level_offset``/``tip_error`` ``null`` otherwise) that fails;
so is an extra attempt annotation the reference does not have.

Lengths are in mm with the reference's calibration (:func:`flannot.measure.resolve_units`).
On an uncalibrated reference they are in px and a tolerance in mm cannot be
applied: the item is reported but not graded (it passes and says so) unless
the tolerances give a ``<name>_px`` value. See ``docs/scoring.md``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from flannot.errors import FlannotError
from flannot.measure import geometry as g
from flannot.measure.context import Context, norm_level
from flannot.measure.units import Units, resolve_units
from flannot.protocols import Role, Scoring, protocol_of
from flannot.teach.scoring import matching, messages
from flannot.teach.scoring.decision import decision_items
from flannot.teach.scoring.regions import line_distances, overlap

__all__ = [
    "CaseScore",
    "ScoreItem",
    "attempt_files",
    "report",
    "score",
    "score_case",
    "to_json",
]

# metric -> tolerance key (lengths in mm; uncalibrated images look for "<name>_px")
LENGTH_TOLERANCES = {
    "landmark_error": "landmark_error_mm",
    "hd95": "hd95_mm",
    "msd": "msd_mm",
    "tip_error": "tip_error_mm",
    "entry_error": "entry_error_mm",
    "measurement_error": "measurement_error_mm",
}
_REF_PREFIX = "reference:"
_METRIC_TITLE = {"dice": "Dice", "iou": "IoU"}
#: resampling step of boundary lines for their distances (mm, px uncalibrated)
LINE_STEP = 0.25


@dataclass
class ScoreItem:
    """One scored comparison (a row of ``flannot score --json``)."""

    annotation_id: str | None
    type: str | None
    level: str | None
    side: str | None
    metric: str
    #: a number, a flag, or a key (``decision_reason``: the attempt's reason)
    value: float | int | bool | str | None
    unit: str
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, with plain Python numbers (``null`` for a missing value)."""
        v = self.value
        if isinstance(v, (bool, np.bool_)):
            v = bool(v)
        elif isinstance(v, (int, np.integer)):
            v = int(v)
        elif isinstance(v, str):
            pass
        elif v is not None:
            v = float(v)
            v = round(v, 6) if math.isfinite(v) else None
        return {
            "annotation_id": self.annotation_id,
            "type": self.type,
            "level": self.level,
            "side": self.side,
            "metric": self.metric,
            "value": v,
            "unit": self.unit,
            "passed": bool(self.passed),
            "message": self.message,
        }


@dataclass
class CaseScore:
    """The assessment of one case: passed when every item passed."""

    case_id: str
    passed: bool
    items: list[ScoreItem] = field(default_factory=list)

    @property
    def failed(self) -> list[ScoreItem]:
        return [it for it in self.items if not it.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "passed": bool(self.passed),
            "items": [it.to_dict() for it in self.items],
        }


def report(scores: Iterable[CaseScore]) -> dict[str, Any]:
    """``{"cases": [{"case_id", "passed", "items": [...]}]}`` (SPEC §6)."""
    return {"cases": [s.to_dict() for s in scores]}


def to_json(scores: Iterable[CaseScore], indent: int | None = 2) -> str:
    """:func:`report` as JSON text."""
    return json.dumps(report(scores), indent=indent, ensure_ascii=False)


# --------------------------------------------------------------------------- grading
class _Grader:
    """Applies the tolerances and builds items with their messages."""

    def __init__(self, tolerances: Mapping[str, Any], units: Units) -> None:
        self.tol = {k: v for k, v in tolerances.items() if _is_number(v)}
        self.units = units
        self.items: list[ScoreItem] = []

    def add(self, ann: Any, metric: str, value: Any, unit: str, passed: bool, msg: str) -> None:
        self.items.append(
            ScoreItem(
                annotation_id=None if ann is None else str(ann.id),
                type=None if ann is None else ann.type,
                level=None if ann is None else norm_level(ann.level),
                side=None if ann is None else ann.side,
                metric=metric,
                value=value,
                unit=unit,
                passed=bool(passed),
                message=msg,
            )
        )

    def length(self, ann: Any, metric: str, value: float | None, what: str) -> None:
        """A length metric (error ≤ tolerance passes); ``what`` starts the sentence."""
        unit = self.units.length
        if value is None or not math.isfinite(value):
            self.add(ann, metric, None, unit, False, f"{what}: cannot be computed")
            return
        key = LENGTH_TOLERANCES[metric]
        if not self.units.calibrated:
            key = key.removesuffix("_mm") + "_px"
        limit = self.tol.get(key)
        shown = messages.fmt(value, unit)
        if limit is None:
            why = (
                "not graded: the image is uncalibrated, so this is in px and the mm tolerance "
                "does not apply"
                if not self.units.calibrated
                else f"not graded: no {key} tolerance"
            )
            self.add(ann, metric, value, unit, True, f"{what} {shown} ({why})")
            return
        ok = abs(value) <= float(limit)
        rel = "within" if ok else "more than"
        self.add(
            ann,
            metric,
            value,
            unit,
            ok,
            f"{what} {shown}, {rel} the {messages.fmt(limit, unit)} allowed",
        )

    def at_least(self, ann: Any, metric: str, value: float, limit: float | None, what: str) -> None:
        """An overlap metric (value ≥ limit passes)."""
        if limit is None:
            self.add(ann, metric, value, "", True, f"{what} {value:.2f} (not graded: no tolerance)")
            return
        ok = value >= limit
        rel = "at least" if ok else "below"
        self.add(ann, metric, value, "", ok, f"{what} {value:.2f}, {rel} the {limit:.2f} required")

    def angle(self, ann: Any, value: float, what: str) -> None:
        limit = self.tol.get("angle_error_deg")
        if not math.isfinite(value):
            self.add(ann, "angle_error", None, "deg", False, f"{what}: cannot be computed")
        elif limit is None:
            self.add(ann, "angle_error", value, "deg", True, f"{what} {value:.1f}° (not graded)")
        else:
            ok = value <= float(limit)
            rel = "within" if ok else "more than"
            self.add(
                ann, "angle_error", value, "deg", ok,
                f"{what} {value:.1f}°, {rel} the {float(limit):.1f}° allowed",
            )  # fmt: skip

    @property
    def iou_limit(self) -> float | None:
        """The ``iou`` tolerance, else the IoU equivalent to the Dice one (IoU = D / (2 − D))."""
        if "iou" in self.tol:
            return float(self.tol["iou"])
        d = self.tol.get("dice")
        return None if d is None else float(d) / (2.0 - float(d))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _frame_note(ann: Any) -> str:
    return f" (frame {ann.frame})" if ann.frame else ""


# --------------------------------------------------------------------------- vertebrae
def _corners(ann: Any) -> np.ndarray | None:
    if ann.geometry.kind != "polygon":
        return None
    pts = np.asarray(ann.geometry.points, float)
    return pts if pts.shape == (4, 2) and np.isfinite(pts).all() else None


def _landmark_error(ref: Any, att: Any, sp: np.ndarray) -> float:
    """Mean corner-to-corner distance when both have four corners, else between centres."""
    rc, ac = _corners(ref), _corners(att)
    if rc is not None and ac is not None:
        return float(np.hypot(*((rc - ac) * sp).T).mean())
    rp, ap = matching.centre(ref), matching.centre(att)
    if rp is None or ap is None:
        return math.nan
    return float(np.hypot(*((rp - ap) * sp)))


def _score_vertebrae(gr: _Grader, ref: list[Any], att: list[Any]) -> None:
    seq = messages.vertebra_sequence([norm_level(a.level) for a in (*ref, *att)])
    sp = np.asarray(gr.units.spacing, float)
    ref_by = matching.group(ref, lambda a: int(a.frame or 0))
    att_by = matching.group(att, lambda a: int(a.frame or 0))
    for frame in sorted(set(ref_by) | set(att_by)):
        rs, as_ = ref_by.get(frame, []), att_by.get(frame, [])
        rp = [matching.centre(a) for a in rs]
        ap = [matching.centre(a) for a in as_]
        m = matching.assign(rp, ap, gr.units.spacing, matching.vertebra_gate(rp, gr.units.spacing))
        for i, j in m.pairs:
            r, a = rs[i], as_[j]
            rl, al = norm_level(r.level), norm_level(a.level)
            where = _frame_note(r)
            if rl is None:  # an unlabelled answer key: nothing to compare the label with
                gr.add(
                    r, "level_offset", None, "", True, f"the reference vertebra has no level{where}"
                )
            else:
                off = None if al is None else messages.level_offset(rl, al, seq)
                gr.add(
                    r,
                    "level_offset",
                    off,
                    "",
                    off == 0,
                    messages.level_message(rl, al, off) + where,
                )
            gr.length(
                r, "landmark_error", _landmark_error(r, a, sp),
                f"{rl or 'vertebra'}{where}: your mark is off the reference landmark by",
            )  # fmt: skip
        for i in m.missed:
            r = rs[i]
            # the landmark named by its type ("the vertebra at L4", "the left pedicle at L4")
            name = messages.describe(r.type, norm_level(r.level), r.side, r.part)
            gr.add(
                r, "level_offset", None, "", False,
                f"missed: you did not mark the {name}{_frame_note(r)}",
            )  # fmt: skip
        for j in m.extra:
            a = as_[j]
            label = norm_level(a.level)
            gr.add(
                a, "level_offset", None, "", False,
                f"extra: you marked a {a.type.replace('_', ' ')}"
                f"{' labelled ' + label if label else ''}"
                f"{_frame_note(a)} where the reference has none",
            )  # fmt: skip


# --------------------------------------------------------------------------- regions, cannulas
def _key(a: Any) -> tuple[str, int, str | None, str | None]:
    return (a.type, int(a.frame or 0), norm_level(a.level), a.side)


def _pairs(ref: list[Any], att: list[Any], spacing: tuple[float, float]):
    """Matched, missed and extra annotations by type, frame, level and side."""
    ref_by, att_by = matching.group(ref, _key), matching.group(att, _key)
    pairs, missed, extra = [], [], []
    for k in sorted(set(ref_by) | set(att_by), key=lambda k: tuple(str(x) for x in k)):
        rs, as_ = ref_by.get(k, []), att_by.get(k, [])
        m = matching.assign(
            [matching.centre(a) for a in rs], [matching.centre(a) for a in as_], spacing
        )
        pairs += [(rs[i], as_[j]) for i, j in m.pairs]
        # an annotation without a position cannot pair: it counts as missed / extra
        missed += [rs[i] for i in m.missed]
        extra += [as_[j] for j in m.extra]
    return pairs, missed, extra


def _score_regions(gr, atype, ref, att, ref_ctx, att_ctx, ref_meas, att_meas) -> None:
    pairs, missed, extra = _pairs(ref, att, gr.units.spacing)
    dice_limit = gr.tol.get("dice")
    band = atype.scoring == Scoring.BAND
    for r, a in pairs:
        name = messages.describe(r.type, norm_level(r.level), r.side, r.part) + _frame_note(r)
        ov = overlap(ref_ctx, r, att_ctx, a)
        if band:  # a thin band is judged by its boundary and thickness, not by Dice
            for metric, value in (("dice", ov.dice), ("iou", ov.iou)):
                gr.add(
                    r, metric, value, "", True,
                    f"{name}: overlap with the reference ({_METRIC_TITLE[metric]}) {value:.2f}"
                    f" (reported, not graded: a thin band is judged by its boundary "
                    "distance and thickness)",
                )  # fmt: skip
        else:
            gr.at_least(
                r, "dice", ov.dice, dice_limit, f"{name}: overlap with the reference (Dice)"
            )
            gr.at_least(r, "iou", ov.iou, gr.iou_limit, f"{name}: overlap with the reference (IoU)")
        gr.length(
            r, "hd95", ov.hd95,
            f"{name}: your outline strays from the reference outline (95th percentile) by",
        )  # fmt: skip
        if band:
            gr.length(
                r, "msd", ov.msd, f"{name}: your outline lies off the reference outline (mean) by"
            )
        measure_name = atype.scored_measurement
        rv = ref_meas.get((r.id, measure_name))
        av = att_meas.get((a.id, measure_name))
        if measure_name and _is_number(rv) and _is_number(av):
            unit = gr.units.length
            what = (
                f"{name}: your {measure_name.replace('_', ' ')} is "
                f"{messages.fmt(av, unit)} (reference {messages.fmt(rv, unit)}); error"
            )
            gr.length(r, "measurement_error", float(av) - float(rv), what)
    for r in missed:
        name = messages.describe(r.type, norm_level(r.level), r.side, r.part) + _frame_note(r)
        gr.add(r, "dice", 0.0, "", False, f"missed: you did not outline the {name}")
    for a in extra:
        name = messages.describe(a.type, norm_level(a.level), a.side, a.part) + _frame_note(a)
        gr.add(a, "dice", 0.0, "", False, f"extra: your {name} is not in the reference")


def _tip(ann: Any) -> np.ndarray | None:
    pts = np.asarray(ann.geometry.points, float).reshape(-1, 2)
    return pts[-1] if len(pts) >= 2 and np.isfinite(pts[-1]).all() else None


def _wrong_level_pairs(
    missed: list[Any], extra: list[Any], spacing: tuple[float, float]
) -> list[tuple[Any, Any]]:
    """Second pass: unmatched reference and attempt trajectories placed at another level.

    Same type and frame, both labelled, with different levels: same side first, then
    across sides, each by the nearest tip (Hungarian assignment on the tip distance in
    mm). A same-level, other-side pair is not one: it stays a miss and an extra.
    The pairs are removed from ``missed`` and ``extra``.
    """
    out: list[tuple[Any, Any]] = []
    for same_side in (True, False):
        by_r = matching.group(missed, lambda a: (a.type, int(a.frame or 0)))
        by_a = matching.group(extra, lambda a: (a.type, int(a.frame or 0)))
        for k in sorted(by_r.keys() & by_a.keys(), key=str):
            rs, as_ = by_r[k], by_a[k]
            sp = np.asarray(spacing, float)
            cost = np.full((len(rs), len(as_)), np.inf)
            for i, r in enumerate(rs):
                for j, a in enumerate(as_):
                    rl, al, rt, at = norm_level(r.level), norm_level(a.level), _tip(r), _tip(a)
                    if rt is None or at is None or rl is None or al is None or rl == al:
                        continue
                    if same_side and r.side != a.side:
                        continue
                    cost[i, j] = float(np.hypot(*((rt - at) * sp)))
            if not np.isfinite(cost).any():
                continue
            big = 1e6 + 10 * float(cost[np.isfinite(cost)].max())
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, big))
            out += [(rs[i], as_[j]) for i, j in zip(rows, cols, strict=True) if cost[i, j] < big]
        paired_r = {id(r) for r, _ in out}
        paired_a = {id(a) for _, a in out}
        missed[:] = [r for r in missed if id(r) not in paired_r]
        extra[:] = [a for a in extra if id(a) not in paired_a]
    return out


def _interspace_offset(reference: str, attempt: str, seq: tuple[str, ...]) -> int | None:
    """Attempt minus reference level of two interspaces (or vertebrae): their cranial ones."""
    return messages.level_offset(reference.split("-")[0], attempt.split("-")[0], seq)


def _wrong_level_item(gr: _Grader, r: Any, a: Any) -> None:
    """The failed ``level_offset`` item naming a wrong-level procedure (on ``r``)."""
    rl, al = norm_level(r.level), norm_level(a.level)
    seq = messages.vertebra_sequence([*(rl or "").split("-"), *(al or "").split("-")])
    off = _interspace_offset(rl or "", al or "", seq)
    what = a.instrument or r.instrument or r.type.replace("_", " ")
    other_side = bool(a.side and r.side and a.side != r.side)  # an unlabelled side is not wrong
    placed = " ".join(p for p in (al, a.side if other_side else None) if p)
    target = " ".join(p for p in (rl, r.side if other_side else None) if p)
    kind = "wrong-level and wrong-side" if other_side else "wrong-level"
    how = ""
    if off:
        n = abs(off)
        levels = f"{messages.NUMBER_WORDS.get(n, str(n))} level{'s' if n > 1 else ''}"
        how = f" ({levels} too {'high, too cranial' if off < 0 else 'low, too caudal'})"
    gr.add(
        r, "level_offset", off, "", False,
        f"{what} placed at {placed}; the target was {target}: {kind} procedure{how}"
        f"{_frame_note(r)}",
    )  # fmt: skip


def _score_cannulas(gr, ref, att, att_meas) -> None:
    pairs, missed, extra = _pairs(ref, att, gr.units.spacing)
    wrong = _wrong_level_pairs(missed, extra, gr.units.spacing)
    sp = np.asarray(gr.units.spacing, float)
    wrong_ids = {id(r) for r, _ in wrong}
    for r, a in pairs + wrong:
        name = messages.describe(r.type, norm_level(r.level), r.side, r.part) + _frame_note(r)
        if id(r) in wrong_ids:
            _wrong_level_item(gr, r, a)
            placed = messages.describe(a.type, norm_level(a.level), a.side, a.part)
            name = f"{name} (placed as the {placed})"
        rp, ap = np.asarray(r.geometry.points, float), np.asarray(a.geometry.points, float)
        if len(rp) < 2 or len(ap) < 2:
            gr.add(
                r, "tip_error", None, gr.units.length, False, f"{name}: needs an entry and a tip"
            )
            continue
        tip = float(np.hypot(*((rp[-1] - ap[-1]) * sp)))
        entry = float(np.hypot(*((rp[0] - ap[0]) * sp)))
        angle = g.acute_angle_deg((rp[-1] - rp[0]) * sp, (ap[-1] - ap[0]) * sp)
        gr.length(r, "tip_error", tip, f"{name}: your tip is off the reference tip by")
        gr.length(r, "entry_error", entry, f"{name}: your entry point is off the reference by")
        gr.angle(r, angle, f"{name}: your trajectory is off the reference angle by")
    for r in missed:
        name = messages.describe(r.type, norm_level(r.level), r.side, r.part) + _frame_note(r)
        gr.add(
            r, "tip_error", None, gr.units.length, False, f"missed: you did not place the {name}"
        )
    for a in extra:
        name = messages.describe(a.type, norm_level(a.level), a.side, a.part) + _frame_note(a)
        gr.add(
            a,
            "tip_error",
            None,
            gr.units.length,
            False,
            f"extra: your {name} is not in the reference",
        )


def _score_lines(gr, ref, att) -> None:
    """Boundary lines (contrast, VILL): mean surface distance and HD95 in mm."""
    pairs, missed, extra = _pairs(ref, att, gr.units.spacing)
    sp = np.asarray(gr.units.spacing, float)
    for r, a in pairs:
        name = messages.describe(r.type, norm_level(r.level), r.side, r.part) + _frame_note(r)
        rp = np.asarray(r.geometry.points, float).reshape(-1, 2) * sp
        ap = np.asarray(a.geometry.points, float).reshape(-1, 2) * sp
        ov = line_distances(rp, ap, LINE_STEP)
        msd = None if ov is None else ov.msd
        hd95 = None if ov is None else ov.hd95
        gr.length(r, "msd", msd, f"{name}: your line lies off the reference line (mean) by")
        gr.length(
            r, "hd95", hd95, f"{name}: your line strays from the reference (95th percentile) by"
        )
    for r in missed:
        name = messages.describe(r.type, norm_level(r.level), r.side, r.part) + _frame_note(r)
        gr.add(r, "msd", None, gr.units.length, False, f"missed: you did not draw the {name}")
    for a in extra:
        name = messages.describe(a.type, norm_level(a.level), a.side, a.part) + _frame_note(a)
        gr.add(
            a, "msd", None, gr.units.length, False, f"extra: your {name} is not in the reference"
        )


def _safety(gr, protocol, reference, attempt) -> list[ScoreItem]:
    """Every attempt trajectory tip against every reference safety boundary in its frame.

    Labels cannot dodge it: a tip past a contrast line or VILL is a violation
    whatever level or side the trainee or the reference gave either (SPEC §6).
    Returns the items (the caller lists them first).
    """
    boundaries = set(protocol.names_with_role(Role.SAFETY_BOUNDARY))
    instruments = set(protocol.names_with_role(Role.INSTRUMENT))
    lines = matching.group(
        [a for a in reference.annotations if a.type in boundaries], lambda a: int(a.frame or 0)
    )
    sp = np.asarray(gr.units.spacing, float)
    unit = gr.units.length
    start = len(gr.items)
    for a in attempt.annotations:
        if a.type not in instruments:
            continue
        pts = np.asarray(a.geometry.points, float).reshape(-1, 2)
        if len(pts) < 2 or not np.isfinite(pts).all():
            continue
        entry, tip = pts[0] * sp, pts[-1] * sp
        worst = None  # (signed distance, boundary annotation)
        for b in lines.get(int(a.frame or 0), []):
            line = np.asarray(b.geometry.points, float).reshape(-1, 2)
            if len(line) < 1 or not np.isfinite(line).all():
                continue
            mm = line * sp
            d = g.signed_distance_past_line(tip, entry, mm, g.boundary_reach(mm))
            if worst is None or d < worst[0] or (worst[0] >= 0 and d < worst[0]):
                worst = (d, b)
        if worst is None:
            continue  # no safety boundary in this frame of the reference
        d, b = worst
        name = messages.describe(a.type, norm_level(a.level), a.side, a.part) + _frame_note(a)
        btype = protocol.find_type(b.type)
        title = btype.title if btype is not None else b.type.replace("_", " ")
        label = " ".join(str(p) for p in (norm_level(b.level), b.side) if p)
        where = title[:1].lower() + title[1:] + (f" ({label})" if label else "")
        if d < 0:
            rule = f"; {protocol.safety_message}" if protocol.safety_message else ""
            msg = f"SAFETY: {name}: your tip is {messages.fmt(-d, unit)} past the {where}{rule}"
        else:
            msg = f"{name}: your tip stays {messages.fmt(d, unit)} short of the {where}"
        gr.add(a, "crossed_contrast", bool(d < 0), "", d >= 0, msg)
    items = gr.items[start:]
    del gr.items[start:]
    return items


# --------------------------------------------------------------------------- one case
def _measure_values(case: Any) -> dict[tuple[str, str], Any]:
    from flannot.measure import measure_rows

    return {(r.annotation_id, r.name): r.value for r in measure_rows(case)}


def _attempt_on_reference(reference: Any, attempt: Any) -> Any:
    """The attempt with the reference's image record and calibration lines.

    Measuring this case gives the attempt's values in the reference's units.
    """
    cal = set(protocol_of(reference).names_with_role(Role.CALIBRATION))
    borrowed = [
        dataclasses.replace(a, id=_REF_PREFIX + str(a.id))
        for a in reference.annotations
        if a.type in cal
    ]
    own = [a for a in attempt.annotations if a.type not in cal]
    return dataclasses.replace(
        attempt, case_id=reference.case_id, image=reference.image, annotations=borrowed + own
    )


def default_tolerances(protocol: str | None) -> dict[str, float]:
    """The protocol's default tolerances (an unknown protocol is an error, not MILD's)."""
    from flannot.protocols import get_protocol

    return dict(get_protocol(protocol or "mild").tolerances)


def score_case(
    reference: Any, attempt: Any, tolerances: Mapping[str, Any] | None = None
) -> CaseScore:
    """Score one attempt against its reference (SPEC §6).

    Parameters
    ----------
    reference, attempt
        :class:`flannot.Case` objects drawn on the same image.
    tolerances
        Pass/fail limits by name (``landmark_error_mm``, ``dice``, ``hd95_mm``,
        ``tip_error_mm``, ``entry_error_mm``, ``angle_error_deg``,
        ``measurement_error_mm``; optional ``iou`` and ``<name>_px``); missing
        names fall back to the reference protocol's defaults.

    Returns
    -------
    CaseScore
        ``case_id`` of the reference; ``passed`` when every item passed.
    """
    protocol = protocol_of(reference)
    tol = dict(protocol.tolerances)
    tol.update(tolerances or {})
    units = resolve_units(reference)
    gr = _Grader(tol, units)
    combined = _attempt_on_reference(reference, attempt)
    ref_meas = _measure_values(reference)
    att_meas = _measure_values(combined)
    ref_ctx = Context(str(reference.case_id), units, list(reference.annotations), protocol)
    att_ctx = Context(str(reference.case_id), units, list(combined.annotations), protocol)
    # each image on its own: an outline on the axial planning slice is never paired with
    # one on the projection; the planning slice is scored only when the attempt drew on it
    # (the workspace shows the projection: a trainee cannot be "missing" what it never saw)
    images: list[str | None] = [None]
    if any(getattr(a, "image", None) == "planning" for a in attempt.annotations):
        images.append("planning")
    for image in images:
        ref_by = matching.group(
            [a for a in reference.annotations if getattr(a, "image", None) == image],
            lambda a: a.type,
        )
        att_by = matching.group(
            [a for a in attempt.annotations if getattr(a, "image", None) == image],
            lambda a: a.type,
        )
        for atype in protocol.types:  # in the protocol's order: its teaching order
            ref, att = ref_by.get(atype.name, []), att_by.get(atype.name, [])
            if atype.scoring == Scoring.LANDMARK:
                _score_vertebrae(gr, ref, att)
            elif atype.scoring in (Scoring.REGION, Scoring.BAND):
                _score_regions(gr, atype, ref, att, ref_ctx, att_ctx, ref_meas, att_meas)
            elif atype.scoring == Scoring.BOUNDARY:
                _score_lines(gr, ref, att)
            elif atype.scoring == Scoring.TRAJECTORY:
                _score_cannulas(gr, ref, att, att_meas)
    # safety first: proceeding where the case must not, then tips past a boundary
    items = decision_items(protocol, reference, attempt)
    items += _safety(gr, protocol, reference, attempt) + gr.items
    return CaseScore(str(reference.case_id), all(it.passed for it in items), items)


# --------------------------------------------------------------------------- paths
def _set_root_of_case(case_file: Path) -> Path | None:
    """The teaching set a case file lives in (``<set>/cases/<id>/annotations.json``)."""
    from flannot.teach.teaching_set import SET_FILE

    root = case_file.resolve().parent.parent.parent
    return root if (root / SET_FILE).is_file() and case_file.parent.parent.name == "cases" else None


def _attempt_files(folder: Path) -> list[Path]:
    """Case files of an attempts folder: ``<case-id>.json`` or ``<case-id>/annotations.json``."""
    files = [p for p in sorted(folder.glob("*.json")) if not p.name.startswith(".")]
    files += sorted(folder.glob("*/annotations.json"))
    return files


def _load_cases(path: Path) -> tuple[str, list[Any]]:
    """``("set" | "case" | "attempts", cases)`` for a reference or attempt path."""
    from flannot.model.case import CASE_FILENAME, Case, case_files
    from flannot.teach.teaching_set import SET_FILE

    if path.is_dir() and not (path / SET_FILE).is_file() and not (path / CASE_FILENAME).is_file():
        files = _attempt_files(path)
        if not files:
            raise FlannotError(
                "not a case, a teaching set or an attempts folder (no *.json case files)", path
            )
        return "attempts", [Case.load(f) for f in files]
    files = case_files(path)  # raises FlannotError for a missing path
    kind = "set" if path.is_dir() and (path / SET_FILE).is_file() else "case"
    return kind, [Case.load(f) for f in files]


def attempt_files(attempt_path: str | os.PathLike[str]) -> dict[str, Path]:
    """The case file of each case id in an attempt path (as :func:`score` reads it)."""
    _kind, cases = _load_cases(Path(attempt_path))
    return {str(c.case_id): Path(c.path) for c in cases if c.path is not None}


def _by_id(cases: list[Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in cases:
        if str(c.case_id) in out:
            raise FlannotError(f"two attempts for case {c.case_id!r}", path)
        out[str(c.case_id)] = c
    return out


def _score_one(reference: Any, attempt: Any, tol: Mapping[str, Any]) -> CaseScore:
    """A case's score: a CT-backed case (SPEC §15 training mode) is scored on the views
    the trainee acquired and the annotations on those shots; any other against its
    reference image."""
    from flannot.teach.ct_case import is_ct_case, score_ct_case

    folder, attempt_file = getattr(reference, "folder", None), getattr(attempt, "path", None)
    if folder is not None and attempt_file is not None and is_ct_case(folder):
        return score_ct_case(folder, attempt_file, dict(tol))
    return score_case(reference, attempt, tol)


def score(
    reference_path: str | os.PathLike[str],
    attempt_path: str | os.PathLike[str],
    tolerances: Mapping[str, Any] | None = None,
) -> list[CaseScore]:
    """Score attempts given as paths (``flannot score REFERENCE ATTEMPT``).

    Parameters
    ----------
    reference_path
        A case file or case folder, or a teaching set (every case of its list).
    attempt_path
        A case file or folder; a teaching set; or an attempts folder
        (``<set>/attempts/<trainee>/`` holding ``<case-id>.json`` files). For a
        set reference, cases are paired by ``case_id`` and a reference case
        without an attempt is a failed ``missing_case`` item; a single attempt
        case is scored against the set's case of the same id only.
    tolerances
        Overrides; otherwise the teaching set's (``flannot-set.json``, also for
        a case inside a set), else the protocol's defaults.

    Raises
    ------
    FlannotError
        A path that is not a case, set or attempts folder; a case file that does
        not load; a single attempt whose case is not in the reference set.
    """
    from flannot.teach.teaching_set import TeachingSet

    ref_path, att_path = Path(reference_path), Path(attempt_path)
    ref_kind, refs = _load_cases(ref_path)
    att_kind, atts = _load_cases(att_path)
    set_root = ref_path if ref_kind == "set" else _set_root_of_case(Path(refs[0].path or ref_path))
    tol: dict[str, Any] = {}
    if set_root is not None:
        ts = TeachingSet.open(set_root)
        # a typo such as "dice": "0.9" must not silently fall back to the default
        given = ts.data.get("tolerances") or {}
        if not isinstance(given, dict):
            raise FlannotError("tolerances must map names to numbers", ts.file)
        bad = sorted(str(k) for k, v in given.items() if not _is_number(v))
        if bad:
            raise FlannotError(f"tolerances must be numbers (check {', '.join(bad)})", ts.file)
        tol.update(ts.tolerances)
    tol.update(tolerances or {})
    if ref_kind == "case" and att_kind == "case":
        return [_score_one(refs[0], atts[0], tol)]
    attempts = _by_id(atts, att_path)
    if att_kind == "case":  # one attempt against the matching case of a set
        ref_ids = {str(r.case_id): r for r in refs}
        cid = str(atts[0].case_id)
        if cid not in ref_ids:
            raise FlannotError(f"case {cid!r} is not in the reference {ref_path}", att_path)
        return [_score_one(ref_ids[cid], atts[0], tol)]
    out = []
    for ref in refs:
        cid = str(ref.case_id)
        att = attempts.get(cid)
        if att is None:
            where = att_path / f"{cid}.json" if att_kind == "attempts" else att_path
            item = ScoreItem(
                None, None, None, None, "missing_case", None, "", False,
                f"no attempt for case {cid!r} (expected in {where})",
            )  # fmt: skip
            out.append(CaseScore(cid, False, [item]))
        else:
            out.append(_score_one(ref, att, tol))
    return out
