"""Fixtures for C-arm training mode: a teaching set with one CT-backed case.

The CT is the synthetic one of the virtual C-arm tests (``tests/sim/synthetic_ct.py``:
box vertebrae L1–L5 on a straight spine, the spinous processes on the midline), so the
ideal views are known: the true AP is primary 180, secondary 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sim.synthetic_ct import SyntheticCT, build, write_nifti

TASK = {
    "target": "L3-L4",
    "side": "left",
    "views": ["ap", "clo-left"],
    "shot_budget": 4,
}


@pytest.fixture(scope="session")
def synth_ct(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCT:
    return write_nifti(build(), tmp_path_factory.mktemp("carm-ct"))


@pytest.fixture(scope="session")
def ct_set(synth_ct: SyntheticCT, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A teaching set with the CT-backed case (a 96² reference shot)."""
    from flannot.teach.ct_case import add_ct_case
    from flannot.teach.teaching_set import TeachingSet

    root = tmp_path_factory.mktemp("carm-set") / "set"
    TeachingSet.new(root)
    cid = add_ct_case(root, synth_ct.ct_path, synth_ct.labels_path, TASK, detector=96, pixel_mm=3.2)
    return root, cid
