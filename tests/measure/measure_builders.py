"""Builders of cases with constructed geometry for the measurement tests."""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.model.case import Case


def band(center_mm, length_mm, thickness_mm, angle_deg, spacing) -> np.ndarray:
    """Corners (pixels) of a rectangle of the given size in mm, its long side at
    ``angle_deg`` to the image horizontal, for pixels of ``spacing`` (row_mm, col_mm)."""
    a = np.radians(angle_deg)
    ax = np.array([-np.sin(a), np.cos(a)])  # [row, col]; rows grow downwards
    n = np.array([ax[1], -ax[0]])
    c = np.asarray(center_mm, float)
    h, w = length_mm / 2, thickness_mm / 2
    pts = np.array([c + ax * h + n * w, c + ax * h - n * w, c - ax * h - n * w, c - ax * h + n * w])
    return pts / np.asarray(spacing, float)


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
    spacing=(0.2, 0.2),
    calibration: str = "magnification_corrected",
    case_id: str = "t",
    planning: bool = False,
) -> Case:
    """A :class:`flannot.Case` through the case-file form (schema-checked).

    With ``planning=True`` the annotations are drawn on the case's axial CT planning
    slice (spacing ``spacing``), where the MR/CT criteria (``hypertrophic``,
    ``stenosis_grade``) apply; otherwise on the projection image.
    """
    image: dict[str, Any] = {"path": "image.dcm", "calibration": calibration}
    if spacing is not None:
        image["spacing_mm"] = list(spacing)
    data: dict[str, Any] = {
        "flannot_version": 1,
        "case_id": case_id,
        "image": image,
        "annotations": annotations,
    }
    if planning:
        data["planning"] = {
            "path": "planning.dcm",
            "modality": "CT",
            "plane": "axial",
            "calibration": "pixel_spacing" if spacing is not None else "uncalibrated",
            "spacing_mm": None if spacing is None else list(spacing),
        }
        data["annotations"] = [{**a, "image": "planning"} for a in annotations]
    return Case.from_dict(data)


def values(df, annotation_id: str | None = None, level: str | None = None) -> dict[str, Any]:
    """``{name: value}`` of the rows of one annotation (optionally one level)."""
    sel = df
    if annotation_id is not None:
        sel = sel[sel.annotation_id == annotation_id]
    if level is not None:
        sel = sel[sel.level == level]
    return dict(zip(sel.name, sel.value, strict=True))


def units(df, annotation_id: str) -> dict[str, str]:
    sel = df[df.annotation_id == annotation_id]
    return dict(zip(sel.name, sel.unit, strict=True))
