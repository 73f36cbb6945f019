"""Scoring the case decision: proceeding where the reference says do not proceed fails first."""

from __future__ import annotations

from flannot.model.decision import Decision
from flannot.teach.feedback import (
    format_item_value,
    is_safety_violation,
    sort_items,
    summary_text,
)
from flannot.teach.report import error_kind
from flannot.teach.score import score_case
from tests.score.builders import ann, make_case, one


def _portal(instrument="portal"):
    return ann(
        "c", "cannula", "line", [[100, 100], [200, 200]], level="L4-L5", side="left",
        instrument=instrument,
    )  # fmt: skip


def _case(decision=None, annotations=()):
    case = make_case(list(annotations))
    case.decision = decision
    return case


STOP = Decision(False, "no_laminar_shelf")


def test_proceeding_where_the_case_must_not_is_a_safety_failure_listed_first():
    ref = _case(STOP)
    att = _case(Decision(True), [_portal()])
    s = score_case(ref, att)
    assert not s.passed
    first = sort_items(s.items)[0]
    assert first.metric == "decision" and first.value is True and not first.passed
    assert first.message.startswith("SAFETY: you decided to proceed")
    assert "no laminar shelf" in first.message and "choose another level" in first.message
    assert is_safety_violation(first)
    assert "proceeded where this case must not proceed" in summary_text(s)
    assert error_kind(first.to_dict(), {"cannula"}, {"vertebra"}).startswith("safety")


def test_a_drawn_portal_without_a_decision_counts_as_proceeding_but_a_needle_does_not():
    ref = _case(STOP)
    s = score_case(ref, _case(None, [_portal()]))
    item = one(s, "decision")
    assert item.value is True and not item.passed
    assert "placed a working instrument" in item.message
    s = score_case(ref, _case(None, [_portal("needle")]))  # the epidurogram needle: work-up
    item = one(s, "decision")
    assert item.value is None and not item.passed
    assert "no decision recorded" in item.message


def test_the_right_stop_and_reason_pass_and_a_wrong_reason_is_named():
    ref = _case(STOP)
    s = score_case(ref, _case(Decision(False, "no_laminar_shelf")))
    assert s.passed
    assert one(s, "decision").passed and one(s, "decision_reason").value == "no_laminar_shelf"
    s = score_case(ref, _case(Decision(False, "spondylolisthesis_grade2")))
    item = one(s, "decision_reason")
    assert not item.passed and not s.passed
    assert "grade II or higher spondylolisthesis" in item.message
    assert item.message.endswith("no laminar shelf at the target level")
    assert format_item_value(item) == "spondylolisthesis grade2"
    assert item.to_dict()["value"] == "spondylolisthesis_grade2"
    s = score_case(ref, _case(Decision(False)))
    assert not one(s, "decision_reason").passed


def test_stopping_where_the_case_can_proceed_fails_without_being_a_safety_issue():
    ref = _case(Decision(True))
    s = score_case(ref, _case(Decision(False, "epidurogram_not_at_target")))
    item = one(s, "decision")
    assert not item.passed and item.value is False and not is_safety_violation(item)
    assert "can proceed" in item.message
    assert format_item_value(item) == "do not proceed"
    # a reference that proceeds: a missing decision or a portal is proceeding
    assert one(score_case(ref, _case(None)), "decision").passed
    assert one(score_case(ref, _case(None, [_portal()])), "decision").passed


def test_no_reference_decision_adds_no_items():
    s = score_case(_case(None), _case(Decision(False, "no_laminar_shelf")))
    assert not [it for it in s.items if it.metric.startswith("decision")]
