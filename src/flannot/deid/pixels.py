"""Blanking ``redaction`` rectangles in the stored pixels (PS3.15 Clean Pixel Data Option).

What happens to the pixel data:

* **Uncompressed** transfer syntaxes: the rectangles are set to the blank value in the
  stored values and the object keeps its transfer syntax.
* **Lossless syntaxes flannot can encode** (RLE Lossless, JPEG-LS Lossless, JPEG 2000
  Lossless): only the frames a rectangle touches are decoded, blanked and re-encoded in
  the *same* syntax (checked by decoding again and comparing); every other frame keeps
  its compressed bytes unchanged.
* **Any other compressed syntax** (JPEG baseline/extended, JPEG Lossless, lossy
  JPEG-LS/JPEG 2000, …): there is no lossless way to write a changed frame back in
  that syntax, so the whole object is decompressed and written as Explicit VR Little
  Endian. Lossy Image Compression attributes are left as they are (the values were
  already lossy; decompression adds no new loss).

Without redactions none of this runs: compressed pixel data is never re-encoded.

Rectangles are ``(frame, r0, c0, r1, c1)`` in stored-pixel rows and columns,
half-open (``r0 <= r < r1``), clipped to the image; ``frame`` is 0-based or ``None``
for every frame. The blank value is what displays as black: 0 (MONOCHROME2, RGB),
the largest stored value for MONOCHROME1, Y=0 with neutral chroma for YBR.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels import get_decoder, get_encoder
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

from flannot.errors import FlannotError

Redaction = tuple[int | None, int, int, int, int]

# syntaxes whose changed frames are written back in the same (lossless) syntax
_REENCODABLE = (RLELossless, JPEGLSLossless, JPEG2000Lossless)


@dataclass
class RedactionResult:
    """What a redaction did to the pixel data."""

    frames_changed: list[int] = field(default_factory=list)
    method: str = "none"  # none | in-place | re-encoded | decompressed
    transfer_syntax_uid: str = ""


def _n_frames(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames", 1) or 1))
    except (TypeError, ValueError):
        return 1


def _plan(ds: Dataset, redactions: Iterable[Sequence[int | None]]) -> dict[int, list[tuple]]:
    """Rectangles per frame, validated and clipped; frames with nothing to blank dropped."""
    n = _n_frames(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    plan: dict[int, list[tuple[int, int, int, int]]] = {}
    for item in redactions:
        if len(item) != 5:
            raise FlannotError(f"redaction must be (frame, r0, c0, r1, c1), got {item!r}")
        frame, r0, c0, r1, c1 = item
        try:
            r0, c0, r1, c1 = (int(v) for v in (r0, c0, r1, c1))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise FlannotError(f"redaction corners must be integers, got {item!r}") from None
        r0, r1 = sorted((max(0, min(rows, r0)), max(0, min(rows, r1))))
        c0, c1 = sorted((max(0, min(cols, c0)), max(0, min(cols, c1))))
        if r0 == r1 or c0 == c1:
            continue
        if frame is None:
            targets = range(n)
        else:
            if not 0 <= int(frame) < n:
                raise FlannotError(f"redaction frame {frame} outside 0..{n - 1}")
            targets = range(int(frame), int(frame) + 1)
        for f in targets:
            plan.setdefault(f, []).append((r0, c0, r1, c1))
    return plan


def _blank_value(ds: Dataset, dtype: np.dtype) -> np.ndarray | int:
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    bits = int(ds.get("BitsStored", 8))
    if photometric == "MONOCHROME1":
        if int(ds.get("PixelRepresentation", 0)) == 1:
            return (1 << (bits - 1)) - 1
        return (1 << bits) - 1
    if photometric.startswith("YBR"):
        return np.array([0, 1 << (bits - 1), 1 << (bits - 1)], dtype=dtype)
    return 0


def _blank(frame: np.ndarray, rects: list[tuple[int, int, int, int]], value) -> None:
    for r0, c0, r1, c1 in rects:
        frame[r0:r1, c0:c1, ...] = value


def redact(ds: Dataset, redactions: Iterable[Sequence[int | None]]) -> RedactionResult:
    """Blank rectangles in ``ds``'s pixel data in place (see the module notes).

    Parameters
    ----------
    ds
        A dataset with file meta (the transfer syntax decides the method).
    redactions
        ``(frame | None, r0, c0, r1, c1)`` rectangles.

    Returns
    -------
    RedactionResult
        Frames changed and how the pixel data was rewritten.
    """
    result = RedactionResult(transfer_syntax_uid=str(ds.file_meta.TransferSyntaxUID))
    redactions = list(redactions)
    if not redactions:
        return result
    if "PixelData" not in ds or "Rows" not in ds or "Columns" not in ds:
        raise FlannotError("redaction requested but the file has no image")
    plan = _plan(ds, redactions)
    if not plan:
        return result
    ts = ds.file_meta.TransferSyntaxUID
    result.frames_changed = sorted(plan)
    if ts.is_compressed and ts in _REENCODABLE and get_encoder(ts).is_available:
        _reencode_frames(ds, plan)
        result.method = "re-encoded"
    else:
        if ts.is_compressed:
            # no lossless way back into this syntax: write the object uncompressed
            ds.decompress(generate_instance_uid=False)
            result.method = "decompressed"
        else:
            result.method = "in-place"
        _redact_native(ds, plan)
    result.transfer_syntax_uid = str(ds.file_meta.TransferSyntaxUID)
    return result


def _redact_native(ds: Dataset, plan: dict[int, list[tuple[int, int, int, int]]]) -> None:
    arr = np.array(ds.pixel_array)  # writable copy of the stored values
    n = _n_frames(ds)
    frames = arr if n > 1 else arr[np.newaxis]
    value = _blank_value(ds, arr.dtype)
    for f, rects in plan.items():
        _blank(frames[f], rects, value)
    ds.set_pixel_data(
        arr,
        str(ds.PhotometricInterpretation),
        int(ds.BitsStored),
        generate_instance_uid=False,
    )


def _frame_kwargs(ds: Dataset) -> dict:
    return {
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "samples_per_pixel": int(ds.SamplesPerPixel),
        "bits_allocated": int(ds.BitsAllocated),
        "bits_stored": int(ds.BitsStored),
        "pixel_representation": int(ds.PixelRepresentation),
        "photometric_interpretation": str(ds.PhotometricInterpretation),
        "planar_configuration": int(ds.get("PlanarConfiguration", 0) or 0),
        "number_of_frames": 1,
    }


def _reencode_frames(ds: Dataset, plan: dict[int, list[tuple[int, int, int, int]]]) -> None:
    ts = ds.file_meta.TransferSyntaxUID
    n = _n_frames(ds)
    frames = list(generate_frames(ds.PixelData, number_of_frames=n))
    decoder = get_decoder(ts)
    encoder = get_encoder(ts)
    kwargs = _frame_kwargs(ds)
    for f, rects in plan.items():
        arr, _meta = cast(Any, decoder).as_array(ds, index=f, as_rgb=False)
        arr = np.array(arr)
        _blank(arr, rects, _blank_value(ds, arr.dtype))
        encoded = encoder.encode(arr, **kwargs)
        back, _ = cast(Any, decoder).as_array(encapsulate([encoded]), as_rgb=False, **kwargs)
        if not np.array_equal(np.asarray(back).reshape(arr.shape), arr):
            raise FlannotError(f"re-encoding frame {f} in {ts.name} was not lossless")
        frames[f] = encoded
    ds.PixelData = encapsulate(frames, has_bot=True)
    ds["PixelData"].is_undefined_length = True
    # offsets changed: an Extended Offset Table would now be wrong
    for kw in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"):
        if kw in ds:
            del ds[kw]
