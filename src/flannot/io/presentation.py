"""Stored values → presentation values: modality LUT, then MONOCHROME1 inversion.

dtype policy: an integral Rescale Slope/Intercept (the usual 1/0, or 1/-1024)
keeps integers, widened just enough to hold the rescaled range of Bits Stored
(uint16 stays uint16; uint16 with intercept -1024 becomes int32); a fractional
slope or intercept gives float32. A Modality LUT Sequence gives uint8/uint16
from its LUT. RGB data is passed through.

Inversion happens exactly once, when Photometric Interpretation is MONOCHROME1
or Presentation LUT Shape (2050,0020) is INVERSE — both together still invert
once (for MONOCHROME1 the standard requires INVERSE; pydicom inverts neither).
The inverted value is ``lo + hi - v`` with ``[lo, hi]`` the range the modality
LUT can produce, so values stay in range and larger means brighter.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from flannot.errors import FlannotError
from flannot.io import header as hdr
from flannot.io.frames import PixelTransform


@dataclass(frozen=True)
class Presentation:
    """The transform plus the facts ``flannot info`` reports about it."""

    transform: PixelTransform
    inverted: bool
    modality_lut: str  # "none", "rescale" or "lut"
    range: tuple[float, float]


def stored_range(bits_stored: int, signed: bool) -> tuple[int, int]:
    """The values Bits Stored can hold."""
    if signed:
        return -(1 << (bits_stored - 1)), (1 << (bits_stored - 1)) - 1
    return 0, (1 << bits_stored) - 1


# |slope|, |intercept| and the rescaled range beyond this cannot be held (float32 max ~3.4e38;
# integers beyond 2**53 lose precision): bad input, not a silent default
MAX_RESCALED = 1e30


def _scalar(find: Callable[[str], Any], keyword: str, default: float, path: Any = None) -> float:
    raw = find(keyword)
    if raw is not None and not isinstance(raw, (str, bytes)):
        try:  # an overflowing value ("1e400" parses to inf) is bad input naming the attribute
            values = [float(v) for v in (raw if hasattr(raw, "__iter__") else [raw])]
        except (TypeError, ValueError):
            values = []
        if any(not math.isfinite(v) or abs(v) > MAX_RESCALED for v in values):
            name = _NAMES.get(keyword, keyword)
            raise FlannotError(f"{name} {raw} overflows (limit ±{MAX_RESCALED:g})", path)
    floats = hdr.as_floats(raw)
    return floats[0] if floats and len(floats) == 1 else default


_NAMES = {"RescaleSlope": "Rescale Slope", "RescaleIntercept": "Rescale Intercept"}


def presentation(
    find: Callable[[str], Any],
    stored_dtype: np.dtype,
    bits_stored: int,
    signed: bool,
    is_rgb: bool,
    dataset: Callable[[], Dataset],
    path: Any = None,
) -> Presentation:
    """Build the stored→presentation transform for one file's header.

    Parameters
    ----------
    find
        Header look-up by keyword, answering as :func:`flannot.io.header.find`.
    stored_dtype, bits_stored, signed, is_rgb
        The validated Image Pixel description.
    dataset
        Returns the pydicom header; called only for a Modality LUT Sequence.
    path
        The file, named when a value overflows.

    Raises
    ------
    FlannotError
        Rescale Slope or Intercept (or the range they give Bits Stored) overflows.
    """
    if is_rgb:
        hi = float((1 << bits_stored) - 1)
        return Presentation(PixelTransform(np.dtype(stored_dtype)), False, "none", (0.0, hi))
    s_lo, s_hi = stored_range(bits_stored, signed)
    photometric = hdr.text_of(find("PhotometricInterpretation"))
    invert = photometric == "MONOCHROME1" or hdr.text_of(find("PresentationLUTShape")) == "INVERSE"

    mlut = find("ModalityLUTSequence")
    if mlut and mlut[0].get("LUTData") is not None:
        from pydicom.pixels import apply_modality_lut

        ds = dataset()
        if bits_stored <= 16:  # the LUT's output range over every storable value
            probe = np.arange(s_lo, s_hi + 1, dtype=np.int64).astype(stored_dtype)
        else:
            probe = np.array([s_lo, s_hi], dtype=stored_dtype)
        mapped = apply_modality_lut(probe, ds)
        lo, hi = float(mapped.min()), float(mapped.max())
        dtype = np.dtype(np.uint8) if hi <= 255 else np.dtype(np.uint16)
        transform = PixelTransform(
            dtype, lut=lambda a: apply_modality_lut(a, ds), invert=invert, lo=lo, hi=hi
        )
        return Presentation(transform, invert, "lut", (lo, hi))

    slope = _scalar(find, "RescaleSlope", 1.0, path)
    intercept = _scalar(find, "RescaleIntercept", 0.0, path)
    if max(abs(slope * s_lo + intercept), abs(slope * s_hi + intercept)) > MAX_RESCALED:
        raise FlannotError(
            f"Rescale Slope {slope:g} and Rescale Intercept {intercept:g} overflow the"
            f" {bits_stored}-bit range (limit ±{MAX_RESCALED:g})",
            path,
        )
    return _rescale(np.dtype(stored_dtype), s_lo, s_hi, slope, intercept, invert)


@functools.lru_cache(maxsize=64)
def _rescale(
    stored_dtype: np.dtype, s_lo: int, s_hi: int, slope: float, intercept: float, invert: bool
) -> Presentation:
    """The rescale presentation (immutable, so shared between files that agree)."""
    if slope == 0.0:  # malformed: counts as absent
        slope = 1.0
    lo, hi = sorted((slope * s_lo + intercept, slope * s_hi + intercept))
    exact = max(abs(lo), abs(hi)) < 2**53  # beyond, integers would not be exact: float32
    if exact and float(slope).is_integer() and float(intercept).is_integer():
        dtype = np.result_type(
            stored_dtype, np.min_scalar_type(int(lo)), np.min_scalar_type(int(hi))
        )
        slope, intercept = float(int(slope)), float(int(intercept))
    else:
        dtype = np.dtype(np.float32)
    kind = "none" if (slope, intercept) == (1.0, 0.0) else "rescale"
    transform = PixelTransform(
        np.dtype(dtype), slope=slope, intercept=intercept, invert=invert, lo=lo, hi=hi
    )
    return Presentation(transform, invert, kind, (lo, hi))
