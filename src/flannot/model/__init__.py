"""The annotation model and the case file format (SPEC §3).

>>> from flannot.model import Case, normalize_level
>>> normalize_level("l4_l5")
'L4-L5'
"""

from __future__ import annotations

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
from flannot.model.recovery import discard_recovery, find_recovery, recovery_path, write_recovery
from flannot.model.validate import (
    Problem,
    validate_case,
    validate_case_file,
    vertebra_order_problems,
)

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
