"""One sample set per test session, written through the CLI (the slow part, ~10 s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flannot.cli import main


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The phantom cases only (the whole sample_dicoms, CT cases included, is regenerated
    by tests/sim/test_sample_ct.py)."""
    out = tmp_path_factory.mktemp("phantom") / "sample"
    assert main(["sample", str(out)]) == 0
    return out


def _load(sample_dir: Path, version: int) -> dict[str, dict]:
    manifest = json.loads((sample_dir / "flannot-set.json").read_text())
    out = {}
    for entry in manifest["cases"]:
        folder = sample_dir / entry["path"]
        out[entry["case_id"]] = {
            "dir": folder,
            "annotations": json.loads((folder / "annotations.json").read_text()),
            "truth": json.loads((folder / "truth.json").read_text()),
        }
        if out[entry["case_id"]]["truth"].get("phantom_version", 1) != version:
            del out[entry["case_id"]]
    return out


@pytest.fixture(scope="session")
def cases(sample_dir: Path) -> dict[str, dict]:
    """case_id -> {"dir", "annotations", "truth"} for every v1 (2D diagram) case of the set."""
    return _load(sample_dir, 1)


@pytest.fixture(scope="session")
def v2_cases(sample_dir: Path) -> dict[str, dict]:
    """The same for the v2 cases (3D phantom through the virtual C-arm)."""
    return _load(sample_dir, 2)
