"""PACS over DICOMweb: find studies, pull them into a teaching set, push results (SPEC §17).

>>> from flannot.pacs import PacsClient, find_studies, pull_study, push_set
>>> pacs = PacsClient("http://127.0.0.1:8042/dicom-web")            # doctest: +SKIP
>>> studies = find_studies(pacs, patient="DOE", modality="XA")       # doctest: +SKIP
>>> pull_study(pacs, studies[0].study_uid, "my-set")                 # doctest: +SKIP
>>> push_set("my-set", pacs)                                         # doctest: +SKIP

QIDO-RS (search), WADO-RS (retrieve) and STOW-RS (store) of DICOM PS3.18, through
``dicomweb-client``. Credentials come only from the environment
(:func:`credentials_from_env`); TLS certificates are verified. Every network or
server failure is one :class:`~flannot.errors.FlannotError` line naming the URL, and
a pull that fails leaves the teaching set as it was. Headless: no Qt here.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "Credentials",
    "PacsClient",
    "PullResult",
    "PushResult",
    "Study",
    "credentials_from_env",
    "find_studies",
    "pull_study",
    "push_set",
]

_WHERE = {
    "Credentials": "flannot.pacs.client",
    "PacsClient": "flannot.pacs.client",
    "credentials_from_env": "flannot.pacs.client",
    "Study": "flannot.pacs.find",
    "find_studies": "flannot.pacs.find",
    "PullResult": "flannot.pacs.pull",
    "pull_study": "flannot.pacs.pull",
    "PushResult": "flannot.pacs.push",
    "push_set": "flannot.pacs.push",
}


def __getattr__(name: str) -> Any:  # lazy: requests and dicomweb-client load on first use
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'flannot.pacs' has no attribute {name!r}")
