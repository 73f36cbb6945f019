"""Diagnostic flags and grades from a measured value (``at_least``, ``width_grade``).

Their thresholds are clinical criteria declared by the protocol with their source;
a criterion defined on axial CT/MR is declared ``planning_only`` and never runs
on a projection (SPEC §4). Without millimetres a mm threshold means nothing, so an
uncalibrated image gets no flag rather than a guess.
"""

from __future__ import annotations

from typing import Any

from flannot.measure.context import Context
from flannot.measure.registry import register
from flannot.measure.rows import Row, RowMaker


@register("at_least")
def at_least(ctx: Context, ann: Any, row: RowMaker, spec: Any) -> list[Row]:
    """``spec.name`` is true when the ``spec.of`` row is ≥ the ``mm`` parameter."""
    value = ctx.value(ann, spec.of)
    limit = spec.param("mm")
    if value is None or limit is None or not ctx.units.calibrated:
        return []
    return [row(spec.name or f"{spec.of}_at_least", value >= limit)]


def width_grade(width_mm: float, relative_mm: float, absolute_mm: float) -> str:
    """``normal`` (> relative), ``relative`` (absolute–relative) or ``absolute`` (< absolute)."""
    if width_mm > relative_mm:
        return "normal"
    if width_mm >= absolute_mm:
        return "relative"
    return "absolute"


@register("width_grade")
def grade(ctx: Context, ann: Any, row: RowMaker, spec: Any) -> list[Row]:
    """A stenosis-style grade of the ``spec.of`` width (thresholds from ``spec.params``)."""
    value = ctx.value(ann, spec.of)
    rel, ab = spec.param("relative_mm"), spec.param("absolute_mm")
    if value is None or rel is None or ab is None or not ctx.units.calibrated:
        return []
    return [row(spec.name or "grade", width_grade(value, rel, ab))]
