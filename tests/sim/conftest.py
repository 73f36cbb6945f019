"""Fixtures for the virtual C-arm tests: the synthetic CT, written once per session."""

from __future__ import annotations

import pytest

from tests.sim.synthetic_ct import SyntheticCT, build, write_nifti


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCT:
    return write_nifti(build(), tmp_path_factory.mktemp("synthetic-ct"))
