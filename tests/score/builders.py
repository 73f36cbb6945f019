"""Cases with constructed geometry for the scoring tests (import as ``tests.score.builders``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.model.case import Case

SPACING = (0.2, 0.2)


def ann(id: str, type: str, kind: str, points=None, **attrs: Any) -> dict:
    """One annotation in case-file form (points in pixels)."""
    geom: dict[str, Any] = {"kind": kind}
    if points is not None:
        geom["points"] = np.asarray(points, float).tolist()
    if "mask" in attrs:
        geom["mask"] = attrs.pop("mask")
    out = {"id": id, "type": type, "frame": attrs.pop("frame", 0), "geometry": geom}
    out.update({k: v for k, v in attrs.items() if v is not None})
    return out


def make_case(
    annotations: list[dict],
    spacing=SPACING,
    calibration: str = "magnification_corrected",
    case_id: str = "t",
) -> Case:
    """A :class:`flannot.Case` through the case-file form (schema-checked)."""
    image: dict[str, Any] = {"path": "image.dcm", "calibration": calibration}
    if spacing is not None:
        image["spacing_mm"] = list(spacing)
    return Case.from_dict(
        {"flannot_version": 1, "case_id": case_id, "image": image, "annotations": annotations}
    )


def square(r0: float, c0: float, size: float) -> np.ndarray:
    """Corners (pixels) of an axis-aligned square with top-left corner ``(r0, c0)``."""
    return np.array([[r0, c0], [r0, c0 + size], [r0 + size, c0 + size], [r0 + size, c0]], float)


def rect_mm(center_mm, long_mm: float, short_mm: float, spacing=SPACING) -> np.ndarray:
    """Corners (pixels) of an axis-aligned rectangle in mm, its long side vertical (rows)."""
    cr, cc = center_mm
    h, w = long_mm / 2, short_mm / 2
    pts = np.array([[cr - h, cc - w], [cr - h, cc + w], [cr + h, cc + w], [cr + h, cc - w]])
    return pts / np.asarray(spacing, float)


LEVELS = ["L1", "L2", "L3", "L4", "L5"]


def vertebrae(
    levels: list[str] = LEVELS,
    first_row: float = 100.0,
    step: float = 175.0,
    col: float = 300.0,
    corners: bool = True,
    prefix: str = "v",
    **attrs: Any,
) -> list[dict]:
    """A column of vertebrae, one per level, ``step`` px apart (35 mm at 0.2 mm/px)."""
    out = []
    for k, level in enumerate(levels):
        r = first_row + k * step
        if corners:  # superior-anterior, superior-posterior, inferior-posterior, inferior-anterior
            pts = [[r - 60, col - 80], [r - 60, col + 80], [r + 60, col + 80], [r + 60, col - 80]]
            out.append(ann(f"{prefix}{k}", "vertebra", "polygon", pts, level=level, **attrs))
        else:
            out.append(ann(f"{prefix}{k}", "vertebra", "point", [[r, col]], level=level, **attrs))
    return out


def items(score, metric: str | None = None, **where: Any) -> list:
    """Items of a :class:`CaseScore` with ``metric`` and matching attributes."""
    out = []
    for it in score.items:
        if metric is not None and it.metric != metric:
            continue
        if all(getattr(it, k) == v for k, v in where.items()):
            out.append(it)
    return out


def one(score, metric: str, **where: Any):
    """The single item with ``metric`` (and attributes); fails the test otherwise."""
    found = items(score, metric, **where)
    assert len(found) == 1, f"expected one {metric} item {where}, got {found}"
    return found[0]
