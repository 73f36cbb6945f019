"""Redaction of burned-in text in a teaching set's images (SPEC §3 ``redaction``, §7).

A redaction rectangle covers every pixel its corners touch and applies to every frame;
the set's own images are rewritten atomically with the pixels blanked and Clean Pixel
Data recorded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom

from flannot.errors import FlannotError
from flannot.teach.case_import import _image_files
from flannot.teach.set_format import CASE_FILE
from flannot.teach.set_validation import image_path as _image_path

if TYPE_CHECKING:  # pragma: no cover
    from flannot.teach.set_format import TeachingSet


def _redaction_types(protocol: str) -> set[str]:
    """The protocol's redaction types (``Role.REDACTION``)."""
    from flannot.protocols import Role, get_protocol

    try:
        return set(get_protocol(protocol or "mild").names_with_role(Role.REDACTION))
    except FlannotError:
        return {"redaction"}  # an unknown protocol: the SPEC §3 name


def case_redactions(ts: TeachingSet, case_id: str) -> list[tuple[None, int, int, int, int]]:
    """Pixel rectangles of the case's ``redaction`` annotations, for every frame.

    A rectangle covers every pixel its corners touch (rounded outwards: blanking
    one pixel too many is the safe error). Burned-in text sits at the same place
    in every frame of a run, so each rectangle applies to all frames.
    """
    case_file = ts.case_dir(case_id) / CASE_FILE
    try:
        data = json.loads(case_file.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise FlannotError(f"cannot read: {exc}", case_file) from None
    kinds = _redaction_types(str(data.get("protocol") or "mild"))
    rects: list[tuple[None, int, int, int, int]] = []
    for ann in data.get("annotations") or []:
        if not isinstance(ann, dict) or ann.get("type") not in kinds:
            continue
        pts = (ann.get("geometry") or {}).get("points") or []
        try:
            rows = [float(p[0]) for p in pts]
            cols = [float(p[1]) for p in pts]
        except (TypeError, ValueError, IndexError):
            raise FlannotError(f"redaction {ann.get('id')!r} has bad points", case_file) from None
        if len(rows) < 2:
            continue
        rects.append(
            (
                None,
                math.floor(min(rows)),
                math.floor(min(cols)),
                math.ceil(max(rows)) + 1,
                math.ceil(max(cols)) + 1,
            )
        )
    return rects


def redacted_files(ts: TeachingSet) -> dict[Path, list[tuple[None, int, int, int, int]]]:
    """Every case DICOM file that has redactions to apply, with its rectangles."""
    out: dict[Path, list[tuple[None, int, int, int, int]]] = {}
    for cid in ts.case_ids:
        try:
            folder = ts.case_dir(cid)
        except FlannotError:
            continue
        if not (folder / CASE_FILE).is_file():
            continue
        rects = ts.case_redactions(cid)
        try:
            image = _image_path(folder / CASE_FILE, ts.root)
        except FlannotError:
            continue  # validate() reports it; never touch files outside the set
        if not rects or image is None or not image.exists():
            continue
        for f in _image_files(image):
            out[f] = rects
    return out


def apply_redactions(ts: TeachingSet) -> list[Path]:
    """Blank the redaction rectangles in the set's own images (atomic rewrites)."""
    from flannot.atomic import atomic_write_bytes

    done = []
    for path, rects in ts.redacted_files().items():
        atomic_write_bytes(path, redacted_image_bytes(path, rects))
        done.append(path)
    return done


def redacted_image_bytes(path: Path, rects: Sequence[Sequence[int | None]]) -> bytes:
    """The DICOM file at ``path`` with ``rects`` blanked (Clean Pixel Data recorded)."""
    from flannot.deid.engine import dataset_bytes, record_clean_pixel_data
    from flannot.deid.pixels import redact

    ds = pydicom.dcmread(path)
    if redact(ds, rects).frames_changed:
        record_clean_pixel_data(ds)
    return dataset_bytes(ds)
