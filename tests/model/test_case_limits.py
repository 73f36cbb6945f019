"""Hostile case files: the loader, the schema and ``validate`` refuse the same things, quickly."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

from flannot import FlannotError
from flannot.model import Case
from flannot.model.case import case_files
from flannot.model.validate import validate_case_file
from tests.model.conftest import build_case


def _case_dict() -> dict[str, Any]:
    return build_case().to_dict()


def _write(folder: Path, data: Any = None, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / "annotations.json"
    file.write_text(text if text is not None else json.dumps(data), encoding="utf-8")
    return file


def _refused_everywhere(file: Path, match: str) -> None:
    """Case.load refuses it, and validate either refuses it or reports it, with ``match``."""
    with pytest.raises(FlannotError, match=match) as err:
        Case.load(file)
    assert "\n" not in str(err.value)
    try:
        problems = validate_case_file(file)
    except FlannotError as exc:  # validate cannot check it at all: one line too
        assert "\n" not in str(exc)
        return
    assert problems and any(p.severity == "error" for p in problems), problems


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ('"\\ud800 dangling"', "lone UTF-16 surrogate"),
        ("NaN", "NaN is not a JSON number"),
        ("-Infinity", "Infinity is not a JSON number"),
        ("1e400", "overflows"),
        ("1" * 5000, "integer of 5000 digits"),
    ],
)
def test_strict_json(tmp_path: Path, raw: str, match: str) -> None:
    text = json.dumps(_case_dict()).replace('"notes": "', f'"x_bad": {raw}, "notes": "', 1)
    _refused_everywhere(_write(tmp_path / "c", text=text), match)


def test_lone_surrogate_in_a_note_is_refused_not_a_crash_later(tmp_path: Path) -> None:
    data = _case_dict()
    text = json.dumps(data).replace('"note": "entry', '"note": "\\udc80entry', 1)
    _refused_everywhere(_write(tmp_path / "c", text=text), "surrogate")


def test_coordinate_of_two_to_the_63(tmp_path: Path) -> None:
    data = _case_dict()
    data["annotations"][0]["geometry"]["points"][0] = [2.0**63, 5.0]
    _refused_everywhere(_write(tmp_path / "c", data), "far outside")


def test_coordinate_far_outside_the_recorded_image(tmp_path: Path) -> None:
    data = _case_dict()
    rows = data["image"]["rows"]
    data["annotations"][0]["geometry"]["points"][0] = [rows * 3.0, 5.0]
    _refused_everywhere(_write(tmp_path / "c", data), "far outside the")


def test_huge_polygon_refused_fast(tmp_path: Path) -> None:
    data = _case_dict()
    data["annotations"][0]["geometry"] = {
        "kind": "polygon",
        "points": [[float(i % 100), float(i % 77)] for i in range(100_001)],
    }
    file = _write(tmp_path / "c", data)
    start = time.perf_counter()
    _refused_everywhere(file, "100001 points")
    assert time.perf_counter() - start < 5


def test_too_many_annotations_refused_fast(tmp_path: Path) -> None:
    data = _case_dict()
    one = data["annotations"][-1]
    data["annotations"] = [{**one, "id": f"r{i}"} for i in range(10_001)]
    file = _write(tmp_path / "c", data)
    start = time.perf_counter()
    _refused_everywhere(file, "10001 annotations")
    assert time.perf_counter() - start < 5


def test_control_character_in_image_path(tmp_path: Path) -> None:
    data = _case_dict()
    data["image"]["path"] = "image\u0000.dcm"
    _refused_everywhere(_write(tmp_path / "c", data), "image.path|does not match")


def test_huge_mask_count(tmp_path: Path) -> None:
    data = _case_dict()
    data["annotations"][0]["geometry"] = {
        "kind": "mask",
        "mask": {"size": [4, 4], "counts": [2, 10**18]},
    }
    _refused_everywhere(_write(tmp_path / "c", data), "maximum")


def test_deep_nesting_is_bad_input(tmp_path: Path) -> None:
    text = json.dumps(_case_dict()).replace(
        '"notes": "', '"x": ' + "[" * 100_000 + "]" * 100_000 + ', "notes": "', 1
    )
    _refused_everywhere(_write(tmp_path / "c", text=text), "nested")


def test_set_file_deep_nesting_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "flannot-set.json").write_text('{"cases": ' + "[" * 50_000 + "]" * 50_000 + "}")
    with pytest.raises(FlannotError, match="nested"):
        case_files(tmp_path)


# --- nothing reads an image outside the set ---------------------------------------------


def _set_case(root: Path, image_path: str) -> Path:
    (root / "flannot-set.json").parent.mkdir(parents=True, exist_ok=True)
    (root / "flannot-set.json").write_text('{"name": "s", "cases": []}')
    data = _case_dict()
    data["image"]["path"] = image_path
    return _write(root / "cases" / "case-001", data)


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
def test_image_outside_the_set_is_never_read(tmp_path: Path, how: str) -> None:
    outside = tmp_path / "secret.dcm"
    outside.write_bytes(b"\0" * 132)
    root = tmp_path / "set"
    if how == "absolute":
        file = _set_case(root, str(outside))
    elif how == "dotdot":
        file = _set_case(root, "../../../secret.dcm")
    else:
        file = _set_case(root, "image.dcm")
        os.symlink(outside, file.parent / "image.dcm")
    case = Case.load(file)
    with pytest.raises(FlannotError, match="leads outside the teaching set"):
        case.load_image()
    problems = validate_case_file(file)
    assert any("outside the teaching set" in p.message for p in problems)


def test_image_inside_the_set_is_fine(tmp_path: Path) -> None:
    file = _set_case(tmp_path / "set", "image.dcm")
    assert Case.load(file).image_path == file.parent / "image.dcm"


def test_level_longer_than_a_dicom_lo_is_refused(tmp_path: Path) -> None:
    # DICOM export failed on it (LO holds 64 characters)
    data = _case_dict()
    data["annotations"][0]["level"] = "L4-" * 30
    _refused_everywhere(_write(tmp_path / "c", data), "too long|is longer than")


def test_set_schema_flags_a_case_path_out_of_the_set(tmp_path: Path) -> None:
    from flannot.model.validate import set_schema_problems
    from flannot.teach.set_validation import validate_path

    manifest = {
        "flannot_set_version": 1,
        "name": "s",
        "tolerances": {"dice": "0.9"},
        "cases": [{"case_id": "a/b", "path": "../../elsewhere"}],
    }
    paths = {p.path for p in set_schema_problems(manifest)}
    assert paths == {"$.tolerances.dice", "$.cases[0].case_id", "$.cases[0].path"}
    (tmp_path / "flannot-set.json").write_text(json.dumps(manifest))
    (tmp_path / "cases").mkdir()
    problems, _ = validate_path(tmp_path)
    assert any(p.path == "$.cases[0].path" and p.severity == "error" for p in problems)


def test_case_file_past_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    data = _case_dict()
    data["x_padding"] = "x" * (17 << 20)  # 17 MiB: a 2·10⁶-point polygon is 30 MB
    file = _write(tmp_path / "c", data)
    start = time.perf_counter()
    _refused_everywhere(file, "more than flannot reads")
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("spacing", [1e-300, 5e-324, 0.0, 2.0**63, 1e300])
def test_spacing_outside_the_readers_range(tmp_path: Path, spacing: float) -> None:
    # campaign (issue 16): spacing 1e-300 passed validate, then measure and score failed
    # with numpy's "attempt to get argmin of an empty sequence"; 2**63 tried to allocate
    data = _case_dict()
    data["image"]["spacing_mm"] = [spacing, spacing]
    _refused_everywhere(_write(tmp_path / "c", data), r"spacing_mm\[0\]")


def test_spacing_at_the_readers_bounds_is_measured(tmp_path: Path) -> None:
    from flannot.io.calibration import SPACING_RANGE
    from flannot.measure import measure_rows

    for spacing in SPACING_RANGE:
        data = _case_dict()
        data["image"]["spacing_mm"] = [spacing, spacing]
        file = _write(tmp_path / f"c{spacing:g}", data)
        assert not [p for p in validate_case_file(file) if "spacing" in p.path], spacing
        rows = measure_rows(Case.load(file))  # no numpy error on an empty sample
        assert rows and all(math.isfinite(r.value) for r in rows if r.unit == "mm"), rows


def test_duplicate_annotation_id_refused_by_the_loader(tmp_path: Path) -> None:
    data = _case_dict()
    first = data["annotations"][0]
    data["annotations"].append({**data["annotations"][1], "id": first["id"]})
    file = _write(tmp_path / "c", data)
    n = len(data["annotations"]) - 1
    _refused_everywhere(file, rf"\$\.annotations\[{n}\]\.id: duplicate id '{first['id']}'")
    # validate lists every duplicate (not just the first) and recovery keeps them
    problems = validate_case_file(file)
    assert [p.path for p in problems if "duplicate id" in p.message] == [f"$.annotations[{n}].id"]
    assert len(Case.load(file, strict=False).annotations) == n + 1


def test_duplicate_ids_every_command_one_line_exit_2(tmp_path: Path) -> None:
    """measure and export refuse what validate reports: one line naming file and id."""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    tset = tmp_path / "set"
    shutil.copytree(root / "sample_dicoms", tset)
    file = tset / "cases" / "lateral" / "annotations.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    dup = data["annotations"][0]["id"]
    data["annotations"].append({**data["annotations"][1], "id": dup})
    file.write_text(json.dumps(data), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])}
    for argv in (
        ["measure", str(file.parent)],
        ["export", str(tset), "-f", "csv", "-o", str(tmp_path / "out")],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "flannot", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert str(file) in lines[0] and f"duplicate id {dup!r}" in lines[0], lines[0]
