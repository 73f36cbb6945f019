"""COCO run-length encoding for ``mask`` geometry, in NumPy.

The encoding is pycocotools': the mask is read in column-major (Fortran) order,
``counts`` alternates runs of 0 and 1 starting with 0, and the compressed form
is pycocotools' ASCII string (6-bit chunks offset by 48, each count stored as a
difference to the count two places before). Both the string and the plain list
form of ``counts`` are accepted; :func:`encode` writes the string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MAX_MASK_PIXELS", "area", "counts_from_string", "counts_to_string", "decode", "encode"]

#: Largest mask flannot decodes (8192², far above fluoroscopy detectors' 2048²).
MAX_MASK_PIXELS = 1 << 26


def counts_to_string(counts: Sequence[int]) -> str:
    """Compress run lengths into pycocotools' ASCII form."""
    out: list[str] = []
    for i, count in enumerate(counts):
        x = int(count)
        if i > 2:
            x -= int(counts[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5  # arithmetic shift: negative differences stay negative
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def counts_from_string(text: str) -> list[int]:
    """Decompress pycocotools' ASCII run lengths.

    Raises
    ------
    ValueError
        Characters outside the encoding or a count cut off mid-way.
    """
    counts: list[int] = []
    p, n = 0, len(text)
    while p < n:
        x = 0
        k = 0
        more = True
        while more:
            if p >= n:
                raise ValueError("RLE string ends inside a count")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"invalid character {text[p]!r} in RLE counts")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)  # sign-extend
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def _checked(rle: Mapping[str, Any]) -> tuple[int, int, NDArray[np.int64]]:
    """Size and run lengths of an RLE dict, validated before anything is allocated."""
    if not isinstance(rle, Mapping) or "size" not in rle or "counts" not in rle:
        raise ValueError("an RLE mask needs 'size' and 'counts'")
    size = rle["size"]
    if (
        not isinstance(size, Sequence)
        or len(size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in size)
    ):
        raise ValueError(f"RLE 'size' must be [rows, columns], non-negative integers, not {size!r}")
    h, w = int(size[0]), int(size[1])
    if h * w > MAX_MASK_PIXELS:
        raise ValueError(f"RLE mask of {h}x{w} pixels is larger than flannot accepts")
    raw = rle["counts"]
    if isinstance(raw, str):
        counts = counts_from_string(raw)
    elif isinstance(raw, bytes):
        counts = counts_from_string(raw.decode("ascii"))
    elif isinstance(raw, Sequence) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in raw
    ):
        counts = list(raw)
    else:
        raise ValueError("RLE 'counts' must be a string or a list of integers")
    arr = np.asarray(counts, dtype=np.int64) if counts else np.zeros(0, dtype=np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError("RLE counts must not be negative")
    total = int(arr.sum()) if arr.size else 0
    if total != h * w:
        raise ValueError(f"RLE counts cover {total} pixels but size {h}x{w} has {h * w}")
    return h, w, arr


def decode(rle: Mapping[str, Any]) -> NDArray[np.bool_]:
    """The boolean ``(rows, columns)`` mask of a COCO RLE dict.

    Raises
    ------
    ValueError
        Malformed size or counts, or counts that do not cover the mask exactly.
    """
    h, w, counts = _checked(rle)
    values = np.zeros(counts.size, dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((w, h)).T.copy()  # column-major, like pycocotools


def area(rle: Mapping[str, Any]) -> int:
    """Number of foreground pixels, without decoding the mask."""
    _, _, counts = _checked(rle)
    return int(counts[1::2].sum())


def encode(mask: ArrayLike) -> dict[str, Any]:
    """COCO RLE (compressed string counts) of a 2-D mask; non-zero is foreground.

    Returns
    -------
    dict
        ``{"size": [rows, columns], "counts": "<pycocotools string>"}``.
    """
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise ValueError(f"a mask must be 2-D, not {arr.ndim}-D")
    h, w = arr.shape
    flat = arr.astype(bool).T.ravel()  # column-major
    if flat.size == 0:
        return {"size": [int(h), int(w)], "counts": ""}
    # run boundaries; the first run counts zeros, so a mask starting with 1 gets a 0 run
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs = [0, *runs]
    return {"size": [int(h), int(w)], "counts": counts_to_string(runs)}
