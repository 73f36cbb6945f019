"""`flannot validate`: exit 0 clean, 1 problems, 2 unreadable; one line per problem; --json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flannot.cli import main
from flannot.model import Case


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_case_exits_0(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, case_dir)
    assert code == 0 and err == ""
    assert out.strip().splitlines() == [f"{case_dir}: valid (1 case file)"]


def test_problems_exit_1_one_line_each(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = Case.load(case_dir)
    case.get("lf1").level = "L9"
    case.get("c1").side = "middle"
    case.save()
    code, out, _ = _run(capsys, case_dir / "annotations.json")
    lines = out.strip().splitlines()
    f = case_dir / "annotations.json"
    assert code == 1
    assert len(lines) == 3
    assert lines[0].startswith(f"{f}: $.annotations[7].level: unknown level: ")
    assert "'L9'" in lines[0]
    assert lines[1].startswith(f"{f}: $.annotations[10].side: side must be left or right")
    assert lines[-1] == f"{f}: invalid: 2 errors, 0 warnings in 1 case file"


def test_warnings_only_exit_0_unless_strict(
    case_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = case_dir / "annotations.json"
    data = json.loads(f.read_text())
    data["annotations"][6]["level"] = "l4_l5"
    f.write_text(json.dumps(data))
    code, out, _ = _run(capsys, case_dir)
    assert code == 0 and "warning:" in out and "0 errors, 1 warning" in out
    code, _, _ = _run(capsys, case_dir, "--strict")
    assert code == 1


def test_json_output(case_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = Case.load(case_dir)
    case.annotations.append(case.annotations[0])  # duplicate id
    case.save()
    code, out, _ = _run(capsys, case_dir, "--json")
    report = json.loads(out)
    assert code == 1
    assert report["valid"] is False and report["errors"] >= 1 and report["files"] == 1
    dup = [p for p in report["problems"] if p["path"] == "$.annotations[13].id"]
    assert dup and dup[0]["severity"] == "error" and "duplicate id 'v1'" in dup[0]["message"]
    assert dup[0]["file"] == str(case_dir / "annotations.json")


@pytest.mark.parametrize("content", ["{not json", '{"flannot_version": 99}'])
def test_unreadable_input_exits_2(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "annotations.json"
    f.write_text(content)
    code, out, err = _run(capsys, f)
    assert code == 2 and out == ""
    assert err.startswith(f"flannot: error: {f}: ") and err.count("\n") == 1


def test_missing_path_and_non_case_folder_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, tmp_path / "nope")
    assert code == 2 and "no such file" in err
    code, _, err = _run(capsys, tmp_path)
    assert code == 2 and "neither a case folder" in err


def _make_set(case_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "set"
    (root / "cases").mkdir(parents=True)
    shutil.copytree(case_dir, root / "cases" / "good")
    shutil.copytree(case_dir, root / "cases" / "bad")
    (root / "cases" / "broken").mkdir()
    (root / "cases" / "broken" / "annotations.json").write_text("{")
    bad = Case.load(root / "cases" / "bad")
    bad.get("v3").level = "L4"  # L4 twice, and out of order
    bad.save()
    (root / "flannot-set.json").write_text(
        json.dumps(
            {
                "flannot_set_version": 1,
                "name": "t",
                "protocol": "mild",
                "cases": [{"case_id": c, "path": f"cases/{c}"} for c in ("good", "bad", "broken")],
            }
        )
    )
    return root


def _files(out: str) -> set[str]:
    return {line.split(": ")[0] for line in out.strip().splitlines()[:-1]}


def test_teaching_set_folder(
    case_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _make_set(case_dir, tmp_path)
    code, out, err = _run(capsys, root)
    assert code == 1, err
    assert str(root / "cases" / "bad" / "annotations.json") in _files(out)
    assert str(root / "cases" / "broken" / "annotations.json") in _files(out)
