"""Shared fixtures for the napari tests: tiny XA files and case folders built with pydicom.

GUI tests need napari, pytest-qt and an X display (``xvfb-run -a``); they are
marked ``gui``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def write_xa(
    path: Path,
    *,
    frames: int = 1,
    rows: int = 64,
    cols: int = 80,
    calibration: str = "magnification_corrected",
    window: tuple[float, float] | None = (2048.0, 4096.0),
    seed: int = 0,
) -> Path:
    """Write a small uncompressed XA file.

    ``calibration``: ``magnification_corrected`` (Imager Pixel Spacing 0.3 mm and
    ERMF 1.2 → 0.25 mm), ``detector_plane`` (IPS alone, 0.3 mm) or
    ``uncalibrated`` (no spacing at all).
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.1"  # XA Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "XA"
    ds.PatientName = "Phantom^Test"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if frames > 1:
        ds.NumberOfFrames = frames
        ds.FrameTime = 66.7
    if calibration in ("magnification_corrected", "detector_plane"):
        ds.ImagerPixelSpacing = [0.3, 0.3]
    if calibration == "magnification_corrected":
        ds.EstimatedRadiographicMagnificationFactor = 1.2
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 4000, (frames, rows, cols), dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def make_xa(tmp_path: Path) -> Callable[..., Path]:
    """``make_xa(name="image.dcm", **write_xa_kwargs) -> Path`` in a fresh temp folder."""

    def make(name: str = "image.dcm", **kwargs) -> Path:
        return write_xa(tmp_path / name, **kwargs)

    return make


def write_case_folder(folder: Path, frames: int = 1, annotations: list | None = None) -> Path:
    """A case folder (``image.dcm`` + ``annotations.json``) with the given annotations."""
    write_xa(folder / "image.dcm", frames=frames)
    case = {
        "flannot_version": 1,
        "case_id": folder.name,
        "protocol": "mild",
        "image": {"path": "image.dcm", "frames": frames},
        "annotations": annotations or [],
    }
    (folder / "annotations.json").write_text(json.dumps(case, indent=2))
    return folder


@pytest.fixture
def case_folder(tmp_path: Path) -> Callable[..., Path]:
    """``case_folder(name, frames=1, annotations=None) -> Path`` under a temp folder."""

    def make(name: str = "case-a", frames: int = 1, annotations: list | None = None) -> Path:
        return write_case_folder(tmp_path / name, frames=frames, annotations=annotations)

    return make


@pytest.fixture
def viewer(make_napari_viewer):
    """A napari viewer (closed by napari's fixture after the test)."""
    return make_napari_viewer()
