"""What the exporters draw and how: region rasters, categories and coordinate conversion.

flannot stores ``[row, col]`` with pixel centres at integer coordinates (napari's
convention). COCO, SVG and most image tools use continuous ``x, y`` where the
top-left pixel covers ``[0, 1) x [0, 1)``, so a flannot point becomes
``x = col + 0.5, y = row + 0.5``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from skimage.draw import polygon2mask

from flannot.errors import FlannotError


def protocol_for(case: Any) -> Any:
    """The case's protocol (its declarations decide what is exported and how)."""
    from flannot.protocols import protocol_of

    return protocol_of(case)


def region_types(protocol: Any) -> tuple[str, ...]:
    """Types exported as filled regions (``region_export``), in paint order: the
    protocol's declaration order, later ones drawn over earlier ones."""
    return tuple(t.name for t in protocol.types if t.region_export)


def skipped_types(protocol: Any) -> tuple[str, ...]:
    """Types never exported as annotations: redactions are blanked, a calibration line
    is in the spacing."""
    from flannot.protocols import Role

    return tuple(t.name for t in protocol.types if t.has(Role.REDACTION) or t.has(Role.CALIBRATION))


def xy(points: Any) -> NDArray[np.float64]:
    """``(N, 2)`` flannot ``[row, col]`` points as continuous ``[x, y]``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return pts[:, ::-1] + 0.5


def flat_xy(points: Any, ndigits: int = 3) -> list[float]:
    """``[x0, y0, x1, y1, …]`` rounded (COCO polygon / polyline form)."""
    return [round(float(v), ndigits) for v in xy(points).ravel()]


def level_order(level: str | None) -> tuple[int, str]:
    """Sort key for levels: cranio-caudal, then unknown spellings, then none."""
    from flannot.model.levels import level_index

    if not level:
        return (10_000, "")
    try:
        return (int(level_index(level)), level)
    except (ValueError, KeyError):
        return (9_000, str(level))


def category_name(ann: Any) -> str:
    """``type/level`` (``ligamentum_flavum/L4-L5``), or the type when there is no level."""
    return f"{ann.type}/{ann.level}" if ann.level else str(ann.type)


def region_mask(ann: Any, shape: tuple[int, int], source: Any = None) -> NDArray[np.bool_] | None:
    """Boolean pixel mask of a polygon/rectangle/mask annotation, ``None`` for other kinds.

    A pixel is inside a polygon when its centre is (scikit-image's rule).

    Raises
    ------
    FlannotError
        A mask whose size is not the image's, or a malformed RLE (naming ``source``).
    """
    geom = ann.geometry
    if geom.kind == "mask":
        try:
            mask = geom.to_mask()
        except ValueError as exc:
            raise FlannotError(f"annotation {ann.id!r}: {exc}", source) from None
        if mask.shape != tuple(shape):
            raise FlannotError(
                f"annotation {ann.id!r}: mask size {list(mask.shape)} is not the image's "
                f"{list(shape)}",
                source,
            )
        return mask.astype(bool, copy=False)
    if geom.kind in ("polygon", "rectangle"):
        pts = np.asarray(geom.points, dtype=np.float64).reshape(-1, 2)
        if len(pts) < 3 or not np.isfinite(pts).all():
            return None
        return polygon2mask(shape, pts)
    return None


def bbox_of_mask(mask: NDArray[np.bool_]) -> list[float]:
    """COCO ``[x, y, w, h]`` of the pixels of a mask (zeros when empty)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [
        float(cols[0]),
        float(rows[0]),
        float(cols[-1] - cols[0] + 1),
        float(rows[-1] - rows[0] + 1),
    ]


def bbox_of_points(points: Any, ndigits: int = 3) -> list[float]:
    """COCO ``[x, y, w, h]`` around points (in continuous coordinates)."""
    p = xy(points)
    if p.size == 0:
        return [0.0, 0.0, 0.0, 0.0]
    lo, hi = p.min(axis=0), p.max(axis=0)
    return [round(float(v), ndigits) for v in (lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])]


def exported(case: Any) -> list[Any]:
    """The case's annotations that exports show (not redactions or calibration lines)."""
    skipped = skipped_types(protocol_for(case))
    return [a for a in case.annotations if a.type not in skipped]
