"""Vertebra geometry from a labelmap: centroids, spine axis, spinous tip, pedicles.

Everything is returned in patient LPS mm. The heuristics are documented in
``docs/carm.md``: the local spine axis of a vertebra is the direction between its
caudal and cranial neighbours' centroids (central difference; one-sided at the
ends of the labelled spine), the spinous process tip is the most posterior part
of the vertebra near the midline, and the pedicles are the bone beside the
vertebral canal at the level of the centroid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from flannot.sim.geometry import LEFT, POSTERIOR
from flannot.sim.volume import CTVolume, level_index

Array = NDArray[np.float64]


@dataclass
class Vertebra:
    """One labelled vertebra in patient LPS mm."""

    level: str
    label: int
    centroid: Array
    voxels: int
    bbox: tuple[slice, slice, slice]
    axis: Array = field(default_factory=lambda: np.array([0.0, 0.0, 1.0]))
    spinous_tip: Array | None = None
    pedicles: dict[str, Array] = field(default_factory=dict)


def find_vertebrae(
    labels: NDArray[np.integer], ct: CTVolume, convention: dict[int, str]
) -> list[Vertebra]:
    """The labelled vertebrae, cranial first, with their centroids and local axes."""
    if not convention:
        return []
    # one pass over the volume: bounding boxes of labels 1..max id (absent ones are None)
    objs = ndimage.find_objects(labels, max_label=max(convention))
    present = [lid for lid in sorted(convention) if 0 < lid <= len(objs) and objs[lid - 1]]
    out = []
    for lid in present:
        box = objs[lid - 1]
        if box is None:
            continue
        sub = labels[box] == lid
        idx = np.argwhere(sub).astype(float) + [s.start for s in box]
        centroid = ct.affine[:3, :3] @ idx.mean(axis=0) + ct.affine[:3, 3]
        out.append(Vertebra(convention[lid], lid, centroid, len(idx), box))
    out.sort(key=lambda v: level_index(v.level))
    _axes(out)
    for v in out:
        _posterior_landmarks(v, labels, ct)
    return out


def _axes(verts: list[Vertebra]) -> None:
    """Local spine axis (toward the head) from the neighbours' centroids."""
    for n, v in enumerate(verts):
        above = verts[n - 1].centroid if n > 0 else v.centroid
        below = verts[n + 1].centroid if n + 1 < len(verts) else v.centroid
        axis = above - below
        norm = float(np.linalg.norm(axis))
        v.axis = axis / norm if norm > 1e-6 else np.array([0.0, 0.0, 1.0])


def local_frame(v: Vertebra) -> tuple[Array, Array, Array]:
    """``(left, posterior, up)`` unit vectors of the vertebra, ``up`` its spine axis."""
    up = v.axis
    post = POSTERIOR - (POSTERIOR @ up) * up
    post /= np.linalg.norm(post)
    left = np.cross(post, up)
    left *= np.sign(left @ LEFT) or 1.0
    return left, post, up


def _posterior_landmarks(v: Vertebra, labels: NDArray, ct: CTVolume) -> None:
    sub = labels[v.bbox] == v.label
    idx = np.argwhere(sub).astype(float) + [s.start for s in v.bbox]
    pts = idx @ ct.affine[:3, :3].T + ct.affine[:3, 3]
    left, post, up = local_frame(v)
    rel = pts - v.centroid
    x, y, z = rel @ left, rel @ post, rel @ up
    vox = float(np.cbrt(abs(np.linalg.det(ct.affine[:3, :3]))))
    # spinous process tip: the most posterior bone within 8 mm of the midline
    mid = np.abs(x) < max(8.0, 1.5 * vox)
    if mid.any():
        ymax = y[mid].max()
        tip = mid & (y >= ymax - max(2.0, vox))
        v.spinous_tip = pts[tip].mean(axis=0)
    # pedicles: in the slab around the centroid, find the canal (a gap in the bone
    # along the midline, posterior to the body) and take the bone beside it
    slab = np.abs(z) < max(6.0, 1.5 * vox)
    midline = slab & (np.abs(x) < max(4.0, vox))
    if not midline.any():
        return
    ys = np.sort(np.unique(np.round(y[midline] / vox).astype(int)))
    gaps = np.flatnonzero(np.diff(ys) > 1)
    if gaps.size == 0:
        return
    g = int(np.argmax(np.diff(ys)))  # the widest gap along the midline: the canal
    y0, y1 = (ys[g] + 0.5) * vox, (ys[g + 1] - 0.5) * vox
    band = slab & (y >= y0) & (y <= y1)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        sel = band & (sign * x > 2.0) & (sign * x < 30.0)
        if sel.sum() >= 2:
            v.pedicles[side] = pts[sel].mean(axis=0)
