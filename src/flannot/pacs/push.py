"""``flannot pacs push``: store a set's SEG/SR export with STOW-RS (PS3.18 §10.5, SPEC §17).

The files are those ``flannot export --format dicom`` writes
(:func:`flannot.export.export_set`), made in a temporary folder and sent one per
request, so the report says for each file whether the server accepted it (Referenced
SOP Sequence) or rejected it (Failed SOP Sequence, with the PS3.18 failure reason).
The SEG and SR reference the set's de-identified images; the images themselves are
not sent.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flannot.errors import FlannotError
from flannot.pacs.client import PacsClient

FORMATS = ("dicom",)
MAX_FILES = 10000

# PS3.18 Table 10.5.3-1 / PS3.4 Annex B failure reasons a server may give
FAILURE_REASONS = {
    0x0110: "processing failure",
    0x0122: "SOP class not supported",
    0x0124: "not authorized",
    0xA700: "out of resources",
    0xA900: "data set does not match SOP class",
    0xC000: "cannot understand",
    0xC122: "transfer syntax not supported",
}


@dataclass
class PushResult:
    """Per file: accepted ``(file, sop uid)`` or rejected ``(file, sop uid, reason)``."""

    url: str
    accepted: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "accepted": [{"file": f, "sop_instance_uid": u} for f, u in self.accepted],
            "rejected": [
                {"file": f, "sop_instance_uid": u, "reason": r} for f, u, r in self.rejected
            ],
        }


def _reason(item: Any) -> str:
    code = item.get("FailureReason") if item is not None else None
    if code is None:
        return "rejected (no reason given)"
    try:
        code = int(code)
    except (TypeError, ValueError):
        return f"rejected ({code})"
    return f"{FAILURE_REASONS.get(code, 'failure')} (0x{code:04X})"


def _response_dataset(exc: Any) -> Any:
    """The STOW-RS status dataset in an HTTP error's body (409 Conflict), or ``None``."""
    import pydicom

    response = getattr(exc, "response", None)
    if response is None or not response.content:
        return None
    try:
        body = response.json()
        return pydicom.Dataset.from_json(body[0] if isinstance(body, list) else body)
    except Exception:  # no parseable status: reported by status code
        return None


def store_file(pacs: PacsClient, path: Path, label: str) -> tuple[bool, str, str]:
    """STOW-RS one file; ``(accepted, sop uid, reason)``.

    Raises
    ------
    FlannotError
        The request failed (server down, refused credentials, server error, timeout)
        — a rejection the server reports is a result, not an error.
    """
    import pydicom
    import requests

    ds = pydicom.dcmread(path)
    sop = str(ds.SOPInstanceUID)
    with pacs.errors(f"storing {label}"):
        try:
            status = pacs.dicomweb.store_instances([ds])
        except requests.exceptions.HTTPError as exc:
            if exc.response is None or exc.response.status_code not in (400, 409):
                raise
            status = _response_dataset(exc)
            if status is None:  # 400/409 with no status: the server refused the file
                return False, sop, f"{exc.response.status_code} {exc.response.reason}"
    failed = {
        str(i.get("ReferencedSOPInstanceUID", "")): i
        for i in (status.get("FailedSOPSequence") or [] if status is not None else [])
    }
    stored = {
        str(i.get("ReferencedSOPInstanceUID", ""))
        for i in (status.get("ReferencedSOPSequence") or [] if status is not None else [])
    }
    if sop in failed:
        return False, sop, _reason(failed[sop])
    if sop in stored:
        return True, sop, ""
    if failed:
        return False, sop, _reason(next(iter(failed.values())))
    # a 200 without a status body: PS3.18 allows it; the server took the file
    return True, sop, ""


def push_set(
    set_dir: str | os.PathLike[str],
    pacs: PacsClient,
    *,
    fmt: str = "dicom",
    progress: Callable[[int, int], None] | None = None,
) -> PushResult:
    """Export the set's results as DICOM SEG + SR and store them on the PACS.

    Parameters
    ----------
    set_dir
        The teaching set.
    pacs
        The service.
    fmt
        Only ``dicom`` (SEG + SR, SPEC §9).
    progress
        Called with ``(files stored, files)``.

    Returns
    -------
    PushResult
        What the server accepted and rejected.

    Raises
    ------
    FlannotError
        Not a set, nothing to push, or a request failed (the message says how many
        files had been stored before).
    """
    from flannot.export import export_set
    from flannot.teach.teaching_set import TeachingSet

    f = str(fmt).strip().lower()
    if f not in FORMATS:
        raise FlannotError(f"cannot push --format {fmt!r}; PACS take DICOM: --format dicom")
    ts = TeachingSet.open(set_dir)
    result = PushResult(url=pacs.url)
    with tempfile.TemporaryDirectory(prefix="flannot-push-") as tmp:
        exported = export_set(ts.root, "dicom", tmp)
        files = sorted(rel for rel in exported["files"] if rel.endswith(".dcm"))
        if not files:
            raise FlannotError(
                "nothing to push: no case has regions or measurements for a SEG or SR", ts.root
            )
        if len(files) > MAX_FILES:
            raise FlannotError(f"more than {MAX_FILES} files to push", ts.root)
        for n, rel in enumerate(files, 1):
            try:
                ok, sop, reason = store_file(pacs, Path(tmp) / rel, rel)
            except FlannotError as exc:
                done = len(result.accepted)
                raise FlannotError(
                    f"{exc.reason} ({done} of {len(files)} file(s) stored before)", exc.path
                ) from exc
            if ok:
                result.accepted.append((rel, sop))
            else:
                result.rejected.append((rel, sop, reason))
            if progress is not None:
                progress(n, len(files))
    return result
