"""PNG previews of the sample cases, with and without the reference annotations."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from flannot.atomic import atomic_write_bytes
from flannot.phantom.cases import CASES, GeneratedCase, generate_case
from flannot.protocols.mild import MILD


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def draw_annotations(
    gray: NDArray[np.uint8], annotations: list[dict[str, Any]], frame: int = 0, scale: int = 1
) -> Image.Image:
    """An RGB image of ``gray`` with the annotations of ``frame`` drawn in MILD colours."""
    img = Image.fromarray(gray).convert("RGB")
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(img)
    for ann in annotations:
        if ann.get("frame", 0) != frame:
            continue
        color = MILD.type(ann["type"]).color
        g = ann["geometry"]
        # [row, col] (pixel centres) → PIL (x, y) of the scaled image
        xy = [((c + 0.5) * scale - 0.5, (r + 0.5) * scale - 0.5) for r, c in g["points"]]
        kind = g["kind"]
        if kind in ("polygon", "rectangle"):
            draw.polygon(xy, outline=color)
        elif kind in ("line", "path"):
            draw.line(xy, fill=color, width=1)
            if ann["type"] == "cannula":
                x, y = xy[-1]
                draw.ellipse((x - 2, y - 2, x + 2, y + 2), outline=color)
        elif kind == "point":
            for x, y in xy:
                draw.line((x - 4, y, x + 4, y), fill=color)
                draw.line((x, y - 4, x, y + 4), fill=color)
        label = ann.get("level") or ("cal" if ann["type"] == "calibration" else "")
        if label and kind != "point" and ann["type"] in ("vertebra", "interlaminar_space"):
            x = max(p[0] for p in xy) + 3
            y = sum(p[1] for p in xy) / len(xy) - 5
            draw.text((x, y), label, fill=color)
        elif kind == "point" and label:
            draw.text((xy[0][0] + 6, xy[0][1] - 5), label, fill=color)
    return img


def case_previews(case: GeneratedCase) -> dict[str, bytes]:
    """``{"": plain PNG, "_annotated": PNG with the answer key}`` for one case.

    Cines show their last frame (where the portal has stopped).
    """
    display = case.display
    if display is None:
        raise ValueError(f"case {case.definition.case_id!r} was generated without display frames")
    frame = display.shape[0] - 1
    gray = display[frame]
    plain = Image.fromarray(gray)
    annotated = draw_annotations(gray, case.annotations["annotations"], frame=frame)
    return {"": _png(plain), "_annotated": _png(annotated)}


def write_previews(out_dir: str | os.PathLike[str], seed: int = 0) -> list[Path]:
    """Write ``phantom_<case>.png`` and ``phantom_<case>_annotated.png`` for every case."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for c in CASES:
        for suffix, data in case_previews(generate_case(c, seed)).items():
            written.append(atomic_write_bytes(out / f"phantom_{c.case_id}{suffix}.png", data))
    from flannot.phantom.course import V2_CASES, generate_course_case

    scenes: dict[str, Any] = {}
    for v2 in V2_CASES:
        made = generate_course_case(v2, seed, scenes)
        frame = made.display.shape[0] - 1
        gray = made.display[frame]
        anns = [a for a in made.annotations["annotations"] if a.get("image") != "planning"]
        pngs = {
            "": _png(Image.fromarray(gray)),
            "_annotated": _png(draw_annotations(gray, anns, frame)),
        }
        for suffix, data in pngs.items():
            written.append(atomic_write_bytes(out / f"phantom_{v2.case_id}{suffix}.png", data))
    return written
