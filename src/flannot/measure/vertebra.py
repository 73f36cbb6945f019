"""Vertebrae drawn with 4 corners: heights, endplate angle; disc height and slip to the next."""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.measure import geometry as g
from flannot.measure.context import Context, norm_level
from flannot.measure.registry import register
from flannot.measure.rows import Row, RowMaker
from flannot.model.levels import caudal_neighbours

# corner order (SPEC §3)
SA, SP, IP, IA = 0, 1, 2, 3
# Meyerding 1932: grades I-V at 25/50/75/100 % slip; below this, "none" (no slip).
# Written lower-case like every grade (SPEC §4: flags and grades are lower-case strings).
NO_SLIP_PERCENT = 5.0


def corners(ann: Any) -> np.ndarray | None:
    """The 4 corner points (pixels) of a vertebra polygon, else ``None`` (centre points)."""
    geom = ann.geometry
    if geom.kind not in ("polygon", "rectangle"):
        return None
    pts = np.asarray(geom.points, float)
    if pts.shape != (4, 2) or not np.isfinite(pts).all():
        return None
    return pts


def upper_vertebra(level: str | None) -> str | None:
    """``L4`` for the interspace ``L4-L5``; ``None`` for anything else."""
    if not level or "-" not in level:
        return None
    return level.split("-", 1)[0]


def meyerding_grade(slip_percent: float) -> str:
    """Meyerding grade of a slip, as a lower-case string (SPEC §4).

    ``"none"`` (< 5 %, a backward slip, or not computable), ``"i"`` < 25 %,
    ``"ii"`` < 50 %, ``"iii"`` < 75 %, ``"iv"`` < 100 %, ``"v"`` ≥ 100 %
    (spondyloptosis).
    """
    if not np.isfinite(slip_percent) or slip_percent < NO_SLIP_PERCENT:
        return "none"
    for limit, grade in ((25, "i"), (50, "ii"), (75, "iii"), (100, "iv")):
        if slip_percent < limit:
            return grade
    return "v"


def slip_percent(upper: np.ndarray, lower: np.ndarray) -> float:
    """Meyerding slip (%) of ``upper`` over ``lower`` (corner arrays in mm).

    The upper vertebra's inferior-posterior corner is projected on the lower
    vertebra's superior endplate (posterior → anterior); the displacement from the
    lower superior-posterior corner, as % of that endplate's length. Positive is
    anterior (anterolisthesis), negative posterior (retrolisthesis).
    """
    endplate = lower[SA] - lower[SP]
    length = float(np.hypot(*endplate))
    if length == 0:
        return float("nan")
    return 100.0 * float(np.dot(upper[IP] - lower[SP], endplate / length)) / length


def disc_height(upper: np.ndarray, lower: np.ndarray) -> float:
    """Mean of the anterior and posterior corner-to-corner gaps between the endplates (mm)."""
    anterior = g.distance(upper[IA], lower[SA])
    posterior = g.distance(upper[IP], lower[SP])
    return (anterior + posterior) / 2.0


@register("vertebra_corners")
def measure_vertebra(ctx: Context, ann: Any, row: RowMaker, spec: Any = None) -> list[Row]:
    """Rows for one vertebra with corners (and its disc/slip with the vertebra below)."""
    c = corners(ann)
    if c is None:
        return []
    u = ctx.units
    mm = c * ctx.spacing
    out = [
        row("anterior_height", g.distance(mm[SA], mm[IA]), u.length),
        row("posterior_height", g.distance(mm[SP], mm[IP]), u.length),
        row("endplate_angle", g.angle_between_deg(mm[SA] - mm[SP], mm[IA] - mm[IP]), "deg"),
    ]
    level = norm_level(ann.level)
    for below in caudal_neighbours(level):
        lower = next(
            (
                corners(v)
                for v in ctx.find(ann.frame or 0, ann.type, below)
                if corners(v) is not None
            ),
            None,
        )
        if lower is None:
            continue
        low_mm = lower * ctx.spacing
        pair = RowMaker(ctx.case_id, ann, u.calibration, level=f"{level}-{below}")
        slip = slip_percent(mm, low_mm)
        out += [
            pair("disc_height", disc_height(mm, low_mm), u.length),
            pair("slip_percent", slip, "%"),
            pair("meyerding_grade", meyerding_grade(slip)),
        ]
        break
    return out
