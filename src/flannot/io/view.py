"""Projection view (AP / lateral / oblique / unknown) from View Position or C-arm angles.

View Position (0018,5101) wins when it names a view; otherwise the Positioner
Primary Angle (0018,1510, LAO+/RAO-) decides: within ``TOLERANCE_DEG`` of 0° or
180° is ``ap``, of ±90° is ``lateral``, anything else ``oblique``. The
Positioner Secondary Angle (cranial/caudal tilt, 0018,1511) does not change
the view class; with only a secondary angle an image is ``ap`` when it is within
the tolerance of 0° (the C-arm is then in its AP home position) and ``oblique``
otherwise. The user can always override (``FluoroImage.with_view``).
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from flannot.io import header as hdr

VIEWS = ("ap", "lateral", "oblique", "unknown")
TOLERANCE_DEG = 15.0

_VIEW_POSITIONS = {
    "AP": "ap",
    "PA": "ap",
    "LL": "lateral",
    "RL": "lateral",
    "LAT": "lateral",
    "LATERAL": "lateral",
    "RLD": "lateral",
    "LLD": "lateral",
    "LAO": "oblique",
    "RAO": "oblique",
    "LPO": "oblique",
    "RPO": "oblique",
    "OBL": "oblique",
    "OBLIQUE": "oblique",
}


def _angle(ds: Dataset, keyword: str) -> float | None:
    values = hdr.as_floats(hdr.find(ds, keyword))
    return values[0] if values and len(values) == 1 else None


def classify_angle(primary_deg: float) -> str:
    """``ap``, ``lateral`` or ``oblique`` for a C-arm primary angle in degrees."""
    a = abs(((primary_deg + 180.0) % 360.0) - 180.0)  # 0..180
    if a <= TOLERANCE_DEG or a >= 180.0 - TOLERANCE_DEG:
        return "ap"
    if abs(a - 90.0) <= TOLERANCE_DEG:
        return "lateral"
    return "oblique"


def view_from_header(ds: Dataset) -> tuple[str, str]:
    """``(view, reason)`` from the header; ``reason`` says which attribute decided."""
    position = hdr.text(ds, "ViewPosition")
    if position in _VIEW_POSITIONS:
        return _VIEW_POSITIONS[position], f"View Position {position}"
    primary = _angle(ds, "PositionerPrimaryAngle")
    if primary is not None:
        return classify_angle(primary), f"Positioner Primary Angle {primary:g} deg"
    secondary = _angle(ds, "PositionerSecondaryAngle")
    if secondary is not None:
        view = "ap" if classify_angle(secondary) == "ap" else "oblique"
        return view, f"Positioner Secondary Angle {secondary:g} deg"
    return "unknown", "no View Position or positioner angles"
