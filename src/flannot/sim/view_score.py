"""View quality of C-arm shots: how far each shot is from the view the protocol asks for.

SPEC §15 training mode and §6's item format. For a target level (a vertebra ``L4`` or an
interspace ``L4-L5``) and a protocol view, the **ideal view** comes from the labelmap's
landmarks (:mod:`flannot.sim.anatomy`):

- the *primary* angle is the view's nominal angle (:func:`flannot.sim.views.primary_angle`)
  plus the target's **axial rotation**: the angle that puts the spinous process tip
  in line with the midpoint of the pedicles along the beam — the true AP that shows the
  spinous process midway between the pedicles. Obliques and laterals are measured from
  that true AP. Without pedicles and a spinous tip the rotation is 0;
- the *secondary* angle squares the endplates (:func:`flannot.sim.views.squaring_secondary`)
  of the target: the vertebra's axis, or for an interspace the line from the caudal to
  the cranial vertebra's centroid (the disc's normal).

Per shot (:func:`view_metrics`):

``view_angle_error``
    the angle (deg) between the shot's beam and the ideal beam, with the primary and
    secondary parts that say which way to turn;
``endplate_tilt``
    the angle (deg) between the ray through the target and the endplate plane
    (+ = the beam runs cranially through the endplates, so tilt caudal): what the image
    shows, including the cone beam's parallax when the target is off centre;
``spinous_offset``
    AP views: the projected spinous process tip's distance from the pedicles' midpoint
    along the line joining them, in mm at the tip's depth (+ = toward the right pedicle).

:func:`score_views` picks each view's best shot (smallest ``view_angle_error``) and adds
``shots`` (count against the budget) and ``dose`` (the estimated DAP, :mod:`flannot.sim.dose`)
as :class:`flannot.teach.score.ScoreItem` rows with messages for the trainee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flannot.errors import FlannotError
from flannot.protocols.base import View
from flannot.sim.geometry import ANTERIOR, LEFT, CArm, rotation

Array = NDArray[np.float64]

#: default pass limits (a set's ``tolerances`` may override them); the view's own
#: ``tolerance_deg`` is the default for ``view_angle_error``
DEFAULT_TOLERANCES = {"endplate_tilt_deg": 5.0, "spinous_offset_mm": 3.0}
DOSE_UNIT = "mGy·cm²"


@dataclass
class Landmarks:
    """One vertebra's geometry in patient LPS mm (from the labelmap)."""

    level: str
    centroid: Array
    axis: Array
    spinous_tip: Array | None = None
    pedicles: dict[str, Array] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def pt(p: Array) -> list[float]:
            return [round(float(x), 4) for x in p]

        out: dict[str, Any] = {
            "level": self.level,
            "centroid_lps": pt(self.centroid),
            "axis_lps": pt(self.axis),
        }
        if self.spinous_tip is not None:
            out["spinous_tip_lps"] = pt(self.spinous_tip)
        if self.pedicles:
            out["pedicles_lps"] = {s: pt(p) for s, p in sorted(self.pedicles.items())}
        return out


def landmarks(vertebrae: Iterable[Any]) -> list[Landmarks]:
    """:class:`Landmarks` from :class:`flannot.sim.anatomy.Vertebra` objects or from
    ``truth.json``-style dicts (``level``, ``centroid_lps``, ``axis_lps``,
    ``spinous_tip_lps``, ``pedicles_lps``)."""
    out = []
    for v in vertebrae:
        if isinstance(v, Landmarks):
            out.append(v)
        elif isinstance(v, Mapping):
            tip = v.get("spinous_tip_lps")
            out.append(
                Landmarks(
                    str(v["level"]),
                    np.asarray(v["centroid_lps"], float),
                    np.asarray(v["axis_lps"], float),
                    None if tip is None else np.asarray(tip, float),
                    {s: np.asarray(p, float) for s, p in (v.get("pedicles_lps") or {}).items()},
                )
            )
        else:
            out.append(
                Landmarks(
                    v.level,
                    np.asarray(v.centroid, float),
                    np.asarray(v.axis, float),
                    None if v.spinous_tip is None else np.asarray(v.spinous_tip, float),
                    {s: np.asarray(p, float) for s, p in v.pedicles.items()},
                )
            )
    return out


