"""CT volumes and vertebra labelmaps for the virtual C-arm (SPEC §15 input).

A :class:`CTVolume` is a 3D array of CT numbers (HU) with the affine from voxel
indices ``(i, j, k)`` to patient LPS millimetres. NIfTI files (read with nibabel)
store RAS+ world coordinates, which become LPS by negating x and y; DICOM CT
series are sorted and oriented by Image Position / Orientation (Patient)
(PS3.3 C.7.6.2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flannot.errors import FlannotError
from flannot.safe_files import walk_files

#: RAS+ (NIfTI world) → LPS (DICOM patient)
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0, 1.0])

#: vertebra label conventions (SPEC §15)
TOTALSEGMENTATOR = {
    26: "S1",
    27: "L5",
    28: "L4",
    29: "L3",
    30: "L2",
    31: "L1",
    **{32 + n: f"T{12 - n}" for n in range(12)},
    **{44 + n: f"C{7 - n}" for n in range(7)},
}
VERSE = {
    **{n: f"C{n}" for n in range(1, 8)},
    **{7 + n: f"T{n}" for n in range(1, 13)},
    **{19 + n: f"L{n}" for n in range(1, 6)},
    25: "L6",
    28: "T13",
}
CONVENTIONS = {"totalsegmentator": TOTALSEGMENTATOR, "verse": VERSE}

#: anatomical order, cranial first, for sorting levels
LEVEL_ORDER = (
    [f"C{n}" for n in range(1, 8)]
    + [f"T{n}" for n in range(1, 14)]
    + [f"L{n}" for n in range(1, 7)]
    + ["S1"]
)

#: largest label id a JSON label map may name
MAX_LABEL = 65535
#: refuse volumes larger than this many voxels (a 1024×1024×1000 CT)
MAX_VOXELS = 1024 * 1024 * 1000


@dataclass
class CTVolume:
    """CT numbers on a voxel grid.

    Attributes
    ----------
    hu
        ``(I, J, K)`` array of Hounsfield units.
    affine
        4×4 voxel index → patient LPS mm.
    source
        Where it was read from (for messages and provenance).
    """

    hu: NDArray
    affine: NDArray[np.float64]
    source: str = ""

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.hu.shape)  # type: ignore[return-value]

    @property
    def spacing(self) -> NDArray[np.float64]:
        return np.linalg.norm(self.affine[:3, :3], axis=0)

    def centre(self) -> NDArray[np.float64]:
        idx = (np.asarray(self.shape, float) - 1) / 2
        return self.affine[:3, :3] @ idx + self.affine[:3, 3]


def _check_shape(shape: tuple[int, ...], path: Path) -> None:
    if len(shape) != 3:
        raise FlannotError(f"expected a 3D volume, got {len(shape)}D {shape}", path)
    if min(shape) < 2:
        raise FlannotError(f"a CT volume needs at least 2 voxels on each axis, got {shape}", path)
    if int(np.prod(shape, dtype=np.int64)) > MAX_VOXELS:
        raise FlannotError(f"volume {shape} is larger than {MAX_VOXELS} voxels", path)


def _load_nifti(path: Path):
    import nibabel as nib

    try:
        img: Any = nib.load(str(path))  # a Nifti1Image/Nifti2Image (shape, dataobj, affine)
        shape = tuple(int(n) for n in img.shape)
    except Exception as exc:  # nibabel raises many kinds on a damaged file
        raise FlannotError(f"not a readable NIfTI file ({exc})", path) from None
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    _check_shape(shape, path)
    try:
        data = np.asarray(img.dataobj).reshape(shape)
    except Exception as exc:
        raise FlannotError(f"cannot read the voxel data ({exc})", path) from None
    affine = RAS_TO_LPS @ np.asarray(img.affine, dtype=np.float64)
    return data, affine


def _load_dicom_series(folder: Path) -> tuple[NDArray, NDArray[np.float64]]:
    import pydicom

    slices = []
    for f in walk_files(folder, symlinks=True):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True, force=False)
        except Exception:
            continue
        if "ImagePositionPatient" not in ds or "ImageOrientationPatient" not in ds:
            continue
        slices.append((f, ds))
    if len(slices) < 2:
        raise FlannotError("no DICOM CT series with at least 2 slices found", folder)
    series = {str(ds.get("SeriesInstanceUID", "")) for _, ds in slices}
    if len(series) > 1:
        raise FlannotError(f"holds {len(series)} series; give the folder of one", folder)
    iop = np.asarray(slices[0][1].ImageOrientationPatient, float)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    pos = np.array([np.asarray(ds.ImagePositionPatient, float) for _, ds in slices])
    order = np.argsort(pos @ normal)
    pos = pos[order]
    slices = [slices[i] for i in order]
    for f, ds in slices:
        if not np.allclose(np.asarray(ds.ImageOrientationPatient, float), iop, atol=1e-4):
            raise FlannotError("slices have different orientations", f)
    steps = np.diff(pos, axis=0)
    dz = steps @ normal
    if np.any(dz <= 1e-6):
        raise FlannotError("two slices share one position", folder)
    lateral = steps - dz[:, None] * normal
    if np.abs(lateral).max() > 0.01 * float(np.median(dz)) + 1e-3:
        raise FlannotError(
            "the slices are not stacked along their normal (gantry tilt or a sheared "
            "series); resample it to an orthogonal grid first",
            folder,
        )
    if np.ptp(dz) > 0.01 * float(np.median(dz)) + 1e-3:
        raise FlannotError("the slice spacing is not uniform (missing slices?)", folder)
    first = slices[0][1]
    rows, cols = int(first.Rows), int(first.Columns)
    _check_shape((cols, rows, len(slices)), folder)
    ps = np.asarray(first.PixelSpacing, float)  # [row spacing, column spacing]
    data = np.empty((cols, rows, len(slices)), np.float32)
    for k, (f, head) in enumerate(slices):
        if int(head.Rows) != rows or int(head.Columns) != cols:
            raise FlannotError("slices differ in size", f)
        try:  # one slice's pixels at a time (the headers were read without them)
            ds = pydicom.dcmread(f)
            arr = ds.pixel_array.astype(np.float32)
        except Exception as exc:
            raise FlannotError(f"cannot decode the pixel data ({exc})", f) from None
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        data[:, :, k] = (arr * slope + intercept).T
    affine = np.eye(4)
    affine[:3, 0] = row_dir * ps[1]  # i runs along a row (columns)
    affine[:3, 1] = col_dir * ps[0]  # j runs down the rows
    affine[:3, 2] = normal * float(np.median(dz))
    affine[:3, 3] = pos[0]
    return data, affine


def load_ct(path: str | Path) -> CTVolume:
    """Read a CT volume: a NIfTI file (``.nii``/``.nii.gz``) or a DICOM series folder.

    Raises
    ------
    FlannotError
        Missing, unreadable, not 3D, a tilted-gantry series, …: one line naming the path.
    """
    p = Path(path)
    if not p.exists():
        raise FlannotError("no such file or folder", p)
    if p.is_dir():
        data, affine = _load_dicom_series(p)
    else:
        data, affine = _load_nifti(p)
    return CTVolume(data, affine, str(p))


def load_labels(path: str | Path, ct: CTVolume) -> NDArray[np.integer]:
    """Read a labelmap on the CT's grid (same shape and affine within 0.01 mm)."""
    p = Path(path)
    if not p.exists():
        raise FlannotError("no such file or folder", p)
    lab = _load_dicom_series(p) if p.is_dir() else _load_nifti(p)
    data, affine = lab
    if tuple(data.shape) != ct.shape or not np.allclose(affine, ct.affine, atol=1e-2):
        raise FlannotError(
            f"the labelmap is on another grid than the CT {Path(ct.source).name} "
            f"(shape {tuple(data.shape)} vs {ct.shape}); resample it onto the CT first",
            p,
        )
    arr = np.asarray(data)
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise FlannotError("labels must be whole numbers", p)
        arr = arr.astype(np.int32)
    return arr


