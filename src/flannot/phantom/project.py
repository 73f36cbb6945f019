"""X-ray projection and image formation for the phantom.

Geometry: a C-arm rotated about the patient's long axis. The beam is parallel
within the isocentre plane and every point is magnified by the isocentre's
``SID / SOD`` (a *weak-perspective* model: for the ~80 mm deep spine at
SOD 800 mm true cone-beam magnification varies by ±5 %, which we leave out so
that the reference annotations are exact). The image grid is defined at the
isocentre; the detector pixel is that spacing times ``SID / SOD``.

Physics: attenuation line integrals (soft-tissue body analytically, every
solid by sampling along the ray inside its bounding box), an anode heel-effect
and vignetting intensity profile, automatic exposure control, focal-spot and
detector blur, Poisson quantum noise, the logarithm (so bone is bright) and a
fluoroscopy-style edge enhancement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from flannot.phantom.anatomy import MU_WATER, Solid

Array = NDArray[np.float64]

#: soft-tissue body: an elliptic cylinder (semi-axes in mm) centred at y = BODY_Y
BODY_A, BODY_B, BODY_Y = 150.0, 118.0, -18.0


@dataclass(frozen=True)
class View:
    """A projection view.

    Attributes
    ----------
    angle_deg
        C-arm rotation about the patient's long axis: 0 = AP (image columns run
        toward the patient's left), 90 = lateral (columns run posterior), 45 / 135
        = obliques.
    rows, cols
        Image size.
    spacing
        mm per pixel at the isocentre (the magnification-corrected spacing).
    center_u, center_z
        Patient coordinates (mm) shown at the image centre.
    """

    angle_deg: float
    rows: int
    cols: int
    spacing: float
    center_u: float
    center_z: float

    @property
    def e_u(self) -> Array:
        a = math.radians(self.angle_deg)
        return np.array([math.cos(a), math.sin(a), 0.0])

    @property
    def e_t(self) -> Array:
        a = math.radians(self.angle_deg)
        return np.array([-math.sin(a), math.cos(a), 0.0])

    def to_pixel(self, points: Array) -> Array:
        """World points ``(N, 3)`` → ``(N, 2)`` ``[row, col]`` (origin: top-left pixel centre)."""
        p = np.atleast_2d(np.asarray(points, float))
        u = p @ self.e_u
        col = (self.cols - 1) / 2 + (u - self.center_u) / self.spacing
        row = (self.rows - 1) / 2 - (p[:, 2] - self.center_z) / self.spacing
        return np.stack([row, col], axis=1)

    def u_of_col(self, col: ArrayLike) -> Array:
        return self.center_u + (np.asarray(col, float) - (self.cols - 1) / 2) * self.spacing

    def z_of_row(self, row: ArrayLike) -> Array:
        return self.center_z - (np.asarray(row, float) - (self.rows - 1) / 2) * self.spacing


def body_chord(view: View) -> Array:
    """Soft-tissue line integral of the body's elliptic cylinder, per image column."""
    a = math.radians(view.angle_deg)
    c, s = math.cos(a), math.sin(a)
    u = view.u_of_col(np.arange(view.cols))
    # ray: x = u c - t s, y = u s + t c; solve (x/A)^2 + ((y - Y0)/B)^2 = 1 for t
    qa = s * s / BODY_A**2 + c * c / BODY_B**2
    qb = 2 * (-u * c * s / BODY_A**2 + (u * s - BODY_Y) * c / BODY_B**2)
    qc = (u * c / BODY_A) ** 2 + ((u * s - BODY_Y) / BODY_B) ** 2 - 1
    disc = np.maximum(qb * qb - 4 * qa * qc, 0.0)
    return MU_WATER * np.sqrt(disc) / qa


