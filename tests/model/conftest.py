"""Fixtures for the case model tests: a valid MILD case and a small DICOM to go with it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from flannot.model import Annotation, Case, Geometry, ImageRef

ROWS, COLS = 300, 200
SOP_UID = "1.2.826.0.1.3680043.8.498.1"


def write_dicom(
    path: Path, rows: int = ROWS, cols: int = COLS, frames: int = 1, sop_uid: str = SOP_UID
) -> Path:
    """A tiny monochrome X-ray angiography-like file (header facts are what matter here)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.12.1"  # XA
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "XA"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = bytes(rows * cols * frames)
    ds.save_as(path, enforce_file_format=True)
    return path


def build_case() -> Case:
    """A valid lateral MILD case using every geometry kind, vertebrae L1–S1 in order."""
    anns: list[Annotation] = []
    for n, (level, row) in enumerate(
        [("L1", 30.0), ("L2", 70.25), ("L3", 110.5), ("L4", 150.0), ("L5", 190.125), ("S1", 240.0)]
    ):
        anns.append(
            Annotation(f"v{n + 1}", "vertebra", Geometry("point", [[row, 100.0]]), level=level)
        )
    anns[3] = Annotation(
        "v4",
        "vertebra",
        Geometry("polygon", [[140.0, 80.0], [140.0, 120.0], [160.0, 120.0], [160.0, 80.0]]),
        level="L4",
    )
    mask = np.zeros((ROWS, COLS), dtype=bool)
    mask[165:175, 120:140] = True
    anns += [
        Annotation(
            "ils1",
            "interlaminar_space",
            Geometry("polygon", [[165.0, 90.0], [165.0, 110.0], [178.0, 110.0], [178.0, 90.0]]),
            level="L4-L5",
        ),
        Annotation(
            "lf1",
            "ligamentum_flavum",
            Geometry.from_mask(mask),
            level="L4-L5",
            side="left",
            author="dr. who",
        ),
        Annotation(
            "sc1",
            "spinal_canal",
            Geometry("polygon", [[160.0, 60.0], [160.0, 75.0], [180.0, 75.0], [180.0, 60.0]]),
            level="L4-L5",
        ),
        Annotation(
            "ec1",
            "epidural_contrast",
            Geometry("path", [[150.0, 70.0], [170.0, 72.5], [190.0, 74.0]]),
            level="L4-L5",
            side="left",
        ),
        Annotation(
            "c1",
            "cannula",
            Geometry("line", [[170.0, 190.0], [170.0, 130.0]]),
            level="L4-L5",
            side="left",
            instrument="portal",
            note="entry → tip",
        ),
        Annotation(
            "cal1", "calibration", Geometry("line", [[10.0, 10.0], [10.0, 60.0]]), length_mm=10.0
        ),
        Annotation("red1", "redaction", Geometry("rectangle", [[0.0, 0.0], [12.0, 80.0]])),
    ]
    return Case(
        case_id="case-001",
        image=ImageRef(
            "image.dcm",
            sop_instance_uid=SOP_UID,
            frames=1,
            spacing_mm=(0.2, 0.2),
            calibration="magnification_corrected",
            rows=ROWS,
            columns=COLS,
        ),
        annotations=anns,
        notes="# Teaching points\nWork dorsal to the contrast line.",
        created="2026-11-21T10:00:00Z",
        modified="2026-11-21T10:05:00Z",
        author="educator",
    )


@pytest.fixture
def case() -> Case:
    return build_case()


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    """A case folder: image.dcm + annotations.json (valid)."""
    folder = tmp_path / "case-001"
    folder.mkdir()
    write_dicom(folder / "image.dcm")
    build_case().save(folder)
    return folder


@pytest.fixture
def dicom_writer() -> Callable[..., Path]:
    return write_dicom
