"""A small synthetic CT with labelled box "vertebrae", built in the tests (no download).

Grid: 64 × 64 × 80 voxels of 2 mm, axis-aligned in patient LPS (i → left,
j → posterior, k → head), written as NIfTI (RAS+, so the reader's LPS conversion
is exercised). A water-like elliptic body in air; five vertebrae L1–L5 along the
k axis, each a dense body with a posterior arch around a canal and a spinous
process; a small dense bead 30 mm to the patient's left of L3 (the sign marker).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SHAPE = (64, 64, 80)
SPACING = 2.0
#: LPS of voxel (0, 0, 0)
ORIGIN = np.array([-63.0, -63.0, 0.0])
#: TotalSegmentator v2 ids
TS_IDS = {"L1": 31, "L2": 30, "L3": 29, "L4": 28, "L5": 27}
LEVELS = ("L1", "L2", "L3", "L4", "L5")
BONE_HU = 900.0
MARKER_HU = 3000.0
MARKER_LEFT_MM = 30.0


@dataclass
class SyntheticCT:
    hu: np.ndarray
    labels: np.ndarray
    affine_lps: np.ndarray
    centroids: dict[str, np.ndarray]  # LPS mm, from the label voxels
    marker: np.ndarray  # LPS mm
    ct_path: Path | None = None
    labels_path: Path | None = None


def _lps(i, j, k) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return ORIGIN[0] + SPACING * i, ORIGIN[1] + SPACING * j, ORIGIN[2] + SPACING * k


def build() -> SyntheticCT:
    i, j, k = np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij")
    x, y, z = _lps(i, j, k)
    hu = np.full(SHAPE, -1000.0, np.float32)
    body = (x / 58.0) ** 2 + ((y - 0.0) / 50.0) ** 2 <= 1.0
    hu[body] = 30.0
    labels = np.zeros(SHAPE, np.uint8)
    centroids = {}
    for n, level in enumerate(LEVELS):
        zc = 136.0 - 26.0 * n  # L1 cranial (larger z), 26 mm apart, 6 mm discs
        slab = np.abs(z - zc) <= 10.0
        vbody = slab & (np.abs(x) <= 20.0) & (y >= -30.0) & (y <= -2.0)
        canal = (np.abs(x) <= 7.0) & (y > -2.0) & (y < 14.0)
        arch = slab & (np.abs(x) <= 15.0) & (y >= -2.0) & (y <= 20.0) & ~canal
        spinous = slab & (np.abs(z - zc) <= 6.0) & (np.abs(x) <= 3.0) & (y > 20.0) & (y <= 40.0)
        vert = vbody | arch | spinous
        hu[vert] = BONE_HU
        labels[vert] = TS_IDS[level]
        idx = np.argwhere(labels == TS_IDS[level]).mean(axis=0)
        centroids[level] = ORIGIN + SPACING * idx
    marker = np.array([MARKER_LEFT_MM, -20.0, centroids["L3"][2]])
    bead = (x - marker[0]) ** 2 + (y - marker[1]) ** 2 + (z - marker[2]) ** 2 <= 3.0**2
    hu[bead] = MARKER_HU
    affine = np.eye(4)
    affine[:3, :3] *= SPACING
    affine[:3, 3] = ORIGIN
    return SyntheticCT(hu, labels, affine, centroids, marker)


def write_nifti(ct: SyntheticCT, folder: Path) -> SyntheticCT:
    import nibabel as nib

    ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ct.affine_lps
    folder.mkdir(parents=True, exist_ok=True)
    ct.ct_path = folder / "ct.nii.gz"
    ct.labels_path = folder / "seg.nii.gz"
    nib.save(nib.Nifti1Image(ct.hu.astype(np.int16), ras), str(ct.ct_path))
    nib.save(nib.Nifti1Image(ct.labels, ras), str(ct.labels_path))
    return ct


def write_dicom_series(ct: SyntheticCT, folder: Path, tilt_mm: float = 0.0) -> Path:
    """The CT as a DICOM CT series (one file per k slice); ``tilt_mm`` shears it."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series = generate_uid(entropy_srcs=["synthetic-series", str(tilt_mm)])
    for kk in range(SHAPE[2]):
        ds = Dataset()
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = generate_uid(entropy_srcs=["synthetic", str(tilt_mm), str(kk)])
        ds.SeriesInstanceUID = series
        ds.Modality = "CT"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        pos = ORIGIN + [0.0, kk * tilt_mm, kk * SPACING]
        ds.ImagePositionPatient = [float(v) for v in pos]
        ds.PixelSpacing = [SPACING, SPACING]
        ds.Rows, ds.Columns = SHAPE[1], SHAPE[0]
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.PixelData = np.ascontiguousarray(ct.hu[:, :, kk].T.astype("<i2")).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.save_as(folder / f"slice{kk:03d}.dcm", enforce_file_format=True)
    return folder
