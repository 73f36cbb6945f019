"""C-arm cone-beam geometry in the patient's DICOM coordinate system (SPEC §15).

Everything here is in patient LPS millimetres (+x toward the patient's left, +y
posterior, +z head), the frame of DICOM Image Position (Patient) (PS3.3
C.7.6.2.1.1).

Positioner angles follow PS3.3 C.8.7.5.1.2 (XA Positioner Module): they give the
direction from the isocentre to the image detector *relative to the patient*.
Primary 0 / secondary 0 is the detector in front of the patient's chest; the
primary angle turns it in the transaxial plane toward the patient's left (+90,
LAO) or right (-90, RAO), ±180 puts it behind the patient's back; the secondary
angle tilts it in the sagittal plane toward the head (+, cranial) or the feet
(-, caudal). The direction is ``cos(s)(cos(p) A + sin(p) L) + sin(s) H``.

The image is what the detector records seen from the detector looking toward the
source, with the patient's head up at secondary 0 — the image axes of the
Enhanced XA Positioner Coordinate System (PS3.3 C.8.19.6.13.1.2: "positive
direction from left to right of the detector plane looking towards the
source"). The detector turns with the C-arm, so the axes follow the rotation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: patient directions in LPS
LEFT = np.array([1.0, 0.0, 0.0])
POSTERIOR = np.array([0.0, 1.0, 0.0])
ANTERIOR = -POSTERIOR
HEAD = np.array([0.0, 0.0, 1.0])

#: typical mobile C-arm for spine work (flat detector): SID 1000 mm, SOD 700 mm
DEFAULT_SID = 1000.0
DEFAULT_SOD = 700.0
#: detector pixel pitch (mm) and size; a 30 cm flat panel read out at 512²
DEFAULT_PIXEL = 0.6
DEFAULT_DETECTOR = 512


def rotation(primary_deg: float, secondary_deg: float) -> Array:
    """Rotation taking the reference C-arm (detector anterior) to the given angles.

    Columns of the result are the images of ``A``, ``L``, ``H``; the secondary
    (tilt about the patient's left-right axis) is applied first, then the primary
    (about the long axis), as a C-arm's angulation rides on its rotation.
    """
    p, s = math.radians(primary_deg), math.radians(secondary_deg)
    # long-axis rotation in the (A, L) plane: A -> cos p A + sin p L
    a_p = math.cos(p) * ANTERIOR + math.sin(p) * LEFT
    l_p = -math.sin(p) * ANTERIOR + math.cos(p) * LEFT
    # tilt in the (A, H) plane: A -> cos s A + sin s H, H -> -sin s A + cos s H
    a = math.cos(s) * a_p + math.sin(s) * HEAD
    h = -math.sin(s) * a_p + math.cos(s) * HEAD
    return np.stack([a, l_p, h], axis=1)


@dataclass(frozen=True)
class CArm:
    """One C-arm position: angles, distances and the flat detector.

    Attributes
    ----------
    primary_deg, secondary_deg
        DICOM Positioner Primary / Secondary Angle (PS3.3 C.8.7.5.1.2).
    isocentre
        Patient LPS mm of the point the central ray passes through.
    sid, sod
        Distance Source to Detector and Source to Patient (isocentre), mm.
    rows, cols
        Detector pixels.
    pixel_mm
        Detector pixel pitch (Imager Pixel Spacing), mm.
    """

    primary_deg: float
    secondary_deg: float
    isocentre: tuple[float, float, float]
    sid: float = DEFAULT_SID
    sod: float = DEFAULT_SOD
    rows: int = DEFAULT_DETECTOR
    cols: int = DEFAULT_DETECTOR
    pixel_mm: float = DEFAULT_PIXEL

    def __post_init__(self) -> None:
        if not (0 < self.sod < self.sid):
            raise ValueError(f"need 0 < SOD < SID, got SOD {self.sod} and SID {self.sid}")
        if not (-180 <= self.primary_deg <= 180 and -90 <= self.secondary_deg <= 90):
            raise ValueError(
                "the primary angle runs -180..180 and the secondary -90..90 degrees "
                f"(PS3.3 C.8.7.5.1.2), got {self.primary_deg}, {self.secondary_deg}"
            )
        if self.rows < 1 or self.cols < 1 or not self.pixel_mm > 0:
            raise ValueError("the detector needs at least one pixel of positive pitch")

    @property
    def magnification(self) -> float:
        """SID / SOD: the magnification of an object at the isocentre (= ERMF)."""
        return self.sid / self.sod

    @property
    def axes(self) -> tuple[Array, Array, Array]:
        """``(d, u, v)``: toward the detector, image column (+col) and row (+row) directions."""
        rot = rotation(self.primary_deg, self.secondary_deg)
        d = rot[:, 0]
        u = rot[:, 1]  # the reference image's columns run toward the patient's left
        v = -rot[:, 2]  # rows run toward the feet: the head is up
        return d, u, v

    @property
    def source(self) -> Array:
        d, _, _ = self.axes
        return np.asarray(self.isocentre, float) - self.sod * d

    @property
    def detector_centre(self) -> Array:
        d, _, _ = self.axes
        return np.asarray(self.isocentre, float) + (self.sid - self.sod) * d

    def pixel_positions(self) -> tuple[Array, Array, Array]:
        """``(q0, du, dv)``: LPS of pixel ``[0, 0]`` and the steps per column and per row."""
        _, u, v = self.axes
        du, dv = u * self.pixel_mm, v * self.pixel_mm
        q0 = self.detector_centre - (self.cols - 1) / 2 * du - (self.rows - 1) / 2 * dv
        return q0, du, dv

    @property
    def projection(self) -> Array:
        """3×4 matrix: homogeneous patient LPS mm → homogeneous detector ``[row, col, 1]``.

        ``[r w, c w, w] = P @ [x, y, z, 1]``, with ``w`` the depth of the point along
        the central ray from the source (mm). Pixel ``[0, 0]``'s centre is the origin
        (SPEC §3).
        """
        d, u, v = self.axes
        f = self.sid / self.pixel_mm
        cr, cc = (self.rows - 1) / 2, (self.cols - 1) / 2
        rot = np.stack([f * v + cr * d, f * u + cc * d, d])
        return np.concatenate([rot, -(rot @ self.source)[:, None]], axis=1)

    def project(self, points: Array) -> Array:
        """Patient LPS points ``(N, 3)`` → detector ``(N, 2)`` ``[row, col]``."""
        p = np.atleast_2d(np.asarray(points, float))
        h = np.concatenate([p, np.ones((len(p), 1))], axis=1) @ self.projection.T
        return h[:, :2] / h[:, 2:3]

    def magnification_at(self, points: Array) -> Array:
        """Magnification (detector mm per patient mm) of points at their depth."""
        d, _, _ = self.axes
        p = np.atleast_2d(np.asarray(points, float))
        return self.sid / ((p - self.source) @ d)

    def patient_orientation(self) -> tuple[str, str]:
        """DICOM Patient Orientation (0020,0020): the patient directions of +col and +row.

        PS3.3 C.7.6.1.1.1: letters of the main direction first, a component counts
        when it is at least 0.25 of the vector (about 15°).
        """
        _, u, v = self.axes
        return _letters(u), _letters(v)


def _letters(vec: Array) -> str:
    names = (("L", "R"), ("P", "A"), ("H", "F"))
    order = np.argsort(-np.abs(vec))
    out = ""
    for k in order:
        if abs(vec[k]) >= 0.25:
            out += names[k][0] if vec[k] > 0 else names[k][1]
    return out
