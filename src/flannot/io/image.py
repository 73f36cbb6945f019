"""``FluoroImage``: one fluoroscopy image or cine, lazily decoded, with its calibration."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from flannot.io import header as hdr
from flannot.io.calibration import Calibration
from flannot.io.frames import FrameSource, LazyFrames
from flannot.io.presentation import Presentation
from flannot.io.view import VIEWS
from flannot.io.windows import Window, derived_window, header_windows, voi_lut_function


@dataclass(frozen=True)
class FileParts:
    """What the reader learnt about one DICOM file (``header`` has no pixel data)."""

    path: Path
    header: Dataset
    source: FrameSource
    presentation: Presentation
    transfer_syntax_uid: str
    transfer_syntax_name: str


class FluoroImage:
    """A fluoroscopy image or cine: lazy frames, calibration, view and windows.

    Made by :func:`flannot.read_dicom`; see ``docs/architecture.md`` for the
    attributes. ``frames`` holds presentation values (modality LUT applied,
    MONOCHROME1 inverted: larger = brighter); ``raw_frames`` the stored values.
    Both decode one frame at a time.
    """

    def __init__(
        self,
        path: Path,
        parts: list[FileParts],
        calibration: Calibration,
        view: str,
        view_source: str,
    ) -> None:
        self.path = Path(path)
        self._parts = parts
        first = parts[0]
        self.header: Dataset = first.header
        self._calibration = calibration
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        self.view = view
        self.view_source = view_source
        sources = [p.source for p in parts]
        self.frames = LazyFrames(sources, [p.presentation.transform for p in parts])
        self.raw_frames = LazyFrames(sources)
        self.n_frames = len(self.frames)
        self.rows, self.cols = int(first.source.frame_shape[0]), int(first.source.frame_shape[1])
        self.is_rgb = len(first.source.frame_shape) == 3
        ds = self.header
        self.modality = hdr.text(ds, "Modality")
        self.photometric = hdr.text(ds, "PhotometricInterpretation")
        self.inverted = first.presentation.inverted
        self.transfer_syntax_uid = first.transfer_syntax_uid
        self.transfer_syntax_name = first.transfer_syntax_name
        self.sop_instance_uid = str(hdr.find(ds, "SOPInstanceUID") or "")
        self.series_instance_uid = str(hdr.find(ds, "SeriesInstanceUID") or "")
        self.study_instance_uid = str(hdr.find(ds, "StudyInstanceUID") or "")
        self.frame_of_reference_uid = str(hdr.find(ds, "FrameOfReferenceUID") or "")
        self.frame_time_ms = _frame_time_ms(ds) if self.n_frames > 1 else None
        self.voi_lut_function = voi_lut_function(ds)
        self._windows: list[Window] | None = None

    # --- calibration ------------------------------------------------------------------
    @property
    def calibration(self) -> str:
        """One of the SPEC §2 calibration kinds (``uncalibrated`` … ``user``)."""
        return self._calibration.kind

    @property
    def spacing_mm(self) -> tuple[float, float] | None:
        """``(row_mm, col_mm)``; ``None`` when uncalibrated."""
        return self._calibration.spacing_mm

    @property
    def calibration_note(self) -> str:
        """One sentence on what the calibration means for the user."""
        return self._calibration.note

    @property
    def calibration_info(self) -> Calibration:
        """The full :class:`Calibration` (kind, spacing, source attributes)."""
        return self._calibration

    def with_user_calibration(self, spacing_mm: float | tuple[float, float]) -> FluoroImage:
        """A copy calibrated by the user (``calibration == "user"``).

        Parameters
        ----------
        spacing_mm
            mm per pixel, one value or ``(row_mm, col_mm)``, finite and > 0.
        """
        other = copy.copy(self)
        other._calibration = Calibration.user(spacing_mm)
        return other

    def with_view(self, view: str) -> FluoroImage:
        """A copy with the view overridden (``ap``, ``lateral``, ``oblique``, ``unknown``)."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
        other = copy.copy(self)
        other.view = view
        other.view_source = "set by the user"
        return other

    # --- windows ----------------------------------------------------------------------
    @property
    def windows(self) -> list[Window]:
        """Window presets, the default first: all header windows, else one derived from data.

        Deriving decodes the middle frame once (on first access, not at open).
        """
        if self._windows is None:
            if self.is_rgb:
                wins = [Window(127.5, 255.0, "RGB: full 8-bit range")]
            else:
                p = self._parts[0].presentation
                about = p.range[0] + p.range[1] if p.inverted else None
                wins = header_windows(self.header, about)
                if not wins:
                    mid = self.n_frames // 2
                    wins = [derived_window(self.frames.frame(mid), mid)]
            self._windows = wins
        return self._windows

    # --- summary ----------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        """The facts ``flannot info --json`` prints (JSON-serialisable)."""
        spacing = self.spacing_mm
        return {
            "path": str(self.path),
            "files": len(self._parts),
            "modality": self.modality,
            "view": self.view,
            "view_source": self.view_source,
            "frames": self.n_frames,
            "rows": self.rows,
            "columns": self.cols,
            "rgb": self.is_rgb,
            "pixel_spacing_mm": None if spacing is None else [spacing[0], spacing[1]],
            "calibration": self.calibration,
            "calibration_note": self.calibration_note,
            "calibration_source": self._calibration.source,
            "photometric_interpretation": self.photometric,
            "inverted": self.inverted,
            "dtype": str(self.frames.dtype),
            "stored_dtype": str(self.raw_frames.dtype),
            "transfer_syntax_uid": self.transfer_syntax_uid,
            "transfer_syntax_name": self.transfer_syntax_name,
            "windows": [w.to_dict() for w in self.windows],
            "voi_lut_function": self.voi_lut_function,
            "frame_time_ms": self.frame_time_ms,
            "sop_instance_uid": self.sop_instance_uid,
            "series_instance_uid": self.series_instance_uid,
        }

    def __repr__(self) -> str:
        return (
            f"FluoroImage({str(self.path)!r}, frames={self.n_frames}, {self.rows}x{self.cols},"
            f" {self.modality or '?'}, view={self.view}, calibration={self.calibration})"
        )


def _frame_time_ms(ds: Dataset) -> float | None:
    """Frame Time, else from Cine Rate / Recommended Display Frame Rate / Frame Time Vector."""
    ft = hdr.positive_float(ds, "FrameTime")
    if ft is not None:
        return ft
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = hdr.positive_float(ds, keyword)
        if rate is not None:
            return 1000.0 / rate
    vector = hdr.as_floats(hdr.find(ds, "FrameTimeVector"))
    if vector and len(vector) > 1 and all(v > 0 for v in vector[1:]):
        return sum(vector[1:]) / (len(vector) - 1)
    return None
