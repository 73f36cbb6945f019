"""The annotation model and the case file format (SPEC §3).

>>> from flannot.model import Case, normalize_level
>>> normalize_level("l4_l5")
'L4-L5'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flannot.model.annotation import GEOMETRY_KINDS, Annotation, Geometry, utc_now
from flannot.model.case import (
    CASE_FILENAME,
    FORMAT_VERSION,
    Case,
    ConcurrentChangeError,
    ImageRef,
    case_file_path,
)
from flannot.model.levels import (
    INTERSPACE_LEVELS,
    VERTEBRA_LEVELS,
    level_index,
    level_kind,
    normalize_level,
)
from flannot.model.validate import (
    Problem,
    validate_case,
    validate_case_file,
    vertebra_order_problems,
)

if TYPE_CHECKING:  # pragma: no cover
    from flannot.model.recovery import (
        discard_recovery,
        find_recovery,
        recovery_path,
        write_recovery,
    )

# crash recovery (and the atomic writes it needs) only when asked for: reading cases
# (measure, validate, export) never uses it
_LAZY = {
    "discard_recovery": "flannot.model.recovery",
    "find_recovery": "flannot.model.recovery",
    "recovery_path": "flannot.model.recovery",
    "write_recovery": "flannot.model.recovery",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CASE_FILENAME",
    "FORMAT_VERSION",
    "GEOMETRY_KINDS",
    "INTERSPACE_LEVELS",
    "VERTEBRA_LEVELS",
    "Annotation",
    "Case",
    "ConcurrentChangeError",
    "Geometry",
    "ImageRef",
    "Problem",
    "case_file_path",
    "discard_recovery",
    "find_recovery",
    "level_index",
    "level_kind",
    "normalize_level",
    "recovery_path",
    "utc_now",
    "validate_case",
    "validate_case_file",
    "vertebra_order_problems",
    "write_recovery",
]
