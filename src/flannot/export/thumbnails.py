"""Small 8-bit previews of a case image (the Teaching set dock's list, galleries).

Only the first frame is decoded; previews are cached by path, size and modification time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

THUMB_PX = 72
_THUMB_CACHE: dict[tuple[str, int, int], np.ndarray] = {}


def window_to_uint8(frame: np.ndarray, image: Any) -> np.ndarray:
    """Map a presentation frame to 0–255 with the image's default window (else percentiles)."""
    frame = np.asarray(frame, dtype=np.float32)
    lo = hi = None
    windows = list(getattr(image, "windows", None) or [])
    if windows:
        c, w = float(windows[0].center), float(windows[0].width)
        if w > 0:
            lo, hi = c - w / 2, c + w / 2
    if lo is None or hi is None:
        lo, hi = (float(v) for v in np.percentile(frame, [0.5, 99.5]))
    if hi <= lo:
        hi = lo + 1.0
    return (np.clip((frame - lo) / (hi - lo), 0, 1) * 255).round().astype(np.uint8)


def thumbnail_array(image_path: str | Path, size: int = THUMB_PX) -> np.ndarray:
    """A small 8-bit preview of the first frame of a DICOM image (cached by path and mtime).

    Parameters
    ----------
    image_path
        A DICOM file or series folder.
    size
        Length of the longer side in pixels.

    Returns
    -------
    numpy.ndarray
        ``(h, w)`` or ``(h, w, 3)`` ``uint8``.
    """
    from skimage.transform import resize

    import flannot

    path = Path(image_path)
    key = (str(path.resolve()), int(size), path.stat().st_mtime_ns)
    cached = _THUMB_CACHE.get(key)
    if cached is not None:
        return cached
    image = flannot.read_dicom(path)
    frame = np.asarray(image.frames[0])  # only the first frame is decoded
    rgb = frame.ndim == 3
    scale = size / max(frame.shape[0], frame.shape[1])
    shape = (max(1, round(frame.shape[0] * scale)), max(1, round(frame.shape[1] * scale)))
    small = resize(
        frame.astype(np.float32),
        shape + ((3,) if rgb else ()),
        anti_aliasing=scale < 1,
        preserve_range=True,
    )
    out = np.clip(small, 0, 255).astype(np.uint8) if rgb else window_to_uint8(small, image)
    _THUMB_CACHE[key] = out
    return out
