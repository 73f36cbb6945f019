"""The virtual C-arm: realistic fluoroscopy simulated from CT, with answer keys (SPEC §15).

Headless (no napari, Qt or vispy); heavy modules load on first use.

>>> from flannot.sim import load_ct, prepare, preview  # doctest: +SKIP
>>> prep = prepare(load_ct("ct.nii.gz"), kvp=80)  # doctest: +SKIP
>>> img = preview(prep, 180.0, 0.0)  # prone AP, 256² uint8, ~50 ms  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CArm": "flannot.sim.geometry",
    "CTVolume": "flannot.sim.volume",
    "load_ct": "flannot.sim.volume",
    "load_labels": "flannot.sim.volume",
    "label_convention": "flannot.sim.volume",
    "PreparedCT": "flannot.sim.render",
    "prepare": "flannot.sim.render",
    "shot": "flannot.sim.render",
    "preview": "flannot.sim.render",
    "preview_carm": "flannot.sim.render",
    "Exposure": "flannot.sim.imaging",
    "find_vertebrae": "flannot.sim.anatomy",
    "resolve_view": "flannot.sim.views",
    "ideal_angles": "flannot.sim.views",
    "angle_error": "flannot.sim.views",
    "ideal_for_level": "flannot.sim.views",
    "spinous_offset": "flannot.sim.views",
    "SimRequest": "flannot.sim.case",
    "simulate": "flannot.sim.case",
    "write_case": "flannot.sim.case",
    "run_manifest": "flannot.sim.batch",
    "Task": "flannot.sim.training",
    "TrainingSession": "flannot.sim.training",
    "find_target": "flannot.sim.view_score",
    "ideal_view": "flannot.sim.view_score",
    "view_metrics": "flannot.sim.view_score",
    "score_views": "flannot.sim.view_score",
    "dose_area_product": "flannot.sim.dose",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'flannot.sim' has no attribute {name!r}")
