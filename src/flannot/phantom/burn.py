"""Burned-in text, the way fluoroscopy systems stamp patient data into the pixels."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont


def _font() -> Any:
    # Pillow's built-in bitmap font: identical pixels on every platform (no FreeType)
    loader = getattr(ImageFont, "load_default_imagefont", None)
    return loader() if loader is not None else ImageFont.load_default()


def text_mask(
    lines: list[str], shape: tuple[int, int], origin: tuple[int, int] = (6, 6), scale: int = 1
) -> tuple[NDArray[np.bool_], tuple[int, int, int, int]]:
    """Rasterise ``lines`` at ``origin`` (row, col); returns the mask and its box.

    The box is ``(row0, col0, row1, col1)`` (inclusive) around the inked pixels.
    """
    font = _font()
    height = 11
    width = max(int(font.getlength(line)) for line in lines) + 2
    canvas = Image.new("L", (width, height * len(lines) + 2), 0)
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((1, 1 + i * height), line, fill=255, font=font)
    small = np.asarray(canvas) > 127
    if scale > 1:
        small = np.kron(small, np.ones((scale, scale), dtype=bool))
    mask = np.zeros(shape, dtype=bool)
    r0, c0 = origin
    h = min(small.shape[0], shape[0] - r0)
    w = min(small.shape[1], shape[1] - c0)
    mask[r0 : r0 + h, c0 : c0 + w] = small[:h, :w]
    rows, cols = np.nonzero(mask)
    return mask, (int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max()))
