"""The CT-derived sample cases (sample_dicoms_ct/): regenerated from the cached real CT.

The TotalSegmentator example CT is fetched once into the test cache
(``tests/sim/reference_ct.py``); these tests fail, never skip, when it cannot be.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from flannot.cli import main
from flannot.model.case import Case
from flannot.sim.sample_ct import ATTRIBUTION, CT_CASES, write_ct_cases
from tests.sim.reference_ct import fetch

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "sample_dicoms_ct"
PHANTOM_SET = ROOT / "sample_dicoms" / "flannot-set.json"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ct_path, _seg = fetch()  # raises (the test fails) when it cannot be fetched
    out = tmp_path_factory.mktemp("ct-set")
    assert write_ct_cases(out, ct_path.parent) == [c.case_id for c in CT_CASES]
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_the_shipped_folder_is_what_the_cached_ct_regenerates(generated: Path) -> None:
    shipped, made = _files(SHIPPED), _files(generated)
    assert sorted(shipped) == sorted(made)
    assert [n for n in made if shipped[n] != made[n]] == []
    assert sum(len(b) for b in shipped.values()) < 3 * 1024 * 1024


def test_cases_are_valid_dicom_and_case_files(generated: Path, capsys) -> None:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (dicom3tools) must be installed"
    for c in CT_CASES:
        image = generated / "cases" / c.case_id / "image.dcm"
        run = subprocess.run([tool, str(image)], capture_output=True, text=True, check=False)
        assert [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith("Error")] == []
    assert main(["validate", str(generated)]) == 0
    capsys.readouterr()


def test_answer_key_centres_l4_and_every_case_carries_its_attribution(generated: Path) -> None:
    for c in CT_CASES:
        folder = generated / "cases" / c.case_id
        case = Case.load(folder)
        truth = json.loads((folder / "truth.json").read_text())
        levels = [a.level for a in case.annotations if a.type == "vertebra"]
        assert {"L3", "L4", "L5"} <= set(levels) and levels == sorted(
            levels, key=["T12", "L1", "L2", "L3", "L4", "L5", "S1"].index
        )
        l4 = next(v for v in truth["vertebrae"] if v["level"] == "L4")
        rows, cols = truth["geometry"]["detector"]
        r, col = l4["centroid_rc"]
        assert abs(r - (rows - 1) / 2) < 3 and abs(col - (cols - 1) / 2) < 3  # the isocentre
        assert case.image.calibration == "magnification_corrected"
        assert "Wasserthal" in case.notes and "Apache-2.0" in case.notes
        assert truth["attribution"] == ATTRIBUTION
        assert case.decision is None  # nothing in a CT says whether to proceed
    assert "ct-totalseg-l4-clo-left" in (generated / "ATTRIBUTION.md").read_text()
    clo = Case.load(generated / "cases" / "ct-totalseg-l4-clo-left")
    assert "not the epidurogram" in clo.notes  # no claim the image cannot support


def test_with_ct_adds_the_cases_to_an_existing_set_once(tmp_path: Path) -> None:
    ct_path, _seg = fetch()
    shutil.copy(PHANTOM_SET, tmp_path / "flannot-set.json")
    phantom_ids = [e["case_id"] for e in json.loads(PHANTOM_SET.read_text())["cases"]]
    for _ in range(2):  # a second run replaces, never duplicates
        write_ct_cases(tmp_path, ct_path.parent)
    ids = [e["case_id"] for e in json.loads((tmp_path / "flannot-set.json").read_text())["cases"]]
    assert ids == phantom_ids + [c.case_id for c in CT_CASES]


def test_a_missing_ct_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "set"
    code = main(["sample", str(out), "--with-ct", "--ct-cache", str(tmp_path / "no-cache")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "example CT is not cached" in err and "make sample-ct" in err
    assert not out.exists()
    assert main(["sample", str(out), "--no-phantom"]) == 2
    assert "--no-phantom writes nothing" in capsys.readouterr().err
