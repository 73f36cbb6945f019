"""Teaching sets (SPEC §5) — the public names, from the modules that hold them.

:mod:`flannot.teach.set_format` (the manifest and :class:`TeachingSet`),
:mod:`flannot.teach.case_import` (adding cases), :mod:`flannot.teach.redaction`,
:mod:`flannot.teach.set_validation`, :mod:`flannot.deid.dicom_checks`.
"""

from __future__ import annotations

from flannot.teach.case_import import fresh_dir
from flannot.teach.redaction import redacted_image_bytes
from flannot.teach.set_format import (
    CASE_FILE,
    SECRET_FILE,
    SET_FILE,
    SET_VERSION,
    TeachingSet,
)

__all__ = [
    "CASE_FILE",
    "SECRET_FILE",
    "SET_FILE",
    "SET_VERSION",
    "TeachingSet",
    "fresh_dir",
    "redacted_image_bytes",
]
