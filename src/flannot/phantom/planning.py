"""An axial CT planning slice of the phantom v2 at the target interspace (SPEC §3, §4).

The slice is perpendicular to the spine's axis at the target interspace, through
the middle of the target-side ligamentum flavum. Its pixels are the phantom's CT
numbers resampled (trilinear) at 0.5 mm; the reference outlines of the
ligamentum flavum halves are traced on the analytic model itself (the plates the
volume was painted from), so their inscribed thickness is exact — where the MIST
2.5 mm criterion applies (an axial CT/MR slice, never a projection).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian
from scipy import ndimage
from skimage import measure

from flannot import __version__
from flannot.phantom.dicom_writer import IMPLEMENTATION_UID, STUDY_DATE, STUDY_TIME, phantom_uid
from flannot.phantom.volume import SIDES

PIXEL_MM = 0.5
SIZE = 192  # 96 mm field of view around the canal

Array = NDArray[Any]


@dataclass
class PlanningSlice:
    """The slice's CT numbers, its plane and the traced outlines (pixels ``[row, col]``)."""

    hu: NDArray[np.int16]
    origin: Array  # LPS of pixel [0, 0]
    row_dir: Array  # LPS direction of increasing column (DICOM "row direction")
    col_dir: Array  # LPS direction of increasing row
    lf: dict[str, list[list[float]]]
    lf_axial_mm: dict[str, float]


def make_slice(scene: Any) -> PlanningSlice:
    """Cut the planning slice of ``scene`` (a :class:`flannot.phantom.scene.Scene`)."""
    p = scene.params
    an = scene.anatomy
    up, lo = p.target.split("-")
    v, w = an.verts[up], an.verts[lo]
    axis = v.up + w.up
    axis /= np.linalg.norm(axis)
    lf = an.lf_shape(p.target, p.side)
    centre_canal = v.world(an.dura_centre(v))
    # the plane through the LF's centre, perpendicular to the axis
    centre = lf.centre
    centre = centre_canal + ((centre - centre_canal) @ axis) * axis
    # image axes: +col toward the patient's left seen from the feet is radiological
    # convention (patient's right on the image left): row direction = +x (L), column
    # direction = +y (P) after removing the axis component
    left = v.rot[:, 0] - (v.rot[:, 0] @ axis) * axis
    left /= np.linalg.norm(left)
    post = np.cross(axis, left)
    half = (SIZE - 1) / 2 * PIXEL_MM
    origin = centre - half * left - half * post
    rr, cc = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    pts = origin + (cc[..., None] * left + rr[..., None] * post) * PIXEL_MM
    inv = np.linalg.inv(scene.vol.affine)
    idx = pts @ inv[:3, :3].T + inv[:3, 3]
    coords = np.moveaxis(idx, -1, 0)
    hu = ndimage.map_coordinates(scene.vol.hu, coords, order=1, mode="nearest")
    outlines: dict[str, list[list[float]]] = {}
    thickness: dict[str, float] = {}
    for side in SIDES:
        if (p.target, side) not in p.lf_mm:
            continue
        shape = an.lf_shape(p.target, side)
        level = shape.level(pts[..., 0], pts[..., 1], pts[..., 2])
        outlines[side] = _trace(np.asarray(level, float), 1.0, inside_low=True)
        thickness[side] = _inscribed_diameter(shape, origin, left, post)
    return PlanningSlice(
        np.clip(np.rint(hu), -1024, 3071).astype(np.int16),
        origin,
        left,
        post,
        outlines,
        thickness,
    )


def _inscribed_diameter(shape: Any, origin: Array, left: Array, post: Array) -> float:
    """Largest inscribed diameter (mm) of the shape's cut by the slice plane, on a raster
    eight times finer than the image's (the truth the MIST criterion is applied to)."""
    fine = PIXEL_MM / 8
    n = int(SIZE * 8)
    g = np.arange(n) * fine - fine * 3.5
    rr, cc = np.meshgrid(g, g, indexing="ij")
    inside = shape.level(*(origin[a] + cc * left[a] + rr * post[a] for a in range(3))) <= 1.0
    if not inside.any():
        return 0.0
    rows, cols = np.nonzero(inside)
    box = inside[rows.min() - 1 : rows.max() + 2, cols.min() - 1 : cols.max() + 2]
    return float(2 * ndimage.distance_transform_edt(box, sampling=fine).max())


def _trace(img: Array, level: float, *, inside_low: bool) -> list[list[float]]:
    pad_value = img.max() + 1 if inside_low else 0.0
    padded = np.pad(img, 1, constant_values=pad_value)
    contours = measure.find_contours(padded, level)
    if not contours:
        return []
    best = max(contours, key=lambda c: len(c))
    poly = measure.approximate_polygon(best, tolerance=0.1) - 1.0
    if len(poly) > 1 and np.allclose(poly[0], poly[-1]):
        poly = poly[:-1]
    return [[round(float(r), 3), round(float(c), 3)] for r, c in poly]


def ct_dataset(sl: PlanningSlice, *, seed: int, study_seed: int, case_id: str) -> Dataset:
    """A CT Image object (PS3.3 A.3) of the slice, reproducible for the seeds."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = phantom_uid(seed, case_id, "planning")
    ds.InstanceCreationDate, ds.InstanceCreationTime = STUDY_DATE, STUDY_TIME
    ds.PatientName = ""
    ds.PatientID = ""
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "synthetic phantom generated by flannot; no patient data"
    ds.StudyInstanceUID = phantom_uid(study_seed, "study")
    ds.StudyDate, ds.StudyTime = STUDY_DATE, STUDY_TIME
    ds.ReferringPhysicianName = ""
    ds.StudyID = "MILD-SAMPLE"
    ds.AccessionNumber = ""
    ds.StudyDescription = "MILD teaching phantom (lumbar spine fluoroscopy)"
    ds.Modality = "CT"
    ds.SeriesInstanceUID = phantom_uid(seed, case_id, "planning-series")
    ds.SeriesNumber = 90
    ds.SeriesDescription = "Axial planning slice (synthetic CT)"
    ds.BodyPartExamined = "LSPINE"
    ds.PatientPosition = "HFP"
    ds.FrameOfReferenceUID = phantom_uid(study_seed, "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.Manufacturer = "flannot"
    ds.ManufacturerModelName = "synthetic lumbar phantom v2"
    ds.SoftwareVersions = __version__
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = STUDY_DATE, STUDY_TIME
    ds.AcquisitionDate, ds.AcquisitionTime = STUDY_DATE, STUDY_TIME
    ds.AcquisitionNumber = 1
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.DerivationDescription = "resampled from the flannot phantom v2 volume"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    ds.PixelSpacing = [f"{PIXEL_MM:g}", f"{PIXEL_MM:g}"]
    ds.ImageOrientationPatient = [f"{x:.6f}" for x in (*sl.row_dir, *sl.col_dir)]
    ds.ImagePositionPatient = [f"{x:.4f}" for x in sl.origin]
    ds.SliceThickness = "1"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = sl.hu.shape
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.KVP = "120"
    ds.WindowCenter = ["40", "400"]
    ds.WindowWidth = ["400", "1800"]
    ds.WindowCenterWidthExplanation = ["SOFT TISSUE", "BONE"]
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator = "122496003", "SCT"
    item.CodeMeaning = "Lumbar spine"
    ds.AnatomicRegionSequence = Sequence([item])
    ds.PixelData = np.ascontiguousarray(sl.hu, dtype="<i2").tobytes()
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "FLANNOT_" + __version__.replace(".", "")
    ds.file_meta = meta
    return ds


def ct_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()
