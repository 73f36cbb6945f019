"""Which spacing and calibration a case's measurements use, and the units that follow.

Precedence (SPEC §2): a calibration line (a line with a known ``length_mm``: the
protocol's ``Role.CALIBRATION`` type) makes the calibration ``user``; otherwise the
spacing and calibration of the image passed to :func:`flannot.measure` win over the
case file's image record.
Without a usable spacing the case is ``uncalibrated`` and every length is in
pixels (``px``/``px2``) — never mm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from flannot.model.limits import SPACING_RANGE

UNCALIBRATED = "uncalibrated"


@dataclass(frozen=True)
class Units:
    """The spacing measurements are computed with and how to label them.

    Attributes
    ----------
    spacing
        ``(row, col)`` size of a pixel in the length unit (``(1, 1)`` when uncalibrated).
    calibration
        SPEC §2 calibration name carried by every row.
    calibrated
        ``True`` when lengths are millimetres.
    """

    spacing: tuple[float, float]
    calibration: str
    calibrated: bool

    @property
    def length(self) -> str:
        return "mm" if self.calibrated else "px"

    @property
    def area(self) -> str:
        return "mm2" if self.calibrated else "px2"


def _valid_spacing(spacing: Any) -> tuple[float, float] | None:
    """``(row_mm, col_mm)`` when both are finite and positive, else ``None`` (SPEC §2)."""
    if spacing is None:
        return None
    try:
        r, c = (float(x) for x in spacing)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(r) and math.isfinite(c) and r > 0 and c > 0):
        return None
    return (r, c)


def user_spacing(
    line_px: np.ndarray, length_mm: float, base: tuple[float, float] | None
) -> tuple[float, float] | None:
    """Spacing that makes ``line_px`` measure ``length_mm``.

    Keeps the row/col aspect ratio of ``base`` (isotropic when there is none).
    ``None`` for a degenerate line, a non-positive length or a spacing outside
    :data:`flannot.io.calibration.SPACING_RANGE`.
    """
    try:
        length = float(length_mm)
    except (TypeError, ValueError):
        return None
    pts = np.asarray(line_px, float)
    if not math.isfinite(length) or length <= 0 or pts.ndim != 2 or len(pts) < 2:
        return None
    aspect = base[0] / base[1] if base else 1.0
    dr, dc = pts[-1] - pts[0]
    px_len = math.hypot(aspect * dr, dc)
    if not math.isfinite(px_len) or px_len <= 1e-9:
        return None
    k = length / px_len
    lo, hi = SPACING_RANGE  # a spacing no case file may record is no calibration
    if not (lo <= k * aspect <= hi and lo <= k <= hi):
        return None
    return (k * aspect, k)


def resolve_units(case: Any, image: Any = None) -> Units:
    """The :class:`Units` for ``case`` (and the optional ``FluoroImage`` it was drawn on)."""
    source = image if image is not None else getattr(case, "image", None)
    spacing = _valid_spacing(getattr(source, "spacing_mm", None))
    calibration = getattr(source, "calibration", None) or UNCALIBRATED
    if calibration == UNCALIBRATED:
        spacing = None
    for ann in getattr(case, "annotations", ()):
        # a calibration line is the annotation that carries a known length: only the
        # protocol's calibration type (Role.CALIBRATION) declares length_mm
        length_mm = getattr(ann, "length_mm", None)
        if length_mm is None or ann.geometry.kind != "line":
            continue
        user = user_spacing(ann.geometry.points, length_mm, spacing)
        if user is not None:  # the first usable calibration line wins
            return Units(user, "user", True)
    if spacing is None:
        return Units((1.0, 1.0), UNCALIBRATED, False)
    return Units(spacing, str(calibration), True)
