"""Shared fixtures: a copy of the sample teaching set and one export of it per format."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flannot.export import export_set
from tests.export.export_helpers import SAMPLE


@pytest.fixture(scope="session")
def sample_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of ``sample_dicoms`` (exports never touch the repository's copy)."""
    dst = tmp_path_factory.mktemp("set") / "sample"
    shutil.copytree(SAMPLE, dst)
    return dst


@pytest.fixture(scope="session")
def exports(sample_set: Path, tmp_path_factory: pytest.TempPathFactory):
    """Lazily export the sample set once per format: ``exports("coco") -> out folder``."""
    done: dict[str, Path] = {}

    def get(fmt: str) -> Path:
        if fmt not in done:
            out = tmp_path_factory.mktemp(f"export-{fmt}")
            export_set(sample_set, fmt, out)
            done[fmt] = out
        return done[fmt]

    return get
