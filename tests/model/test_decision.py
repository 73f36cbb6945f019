"""The case-level decision (proceed / do not proceed and why): file format, truth, validation."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from flannot.errors import FlannotError
from flannot.model.case import Case
from flannot.model.decision import Decision, decision_from_truth, with_truth_decision
from flannot.model.fastcheck import is_valid
from flannot.model.validate import case_schema, validate_case
from flannot.protocols import get_protocol


def _data(decision=None) -> dict:
    d = {
        "flannot_version": 1,
        "case_id": "d",
        "image": {"path": "image.dcm", "calibration": "uncalibrated"},
        "annotations": [],
    }
    if decision is not None:
        d["decision"] = decision
    return d


def test_mild_declares_the_three_do_not_proceed_reasons_with_words_and_sources():
    mild = get_protocol("mild")
    keys = [r.key for r in mild.decision_reasons]
    assert keys == ["no_laminar_shelf", "epidurogram_not_at_target", "spondylolisthesis_grade2"]
    for r in mild.decision_reasons:
        assert r.label and r.action.startswith("do not proceed") and r.source
    assert mild.decision_reason("no_laminar_shelf").label == "no laminar shelf at the target level"
    assert mild.decision_reason("nope") is None
    assert mild.workup_instruments == ("needle",)


def test_a_decision_round_trips_through_the_case_file(tmp_path):
    d = _data({"proceed": False, "reason": "no_laminar_shelf", "note": "flat lamina"})
    case = Case.from_dict(d)
    assert case.decision == Decision(False, "no_laminar_shelf", "flat lamina")
    out = json.loads(case.to_json())
    assert out["decision"] == {
        "proceed": False,
        "reason": "no_laminar_shelf",
        "note": "flat lamina",
    }
    assert "decision" not in case.extra
    assert Case.from_dict(out).decision == case.decision
    assert Case.from_dict(_data()).decision is None
    assert "decision" not in json.loads(Case.from_dict(_data()).to_json())


@pytest.mark.parametrize(
    "bad",
    [{"reason": "no_laminar_shelf"}, {"proceed": "no"}, {"proceed": 0}, [], "stop"],
)
def test_a_malformed_decision_is_refused_by_both_schema_checks(bad):
    d = _data(bad)
    assert is_valid(case_schema(), d) is False
    assert list(Draft202012Validator(case_schema()).iter_errors(d))
    with pytest.raises(FlannotError, match=r"\$\.decision"):
        Case.from_dict(d)


def test_a_well_formed_decision_passes_both_schema_checks():
    for good in ({"proceed": True}, {"proceed": False, "reason": None, "note": None}):
        d = _data(good)
        assert is_valid(case_schema(), d) is True
        assert not list(Draft202012Validator(case_schema()).iter_errors(d))


def test_validation_names_an_unknown_reason_and_warns_on_odd_combinations():
    def problems(decision):
        return [p for p in validate_case(Case.from_dict(_data(decision))) if "decision" in p.path]

    bad = problems({"proceed": False, "reason": "too_old"})
    assert len(bad) == 1 and bad[0].severity == "error"
    assert "unknown reason 'too_old'" in bad[0].message and "no_laminar_shelf" in bad[0].message
    assert problems({"proceed": False, "reason": "spondylolisthesis_grade2"}) == []
    assert problems({"proceed": True}) == []
    (w,) = problems({"proceed": False})
    assert w.severity == "warning" and "no reason" in w.message
    (w,) = problems({"proceed": True, "reason": "no_laminar_shelf"})
    assert w.severity == "warning" and "proceed" in w.message


def test_decision_from_truth_reads_the_phantom_key():
    truth = {"decision": {"proceed": False, "reason": "epidurogram_not_at_target"}, "x": 1}
    assert decision_from_truth(truth) == Decision(False, "epidurogram_not_at_target")
    assert decision_from_truth({"decision": {"proceed": True, "reason": None}}) == Decision(True)
    assert decision_from_truth({"vertebrae": []}) is None
    with pytest.raises(FlannotError, match="truth.json"):
        decision_from_truth({"decision": {"reason": "no_laminar_shelf"}})


def test_words_use_the_protocols_label():
    mild = get_protocol("mild")
    assert Decision(True).words(mild) == "proceed"
    assert Decision(False, "no_laminar_shelf").words(mild) == (
        "do not proceed: no laminar shelf at the target level"
    )
    assert Decision(False).words(mild) == "do not proceed"


def test_with_truth_decision_puts_the_phantoms_answer_in_the_case_file():
    data = _data()
    truth = {"decision": {"proceed": False, "reason": "spondylolisthesis_grade2"}}
    assert with_truth_decision(data, truth) is data
    assert data["decision"] == {"proceed": False, "reason": "spondylolisthesis_grade2", "note": ""}
    assert Case.from_dict(data).decision == Decision(False, "spondylolisthesis_grade2")
    assert "decision" not in with_truth_decision(_data(), {})
