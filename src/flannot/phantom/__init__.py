"""Synthetic lumbar-spine fluoroscopy phantom and the sample teaching set (SPEC §10).

>>> from flannot.phantom import write_sample_set, sample_set_path
>>> write_sample_set("my-sample-set", seed=0)  # doctest: +SKIP
PosixPath('my-sample-set')

``generate_case(case_id, seed)`` renders one case in memory (for tests);
``sample_set_path()`` finds the repository's ``sample_dicoms/`` (``None`` in a wheel).
"""

from __future__ import annotations

from flannot.phantom.cases import CASES, CaseDef, GeneratedCase, generate_case
from flannot.phantom.sample_set import sample_set_path, set_manifest, write_case, write_sample_set

__all__ = [
    "CASES",
    "CaseDef",
    "GeneratedCase",
    "generate_case",
    "sample_set_path",
    "set_manifest",
    "write_case",
    "write_sample_set",
]
