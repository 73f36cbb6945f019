"""Where the millimetres come from: the calibration table of SPEC §2 (PS3.3 §10.7.1.1–3).

A projection image has no single "true" pixel size: anatomy between the X-ray
source and the detector is magnified by SID/SOD. DICOM records several spacings
with different meanings; :meth:`Calibration.from_header` picks the most
trustworthy one, highest precedence first:

=========================  ===================================================
``user``                   a calibration line of known length drawn by the user
``fiducial``               Pixel Spacing, Calibration Type FIDUCIAL
``geometry``               Pixel Spacing, Calibration Type GEOMETRY
``calibrated``             Pixel Spacing differs from Imager (or Nominal Scanned)
                           Pixel Spacing, no type
``magnification_corrected``  Imager Pixel Spacing ÷ Estimated Radiographic
                           Magnification Factor, or × SOD/SID
``detector_plane``         Imager Pixel Spacing alone, or equal to Pixel Spacing
``pixel_spacing``          Pixel Spacing alone (plane unknown)
``uncalibrated``           nothing usable: pixels only
=========================  ===================================================

Zero, negative, non-finite or malformed values count as absent. See
``docs/calibration.md`` for the user-facing explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydicom.dataset import Dataset

from flannot.enums import StrEnum
from flannot.io import header as hdr
from flannot.model.limits import SPACING_RANGE  # outside it a header is broken, not an image


class CalibrationKind(StrEnum):
    """Where a spacing comes from (SPEC §2), highest precedence first."""

    USER = "user"
    FIDUCIAL = "fiducial"
    GEOMETRY = "geometry"
    CALIBRATED = "calibrated"
    MAGNIFICATION_CORRECTED = "magnification_corrected"
    DETECTOR_PLANE = "detector_plane"
    PIXEL_SPACING = "pixel_spacing"
    UNCALIBRATED = "uncalibrated"


CALIBRATIONS: tuple[str, ...] = tuple(k.value for k in CalibrationKind)

#: one phrase per kind: what the mm mean (the Measure dock's header, the gallery)
MEANINGS: dict[str, str] = {
    "user": "calibrated by your calibration line, valid at the depth of that object",
    "fiducial": "calibrated by the modality against an object of known size",
    "geometry": "corrected by the modality for magnification",
    "calibrated": "corrected or calibrated by the modality, method unstated",
    "magnification_corrected": "estimated patient-plane mm at the isocentre",
    "detector_plane": "mm at the detector: anatomy is magnified (often 10–50 %)",
    "pixel_spacing": "mm, but the plane of a projection image cannot be determined",
    "uncalibrated": "no spacing in the file: pixels only (draw a calibration line for mm)",
}

#: the kinds whose numbers a reader must be warned about, and the warning
WARNINGS: dict[str, str] = {
    "detector_plane": "mm at the detector plane: anatomy is magnified (often 10-50 %)",
    "pixel_spacing": "Pixel Spacing without a calibration type: the plane of the mm is unknown",
    "uncalibrated": "no pixel spacing: lengths are in pixels",
}

NOTES = {
    "user": "Calibrated from a line of known length drawn by the user: mm are correct at the "
    "depth of that object only.",
    "fiducial": "Pixel Spacing calibrated by the modality against an object of known size "
    "(FIDUCIAL): mm are correct at the depth of that object.",
    "geometry": "Pixel Spacing corrected by the modality for the geometric magnification "
    "(GEOMETRY): mm are estimates in the patient plane.",
    "calibrated": "Pixel Spacing differs from the detector spacing: the modality corrected or "
    "calibrated it, but did not say how.",
    "magnification_corrected": "Detector spacing corrected by the estimated magnification: mm "
    "are estimates for anatomy at the isocentre depth only.",
    "detector_plane": "Warning: spacing at the detector, anatomy is magnified (often 10-50 %) so "
    "mm overstate true sizes; calibrate on an object of known size.",
    "pixel_spacing": "Pixel Spacing with no stated plane: on a projection image it cannot be "
    "known whether mm are at the detector (magnified) or in the patient.",
    "uncalibrated": "No usable pixel spacing: measurements are in pixels only.",
}


@dataclass(frozen=True)
class Calibration:
    """A pixel spacing and what it means.

    Attributes
    ----------
    kind
        One of :data:`CALIBRATIONS`.
    spacing_mm
        ``(row_mm, col_mm)``, ``None`` when ``kind == "uncalibrated"``.
    source
        Which attributes (and values) the spacing came from, for ``flannot info``.
    """

    kind: str
    spacing_mm: tuple[float, float] | None
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in CALIBRATIONS:
            raise ValueError(f"unknown calibration {self.kind!r}")
        if (self.spacing_mm is None) != (self.kind == "uncalibrated"):
            raise ValueError("spacing_mm must be None exactly when uncalibrated")

    @property
    def note(self) -> str:
        """One sentence: where the spacing came from and what it means for the user."""
        return NOTES[self.kind]

    @classmethod
    def user(cls, spacing_mm: float | tuple[float, float], source: str = "") -> Calibration:
        """A user calibration; ``spacing_mm`` is one value or ``(row_mm, col_mm)``, within
        :data:`SPACING_RANGE` (what a case file may record)."""
        pair = (spacing_mm, spacing_mm) if isinstance(spacing_mm, (int, float)) else spacing_mm
        row, col = (float(v) for v in pair)
        lo, hi = SPACING_RANGE
        if not (lo <= row <= hi and lo <= col <= hi):  # NaN fails both
            raise ValueError(f"spacing must be {lo:g}–{hi:g} mm, got {spacing_mm!r}")
        return cls("user", (row, col), source or "calibration line drawn by the user")

    @classmethod
    def from_header(cls, ds: Dataset) -> Calibration:
        """Apply the precedence table to a header (Enhanced functional groups included).

        Raises
        ------
        ValueError
            A spacing, magnification or distance that overflows (``1e400``), or a
            derived spacing outside :data:`SPACING_RANGE` (IPS / ERMF 1e-320 = inf):
            the message names the attributes; the reader adds the file.
        """
        for keyword in _NUMERIC:
            values = hdr.find(ds, keyword)
            if values is None or isinstance(values, (str, bytes)):
                continue
            try:
                floats = [float(v) for v in (values if hasattr(values, "__iter__") else [values])]
            except (TypeError, ValueError):
                continue  # malformed counts as absent
            if not all(math.isfinite(v) and abs(v) <= 1e30 for v in floats):
                raise ValueError(f"{_spaced(keyword)} {values} overflows")
        found = cls._from_header(ds)
        if found.spacing_mm is not None:
            lo, hi = SPACING_RANGE
            if not all(lo <= v <= hi for v in found.spacing_mm):
                raise ValueError(
                    f"pixel spacing {found.spacing_mm[0]:g}\\{found.spacing_mm[1]:g} mm from"
                    f" {found.source} is outside {lo:g}–{hi:g} mm"
                )
        return found

    @classmethod
    def _from_header(cls, ds: Dataset) -> Calibration:
        ps = hdr.positive_pair(ds, "PixelSpacing")
        ips = hdr.positive_pair(ds, "ImagerPixelSpacing")
        ips_name = "Imager Pixel Spacing"
        if ips is None:
            ips = hdr.positive_pair(ds, "NominalScannedPixelSpacing")
            ips_name = "Nominal Scanned Pixel Spacing"
        ctype = hdr.text(ds, "PixelSpacingCalibrationType")

        if ps is not None:
            if ctype == "FIDUCIAL":
                return cls("fiducial", ps, f"Pixel Spacing {_fmt(ps)} (FIDUCIAL)")
            if ctype == "GEOMETRY":
                return cls("geometry", ps, f"Pixel Spacing {_fmt(ps)} (GEOMETRY)")
            if ips is not None and not _same(ps, ips):
                return cls(
                    "calibrated",
                    ps,
                    f"Pixel Spacing {_fmt(ps)} differs from {ips_name} {_fmt(ips)}",
                )
        # Enhanced XA: the modality's own isocentre estimate
        ops = hdr.positive_pair(ds, "ObjectPixelSpacingInCenterOfBeam")
        if ops is not None:
            return cls(
                "magnification_corrected",
                ops,
                f"Object Pixel Spacing in Center of Beam {_fmt(ops)}",
            )
        if ips is not None:
            ermf = hdr.positive_float(ds, "EstimatedRadiographicMagnificationFactor")
            if ermf is not None:
                spacing = (ips[0] / ermf, ips[1] / ermf)
                return cls(
                    "magnification_corrected",
                    spacing,
                    f"{ips_name} {_fmt(ips)} / Estimated Radiographic Magnification Factor "
                    f"{ermf:g}",
                )
            sod = hdr.positive_float(ds, "DistanceSourceToPatient")
            sod_name = "Distance Source to Patient"
            if sod is None:
                sod = hdr.positive_float(ds, "DistanceSourceToIsocenter")
                sod_name = "Distance Source to Isocenter"
            sid = hdr.positive_float(ds, "DistanceSourceToDetector")
            if sod is not None and sid is not None and sod <= sid:
                spacing = (ips[0] * sod / sid, ips[1] * sod / sid)
                return cls(
                    "magnification_corrected",
                    spacing,
                    f"{ips_name} {_fmt(ips)} x {sod_name} {sod:g} / Distance Source to Detector "
                    f"{sid:g}",
                )
            return cls("detector_plane", ips, f"{ips_name} {_fmt(ips)}")
        if ps is not None:
            return cls("pixel_spacing", ps, f"Pixel Spacing {_fmt(ps)}")
        return cls("uncalibrated", None, "no usable Pixel Spacing or Imager Pixel Spacing")


_NUMERIC = (
    "PixelSpacing",
    "ImagerPixelSpacing",
    "NominalScannedPixelSpacing",
    "ObjectPixelSpacingInCenterOfBeam",
    "EstimatedRadiographicMagnificationFactor",
    "DistanceSourceToPatient",
    "DistanceSourceToIsocenter",
    "DistanceSourceToDetector",
)


def _spaced(keyword: str) -> str:
    """``PixelSpacing`` → ``Pixel Spacing`` (the attribute's name as PS3.6 writes it)."""
    return "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(keyword))


def _same(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9) for x, y in zip(a, b, strict=True))


def _fmt(pair: tuple[float, float]) -> str:
    return f"{pair[0]:g}\\{pair[1]:g} mm"
