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

__all__ = [
    "Annotation",
    "Calibration",
    "Case",
    "FlannotError",
    "FluoroImage",
    "Geometry",
    "TeachingSet",
    "__version__",
    "deidentify",
    "measure",
    "normalize_level",
    "read_dicom",
]

if TYPE_CHECKING:  # pragma: no cover
    from flannot.io.calibration import Calibration
    from flannot.io.image import FluoroImage
    from flannot.io.reader import read_dicom
    from flannot.measure import measure
    from flannot.model.annotation import Annotation, Geometry
    from flannot.model.case import Case
    from flannot.model.levels import normalize_level
    from flannot.teach.teaching_set import TeachingSet


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flannot' has no attribute {name!r}")
    mod = importlib.import_module(module)
    # flannot.measure is a callable package: export the package itself, never its function,
    # so that `flannot.measure(case)`, `flannot.measure.measure` and `import flannot.measure
    # as m` agree whatever was imported first
    value = mod if module == f"{__name__}.{name}" and callable(mod) else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
