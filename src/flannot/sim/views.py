"""Named views → DICOM positioner angles, and the ideal angles for a target level.

A protocol's :class:`~flannot.protocols.base.View` is anatomical intent (AP,
lateral, an oblique turned so many degrees with the detector toward one side of
the patient). With the patient prone (MILD, ESI) the detector of an AP view is
behind the patient's back: Positioner Primary Angle ±180 (PS3.3 C.8.7.5.1.2 is
relative to the patient, whose chest faces the detector at 0). See
``docs/carm.md`` for the table of presets.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from flannot.errors import FlannotError
from flannot.protocols.base import View
from flannot.sim.geometry import ANTERIOR, HEAD, LEFT

POSITIONS = {"prone": "HFP", "supine": "HFS"}
#: generic obliques that any protocol accepts
GENERIC = {
    "oblique-left": View(
        "oblique-left", "Oblique, detector to the left", "oblique", 45.0, "left", True, 10.0
    ),
    "oblique-right": View(
        "oblique-right", "Oblique, detector to the right", "oblique", 45.0, "right", True, 10.0
    ),
}


def resolve_view(spec: str, protocol: str = "mild") -> View:
    """The view named ``NAME[:DEG]``: a protocol view or a generic ``oblique-left/right``.

    ``DEG`` replaces the view's oblique angle (e.g. ``clo-left:30``).
    """
    from flannot.protocols import get_protocol

    name, _, deg = str(spec).strip().partition(":")
    name = name.lower()
    try:
        proto = get_protocol(protocol)
    except Exception as exc:
        raise FlannotError(f"unknown protocol {protocol!r} ({exc})") from None
    views = {v.name: v for v in proto.views} | GENERIC
    if name not in views:
        raise FlannotError(f"unknown view {spec!r}; choose from {', '.join(views)} (NAME[:DEG])")
    view = views[name]
    if deg:
        try:
            angle = float(deg)
        except ValueError:
            raise FlannotError(f"view {spec!r}: {deg!r} is not an angle in degrees") from None
        if not 0.0 <= angle <= 90.0 or view.kind == "ap":
            raise FlannotError(
                f"view {spec!r}: the oblique angle must be 0-90 degrees "
                "and only obliques and laterals take one"
            )
        view = replace(view, oblique_deg=angle)
    return view


def check_position(position: str) -> str:
    """``position`` if it is ``prone`` or ``supine``, else a one-line error."""
    if position not in POSITIONS:
        raise FlannotError(f"unknown patient position {position!r}; use prone or supine")
    return position


def primary_angle(view: View, position: str = "prone") -> float:
    """DICOM Positioner Primary Angle of ``view`` for a ``prone`` or ``supine`` patient.

    The detector sits on the side away from the table (behind the back when prone),
    turned ``oblique_deg`` toward ``detector_toward``.
    """
    check_position(position)
    theta = 0.0 if view.kind == "ap" else float(view.oblique_deg)
    sign = {"left": 1.0, "right": -1.0, None: 0.0}[view.detector_toward]
    if view.kind != "ap" and sign == 0.0:
        raise FlannotError(f"view {view.name!r} does not say which side the detector turns to")
    if position == "supine":  # detector in front of the chest at 0
        angle = sign * theta
    else:  # detector behind the back at ±180, turning toward a side
        angle = sign * (180.0 - theta) if sign else 180.0
    return float(angle)


def squaring_secondary(primary_deg: float, axis: NDArray) -> float:
    """Secondary angle that makes the central ray parallel to endplates of normal ``axis``.

    The central ray ``cos(s) a + sin(s) H`` (``a`` the transaxial direction of the
    primary angle) is perpendicular to the endplate normal ``n`` when
    ``tan(s) = -(a·n) / (H·n)``.
    """
    p = math.radians(primary_deg)
    a = math.cos(p) * ANTERIOR + math.sin(p) * LEFT
    n = np.asarray(axis, float)
    return float(math.degrees(math.atan2(-(a @ n), HEAD @ n)))


def ideal_angles(
    view: View, axis: NDArray | None = None, position: str = "prone"
) -> tuple[float, float]:
    """The (primary, secondary) positioner angles of ``view`` at a vertebra.

    Parameters
    ----------
    view
        The protocol's view.
    axis
        The target vertebra's spine axis (its endplate normal estimate, LPS, toward the
        head; :attr:`flannot.sim.anatomy.Vertebra.axis`). Used when the view squares
        the endplates; without it the secondary angle is 0.
    position
        ``prone`` (default) or ``supine``.
    """
    primary = primary_angle(view, position)
    secondary = 0.0
    if view.square_endplates and axis is not None:
        secondary = squaring_secondary(primary, axis)
    return primary, round(secondary, 2)


def angle_error(
    view: View,
    primary_deg: float,
    secondary_deg: float,
    axis: NDArray | None = None,
    position: str = "prone",
) -> dict[str, float]:
    """How far a C-arm position is from the ideal view: primary and secondary errors (deg)."""
    p0, s0 = ideal_angles(view, axis, position)
    dp = (primary_deg - p0 + 180.0) % 360.0 - 180.0
    return {
        "primary_error": float(dp),
        "secondary_error": float(secondary_deg - s0),
        "ideal_primary": p0,
        "ideal_secondary": s0,
    }


def ideal_for_level(
    vertebrae: list,
    level: str,
    view: View | str,
    position: str = "prone",
    protocol: str = "mild",
) -> tuple[float, float]:
    """Ideal (primary, secondary) of ``view`` at ``level`` from a case's vertebrae.

    ``vertebrae`` is ``truth.json``'s ``"vertebrae"`` list (each with ``level`` and
    ``axis_lps``) or :class:`flannot.sim.anatomy.Vertebra` objects, so a trainee's shot can
    be scored against the view it should have been (SPEC §15 training mode).
    """
    if isinstance(view, str):
        view = resolve_view(view, protocol)
    for v in vertebrae:
        name = v["level"] if isinstance(v, dict) else v.level
        if name == level:
            axis = v["axis_lps"] if isinstance(v, dict) else v.axis
            return ideal_angles(view, np.asarray(axis, float), position)
    raise FlannotError(f"no vertebra {level} in the case")


def spinous_offset(pedicles: dict, spinous_tip: NDArray | list) -> float:
    """How far the spinous process tip sits from midway between the pedicles.

    A true AP puts the tip midway (SPEC §15): 0. The value is the tip's offset from the
    pedicles' midpoint along the line joining them, as a fraction of their distance:
    ±0.5 puts it over a pedicle; the sign follows the ``left`` → ``right`` pedicle
    direction. Points are image ``[row, col]`` (a vertebra's ``x_pedicles`` and
    ``x_spinous_tip`` in the answer key).
    """
    left = np.asarray(pedicles["left"], float)
    right = np.asarray(pedicles["right"], float)
    span = right - left
    norm2 = float(span @ span)
    if norm2 < 1e-12:
        raise FlannotError("the pedicles coincide in this image")
    return float((np.asarray(spinous_tip, float) - (left + right) / 2) @ span / norm2)
