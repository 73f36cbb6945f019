"""``FluoroImage``: one fluoroscopy image or cine, lazily decoded, with its calibration."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from flannot.errors import FlannotError
from flannot.io import header as hdr
from flannot.io.calibration import Calibration
from flannot.io.frames import FrameSource, LazyFrames
from flannot.io.presentation import Presentation
from flannot.io.view import VIEWS, view_from_header
from flannot.io.windows import Window, derived_window, header_windows, voi_lut_function


class FileParts:
    """What the reader learnt about one DICOM file (``header`` has no pixel data).

    ``header`` is given either parsed or as a function that parses it; the
    function runs on first access (the fast native open needs no pydicom header
    to show frames).
    """

    def __init__(
        self,
        path: Path,
        header: Dataset | Callable[[], Dataset],
        source: FrameSource,
        presentation: Presentation,
        transfer_syntax_uid: str,
        transfer_syntax_name: str,
    ) -> None:
        self.path = path
        self.source = source
        self.presentation = presentation
        self.transfer_syntax_uid = transfer_syntax_uid
        self.transfer_syntax_name = transfer_syntax_name
        if isinstance(header, Dataset):
            self._header: Dataset | None = header
            self._load_header: Callable[[], Dataset] = lambda: header
        else:
            self._header, self._load_header = None, header
        self._lock = threading.Lock()

    @property
    def header(self) -> Dataset:
        """The pydicom header without pixel data (parsed once, on first access)."""
        header = self._header
        if header is None:
            with self._lock:
                if self._header is None:
                    self._header = self._load_header()
                header = self._header
        return header


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
        calibration: Calibration | None = None,
        view: str | None = None,
        view_source: str = "",
    ) -> None:
        self.path = path if isinstance(path, Path) else Path(path)
        self._parts = parts
        first = parts[0]
        # header facts, calibration and view are worked out from the pydicom header
        # on first access (cached properties): showing a frame needs none of them
        if calibration is not None:
            self._calibration = calibration
        if view is not None:
            if view not in VIEWS:
                raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
            self.view = view
            self.view_source = view_source
        self.frames = LazyFrames(
            [p.source for p in parts], [p.presentation.transform for p in parts]
        )
        self.n_frames = len(self.frames)
        self.rows, self.cols = int(first.source.frame_shape[0]), int(first.source.frame_shape[1])
        self.is_rgb = len(first.source.frame_shape) == 3
        self.inverted = first.presentation.inverted
        self.transfer_syntax_uid = first.transfer_syntax_uid
        self.transfer_syntax_name = first.transfer_syntax_name
        self._windows: list[Window] | None = None

    @property
    def decoder(self) -> str:
        """What decodes the pixels: ``"numpy"`` (uncompressed), else the first decoder tried
        for the transfer syntax, e.g. ``"pyjpegls (direct)"`` or ``"pydicom/gdcm"``."""
        names = []
        for part in self._parts:
            name = getattr(part.source, "decoder", "numpy")
            if name not in names:
                names.append(name)
        return ", ".join(names)

    @cached_property
    def raw_frames(self) -> LazyFrames:
        """Stored values (no modality LUT, no inversion), decoded lazily like ``frames``."""
        return LazyFrames([p.source for p in self._parts])

    # --- header facts (parsed on first access) ----------------------------------------
    @property
    def header(self) -> Dataset:
        """The first file's pydicom header, without pixel data."""
        return self._parts[0].header

    @cached_property
    def modality(self) -> str:
        """Modality (0008,0060), upper-case; ``""`` when absent."""
        return hdr.text(self.header, "Modality")

    @cached_property
    def photometric(self) -> str:
        """Photometric Interpretation as stored (before flannot's inversion)."""
        return hdr.text(self.header, "PhotometricInterpretation")

    @cached_property
    def sop_instance_uid(self) -> str:
        """SOP Instance UID (first file of a series)."""
        return str(hdr.find(self.header, "SOPInstanceUID") or "")

    @cached_property
    def series_instance_uid(self) -> str:
        """Series Instance UID."""
        return str(hdr.find(self.header, "SeriesInstanceUID") or "")

    @cached_property
    def study_instance_uid(self) -> str:
        """Study Instance UID."""
        return str(hdr.find(self.header, "StudyInstanceUID") or "")

    @cached_property
    def frame_of_reference_uid(self) -> str:
        """Frame of Reference UID; ``""`` when absent."""
        return str(hdr.find(self.header, "FrameOfReferenceUID") or "")

    @cached_property
    def frame_time_ms(self) -> float | None:
        """ms between frames of a cine; ``None`` for one frame or when unknown."""
        return _frame_time_ms(self.header) if self.n_frames > 1 else None

    @cached_property
    def voi_lut_function(self) -> str:
        """VOI LUT Function: ``LINEAR``, ``LINEAR_EXACT`` or ``SIGMOID``."""
        return voi_lut_function(self.header)

    @cached_property
    def _view(self) -> tuple[str, str]:
        return view_from_header(self.header)

    @cached_property
    def view(self) -> str:
        """``ap``, ``lateral``, ``oblique`` or ``unknown`` (``with_view`` overrides)."""
        return self._view[0]

    @cached_property
    def view_source(self) -> str:
        """Which attribute decided the view, or ``set by the user``."""
        return self._view[1]

    @cached_property
    def _calibration(self) -> Calibration:
        try:
            return Calibration.from_header(self.header)
        except ValueError as exc:  # an overflowing spacing: bad input naming the attribute
            raise FlannotError(str(exc), self.path) from None

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
            mm per pixel, one value or ``(row_mm, col_mm)``, 1e-6 to 1e6 mm.
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
            "decoder": self.decoder,
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
