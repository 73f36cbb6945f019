"""SciPy's exact distance transform and scikit-image's skeleton, without their package imports.

``import scipy.ndimage`` costs ~0.2 s (its array-API layers import scipy.special
and more) and ``skimage.morphology`` imports it too, while measuring a polygon band
needs two compiled functions of theirs: SciPy's Euclidean feature transform and
scikit-image's Zhang–Suen thinning. This module loads those two extension
modules by file, from the installed packages, without running the packages'
``__init__``; the Python around them is the few lines of
``scipy.ndimage.distance_transform_edt`` and ``skimage.morphology.skeletonize``
that matter here, so the results are the same arrays
(``tests/measure/test_measure_kernels.py`` compares them on random masks).

When an extension cannot be found or loaded (another SciPy / scikit-image
layout) the public functions are imported instead: slower to start, same result.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

_LOADED: dict[str, ModuleType | None] = {}


def _extension(package: str, sub: str, module: str) -> ModuleType | None:
    """The compiled module ``package.sub.module`` loaded by file (``None``: not found)."""
    name = f"{package}.{sub}.{module}"
    if name in _LOADED:
        return _LOADED[name]
    found = sys.modules.get(name)  # the package imported it already
    if found is None:
        try:
            spec = importlib.util.find_spec(package)  # finds, does not import, the package
            roots = list(spec.submodule_search_locations or []) if spec else []
            files = [
                Path(root, sub, module + suffix)
                for root in roots
                for suffix in importlib.machinery.EXTENSION_SUFFIXES
            ]
            path = next((f for f in files if f.is_file()), None)
            if path is not None:
                loader = importlib.machinery.ExtensionFileLoader(name, str(path))
                ext_spec = importlib.util.spec_from_file_location(name, path, loader=loader)
                if ext_spec is not None:
                    found = importlib.util.module_from_spec(ext_spec)
                    loader.exec_module(found)
        except (ImportError, OSError, ValueError):
            found = None
    _LOADED[name] = found
    return found


def _feature_transform() -> Any:
    ext = _extension("scipy", "ndimage", "_nd_image")
    return getattr(ext, "euclidean_feature_transform", None)


def _thinning() -> Any:
    ext = _extension("skimage", "morphology", "_skeletonize_various_cy")
    return getattr(ext, "_fast_skeletonize", None)


def distance_transform_edt(mask: np.ndarray, sampling: tuple[float, ...]) -> np.ndarray:
    """``scipy.ndimage.distance_transform_edt(mask, sampling=sampling)`` (distances only)."""
    transform = _feature_transform()
    if transform is None:
        from scipy import ndimage

        return np.asarray(ndimage.distance_transform_edt(mask, sampling=sampling))
    image = np.atleast_1d(np.where(mask, 1, 0).astype(np.int8))
    samp = np.ascontiguousarray(sampling, dtype=np.float64)
    if samp.shape != (image.ndim,):
        raise ValueError(f"sampling {sampling!r} does not match a {image.ndim}-d mask")
    ft = np.zeros((image.ndim, *image.shape), dtype=np.int32)
    transform(image, samp, ft)
    # the lines of scipy.ndimage.distance_transform_edt after the feature transform
    dt = (ft - np.indices(image.shape, dtype=ft.dtype)).astype(np.float64)
    for axis in range(image.ndim):
        dt[axis, ...] *= samp[axis]
    np.multiply(dt, dt, dt)
    return np.asarray(np.sqrt(np.add.reduce(dt, axis=0)))


def skeletonize(mask: np.ndarray) -> np.ndarray:
    """``skimage.morphology.skeletonize(mask)`` of a 2-D mask (Zhang–Suen thinning)."""
    thin = _thinning()
    image = np.asarray(mask).astype(bool, order="C", copy=False)
    if thin is None or image.ndim != 2:
        from skimage.morphology import skeletonize as public

        return np.asarray(public(image))
    return np.asarray(thin(image))


def neighbour_count(mask: np.ndarray) -> np.ndarray:
    """How many of the 3 × 3 cells around each cell (itself included) are set: uint8.

    ``scipy.ndimage.convolve(mask.astype(np.uint8), np.ones((3, 3)), mode="constant")``.
    """
    mask = np.asarray(mask)
    m = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), np.uint8)  # np.pad: 4x slower here
    m[1:-1, 1:-1] = mask
    # the 3 x 3 box sum as a sum along rows, then along columns (at most 9: no overflow)
    across = m[:, :-2] + m[:, 1:-1]
    across += m[:, 2:]
    out = across[:-2] + across[1:-1]
    out += across[2:]
    return out
