"""Prepared volumes, full shots and fast previews (SPEC §15; budgets in SPEC §13).

:class:`PreparedCT` converts the CT to attenuation once (for one kVp) and keeps a
coarse (about 2 mm) copy for previews, so that an interactive C-arm (the napari
"C-arm" dock) re-renders only the rays: :func:`preview` at 256² within 150 ms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flannot.sim.attenuation import hu_to_mu
from flannot.sim.geometry import CArm
from flannot.sim.imaging import Exposure, body_mask, detect, display
from flannot.sim.projector import line_integrals
from flannot.sim.volume import CTVolume

#: sampling step along a ray as a fraction of the smallest voxel spacing
STEP_FRACTION = 0.75
#: the preview works on a block-averaged volume of about this voxel size (mm) …
PREVIEW_VOXEL_MM = 2.0
#: … and samples it once per voxel
PREVIEW_STEP_FRACTION = 1.0
#: the scanned range is taken to continue this far (mm) cranially and caudally,
#: repeating the end slices, so the field beyond a CT's ends is not air
EXTEND_MM = 120.0


def _extension(affine: NDArray[np.float64], mm: float) -> tuple[float, float, float]:
    """Voxels to extend along the index axis closest to the patient's long axis."""
    cols = affine[:3, :3]
    k = int(np.argmax(np.abs(cols[2]) / np.linalg.norm(cols, axis=0)))
    ext = [0.0, 0.0, 0.0]
    ext[k] = mm / float(np.linalg.norm(cols[:, k]))
    return ext[0], ext[1], ext[2]


