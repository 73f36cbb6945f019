"""The simulated shot as an X-Ray Angiographic Image object (PS3.3 A.14), reproducibly.

UIDs are derived from a content key (the CT, the geometry, the seed) with
:func:`pydicom.uid.generate_uid` ``entropy_srcs``; dates and times are fixed, so
the same inputs always give the same bytes. No patient identifier is copied from
the CT: the object is de-identified by construction (PS3.15 Annex E).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, XRayAngiographicImageStorage, generate_uid

from flannot import __version__

DATE, TIME = "20261121", "100000"
IMPLEMENTATION_UID = generate_uid(entropy_srcs=["flannot", "implementation-class"])


def sim_uid(key: str, *parts: str) -> UID:
    """A UID that depends only on the content ``key`` and ``parts``."""
    return generate_uid(entropy_srcs=["flannot-sim", key, *parts])


def _ds(value: float) -> str:
    text = f"{value:.10g}"
    return text if len(text) <= 16 else f"{value:.8g}"


@dataclass
class ShotInfo:
    """Acquisition facts written into the object."""

    key: str  # content key for UIDs (CT + geometry + seed)
    case_id: str
    description: str
    primary_deg: float
    secondary_deg: float
    patient_orientation: tuple[str, str]
    patient_position: str  # HFP, HFS
    pixel_mm: float
    sid: float
    sod: float
    kvp: float
    window: tuple[float, float]
    bits: int = 12
    tube_current_ma: int = 4
    pulse_ms: int = 8
    focal_spot_mm: float = 0.6


def build_xa(pixels: NDArray[np.uint16], s: ShotInfo) -> Dataset:
    """An XA Image dataset for one frame of stored values (MONOCHROME2)."""
    rows, cols = pixels.shape
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = XRayAngiographicImageStorage
    ds.SOPInstanceUID = sim_uid(s.key, "instance")
    ds.InstanceCreationDate, ds.InstanceCreationTime = DATE, TIME
    # Patient: simulated from a CT, nothing identifying copied (Type 2 left empty)
    ds.PatientName = ""
    ds.PatientID = ""
    ds.PatientBirthDate = ""
    ds.PatientSex = ""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "simulated from CT by flannot sim; no identifiers copied"
    # General Study
    ds.StudyInstanceUID = sim_uid(s.key, "study")
    ds.StudyDate, ds.StudyTime = DATE, TIME
    ds.ReferringPhysicianName = ""
    ds.StudyID = "FLANNOT-SIM"
    ds.AccessionNumber = ""
    ds.StudyDescription = "Virtual C-arm (simulated fluoroscopy from CT)"
    # General Series
    ds.Modality = "XA"
    ds.SeriesInstanceUID = sim_uid(s.key, "series")
    ds.SeriesNumber = 1
    ds.SeriesDescription = s.description[:64]
    ds.SeriesDate, ds.SeriesTime = DATE, TIME
    ds.BodyPartExamined = "LSPINE"
    ds.PatientPosition = s.patient_position
    # Frame of Reference: the patient LPS frame the projection matrix maps from
    ds.FrameOfReferenceUID = sim_uid(s.key, "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    # General Equipment
    ds.Manufacturer = "flannot"
    ds.ManufacturerModelName = "virtual C-arm"
    ds.SoftwareVersions = __version__
    # General Image
    ds.InstanceNumber = 1
    ds.PatientOrientation = list(s.patient_orientation)
    ds.ContentDate, ds.ContentTime = DATE, TIME
    ds.AcquisitionDate, ds.AcquisitionTime = DATE, TIME
    ds.ImageType = ["DERIVED", "PRIMARY", "SINGLE PLANE"]
    ds.DerivationDescription = "digitally reconstructed radiograph from CT (flannot sim)"
    ds.ImageComments = s.description[:10240]
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    # Image Pixel
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 16
    ds.BitsStored = s.bits
    ds.HighBit = s.bits - 1
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "DISP"  # log-transformed and processed for display
    ds.WindowCenter = _ds(s.window[0])
    ds.WindowWidth = _ds(s.window[1])
    ds.WindowCenterWidthExplanation = "FULL"
    # X-Ray Acquisition
    ds.KVP = _ds(s.kvp)
    ds.RadiationSetting = "SC"
    ds.RadiationMode = "PULSED"
    ds.XRayTubeCurrent = s.tube_current_ma
    ds.ExposureTime = s.pulse_ms
    ds.Exposure = max(1, round(s.tube_current_ma * s.pulse_ms / 1000.0))
    ds.AveragePulseWidth = _ds(float(s.pulse_ms))
    ds.Grid = "IN"
    ds.FocalSpots = _ds(s.focal_spot_mm)
    ds.ImagerPixelSpacing = [_ds(s.pixel_mm)] * 2
    ds.FieldOfViewShape = "RECTANGLE"
    ds.FieldOfViewDimensions = [round(rows * s.pixel_mm), round(cols * s.pixel_mm)]
    # XA Positioner
    ds.DistanceSourceToDetector = _ds(s.sid)
    ds.DistanceSourceToPatient = _ds(s.sod)
    ds.EstimatedRadiographicMagnificationFactor = _ds(s.sid / s.sod)
    ds.PositionerMotion = "STATIC"
    ds.PositionerPrimaryAngle = _ds(s.primary_deg)
    ds.PositionerSecondaryAngle = _ds(s.secondary_deg)
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator = "122496003", "SCT"
    item.CodeMeaning = "Lumbar spine"
    ds.AnatomicRegionSequence = Sequence([item])
    ds.PixelData = np.ascontiguousarray(pixels, dtype="<u2").tobytes()
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "FLANNOT_" + __version__.replace(".", "")
    ds.file_meta = meta
    return ds


def dataset_bytes(ds: Dataset) -> bytes:
    """Part 10 file bytes of ``ds``."""
    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()
