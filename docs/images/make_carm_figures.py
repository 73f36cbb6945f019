"""Render the virtual C-arm pictures of ``docs/carm.md``.

- ``carm_geometry.png``: the DICOM positioner angles for a prone patient, drawn from
  the angles by :class:`flannot.sim.CArm` itself (transaxial plane seen from the
  patient's feet);
- ``carm_ap.png``, ``carm_lateral.png``, ``carm_clo_left.png``, ``carm_clo_right.png``
  and ``carm_answer_key.png``: the TotalSegmentator 2.18.0 example CT (fetched into
  the test cache by ``tests/sim/reference_ct.py``) through ``flannot sim`` at L3.

Run from the repository root: ``python docs/images/make_carm_figures.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT))


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def geometry_figure(path: Path) -> None:
    """Schematic (distances not to scale); directions come from :class:`flannot.sim.CArm`."""
    from flannot.sim import CArm

    w, h = 980, 760
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    f, small = _font(20), _font(16)
    cx, cy = 490, 360

    # seen from the feet of a prone patient: the back is up and the patient's left is on
    # the viewer's left: LPS x (left) -> screen -x, LPS y (posterior) -> screen -y
    def at(vec: np.ndarray, radius: float) -> tuple[float, float]:
        return cx - radius * vec[0], cy - radius * vec[1]

    d.rectangle([cx - 300, cy + 112, cx + 300, cy + 128], fill="#9aa7b5")
    d.text((cx + 210, cy + 132), "table", fill="black", font=small)
    d.ellipse([cx - 175, cy - 110, cx + 175, cy + 110], outline="black", width=3, fill="#f3e6d8")
    d.rectangle([cx - 28, cy - 82, cx + 28, cy - 20], fill="#d0d0d0", outline="black")
    d.text((cx - 22, cy - 62), "spine", fill="black", font=small)
    d.text((cx - 38, cy + 50), "abdomen", fill="black", font=small)
    d.text((cx - 68, cy - 106), "back (posterior)", fill="black", font=small)
    d.text((40, cy - 20), "patient's\nLEFT", fill="#b00020", font=f)
    d.text((w - 140, cy - 20), "patient's\nRIGHT", fill="black", font=f)
    views = [
        (180.0, "primary ±180: prone AP\n(detector over the back)", "#1565c0", (-95, -62)),
        (
            -135.0,
            "primary -135: clo-left\n(detector turned to the\npatient's right)",
            "#2e7d32",
            (20, -40),
        ),
        (90.0, "primary +90 (LAO):\nleft lateral", "#6a1b9a", (-150, 30)),
        (0.0, "primary 0: detector at the chest", "#777777", (25, 5)),
    ]
    for primary, label, colour, (ox, oy) in views:
        dvec, u, _ = CArm(primary, 0.0, (0.0, 0.0, 0.0)).axes
        det_r, src_r = 215.0, 300.0
        a, b = at(dvec * det_r + 70 * u, 1.0), at(dvec * det_r - 70 * u, 1.0)
        d.line([a, b], fill=colour, width=8)
        s = at(-dvec, src_r)
        d.ellipse([s[0] - 8, s[1] - 8, s[0] + 8, s[1] + 8], fill=colour)
        d.line([s, at(dvec, det_r)], fill=colour, width=1)
        m, e = at(dvec * det_r, 1.0), at(dvec * det_r + 60 * u, 1.0)
        d.line([m, e], fill=colour, width=3)
        d.text((e[0] - 14, e[1] - 22), "+col", fill=colour, font=small)
        d.multiline_text((m[0] + ox, m[1] + oy), label, fill=colour, font=small)
    d.text(
        (12, h - 70),
        "Seen from the feet; distances not to scale. Dots: X-ray source; bars: detector, "
        "'+col' its image columns\n(the image is seen from the detector toward the source, "
        "head up). Angles: DICOM Positioner Primary Angle\n(PS3.3 C.8.7.5.1.2), relative to "
        "the patient: 0 = detector facing the chest, +90 = patient's left (LAO).",
        fill="black",
        font=small,
    )
    img.save(path, optimize=True)


def render_views() -> None:
    import pydicom

    from flannot.cli import main
    from tests.sim.reference_ct import fetch

    ct, seg = fetch()
    tiles = []
    with tempfile.TemporaryDirectory() as tmp:
        for view in ("ap", "lateral", "clo-left", "clo-right"):
            case = Path(tmp) / view
            assert (
                main(
                    [
                        "sim",
                        str(ct),
                        "--labels",
                        str(seg),
                        "--view",
                        view,
                        "--target",
                        "L3",
                        "--seed",
                        "1",
                        "--out",
                        str(case),
                    ]
                )
                == 0
            )
            px = pydicom.dcmread(case / "image.dcm").pixel_array >> 4
            im = Image.fromarray(px.astype(np.uint8))
            im.save(OUT / f"carm_{view.replace('-', '_')}.png", optimize=True)
            tiles.append(_overlay(im, json.loads((case / "annotations.json").read_text())))
    sheet = Image.new("RGB", (1024, 1024))
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % 2) * 512, (i // 2) * 512))
    sheet = sheet.resize((640, 640)).convert("P", palette=Image.ADAPTIVE, colors=128)
    sheet.save(OUT / "carm_answer_key.png", optimize=True)


def _overlay(im: Image.Image, case: dict) -> Image.Image:
    rgb = im.convert("RGB")
    d = ImageDraw.Draw(rgb)
    for a in case["annotations"]:
        r, c = a["geometry"]["points"][0]
        if "x_outline" in a:
            d.polygon([(q[1], q[0]) for q in a["x_outline"]], outline=(0, 255, 0))
        d.ellipse([c - 3, r - 3, c + 3, r + 3], outline=(255, 255, 0))
        d.text((c + 5, r - 6), a["level"], fill=(255, 255, 0))
        if "x_spinous_tip" in a:
            r, c = a["x_spinous_tip"]
            d.rectangle([c - 2, r - 2, c + 2, r + 2], outline=(255, 0, 255))
        for side, (r, c) in a.get("x_pedicles", {}).items():
            colour = (0, 200, 255) if side == "left" else (255, 140, 0)
            d.ellipse([c - 2, r - 2, c + 2, r + 2], outline=colour)
    return rgb


if __name__ == "__main__":
    geometry_figure(OUT / "carm_geometry.png")
    if "--geometry-only" not in sys.argv:
        render_views()
    print(f"wrote {OUT}/carm_*.png")
