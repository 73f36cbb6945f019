"""The gallery in a real browser (headless Chromium): pictures load from disk.

`make test` installs Debian's chromium when missing (tools/system-deps.sh).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _shot(page: Path, out: Path, profile: Path) -> np.ndarray:
    assert CHROMIUM, "headless Chromium is needed: apt-get install chromium"
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--window-size=800,700",
            f"--screenshot={out}",
            page.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    return np.asarray(Image.open(out).convert("RGB")).astype(int)


def _mid_grey(shot: np.ndarray) -> int:
    """Pixels that are neutral mid-grey: the X-ray picture (text is dark and thin)."""
    neutral = (shot.max(axis=-1) - shot.min(axis=-1)) <= 2
    return int((neutral & (shot[..., 0] >= 40) & (shot[..., 0] <= 200)).sum())


def test_gallery_renders_from_disk(exports, tmp_path: Path) -> None:
    gallery = exports("html")
    page = _shot(gallery / "cases" / "clo-left.html", tmp_path / "a.png", tmp_path / "p1")
    # the 512 x 512 fluoroscopy picture loaded (most of it is mid-grey)
    assert _mid_grey(page) > 150_000
    # the ligamentum flavum outline is drawn over it in the protocol colour (#fc8d62)
    lf = np.abs(page - np.array([252, 141, 98])).max(axis=-1) <= 12
    assert lf.sum() > 20
    # without the PNGs the same page has no picture: the check above would fail
    broken = tmp_path / "broken"
    shutil.copytree(gallery, broken)
    shutil.rmtree(broken / "images")
    empty = _shot(broken / "cases" / "clo-left.html", tmp_path / "b.png", tmp_path / "p2")
    assert _mid_grey(empty) < 100_000  # a broken-image icon
