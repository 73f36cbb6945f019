"""PS3.15 Annex E Basic Application Level Confidentiality Profile (SPEC §7).

>>> from flannot.deid import deidentify
>>> report = deidentify("in/", "out/", options=["patient-characteristics"])  # doctest: +SKIP
>>> [f.burned_in_risk for f in report.files]  # doctest: +SKIP
['unknown']

Modules: :mod:`~flannot.deid.actions` (Table E.1-1, explicit), :mod:`~flannot.deid.uids`
(salted UID remapping), :mod:`~flannot.deid.dates` (date shifting),
:mod:`~flannot.deid.pixels` (redaction), :mod:`~flannot.deid.burned_in` (risk),
:mod:`~flannot.deid.engine` (applying it all).
"""

from __future__ import annotations

from flannot.deid.actions import OPTIONS, TABLE
from flannot.deid.burned_in import burned_in_risk
from flannot.deid.engine import (
    DeidReport,
    FileReport,
    deidentify,
    deidentify_dataset,
    deidentify_file,
)
from flannot.deid.uids import UidMap, load_secret, new_secret

__all__ = [
    "OPTIONS",
    "TABLE",
    "DeidReport",
    "FileReport",
    "UidMap",
    "burned_in_risk",
    "deidentify",
    "deidentify_dataset",
    "deidentify_file",
    "load_secret",
    "new_secret",
]
