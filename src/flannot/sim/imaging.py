"""Image formation: from line integrals to a fluoroscopy monitor image (SPEC §15 physics).

Steps, each with its source in ``docs/carm.md``:

1. primary fluence ``N0 · heel · cos³ · exp(-∫mu)`` (Beer–Lambert; the anode heel
   effect as a linear gradient along the anode–cathode axis, here the image
   columns; the inverse-square and obliquity fall-off of a flat detector);
2. focal-spot and detector blur: Gaussians, the focal-spot penumbra scaled by the
   geometric unsharpness ``f (M - 1)`` of an object at the isocentre;
3. scatter as a low-pass copy of the primary times a scatter-to-primary ratio;
4. automatic exposure control: ``N0`` is set so that the median pixel behind the
   patient receives the requested quanta (the dose level);
5. Poisson quantum noise;
6. flat-field correction and the logarithm (``-ln(N / N0)``: attenuation, so
   bone is bright);
7. the display processing of a fluoroscopy chain: harmonisation (a large-kernel
   background mostly removed), edge enhancement, a window from the central
   measuring field and a monitor curve, stored as 12-bit MONOCHROME2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Exposure:
    """Image-chain settings (fluoroscopy defaults).

    Attributes
    ----------
    quanta
        Mean detected quanta per pixel behind the patient (the AEC target: the dose
        level; more quanta, less noise).
    focal_spot_mm
        Nominal focal spot size (0.6 mm: a small fluoroscopy focus).
    detector_blur_px
        Gaussian sigma of the scintillator's light spread, in pixels.
    heel
        Relative intensity change across the field along the anode–cathode axis.
    spr
        Scatter-to-primary ratio behind the anti-scatter grid.
    scatter_sigma_mm
        Width (sigma, detector mm) of the scatter kernel.
    harmonize, harmonize_sigma_mm
        Fraction of the large-scale background (Gaussian of that sigma, detector mm)
        removed by the display processing.
    detail_gain
        Gain of the detail (attenuation minus background).
    edge_gain, edge_sigma_mm
        Unsharp-mask edge enhancement of the detail.
    floor, gamma
        Monitor curve: the window's bottom is shown at ``floor`` (dark grey), then
        ``floor + (1 - floor) x**gamma``.
    bits
        Bits stored.
    """

    quanta: float = 2000.0
    focal_spot_mm: float = 0.6
    detector_blur_px: float = 0.6
    heel: float = 0.15
    spr: float = 0.5
    scatter_sigma_mm: float = 25.0
    harmonize: float = 0.6
    harmonize_sigma_mm: float = 50.0
    detail_gain: float = 1.4
    edge_gain: float = 0.5
    edge_sigma_mm: float = 1.5
    floor: float = 0.1
    gamma: float = 1.4
    bits: int = 12


def _gauss(img: Array, sigma_px: float) -> Array:
    if sigma_px <= 0.05:
        return img
    if sigma_px > 6:  # a big kernel: filter a block-averaged copy, then upsample
        f = max(1, int(sigma_px // 3))
        rows, cols = img.shape
        pr, pc = (-rows) % f, (-cols) % f
        pad = np.pad(img, ((0, pr), (0, pc)), mode="edge")
        small = pad.reshape(pad.shape[0] // f, f, pad.shape[1] // f, f).mean(axis=(1, 3))
        small = ndimage.gaussian_filter(small, sigma_px / f, mode="nearest")
        big = ndimage.zoom(small, f, order=1, mode="nearest", grid_mode=True)
        return big[:rows, :cols]
    return ndimage.gaussian_filter(img, sigma_px, mode="nearest")


def falloff(rows: int, cols: int, pixel_mm: float, sid: float, heel: float) -> Array:
    """Relative primary intensity of the open field: heel effect × cos³ (inverse square
    and obliquity on a flat detector)."""
    r = (np.arange(rows) - (rows - 1) / 2) * pixel_mm
    c = (np.arange(cols) - (cols - 1) / 2) * pixel_mm
    rr, cc = np.meshgrid(r, c, indexing="ij")
    cos3 = (sid / np.sqrt(sid * sid + rr * rr + cc * cc)) ** 3
    half = max(cols - 1, 1) / 2 * pixel_mm
    heel_prof = 1.0 - heel * 0.5 * (cc / half)  # anode on the image's right: less there
    return cos3 * heel_prof


def detect(
    line_integral: NDArray,
    rng: np.random.Generator | None,
    exposure: Exposure,
    *,
    pixel_mm: float,
    sid: float,
    magnification: float,
    body: NDArray[np.bool_] | None = None,
) -> Array:
    """Detected, flat-field corrected attenuation image ``-ln(N / N0)`` (bone bright).

    ``rng=None`` gives the noiseless expectation (used for previews).
    """
    p = np.asarray(line_integral, np.float64)
    rows, cols = p.shape
    flat = falloff(rows, cols, pixel_mm, sid, exposure.heel)
    primary = flat * np.exp(-p)
    # geometric unsharpness of the focal spot at the isocentre, in detector pixels;
    # a uniform focal spot of width f has sigma f / sqrt(12)
    fs_sigma = exposure.focal_spot_mm * (magnification - 1.0) / math.sqrt(12) / pixel_mm
    sigma = math.hypot(fs_sigma, exposure.detector_blur_px)
    primary = _gauss(primary, sigma)
    scatter = exposure.spr * _gauss(primary, exposure.scatter_sigma_mm / pixel_mm)
    total = primary + scatter
    sel = measuring_field(total.shape)
    if body is not None and (body & sel).any():
        sel = body & sel
    n0 = exposure.quanta / max(float(np.median(total[sel])), 1e-12)  # AEC
    expected = n0 * total
    counts = rng.poisson(expected).astype(np.float64) if rng is not None else expected
    # flat field: divide by the open-field image (with its scatter-free fall-off)
    return -np.log(np.maximum(counts, 0.5) / (n0 * flat))


def measuring_field(shape: tuple[int, int]) -> NDArray[np.bool_]:
    """The central half of the field, where the AEC/ABC measures (a dominant region)."""
    rows, cols = shape
    out = np.zeros(shape, bool)
    out[rows // 4 : rows - rows // 4, cols // 4 : cols - cols // 4] = True
    return out


def display(
    log_img: Array,
    *,
    pixel_mm: float,
    exposure: Exposure,
    body: NDArray[np.bool_] | None = None,
) -> tuple[NDArray[np.uint16], tuple[float, float]]:
    """Fluoroscopy display processing → stored values (MONOCHROME2, bone bright).

    Harmonisation splits the attenuation image into a large-scale background (the
    patient's thickness) and detail; the background is mostly removed, the detail
    edge-enhanced and amplified; the window comes from the central measuring field
    and a monitor curve (a floor so soft tissue stays dark-grey, then a gamma)
    maps it to the stored range. Returns the stored image and the (centre, width)
    of its default window.
    """
    img = np.asarray(log_img, np.float64)
    sel = measuring_field(img.shape)
    if body is not None and (body & sel).sum() > 16:
        sel = body & sel
    background = _gauss(img, exposure.harmonize_sigma_mm / pixel_mm)
    detail = img - background
    detail = detail + exposure.edge_gain * (
        detail - _gauss(detail, exposure.edge_sigma_mm / pixel_mm)
    )
    level = float(np.median(background[sel]))
    proc = (1.0 - exposure.harmonize) * (background - level) + exposure.detail_gain * detail
    lo, hi = np.percentile(proc[sel], [2.0, 99.5])
    if hi - lo < 1e-9:
        hi = lo + 1.0
    x = np.clip((proc - lo) / (hi - lo), 0.0, 1.0)
    y = exposure.floor + (1.0 - exposure.floor) * x**exposure.gamma
    if body is not None:
        y = np.where(body, y, y * exposure.floor * 3.0)  # air outside the patient: dark
    top = (1 << exposure.bits) - 1
    stored = np.rint(np.clip(y, 0.0, 1.0) * top).astype(np.uint16)
    return stored, (top / 2.0, float(top + 1))


def body_mask(line_integral: NDArray, threshold: float = 0.5) -> NDArray[np.bool_]:
    """Pixels whose ray crosses the patient (more than ``threshold`` attenuation lengths)."""
    return np.asarray(line_integral) > threshold
