"""The CT-derived cases of sample_dicoms/: the whole folder regenerated with the cached real CT.

The TotalSegmentator example CT is fetched once into the test cache
(``tests/sim/reference_ct.py``); these tests fail, never skip, when it cannot be.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flannot.atomic import atomic_write_json
from flannot.cli import main
from flannot.model.case import Case
from flannot.phantom import set_manifest
from flannot.sim.sample_ct import (
    ATTRIBUTION,
    CT_CASES,
    SET_NOTE,
    write_ct_cases,
    write_ct_previews,
)
from tests.sim.reference_ct import fetch

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "sample_dicoms"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make sample``'s sample_dicoms: the phantom cases, then the CT-derived ones."""
    ct_path, _seg = fetch()  # raises (the test fails) when it cannot be fetched
    out = tmp_path_factory.mktemp("ct-set") / "sample"
    assert main(["sample", str(out), "--with-ct", "--ct-cache", str(ct_path.parent)]) == 0
    return out


@pytest.fixture(scope="module")
def phantom_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flannot-set.json the phantom alone writes (``flannot sample`` without the CT)."""
    out = tmp_path_factory.mktemp("phantom-set")
    atomic_write_json(out / "flannot-set.json", set_manifest(0))
    return out / "flannot-set.json"


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_the_shipped_folder_is_what_the_cached_ct_regenerates(generated: Path) -> None:
    shipped, made = _files(SHIPPED), _files(generated)
    assert sorted(shipped) == sorted(made)
    assert [n for n in made if shipped[n] != made[n]] == [], "regenerate with `make sample`"
    assert sum(len(b) for b in shipped.values()) < 20 * 1024 * 1024
    ct = [b for n, b in shipped.items() if n.startswith("cases/ct-")]
    assert len(ct) == 9 and sum(len(b) for b in ct) < 3 * 1024 * 1024
    manifest = json.loads(shipped["flannot-set.json"])
    ids = [e["case_id"] for e in manifest["cases"]]
    assert len(ids) == 16 and ids[-3:] == [c.case_id for c in CT_CASES]
    assert manifest["description"].count("TotalSegmentator") == 1


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
    # no claim the images cannot support: 3 mm voxels, no contrast (docs/carm.md)
    assert "not the laminar shelf, the epidurogram" in clo.notes
    lateral = Case.load(generated / "cases" / "ct-totalseg-l4-lateral")
    assert "does not show how deep the laminae lie" in lateral.notes


def test_with_ct_adds_the_cases_to_an_existing_set_once(
    tmp_path: Path, phantom_manifest: Path
) -> None:
    ct_path, _seg = fetch()
    shutil.copy(phantom_manifest, tmp_path / "flannot-set.json")
    phantom = json.loads(phantom_manifest.read_text())
    phantom_ids = [e["case_id"] for e in phantom["cases"]]
    for _ in range(2):  # a second run replaces, never duplicates
        write_ct_cases(tmp_path, ct_path.parent)
    made = json.loads((tmp_path / "flannot-set.json").read_text())
    assert [e["case_id"] for e in made["cases"]] == phantom_ids + [c.case_id for c in CT_CASES]
    assert made["description"] == phantom["description"] + SET_NOTE  # noted once
    assert (tmp_path / "ATTRIBUTION.md").read_text().count("Wasserthal") == 1


def test_a_missing_ct_is_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "set"
    code = main(["sample", str(out), "--with-ct", "--ct-cache", str(tmp_path / "no-cache")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "example CT is not cached" in err and "make sample" in err
    assert not out.exists()
    assert main(["sample", str(out), "--no-phantom"]) == 2
    assert "--no-phantom writes nothing" in capsys.readouterr().err


def test_the_readme_previews_are_drawn_from_the_shipped_cases(tmp_path: Path) -> None:
    written = write_ct_previews(SHIPPED, tmp_path)
    assert len(written) == 2 * len(CT_CASES)
    for p in written:
        assert p.read_bytes() == (ROOT / "docs" / "images" / p.name).read_bytes(), p.name
    plain = np.asarray(Image.open(tmp_path / "ct-totalseg-l4-ap.png"))
    key = np.asarray(Image.open(tmp_path / "ct-totalseg-l4-ap_annotated.png"))
    assert plain.ndim == 2 and plain.std() > 20  # an image, not a flat field
    assert key.shape == (*plain.shape, 3) and (key[..., 0] != key[..., 2]).any()  # colours


def test_regenerating_without_the_ct_says_the_set_drops_its_ct_cases(
    tmp_path: Path, capsys
) -> None:
    out = tmp_path / "set"
    (out / "cases" / CT_CASES[0].case_id).mkdir(parents=True)  # left by an earlier --with-ct
    assert main(["sample", str(out)]) == 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "add --with-ct (make sample)" in err
    ids = [e["case_id"] for e in json.loads((out / "flannot-set.json").read_text())["cases"]]
    assert len(ids) == 13 and not any(i.startswith("ct-") for i in ids)
