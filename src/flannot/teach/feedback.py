"""How a score reads for a trainee: failed items first with safety on top, values in words.

Shared by ``flannot score`` and the napari Quiz dock, so both word an item the same way.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from flannot.teach.score import CaseScore, ScoreItem


def is_safety_violation(item: ScoreItem) -> bool:
    """Whether the item is a crossed safety boundary (contrast line or VILL), or proceeding
    where the case must not (:func:`is_unsafe_decision`)."""
    return (item.metric == "crossed_contrast" and bool(item.value)) or is_unsafe_decision(item)


#: the score items of the case's decision (SPEC §6): proceed or not, and the reason
DECISION_METRICS = frozenset({"decision", "decision_reason"})


def is_unsafe_decision(item: ScoreItem) -> bool:
    """Whether the item is a trainee proceeding where the reference says do not proceed."""
    return item.metric == "decision" and item.value is True and not item.passed


def is_wrong_level_procedure(item: ScoreItem) -> bool:
    """Whether the item is an instrument placed at another level than the target (SPEC §6)."""
    return item.metric == "level_offset" and not item.passed and "procedure" in item.message


def sort_items(items: list[ScoreItem]) -> list[ScoreItem]:
    """Proceeding where the case must not at the very top, then tips past a safety
    boundary, then wrong-level procedures, then the case's decision (proceed or not, and
    why: the answer a teacher asks for first, right or wrong), then the other failed
    items, otherwise in scoring order."""
    order = {id(it): i for i, it in enumerate(items)}
    return sorted(
        items,
        key=lambda it: (
            not is_unsafe_decision(it),
            not is_safety_violation(it),
            not is_wrong_level_procedure(it),
            it.metric not in DECISION_METRICS,
            it.passed,
            order[id(it)],
        ),
    )


def format_item_value(item: ScoreItem) -> str:
    """The item's value in words: ``yes``/``no``, ``-1`` for a level offset, ``2.41 mm``,
    ``7.50°``; ``—`` when there is none."""
    v = item.value
    if v is None:
        return "—"
    if item.metric == "decision" and isinstance(v, bool):
        return "proceed" if v else "do not proceed"
    if isinstance(v, str):
        return v.replace("_", " ")
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:+d}" if item.metric == "level_offset" else str(v)
    if not math.isfinite(float(v)):
        return "—"
    unit = f" {item.unit}" if item.unit else ""
    if item.unit == "deg":
        unit = "°"
    return f"{float(v):.2f}{unit}"


def summary_text(result: CaseScore) -> str:
    """``"Passed: all 9 checks passed"`` / ``"Not passed: 3 of 9 checks failed …"``."""
    n = len(result.items)
    failed = result.failed
    if result.passed:
        return f"Passed: all {n} checks passed"
    stop = sum(is_unsafe_decision(it) for it in failed)
    unsafe = sum(is_safety_violation(it) for it in failed) - stop
    text = f"Not passed: {len(failed)} of {n} checks failed"
    if stop:
        text += " — SAFETY: you proceeded where this case must not proceed"
    if unsafe:
        text += (
            f" — {unsafe} safety violation{'s' if unsafe > 1 else ''} (tip past a safety boundary)"
        )
    return text
