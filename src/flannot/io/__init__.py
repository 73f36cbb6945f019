"""Reading fluoroscopy DICOM: :func:`read_dicom` → :class:`FluoroImage` (lazy frames).

See ``docs/architecture.md`` for the interface and ``docs/calibration.md`` for
what the calibration values mean. The names below are imported on first use, so
a tool that needs one helper module (``flannot.io.deflate`` for de-identification)
does not import the whole reader at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flannot.io.calibration import Calibration
    from flannot.io.image import FluoroImage
    from flannot.io.reader import read_dicom
    from flannot.io.windows import Window

__all__ = ["Calibration", "FluoroImage", "Window", "read_dicom"]

_WHERE = {
    "Calibration": "flannot.io.calibration",
    "FluoroImage": "flannot.io.image",
    "read_dicom": "flannot.io.reader",
    "Window": "flannot.io.windows",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'flannot.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
