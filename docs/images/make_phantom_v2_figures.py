"""Render the phantom v2 figure of ``docs/phantom.md``.

``phantom_v1_vs_v2_oblique.png``: the v1 contralateral-oblique diagram beside the v2
patient 1 CLO (left approach) rendered by the virtual C-arm, and a zoom of v2 on L3
with the scottie dog of the side nearer the detector named (eye = pedicle, ear =
superior articular process, nose = transverse process, neck = pars interarticularis,
front leg = inferior articular process), each label placed at the projected 3D point.

Run from the repository root: ``python docs/images/make_phantom_v2_figures.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT / "src"))

PANEL = 420


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def _gray(stored: np.ndarray, bits: int = 12) -> np.ndarray:
    return np.clip(np.rint(stored.astype(float) * 255.0 / ((1 << bits) - 1)), 0, 255).astype(
        np.uint8
    )


def main() -> Path:
    from flannot.phantom import generate_case
    from flannot.phantom.course import PATIENTS
    from flannot.phantom.scene import (
        expose,
        exposure_for,
        line_integrals,
        make_scene,
        view_carm,
    )
    from flannot.phantom.volume import PEDICLE_Y

    v1 = generate_case("clo-left", 0)
    v1_img = Image.fromarray(v1.display[0]).resize((PANEL, PANEL), Image.Resampling.LANCZOS)

    params = PATIENTS["p1"].params()
    scene = make_scene(params)
    carm = view_carm(scene, "clo-left")
    stored, _ = expose(scene, carm, line_integrals(scene, carm), 1, exposure_for(params))
    gray = _gray(stored)
    v2_img = Image.fromarray(gray).resize((PANEL, PANEL), Image.Resampling.LANCZOS)

    # the scottie dog of L3 on the side nearer the detector (right, for a left CLO)
    v = scene.vert("L3")
    s, k = -1.0, v.k
    parts = {
        "eye (pedicle)": scene.anatomy.pedicle_centre("L3", "right"),
        "ear (SAP)": v.world([s * (v.px + 2.5 * k), v.b + (PEDICLE_Y + 3) * k, v.h + 8 * k]),
        "nose (TP)": v.world([s * (v.px + v.size.tp_len * k + 4), v.b + 6 * k, 0.15 * v.h]),
        "neck (pars)": v.world([s * (v.px - 1.0), v.b + (PEDICLE_Y + 4) * k, -0.45 * v.h]),
        "front leg (IAP)": v.world(
            [s * (v.px - 5.5 * k), v.b + (PEDICLE_Y + 9) * k, -v.h - 12 * k]
        ),
    }
    rc = {name: carm.project(p)[0] for name, p in parts.items()}
    pts = np.array(list(rc.values()))
    centre = pts.mean(axis=0)
    half = 70
    r0, c0 = int(centre[0] - half), int(centre[1] - half)
    crop = gray[r0 : r0 + 2 * half, c0 : c0 + 2 * half]
    scale = PANEL / (2 * half)
    zoom = Image.fromarray(crop).resize((PANEL, PANEL), Image.Resampling.LANCZOS)
    labelled = zoom.convert("RGB")
    d = ImageDraw.Draw(labelled)
    small = _font(15)
    for name, (r, c) in rc.items():
        x, y = (c - c0 + 0.5) * scale, (r - r0 + 0.5) * scale
        d.ellipse([x - 4, y - 4, x + 4, y + 4], outline="#ffd92f", width=2)
        d.text((x + 7, y - 8), name, fill="#ffd92f", font=small)

    w = 4 * PANEL + 5 * 10
    fig = Image.new("RGB", (w, PANEL + 60), "white")
    d = ImageDraw.Draw(fig)
    f = _font(18)
    titles = [
        "v1: 2D diagram (clo-left)",
        "v2: 3D phantom, virtual C-arm (p1-clo-left)",
        "v2 zoom: L3, near side",
        "v2 zoom: the scottie dog named",
    ]
    for i, (img, title) in enumerate(zip((v1_img, v2_img, zoom, labelled), titles, strict=True)):
        x = 10 + i * (PANEL + 10)
        fig.paste(img.convert("RGB"), (x, 45))
        d.text((x, 12), title, fill="black", font=f)
    path = OUT / "phantom_v1_vs_v2_oblique.png"
    fig.save(path, optimize=True)
    return path


if __name__ == "__main__":
    print(main())