def project_solid(solid: Solid, view: View, out: Array, step: float = 0.5) -> None:
    """Add the solid's line integral (mu × path length) into ``out`` (rows, cols)."""
    corners = solid.corners_world()
    u, t, z = corners @ view.e_u, corners @ view.e_t, corners[:, 2]
    c0 = max(int(math.floor((u.min() - view.center_u) / view.spacing + (view.cols - 1) / 2)), 0)
    c1 = min(
        int(math.ceil((u.max() - view.center_u) / view.spacing + (view.cols - 1) / 2)) + 1,
        view.cols,
    )
    r0 = max(int(math.floor((view.center_z - z.max()) / view.spacing + (view.rows - 1) / 2)), 0)
    r1 = min(
        int(math.ceil((view.center_z - z.min()) / view.spacing + (view.rows - 1) / 2)) + 1,
        view.rows,
    )
    if c0 >= c1 or r0 >= r1:
        return
    ts = np.arange(t.min() + step / 2, t.max(), step)
    if ts.size == 0:
        return
    rot = solid.rotation
    au, at, az = view.e_u @ rot, view.e_t @ rot, np.array([0.0, 0.0, 1.0]) @ rot
    b = -(solid.center @ rot)
    # per-axis terms in float32, offsets folded into the smallest array
    us = view.u_of_col(np.arange(c0, c1))
    u_terms = [(us * au[k]).astype(np.float32)[None, :, None] for k in range(3)]
    t_terms = [(ts * at[k] + b[k]).astype(np.float32)[None, None, :] for k in range(3)]
    chunk = max(1, int(2_000_000 // (len(us) * len(ts))))
    for rs in range(r0, r1, chunk):
        re = min(rs + chunk, r1)
        zs = view.z_of_row(np.arange(rs, re))
        local = [
            (zs * az[k]).astype(np.float32)[:, None, None] + (u_terms[k] + t_terms[k])
            for k in range(3)
        ]
        hits = solid.inside(*local).sum(axis=2, dtype=np.float64)
        out[rs:re, c0:c1] += solid.mu * step * hits


def project(solids: list[Solid], view: View, with_body: bool = True) -> Array:
    """Total attenuation line integral image (dimensionless) of ``solids`` in ``view``."""
    out = np.zeros((view.rows, view.cols))
    if with_body:
        out += body_chord(view)[None, :]
    for s in solids:
        project_solid(s, view, out)
    return out


@dataclass(frozen=True)
class Exposure:
    """Image-formation settings (fluoroscopy-like defaults)."""

    quanta: float = 1800.0  # mean detected quanta per pixel behind the patient (AEC target)
    blur_px: float = 0.9  # focal spot + detector, Gaussian sigma in pixels
    heel: float = 0.18  # anode heel effect: fractional intensity change top → bottom
    vignetting: float = 0.15  # fall-off toward the corners
    edge_gain: float = 0.7  # unsharp-mask edge enhancement
    edge_sigma_px: float = 5.0
    texture: float = 0.06  # trabecular texture amplitude on bone
    harmonize: float = 0.75  # fraction of the low-frequency background removed
    harmonize_sigma_px: float = 40.0


@lru_cache(maxsize=8)
def intensity_profile(rows: int, cols: int, heel: float, vignetting: float) -> Array:
    """Relative beam intensity: heel effect along the rows times radial vignetting."""
    r = np.linspace(-1.0, 1.0, rows)[:, None]
    c = np.linspace(-1.0, 1.0, cols)[None, :]
    heel_prof = 1.0 + 0.5 * heel * r  # anode at the bottom: intensity rises toward it
    vig = 1.0 - vignetting * ((r * r + c * c) / 2.0) ** 1.5
    return heel_prof * vig


def trabecular_texture(rng: np.random.Generator, shape: tuple[int, int]) -> Array:
    """Zero-mean vertically striated texture (projected trabeculae), unit-ish amplitude."""
    noise = rng.standard_normal(shape)
    tex = ndimage.gaussian_filter(noise, sigma=(3.0, 0.9))
    return tex / (tex.std() + 1e-12)


def expose(
    line_integral: Array,
    rng: np.random.Generator,
    exposure: Exposure,
    bone: Array | None = None,
    texture: Array | None = None,
) -> Array:
    """Simulate detection and processing; returns the log image (larger = more attenuation).

    Parameters
    ----------
    line_integral
        Attenuation line integrals (rows, cols).
    rng
        Random generator for the quantum noise.
    exposure
        Settings.
    bone, texture
        Optional bone-only line integrals and a texture field: bone attenuation is
        modulated by ``1 + exposure.texture * texture`` (trabecular pattern).
    """
    p = line_integral
    if bone is not None and texture is not None:
        p = p + exposure.texture * bone * texture
    prof = intensity_profile(p.shape[0], p.shape[1], exposure.heel, exposure.vignetting)
    n0 = exposure.quanta * math.exp(float(np.median(p)))  # AEC: fixed signal at the median
    expected = ndimage.gaussian_filter(n0 * prof * np.exp(-p), exposure.blur_px)
    counts = rng.poisson(expected).astype(np.float64)
    log_img = math.log(n0) - np.log(np.maximum(counts, 0.5))
    # flat-field correction removes most, not all, of the heel effect and vignetting
    log_img += 0.6 * np.log(prof)
    # harmonisation: suppress the slowly varying soft-tissue thickness (large kernel),
    # then edge enhancement (small kernel), as fluoroscopy image processing does
    background = lowpass(log_img, exposure.harmonize_sigma_px)
    log_img = log_img - exposure.harmonize * background
    smooth = ndimage.gaussian_filter(log_img, exposure.edge_sigma_px)
    return log_img + exposure.edge_gain * (log_img - smooth)


def lowpass(img: Array, sigma: float, factor: int = 8) -> Array:
    """Gaussian low-pass with a large sigma, computed on a block-averaged copy (fast)."""
    rows, cols = img.shape
    pr, pc = (-rows) % factor, (-cols) % factor
    padded = np.pad(img, ((0, pr), (0, pc)), mode="edge")
    small = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor)
    small = ndimage.gaussian_filter(small.mean(axis=(1, 3)), sigma / factor, mode="nearest")
    big = ndimage.zoom(small, factor, order=1, mode="nearest", grid_mode=True)
    return big[:rows, :cols]


def to_stored(log_img: Array, bits: int, lo: float, hi: float) -> NDArray[np.integer]:
    """Map the log image linearly onto ``[0, 2**bits - 1]`` (bone bright)."""
    top = (1 << bits) - 1
    v = np.clip((log_img - lo) / (hi - lo), 0.0, 1.0) * top
    return np.rint(v).astype(np.uint16 if bits > 8 else np.uint8)


def display_range(noiseless: Array) -> tuple[float, float]:
    """Robust display range of a noiseless log image (percentiles widened a little)."""
    lo, hi = np.percentile(noiseless, [0.5, 99.7])
    pad = 0.12 * (hi - lo)
    return float(lo - pad), float(hi + pad)
