"""flannot — annotate, measure and teach on lumbar-spine fluoroscopy DICOM.

The headless core. ``import flannot`` never imports napari, Qt or vispy: the
napari adapter lives in :mod:`flannot.napari` alone. Public names are loaded
lazily so that ``import flannot`` stays cheap for scripts and the CLI.

>>> import flannot
>>> img = flannot.read_dicom("sample_dicoms/cases/lateral/image.dcm")  # doctest: +SKIP
>>> img.spacing_mm, img.calibration  # doctest: +SKIP
((0.2, 0.2), 'magnification_corrected')
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flannot.errors import FlannotError

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY: dict[str, str] = {
    "read_dicom": "flannot.io.reader",
    "FluoroImage": "flannot.io.image",
    "Calibration": "flannot.io.calibration",
    "Case": "flannot.model.case",
    "Annotation": "flannot.model.annotation",
    "Geometry": "flannot.model.annotation",
    "normalize_level": "flannot.model.levels",
    "measure": "flannot.measure",
    "TeachingSet": "flannot.teach.teaching_set",
    "deidentify": "flannot.deid",
}

__all__ = ["FlannotError", "__version__", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from flannot.io.calibration import Calibration
    from flannot.io.image import FluoroImage
    from flannot.io.reader import read_dicom
    from flannot.measure import measure
    from flannot.model.annotation import Annotation, Geometry
    from flannot.model.case import Case
    from flannot.model.levels import normalize_level


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flannot' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
