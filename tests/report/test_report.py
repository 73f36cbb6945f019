"""The course report shows exactly the error patterns the scripted trainees were given (SPEC §16).

The scripted course (:mod:`flannot.teach.course_demo`): ``t-good`` (jitter only),
``t-level_high`` / ``t-level_low`` (every level counted one too high / low, the portal
one interspace off), ``t-crosses`` (tip 3 mm past the contrast line), ``t-improves``
(8 → 4 → 0.6 mm); ``case-03`` is hard (everybody's first attempt 5 mm off).
4 cases × 3 attempts = 12 Checks per trainee.
"""

from __future__ import annotations

import pytest

from flannot.teach.course_demo import LEVELS, RATINGS


def _row(df, key, value):
    rows = df[df[key] == value]
    assert len(rows) == 1, f"no single {key}={value} in\n{df}"
    return rows.iloc[0]


def test_one_row_per_trainee_and_twelve_checks_each(report):
    assert list(report.trainees["trainee"]) == [
        "t-crosses", "t-good", "t-improves", "t-level_high", "t-level_low"
    ]  # fmt: skip
    assert set(report.trainees["checks"]) == {12}
    assert len(report.checks) == 60


def test_safety_failures_only_for_the_trainee_who_crosses(report):
    tr = report.trainees.set_index("trainee")
    assert tr.loc["t-crosses", "safety_failures"] == 12  # every Check
    assert tr.drop("t-crosses")["safety_failures"].eq(0).all()
    assert tr.loc["t-crosses", "pass_rate"] == 0


def test_wrong_level_procedures_and_level_counting(report):
    tr = report.trainees.set_index("trainee")
    n_vertebrae = len(LEVELS)
    # one too high: every vertebra label and the portal, in every Check
    assert tr.loc["t-level_high", "wrong_level_procedures"] == 12
    assert tr.loc["t-level_high", "too_high"] == 12 * (n_vertebrae + 1)
    assert tr.loc["t-level_high", "too_low"] == 0
    # one too low: the sacrum would be "S2" and is left out, so one label fewer
    assert tr.loc["t-level_low", "wrong_level_procedures"] == 12
    assert tr.loc["t-level_low", "too_low"] == 12 * n_vertebrae
    assert tr.loc["t-level_low", "too_high"] == 0
    others = tr.drop(["t-level_high", "t-level_low"])
    assert others[["wrong_level_procedures", "too_high", "too_low"]].eq(0).all().all()


def test_level_confusion_counts_exactly_one_level_off(report):
    conf = report.level_confusion()
    assert conf.loc["t-level_high"].to_dict() == {-1: 84, 0: 0, 1: 0}
    assert conf.loc["t-level_low"].to_dict() == {-1: 0, 0: 0, 1: 72}
    for name in ("t-good", "t-crosses", "t-improves"):
        assert conf.loc[name].to_dict() == {-1: 0, 0: 72, 1: 0}
    lv = report.levels
    proc = lv[(lv["kind"] == "procedure") & (lv["offset"] != 0)]
    assert sorted(zip(proc["trainee"], proc["offset"], proc["count"], strict=True)) == [
        ("t-level_high", -1, 12),
        ("t-level_low", 1, 12),
    ]


def test_the_improving_trainee_has_the_rising_learning_curve(report):
    tr = report.trainees.set_index("trainee")
    assert tr.loc["t-improves", "first_score"] < tr.loc["t-improves", "last_score"] == 100
    assert tr["trend_per_week"].idxmax() == "t-improves"
    assert tr.loc["t-improves", "trend_per_week"] > 5
    for flat in ("t-crosses", "t-level_high", "t-level_low"):
        assert abs(tr.loc[flat, "trend_per_week"]) < 0.5  # flat: the same errors every week
    curve = report.learning_curve()["t-improves"].to_numpy()  # the plotted series
    assert len(curve) == 3 and curve[0] < curve[1] < curve[2] == 100
    passed = report.checks[report.checks["trainee"] == "t-improves"].groupby("attempt")["passed"]
    assert passed.mean().to_dict() == {1: 0.0, 2: 0.0, 3: 1.0}


def test_the_hard_case_is_the_hardest(report):
    cases = report.cases
    assert cases.iloc[0]["case_id"] == "case-03"
    hard = _row(cases, "case_id", "case-03")
    assert hard["first_pass_rate"] == 0  # nobody passes it at the first attempt
    assert hard["pass_rate"] < cases.iloc[1]["pass_rate"]
    tr = report.trainees.set_index("trainee")
    assert tr.loc["t-good", "pass_rate"] == pytest.approx(100 * 11 / 12)
    assert "tip error (cannula)" in hard["common_errors"]


def test_error_table_counts_the_patterns(report):
    err = report.errors.set_index("kind")
    assert err.loc["safety: tip past a safety boundary", "count"] == 12
    assert err.loc["safety: tip past a safety boundary", "trainees"] == 1
    assert err.loc["wrong-level procedure", "count"] == 24
    assert err.loc["wrong-level procedure", "trainees"] == 2
    assert err.loc["level counted too high", "count"] == 72  # 6 labels × 12 Checks
    assert err.loc["level counted too low", "count"] == 60
    # a wrong-level portal is never counted as a missed or extra cannula
    assert "missed cannula" not in err.index and "extra cannula" not in err.index


def test_rubric_and_entrustment_per_trainee(report):
    tr = report.trainees.set_index("trainee")
    a = report.assessments
    for name in tr.index:
        rating, zwisch, _ = RATINGS[name.removeprefix("t-")]
        assert tr.loc[name, "mean_rating"] == rating
        assert tr.loc[name, "entrustment"] == zwisch
    docked = a.groupby("trainee")["rubric:instrument_docked"].all()
    # docked on the lamina and safe: only who neither crosses nor goes to another level
    assert docked.to_dict() == {
        "t-crosses": False, "t-good": True, "t-improves": True,
        "t-level_high": False, "t-level_low": False,
    }  # fmt: skip
    contrast = a.groupby("trainee")["rubric:contrast_at_level_side"].all()
    assert not contrast["t-level_high"] and contrast["t-good"]
    assert set(a["educator"]) == {"dr-lee"}


def test_inter_rater_agreement_of_the_second_key(report):
    ag = report.agreement.set_index(["type", "name"])
    lf = ag.loc[("ligamentum_flavum", "max_thickness")]
    assert lf["rater"] == "dr-kim" and lf["n"] == 3
    assert lf["bias"] == pytest.approx(0.2, abs=1e-6)  # drawn 1 px (0.2 mm) thicker
    assert lf["loa_low"] == pytest.approx(0.2, abs=1e-6)
    heights = ag.loc[("vertebra", "anterior_height")]
    assert heights["n"] == 18 and heights["icc"] > 0.9  # 1 px jitter on 18-26 mm bodies
    b = report.boundaries.set_index(["type", "metric"])
    assert b.loc[("ligamentum_flavum", "hd95"), "max"] == pytest.approx(0.2, abs=0.01)