@dataclass
class Target:
    """The target level: its vertebrae (one, or the two around an interspace)."""

    level: str
    vertebrae: list[Landmarks]

    @property
    def point(self) -> Array:
        """The centre of the target (LPS mm): the centroid, or the mean of the two."""
        return np.mean([v.centroid for v in self.vertebrae], axis=0)

    @property
    def axis(self) -> Array:
        """Endplate normal toward the head: the vertebra's axis, or for an interspace the
        unit vector from the caudal to the cranial centroid."""
        if len(self.vertebrae) == 2:
            a = self.vertebrae[0].centroid - self.vertebrae[1].centroid
            return a / float(np.linalg.norm(a))
        return self.vertebrae[0].axis

    @property
    def endplates(self) -> str:
        """``"L4-L5"`` for an interspace, ``"L4"`` for a vertebra (for messages)."""
        return self.level


def find_target(vertebrae: Iterable[Any], level: str) -> Target:
    """The :class:`Target` at ``level`` (``L4`` or ``L4-L5``, any accepted spelling)."""
    from flannot.model.levels import normalize_level

    try:
        name = normalize_level(level)
    except ValueError as exc:
        raise FlannotError(f"target level {level!r}: {exc}") from None
    by_level = {v.level: v for v in landmarks(vertebrae)}
    wanted = name.split("-")
    missing = [w for w in wanted if w not in by_level]
    if missing:
        have = ", ".join(by_level) or "none"
        raise FlannotError(
            f"target {name}: no vertebra {', '.join(missing)} in the labelmap (labelled: {have})"
        )
    return Target(name, [by_level[w] for w in wanted])


def _wrap(angle: float) -> float:
    return (float(angle) + 180.0) % 360.0 - 180.0


def axial_rotation(target: Target) -> float:
    """The target's axial rotation (deg): how far the primary angle of the true AP is from
    the nominal one, so that the spinous tip lies on the ray through the pedicles' midpoint.

    With ``v`` the vector from the pedicles' midpoint to the tip, the image column
    direction ``u = -sin(p) A + cos(p) L`` is perpendicular to ``v`` when
    ``p = atan2(v·L, v·A)`` (mod 180°); 0 for a vertebra without these landmarks.
    Averaged over the target's vertebrae.
    """
    angles = []
    for v in target.vertebrae:
        if v.spinous_tip is None or not {"left", "right"} <= set(v.pedicles):
            continue
        vec = v.spinous_tip - (v.pedicles["left"] + v.pedicles["right"]) / 2
        angles.append(_wrap(math.degrees(math.atan2(vec @ LEFT, vec @ ANTERIOR)) - 180.0))
    return float(np.mean(angles)) if angles else 0.0


def ideal_view(view: View, target: Target, position: str = "prone") -> tuple[float, float]:
    """The ideal (primary, secondary) positioner angles of ``view`` at ``target``."""
    from flannot.sim.views import primary_angle, squaring_secondary

    primary = _wrap(primary_angle(view, position) + axial_rotation(target))
    if primary == -180.0:
        primary = 180.0
    secondary = squaring_secondary(primary, target.axis) if view.square_endplates else 0.0
    return round(primary, 2), round(secondary, 2)


def beam(primary_deg: float, secondary_deg: float) -> Array:
    """Unit vector from the isocentre toward the detector (PS3.3 C.8.7.5.1.2)."""
    return rotation(primary_deg, secondary_deg)[:, 0]


def turn_words(primary_deg: float, change_deg: float) -> str:
    """Which way the detector moves when the primary angle changes by ``change_deg``:
    ``"toward the patient's left"`` (right, back, front)."""
    p = math.radians(primary_deg)
    t = math.copysign(1.0, change_deg) * (-math.sin(p) * ANTERIOR + math.cos(p) * LEFT)
    tl, ta = float(t @ LEFT), float(t @ ANTERIOR)
    if abs(tl) >= abs(ta):
        side = "left" if tl > 0 else "right"
    else:
        side = "front" if ta > 0 else "back"
    return f"toward the patient's {side}"


def corrections(
    primary_deg: float,
    secondary_deg: float,
    ideal: tuple[float, float],
    true_ap: float | None = None,
) -> list[str]:
    """What to do to reach ``ideal`` from these angles, in words (empty when within 0.5°).

    With ``true_ap`` (the primary angle of the true AP) a turn is worded as more or less
    oblique — how an operator thinks of a lateral or an oblique — else by the side of the
    patient the detector moves toward.
    """
    dp = _wrap(ideal[0] - primary_deg)
    ds = ideal[1] - secondary_deg
    out = []
    if abs(ds) >= 0.5:
        out.append(f"tilt {abs(ds):.0f}° {'cranial' if ds > 0 else 'caudal'}")
    if abs(dp) >= 0.5:
        if true_ap is None:
            out.append(f"turn the detector {abs(dp):.0f}° {turn_words(primary_deg, dp)}")
        else:
            now = abs(_wrap(primary_deg - true_ap))
            more = abs(_wrap(primary_deg + dp - true_ap)) > now
            out.append(f"turn {abs(dp):.0f}° {'more' if more else 'less'} oblique")
    return out