@dataclass
class PreparedCT:
    """Attenuation volume (1/mm, float32) ready for projection at one kVp.

    Build it with :func:`prepare`; it can be reused for any number of shots and
    previews at that kVp.
    """

    mu: NDArray[np.float32]
    affine: NDArray[np.float64]
    kvp: float
    source: str = ""
    _coarse: tuple[NDArray[np.float32], NDArray[np.float64]] | None = field(
        default=None, repr=False
    )

    @property
    def spacing(self) -> NDArray[np.float64]:
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    def centre(self) -> NDArray[np.float64]:
        idx = (np.asarray(self.mu.shape, float) - 1) / 2
        return self.affine[:3, :3] @ idx + self.affine[:3, 3]

    def coarse(self) -> tuple[NDArray[np.float32], NDArray[np.float64]]:
        """A block-averaged copy with voxels of about :data:`PREVIEW_VOXEL_MM` and its
        affine (built once, for previews)."""
        if self._coarse is None:
            f = [max(1, int(round(PREVIEW_VOXEL_MM / s))) for s in self.spacing]
            n = [s // k * k for s, k in zip(self.mu.shape, f, strict=True)]
            if max(f) == 1 or min(a // k for a, k in zip(n, f, strict=True)) < 2:
                self._coarse = (self.mu, self.affine)
            else:
                v = self.mu[: n[0], : n[1], : n[2]]
                v = v.reshape(n[0] // f[0], f[0], n[1] // f[1], f[1], n[2] // f[2], f[2])
                v = v.mean(axis=(1, 3, 5), dtype=np.float32)
                scale = np.diag([float(f[0]), float(f[1]), float(f[2]), 1.0])
                scale[:3, 3] = [(k - 1) / 2 for k in f]
                self._coarse = (np.ascontiguousarray(v, np.float32), self.affine @ scale)
        return self._coarse


def prepare(ct: CTVolume, kvp: float = 80.0) -> PreparedCT:
    """Convert a CT to attenuation at ``kvp`` (see :mod:`flannot.sim.attenuation`).

    The volume is cropped to the box holding anything denser than air (-900 HU):
    rays then skip the empty margins of the field of view.
    """
    hu = np.asarray(ct.hu)
    dense = hu > -900
    box = []
    for axis in range(3):
        other = tuple(a for a in range(3) if a != axis)
        hit = np.flatnonzero(dense.any(axis=other))
        lo, hi = (int(hit[0]), int(hit[-1]) + 1) if hit.size else (0, hu.shape[axis])
        lo, hi = max(lo - 1, 0), min(hi + 1, hu.shape[axis])
        if hi - lo < 2:
            lo, hi = 0, hu.shape[axis]
        box.append(slice(lo, hi))
    del dense
    mu = hu_to_mu(hu[tuple(box)], kvp)
    affine = np.asarray(ct.affine, float).copy()
    affine[:3, 3] += affine[:3, :3] @ [b.start for b in box]
    return PreparedCT(np.ascontiguousarray(mu), affine, float(kvp), ct.source)


def integrate(
    volume: NDArray[np.float32],
    affine: NDArray[np.float64],
    carm: CArm,
    step_mm: float,
    roi: tuple[int, int, int, int] | None = None,
    extend_mm: float = 0.0,
) -> NDArray[np.float32]:
    """Line integrals of ``volume`` on ``carm``'s detector (or its ``roi`` r0, r1, c0, c1).

    ``extend_mm`` continues the volume cranially and caudally (see :data:`EXTEND_MM`).
    """
    q0, du, dv = carm.pixel_positions()
    r0, r1, c0, c1 = roi if roi is not None else (0, carm.rows, 0, carm.cols)
    q0 = q0 + c0 * du + r0 * dv
    return line_integrals(
        volume,
        affine,
        carm.source,
        q0,
        du,
        dv,
        r1 - r0,
        c1 - c0,
        step_mm,
        _extension(affine, extend_mm),
    )


def line_integral_image(prep: PreparedCT, carm: CArm, step_mm: float | None = None):
    """``∫ mu dl`` for every detector pixel of ``carm`` (float32)."""
    step = step_mm if step_mm is not None else STEP_FRACTION * float(prep.spacing.min())
    return integrate(prep.mu, prep.affine, carm, step, extend_mm=EXTEND_MM)


def shot(
    prep: PreparedCT,
    carm: CArm,
    *,
    seed: int | None = 0,
    exposure: Exposure | None = None,
) -> tuple[NDArray[np.uint16], dict]:
    """One fluoroscopy exposure: 12-bit MONOCHROME2 pixels and what made them.

    ``seed=None`` gives the noiseless image. The same seed gives the same pixels.
    """
    exp = exposure or Exposure()
    p = line_integral_image(prep, carm)
    rng = None if seed is None else np.random.default_rng(int(seed))
    stored, window, body = _image_chain(p, carm, exp, rng)
    return stored, {"window": window, "body_fraction": float(body.mean())}


def _image_chain(p: Any, carm: Any, exp: Any, rng: Any) -> tuple[Any, Any, Any]:
    """Line integrals → detected, logged and displayed pixels: ``(stored, window, body)``."""
    body = body_mask(p)
    log_img = detect(
        p,
        rng,
        exp,
        pixel_mm=carm.pixel_mm,
        sid=carm.sid,
        magnification=carm.magnification,
        body=body,
    )
    stored, window = display(log_img, pixel_mm=carm.pixel_mm, exposure=exp, body=body)
    return stored, window, body


def preview_carm(
    prep: PreparedCT,
    primary_deg: float,
    secondary_deg: float,
    isocentre: NDArray | tuple[float, float, float] | None = None,
    *,
    size: int = 256,
    sid: float | None = None,
    sod: float | None = None,
    field_mm: float | None = None,
) -> CArm:
    """The :class:`CArm` a :func:`preview` with these arguments uses (for overlays: its
    :attr:`CArm.projection` maps the answer key onto the preview)."""
    from flannot.sim.geometry import DEFAULT_DETECTOR, DEFAULT_PIXEL, DEFAULT_SID, DEFAULT_SOD

    iso = prep.centre() if isocentre is None else np.asarray(isocentre, float)
    width = field_mm if field_mm is not None else DEFAULT_DETECTOR * DEFAULT_PIXEL
    return CArm(
        float(primary_deg),
        float(secondary_deg),
        (float(iso[0]), float(iso[1]), float(iso[2])),
        sid if sid is not None else DEFAULT_SID,
        sod if sod is not None else DEFAULT_SOD,
        int(size),
        int(size),
        width / int(size),
    )


def preview(
    prep: PreparedCT,
    primary_deg: float,
    secondary_deg: float,
    isocentre: NDArray | tuple[float, float, float] | None = None,
    *,
    size: int = 256,
    sid: float | None = None,
    sod: float | None = None,
    field_mm: float | None = None,
) -> NDArray[np.uint8]:
    """A fast, noiseless 8-bit view for an interactive C-arm (SPEC §15 training mode).

    Uses a block-averaged volume (voxels of about 2 mm) and a coarser ray step; the
    geometry is exact: :func:`preview_carm` with the same arguments gives the C-arm
    (and so the projection matrix) of the picture.

    Parameters
    ----------
    prep
        From :func:`prepare`.
    primary_deg, secondary_deg
        DICOM positioner angles.
    isocentre
        LPS mm; default the volume centre.
    size
        Detector pixels per side.
    sid, sod
        Distances (mm); defaults of :class:`CArm`.
    field_mm
        Detector width (mm); default the full-size detector's (512 × 0.6 mm).
    """
    carm = preview_carm(
        prep,
        primary_deg,
        secondary_deg,
        isocentre,
        size=size,
        sid=sid,
        sod=sod,
        field_mm=field_mm,
    )
    vol, aff = prep.coarse()
    step = PREVIEW_STEP_FRACTION * float(np.linalg.norm(aff[:3, :3], axis=0).min())
    p = integrate(vol, aff, carm, step, extend_mm=EXTEND_MM)
    exp = Exposure()
    stored, _, _ = _image_chain(p, carm, exp, None)
    return (stored >> (exp.bits - 8)).astype(np.uint8)
