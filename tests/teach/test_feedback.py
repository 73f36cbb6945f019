"""One wording of score items for `flannot score` and the Quiz dock (teach.feedback)."""

from __future__ import annotations

from flannot.cli.score import human_lines
from flannot.teach.feedback import format_item_value, sort_items, summary_text
from flannot.teach.score import CaseScore, ScoreItem


def _item(metric, value, unit="", passed=True):
    return ScoreItem("a", "cannula", "L4-L5", "left", metric, value, unit, passed, metric)


def test_values_read_the_same_everywhere():
    assert format_item_value(_item("level_offset", -1)) == "-1"
    assert format_item_value(_item("tip_error", 2.414, "mm")) == "2.41 mm"
    assert format_item_value(_item("angle_error", 7.5, "deg")) == "7.50°"
    assert format_item_value(_item("crossed_contrast", True)) == "yes"
    assert format_item_value(_item("tip_error", None, "mm")) == "—"


def test_safety_first_then_failures_in_the_cli_too():
    items = [
        _item("tip_error", 5.0, "mm", passed=False),
        _item("dice", 0.9),
        _item("crossed_contrast", True, passed=False),
    ]
    assert [it.metric for it in sort_items(items)] == ["crossed_contrast", "tip_error", "dice"]
    score = CaseScore("k", False, items)
    lines = human_lines([score])
    fails = [ln for ln in lines if ln.strip().startswith("FAIL")]
    assert "crossed_contrast=yes" in fails[0] and "tip_error=5.00 mm" in fails[1]
    assert "1 safety violation" in summary_text(score)


def test_a_wrong_level_procedure_comes_right_after_safety():
    wrong = ScoreItem(
        "c", "cannula", "L4-L5", "left", "level_offset", -1, "", False,
        "portal placed at L3-L4; the target was L4-L5: wrong-level procedure",
    )  # fmt: skip
    items = [
        _item("tip_error", 5.0, "mm", passed=False),
        wrong,
        _item("crossed_contrast", True, passed=False),
    ]
    assert [it.metric for it in sort_items(items)] == [
        "crossed_contrast", "level_offset", "tip_error"
    ]  # fmt: skip


def test_the_case_decision_comes_before_other_failures_right_or_wrong():
    right = ScoreItem(
        None, None, None, None, "decision", False, "", True, "do not proceed: right"
    )  # fmt: skip
    reason = ScoreItem(
        None, None, None, None, "decision_reason", "no_laminar_shelf", "", True, "reason right"
    )  # fmt: skip
    items = [_item("tip_error", 5.0, "mm", passed=False), _item("dice", 0.9), right, reason]
    assert [it.metric for it in sort_items(items)] == [
        "decision", "decision_reason", "tip_error", "dice"
    ]  # fmt: skip
    crossed = _item("crossed_contrast", True, passed=False)
    assert sort_items([right, crossed])[0] is crossed  # a safety violation stays on top
