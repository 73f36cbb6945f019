"""``flannot measure PATH [--json|--csv]``."""

from __future__ import annotations

import csv
import io
import json

import pytest
from measure_builders import ann, band

from flannot.cli import main
from flannot.measure import COLUMNS


def _write_case(folder, case_id, spacing=(0.2, 0.2), calibration="magnification_corrected"):
    folder.mkdir(parents=True, exist_ok=True)
    image = {"path": "image.dcm", "calibration": calibration}
    if spacing is not None:
        image["spacing_mm"] = list(spacing)
    data = {
        "flannot_version": 1,
        "case_id": case_id,
        "image": image,
        "annotations": [
            ann(
                "lf1",
                "ligamentum_flavum",
                "polygon",
                band((40, 40), 15, 3, 30, spacing or (1, 1)),
                level="L4-L5",
                side="left",
            ),
            ann("k1", "cannula", "line", [[0, 0], [0, 100]], level="L4-L5", side="left"),
        ],
    }
    path = folder / "annotations.json"
    path.write_text(json.dumps(data))
    return path


def test_json_output(tmp_path, capsys):
    path = _write_case(tmp_path / "c1", "c1")
    assert main(["measure", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert all(list(r) == list(COLUMNS) for r in rows)
    by_name = {(r["annotation_id"], r["name"]): r for r in rows}
    assert by_name[("k1", "length")]["value"] == pytest.approx(20.0)
    assert by_name[("lf1", "max_thickness")]["value"] == pytest.approx(3.0, abs=0.05)
    # a projection: the MRI criterion is not applied (SPEC §4)
    assert ("lf1", "hypertrophic") not in by_name
    assert {r["calibration"] for r in rows} == {"magnification_corrected"}


def test_csv_output_of_a_case_folder(tmp_path, capsys):
    _write_case(tmp_path / "c1", "c1")
    assert main(["measure", str(tmp_path / "c1"), "--csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(COLUMNS)
    assert {r["case_id"] for r in rows} == {"c1"}
    assert any(r["name"] == "max_thickness" for r in rows)
    assert not any(r["name"] == "hypertrophic" for r in rows)


def test_table_shows_calibration_and_warns(tmp_path, capsys):
    _write_case(tmp_path / "a", "a", calibration="detector_plane")
    assert main(["measure", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "case a: calibration detector_plane" in out
    assert "warning: detector_plane" in out
    assert "max_thickness" in out and "mm" in out


def test_uncalibrated_table_has_no_mm(tmp_path, capsys):
    _write_case(tmp_path / "u", "u", spacing=None, calibration="uncalibrated")
    assert main(["measure", str(tmp_path / "u")]) == 0
    out = capsys.readouterr().out
    assert "warning: uncalibrated" in out
    body = out.split("\n", 2)[2]  # after the header and the warning
    assert " px" in body and "mm" not in body


def test_teaching_set_measures_every_case(tmp_path, capsys):
    (tmp_path / "flannot-set.json").write_text(json.dumps({"flannot_set_version": 1}))
    _write_case(tmp_path / "cases" / "b", "b")
    _write_case(tmp_path / "cases" / "a", "a", calibration="fiducial")
    assert main(["measure", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["case_id"] for r in rows][0] == "a"
    assert {r["case_id"] for r in rows} == {"a", "b"}
    assert main(["measure", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "case a: calibration fiducial" in out and "case b:" in out


@pytest.mark.parametrize("what", ["missing", "empty_dir", "bad_json", "both_flags"])
def test_bad_input_exits_2(tmp_path, capsys, what):
    args = ["measure"]
    if what == "missing":
        args.append(str(tmp_path / "nope.json"))
    elif what == "empty_dir":
        args.append(str(tmp_path))
    elif what == "bad_json":
        p = tmp_path / "annotations.json"
        p.write_text("{not json")
        args.append(str(p))
    else:
        args += [str(_write_case(tmp_path / "c", "c")), "--json", "--csv"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("flannot: error: ") and len(err.strip().splitlines()) == 1


def test_teaching_set_follows_its_case_list(tmp_path, capsys):
    outside = _write_case(tmp_path / "elsewhere", "evil")  # a list entry leaving the set
    root = tmp_path / "set"
    _write_case(root / "cases" / "z", "z")
    _write_case(root / "library" / "first", "first")  # listed: measured though not in cases/
    _write_case(root / "cases" / "unlisted", "unlisted")
    manifest = {
        "flannot_set_version": 1,
        "cases": [
            {"case_id": "first", "path": "library/first"},
            {"case_id": "z"},
            {"case_id": "evil", "path": "../elsewhere"},
        ],
    }
    (root / "flannot-set.json").write_text(json.dumps(manifest))
    assert outside.is_file()
    assert main(["measure", str(root), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""  # no progress bar in a pipe
    ids = [r["case_id"] for r in json.loads(captured.out)]
    assert list(dict.fromkeys(ids)) == ["first", "z"]  # list order, nothing outside the set
