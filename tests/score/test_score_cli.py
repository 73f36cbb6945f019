"""``flannot score REFERENCE ATTEMPT [--json]`` and the path forms ``score()`` accepts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flannot.cli import main
from flannot.errors import FlannotError
from flannot.phantom.course import V2_CASES
from flannot.sim.sample_ct import CT_CASES
from flannot.teach.score import score
from tests.score.builders import ann, make_case, square, vertebrae

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms"
ITEM_KEYS = {
    "annotation_id",
    "type",
    "level",
    "side",
    "metric",
    "value",
    "unit",
    "passed",
    "message",
}


def _write(case, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(case.to_dict()))
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A reference case, a perfect attempt and an attempt with L4 called L3 and a poor LF."""
    lf = ann("lf", "ligamentum_flavum", "polygon", square(100, 600, 40), level="L4-L5", side="left")
    ref = _write(make_case([*vertebrae(), lf], case_id="k"), tmp_path / "ref" / "annotations.json")
    good = _write(make_case([*vertebrae(), lf], case_id="k"), tmp_path / "good.json")
    bad_lf = ann(
        "x", "ligamentum_flavum", "polygon", square(125, 600, 40), level="L4-L5", side="left"
    )
    labels = vertebrae(["L1", "L2", "L3", "L3", "L5"])
    bad = _write(make_case([*labels, bad_lf], case_id="k"), tmp_path / "bad.json")
    return ref, good, bad


def test_cli_all_pass_exit_0(pair, capsys):
    ref, good, _ = pair
    assert main(["score", str(ref), str(good)]) == 0
    out = capsys.readouterr().out
    assert "case k: PASS" in out
    assert "FAIL" not in out
    assert "passed: 5 level_offset, 5 landmark_error" in out
    assert "1 of 1 cases passed" in out


def test_cli_failure_lines_and_exit_1(pair, capsys):
    ref, _, bad = pair
    assert main(["score", str(ref), str(bad)]) == 1
    out = capsys.readouterr().out
    assert "case k: FAIL" in out
    fails = [ln for ln in out.splitlines() if ln.strip().startswith("FAIL")]
    assert any("L4 labelled as L3: you counted one level too high" in ln for ln in fails)
    assert any("hd95" in ln for ln in fails)  # a thin band fails on its boundary
    assert "vertebra labels: 4 of 5 right" in out


def test_cli_json_shape(pair, capsys):
    ref, _, bad = pair
    assert main(["score", str(ref), str(bad), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"cases"}
    (case,) = data["cases"]
    assert set(case) == {"case_id", "passed", "items"}
    assert case["case_id"] == "k" and case["passed"] is False
    assert all(set(it) == ITEM_KEYS for it in case["items"])
    offsets = {it["level"]: it["value"] for it in case["items"] if it["metric"] == "level_offset"}
    assert offsets == {"L1": 0, "L2": 0, "L3": 0, "L4": -1, "L5": 0}


def test_cli_bad_input_exit_2(pair, tmp_path, capsys):
    ref, _, _ = pair
    assert main(["score", str(ref), str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flannot: error:") and "missing.json" in err
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["score", str(ref), str(broken)]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["score", str(ref), str(empty)]) == 2
    assert "attempts folder" in capsys.readouterr().err


def test_cli_sample_set_against_itself(capsys):
    assert main(["score", str(SAMPLE), str(SAMPLE), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["case_id"] for c in data["cases"]] == [
        "ap",
        "lateral",
        "clo-left",
        "clo-right-hypertrophic",
        "lateral-stenotic",
        "cine",
    ] + [c.case_id for c in V2_CASES] + [c.case_id for c in CT_CASES]
    assert all(c["passed"] for c in data["cases"])


def _small_set(tmp_path: Path, tolerances: dict) -> Path:
    root = tmp_path / "set"
    manifest = json.loads((SAMPLE / "flannot-set.json").read_text())
    manifest["tolerances"] = tolerances
    manifest["cases"] = [c for c in manifest["cases"] if c["case_id"] in ("lateral", "clo-left")]
    root.mkdir()
    (root / "flannot-set.json").write_text(json.dumps(manifest))
    for cid in ("lateral", "clo-left"):
        (root / "cases" / cid).mkdir(parents=True)
        shutil.copy(SAMPLE / "cases" / cid / "annotations.json", root / "cases" / cid)
    return root


def _shifted_clo_left(root: Path, out: Path, cols: float) -> Path:
    data = json.loads((root / "cases" / "clo-left" / "annotations.json").read_text())
    for a in data["annotations"]:
        if a["type"] == "ligamentum_flavum":
            a["geometry"]["points"] = [[r, c + cols] for r, c in a["geometry"]["points"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data))
    return out


def test_set_tolerances_apply_to_a_case_inside_the_set(tmp_path):
    strict = _small_set(tmp_path, {"hd95_mm": 0.5})
    attempt = _shifted_clo_left(strict, tmp_path / "a" / "clo-left.json", 2.0)  # 0.96 mm
    (result,) = score(strict / "cases" / "clo-left", attempt)
    hd = [it for it in result.items if it.metric == "hd95"]
    assert hd and not all(it.passed for it in hd)
    (lenient,) = score(strict / "cases" / "clo-left", attempt, tolerances={"hd95_mm": 3.0})
    assert all(it.passed for it in lenient.items if it.metric == "hd95")


def test_single_attempt_against_a_set_scores_that_case_only(tmp_path):
    root = _small_set(tmp_path, {})
    attempt = _shifted_clo_left(root, tmp_path / "a" / "clo-left.json", 0.0)
    results = score(root, attempt)
    assert [r.case_id for r in results] == ["clo-left"] and results[0].passed
    other = json.loads((SAMPLE / "cases" / "ap" / "annotations.json").read_text())
    stray = tmp_path / "ap.json"
    stray.write_text(json.dumps(other))
    with pytest.raises(FlannotError, match="not in the reference"):
        score(root, stray)


def test_second_set_as_attempt_pairs_by_case_id(tmp_path):
    root = _small_set(tmp_path, {})
    results = score(root, SAMPLE)  # the sample set holds both cases (and more, ignored)
    assert [r.case_id for r in results] == ["lateral", "clo-left"]
    assert all(r.passed for r in results)


def test_two_attempts_for_one_case_is_bad_input(tmp_path):
    root = _small_set(tmp_path, {})
    folder = tmp_path / "attempts" / "bob"
    _shifted_clo_left(root, folder / "clo-left.json", 0.0)
    _shifted_clo_left(root, folder / "copy.json", 0.0)
    with pytest.raises(FlannotError, match="two attempts"):
        score(root, folder)


@pytest.mark.parametrize("tolerances", [{"dice": "0.9"}, {"hd95_mm": None}, [0.9]])
def test_a_tolerance_that_is_not_a_number_is_bad_input(tmp_path, tolerances, capsys):
    """A typo in flannot-set.json must not silently score with the default instead."""
    root = _small_set(tmp_path, tolerances)
    with pytest.raises(FlannotError) as info:
        score(root, root)
    assert info.value.path == str(root / "flannot-set.json")
    assert main(["score", str(root), str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tolerances must" in err and "internal" not in err
