"""One sample set per test session, written through the CLI (the slow part, ~10 s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flannot.cli import main


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("phantom") / "sample"
    assert main(["sample", str(out)]) == 0
    return out


@pytest.fixture(scope="session")
def cases(sample_dir: Path) -> dict[str, dict]:
    """case_id -> {"dir", "annotations", "truth"} for every case of the set."""
    manifest = json.loads((sample_dir / "flannot-set.json").read_text())
    out = {}
    for entry in manifest["cases"]:
        folder = sample_dir / entry["path"]
        out[entry["case_id"]] = {
            "dir": folder,
            "annotations": json.loads((folder / "annotations.json").read_text()),
            "truth": json.loads((folder / "truth.json").read_text()),
        }
    return out