def spinous_offset_mm(carm: CArm, target: Target) -> float | None:
    """Projected spinous tip vs the pedicles' midpoint, mm at the tip's depth (+ = toward
    the right pedicle); mean over the target's vertebrae, ``None`` without landmarks."""
    values = []
    for v in target.vertebrae:
        if v.spinous_tip is None or not {"left", "right"} <= set(v.pedicles):
            continue
        tip, left, right = carm.project(
            np.stack([v.spinous_tip, v.pedicles["left"], v.pedicles["right"]])
        )
        span = right - left
        norm = float(np.linalg.norm(span))
        if norm < 1e-6:
            continue
        off_px = float((tip - (left + right) / 2) @ span / norm)
        values.append(off_px * carm.pixel_mm / float(carm.magnification_at(v.spinous_tip)[0]))
    return float(np.mean(values)) if values else None


def view_metrics(carm: CArm, view: View, target: Target, position: str = "prone") -> dict:
    """How far one shot (its :class:`CArm`) is from ``view`` at ``target`` (module notes)."""
    ideal = ideal_view(view, target, position)
    true_ap = None
    if view.kind != "ap":
        from dataclasses import replace

        true_ap = ideal_view(replace(view, kind="ap", detector_toward=None), target, position)[0]
    d, d0 = beam(carm.primary_deg, carm.secondary_deg), beam(*ideal)
    ray = target.point - carm.source
    ray = ray / float(np.linalg.norm(ray))
    tilt = math.degrees(math.asin(float(np.clip(ray @ target.axis, -1.0, 1.0))))
    return {
        "view": view.name,
        "ideal": ideal,
        "view_angle_error": math.degrees(math.acos(float(np.clip(d @ d0, -1.0, 1.0)))),
        "primary_error": _wrap(carm.primary_deg - ideal[0]),
        "secondary_error": carm.secondary_deg - ideal[1],
        "endplate_tilt": tilt,
        "spinous_offset": spinous_offset_mm(carm, target) if view.kind == "ap" else None,
        "corrections": corrections(carm.primary_deg, carm.secondary_deg, ideal, true_ap),
    }


def _explain(correction: str, view: View, level: str) -> str:
    """A correction with what it is for: squaring the endplates, centring the spinous
    process (AP) or reaching the protocol's angle (lateral, oblique)."""
    if correction.startswith("tilt") and view.square_endplates:
        return f"{correction} to square the {level} endplates"
    if correction.startswith("turn"):
        if view.kind == "ap":
            return f"{correction} to centre the spinous process between the pedicles"
        return f"{correction} to reach the {view.oblique_deg:g}° {view.kind}"
    return correction


def _tilt_message(tilt: float, target: Target, ok: bool) -> str:
    if abs(tilt) < 0.5:
        return f"the {target.endplates} endplates are squared"
    way = "cranially" if tilt > 0 else "caudally"
    fix = "caudal" if tilt > 0 else "cranial"
    head = "good enough: " if ok else ""
    return (
        f"{head}the beam runs {abs(tilt):.1f}° {way} through the {target.endplates} endplates"
        f" — tilt {abs(tilt):.0f}° {fix} to square them"
    )


def _spinous_message(mm: float, ok: bool) -> str:
    if abs(mm) < 0.5:
        return "the spinous process is midway between the pedicles"
    side = "right" if mm > 0 else "left"
    text = (
        f"the spinous process sits {abs(mm):.1f} mm toward the {side} pedicle: "
        f"turn the detector toward the patient's {side} to centre it"
    )
    return ("good enough: " + text) if ok else text