def label_convention(name: str | Path) -> dict[int, str]:
    """Label id → vertebra level for ``totalsegmentator``, ``verse`` or a JSON file.

    The JSON file maps ids (as strings or numbers) to levels, e.g. ``{"5": "L3"}``;
    other structures (non-vertebral labels) are left out.
    """
    key = str(name).lower()
    if key in CONVENTIONS:
        return dict(CONVENTIONS[key])
    p = Path(name)
    if not p.is_file():
        raise FlannotError(
            "unknown label convention (use totalsegmentator, verse or a JSON file)", name
        )
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FlannotError(f"not a JSON label map ({exc})", p) from None
    if not isinstance(raw, dict):
        raise FlannotError('a label map is a JSON object such as {"29": "L3"}', p)
    out: dict[int, str] = {}
    for k, v in raw.items():
        try:
            lid = int(k)
        except ValueError:
            raise FlannotError(f"label id {k!r} is not a whole number", p) from None
        if not 0 < lid <= MAX_LABEL:
            raise FlannotError(f"label id {lid} is outside 1-{MAX_LABEL}", p)
        level = str(v).upper()
        if level not in LEVEL_ORDER:
            raise FlannotError(f"label {lid}: {v!r} is not a vertebra level", p)
        out[lid] = level
    return out


def level_index(level: str) -> int:
    """Cranio-caudal position of a vertebra level (C1 = 0)."""
    return LEVEL_ORDER.index(level)
