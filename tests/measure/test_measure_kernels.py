"""SciPy's distance transform and scikit-image's skeleton loaded without their packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from skimage.morphology import skeletonize

from flannot.measure import kernels

ROOT = Path(__file__).resolve().parents[2]


def _masks(seed: int, n: int = 40) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        shape = (int(rng.integers(3, 70)), int(rng.integers(3, 70)))
        if i % 2:  # blobs: thick shapes to thin
            yy, xx = np.mgrid[: shape[0], : shape[1]]
            cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
            m = ((yy - cy) / rng.uniform(2, 20)) ** 2 + ((xx - cx) / rng.uniform(2, 20)) ** 2 < 1
        else:  # noise, touching the borders
            m = rng.random(shape) < rng.uniform(0.2, 0.9)
        out.append(m)
    return out


def test_the_compiled_functions_are_found() -> None:
    assert kernels._feature_transform() is not None
    assert kernels._thinning() is not None


@pytest.mark.parametrize("seed", [0, 1])
def test_distance_transform_is_scipys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for m in _masks(seed):
        sampling = (float(rng.uniform(0.05, 2)), float(rng.uniform(0.05, 2)))
        want = ndimage.distance_transform_edt(m, sampling=sampling)
        assert np.array_equal(kernels.distance_transform_edt(m, sampling), want)


@pytest.mark.parametrize("seed", [2, 3])
def test_skeleton_and_neighbours_are_skimages_and_scipys(seed: int) -> None:
    for m in _masks(seed):
        skel = kernels.skeletonize(m)
        assert skel.dtype == bool
        assert np.array_equal(skel, skeletonize(m))
        ones = np.ones((3, 3), np.uint8)
        want = ndimage.convolve(skel.astype(np.uint8), ones, mode="constant")
        assert np.array_equal(kernels.neighbour_count(skel), want)


def test_without_the_compiled_functions_the_packages_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    m = _masks(4, 1)[0]
    monkeypatch.setattr(kernels, "_LOADED", {})
    for name in ("scipy.ndimage._nd_image", "skimage.morphology._skeletonize_various_cy"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(kernels.importlib.util, "find_spec", lambda name: None)
    assert kernels._feature_transform() is None and kernels._thinning() is None
    want = ndimage.distance_transform_edt(m, sampling=(0.3, 0.2))
    assert np.array_equal(kernels.distance_transform_edt(m, (0.3, 0.2)), want)
    assert np.array_equal(kernels.skeletonize(m), skeletonize(m))


def test_measuring_polygons_imports_no_scipy_ndimage_spatial_or_skimage() -> None:
    """~0.5 s of imports that ``flannot measure`` of a polygon set does not need."""
    code = (
        "import sys; from flannot.measure import measure_rows; from flannot.model.case import"
        " Case, case_files; from pathlib import Path\n"
        "for f in case_files(Path(sys.argv[1])): measure_rows(Case.load(f))\n"
        "heavy = [m for m in ('scipy.ndimage', 'scipy.spatial', 'skimage.morphology', 'pandas')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "sample_dicoms")],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