def score_views(
    views: Sequence[View],
    target: Target,
    shots: Sequence[Mapping[str, Any]],
    *,
    position: str = "prone",
    side: str | None = None,
    budget: int | None = None,
    dose_budget: float | None = None,
    tolerances: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Score an acquisition (SPEC §15): per view its best shot, then shots and dose.

    Parameters
    ----------
    views
        The views the task asks for, in order.
    target
        From :func:`find_target`.
    shots
        Shot records (:meth:`flannot.sim.training.Shot.to_dict`: ``id``, ``index``,
        ``primary_deg``, ``secondary_deg``, ``isocentre_lps``, ``sid``, ``sod``,
        ``rows``, ``cols``, ``pixel_mm``, ``dap``).
    position
        ``prone`` or ``supine``.
    side
        The task's side (``left``/``right``), carried in the items.
    budget, dose_budget
        Largest number of shots and estimated DAP (mGy·cm²); ``None`` = no limit.
    tolerances
        ``view_angle_error_deg`` (default: each view's ``tolerance_deg``),
        ``endplate_tilt_deg`` (5), ``spinous_offset_mm`` (3).

    Returns
    -------
    list[ScoreItem]
        ``view_angle_error``, ``endplate_tilt`` and (AP) ``spinous_offset`` per view,
        ``annotation_id`` the view's name, ``type`` ``"view"``; then ``shots`` and
        ``dose`` (``type`` ``"acquisition"``).
    """
    from flannot.teach.score import ScoreItem

    tol = {**DEFAULT_TOLERANCES, **(tolerances or {})}
    carms = [(s, shot_carm(s)) for s in shots]
    items: list[Any] = []
    used: set[int] = set()  # the shots that count for a view
    level = target.level

    def add(name: str | None, metric: str, value: Any, unit: str, ok: bool, msg: str) -> None:
        kind = "view" if name is not None else "acquisition"
        items.append(ScoreItem(name, kind, level, side, metric, value, unit, ok, msg))

    for view in views:
        limit = float(tol.get("view_angle_error_deg", view.tolerance_deg))
        scored = [(s, view_metrics(c, view, target, position)) for s, c in carms]
        if not scored:
            msg = f"{view.title}: no shot taken — {view.purpose}".rstrip(" —")
            add(view.name, "view_angle_error", None, "deg", False, msg)
            continue
        shot, m = min(scored, key=lambda sm: sm[1]["view_angle_error"])
        used.add(int(shot["index"]))
        where = f"{view.title} (shot {int(shot['index'])})"
        err = m["view_angle_error"]
        ok = err <= limit
        if err < 0.5:
            msg = f"{where}: the view is right ({err:.1f}° from ideal)"
        else:
            todo = " and ".join(_explain(c, view, level) for c in m["corrections"])
            todo = todo or "adjust slightly"
            verdict = "within" if ok else "beyond"
            msg = f"{where}: {err:.1f}° from the ideal view at {level} "
            msg += f"({verdict} {limit:g}°) — {todo}"
        add(view.name, "view_angle_error", err, "deg", ok, msg)
        tilt = m["endplate_tilt"]
        ok = abs(tilt) <= float(tol["endplate_tilt_deg"])
        msg = f"{where}: {_tilt_message(tilt, target, ok)}"
        add(view.name, "endplate_tilt", tilt, "deg", ok, msg)
        if m["spinous_offset"] is not None:
            mm = m["spinous_offset"]
            ok = abs(mm) <= float(tol["spinous_offset_mm"])
            msg = f"{where}: {_spinous_message(mm, ok)}"
            add(view.name, "spinous_offset", mm, "mm", ok, msg)
    n = len(shots)
    unused = [int(s["index"]) for s in shots if int(s["index"]) not in used]
    if budget is None:
        ok, msg = True, f"{n} shot{'s' if n != 1 else ''} taken (no budget set)"
    else:
        ok = n <= budget
        msg = f"{n} shot{'s' if n != 1 else ''} of a budget of {budget}"
        if not ok:
            msg += f": {n - budget} too many — plan each view before you shoot"
    if unused and views:
        which = "shot" if len(unused) == 1 else "shots"
        msg += f"; not the best of any view: {which} {', '.join(map(str, unused))}"
    add(None, "shots", n, "", ok, msg)
    total = float(sum(float(s.get("dap", 0.0)) for s in shots))
    what = f"estimated dose-area product {total:.1f} {DOSE_UNIT} (from kVp, mAs and field size)"
    if dose_budget is None:
        ok = True
    else:
        ok = total <= float(dose_budget)
        what += f", budget {float(dose_budget):g} {DOSE_UNIT}"
        if not ok:
            what += " — collimate and shoot less"
    add(None, "dose", total, DOSE_UNIT, ok, what)
    return items


def shot_carm(shot: Mapping[str, Any]) -> CArm:
    """The :class:`CArm` of a shot record."""
    iso = shot["isocentre_lps"]
    return CArm(
        float(shot["primary_deg"]),
        float(shot["secondary_deg"]),
        (float(iso[0]), float(iso[1]), float(iso[2])),
        float(shot["sid"]),
        float(shot["sod"]),
        int(shot["rows"]),
        int(shot["cols"]),
        float(shot["pixel_mm"]),
    )


__all__ = [
    "Landmarks",
    "Target",
    "axial_rotation",
    "find_target",
    "ideal_view",
    "landmarks",
    "score_views",
    "shot_carm",
    "spinous_offset_mm",
    "view_metrics",
]
