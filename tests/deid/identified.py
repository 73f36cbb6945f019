"""Builders of XA DICOM files full of identifiers, for the de-identification tests.

Every identifying value is listed in :data:`IDENTIFIERS` so tests can search the raw
bytes of every output file for each of them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

XA_CLASS = "1.2.840.10008.5.1.4.1.1.12.1"
STUDY_UID = "1.2.826.0.1.3680043.8.498.10001"
SERIES_UID = "1.2.826.0.1.3680043.8.498.10002"
PATIENT_REF_UID = "1.2.826.0.1.3680043.8.498.10005"
STUDY_REF_UID = "1.2.826.0.1.3680043.8.498.10006"


def sop_uid(i: int) -> str:
    return f"1.2.826.0.1.3680043.8.498.2000{i}"


# original identifying strings that must not survive anywhere in an output file
IDENTIFIERS = [
    "DOE^JOHN^Q",
    "MRN99887766",
    "19530412",
    "ALT-ID-55511",
    "SAINT ELSEWHERE",
    "Wallaby Way",
    "555-0134",
    "20240317",
    "101530",
    "101645",
    "ACC7777123",
    "HOUSE^GREGORY",
    "STUDY4242",
    "JOHN DOE",
    "CUDDY^LISA",
    "WILSON^JAMES",
    "PRINCETON PLAINSBORO",
    "Hospital Rd",
    "FLUORO-ROOM-7",
    "SN-ZX-998877",
    "NEURO INTERVENTION",
    "RP-31337",
    "SPS-27182",
    "CHASE^ROBERT",
    "PRIVATE-SECRET-XYZ",
    "HIDDEN-NAME-IN-SEQ",
    "FOREMAN^ERIC",
    "OPERATOR-ID-8080",
    "20231105",  # date of last calibration (flannot's stricter-than-table additions)
    "FLUOROAE7",
    "20240318",  # instance creation date: not a row of Table E.1-1
    "JOHNNY-NICKNAME",  # Name to Use: newer than pydicom's dictionary
    "ACC-ISSUER-HOSP",  # Issuer of Accession Number Sequence: newer than the table
    "pacs.sainthosp.example",  # Retrieve URL: not a row of the table
    "PACSAE01",  # Retrieve AE Title: not a row of the table
    STUDY_UID,
    SERIES_UID,
    PATIENT_REF_UID,
    STUDY_REF_UID,
    "1.2.826.0.1.3680043.8.498.2000",  # prefix of every SOP Instance UID
]

# technique attributes make_xa() sets: they are not rows of Table E.1-1 and must survive
TECHNIQUE = (
    "EstimatedRadiographicMagnificationFactor",
    "DistanceSourceToDetector",
    "DistanceSourceToPatient",
    "PositionerPrimaryAngle",
    "PositionerSecondaryAngle",
    "WindowCenter",
    "WindowWidth",
    "KVP",
    "ExposureTime",
    "XRayTubeCurrent",
    "CineRate",
    "FrameIncrementPointer",
    "Manufacturer",
)

FRAME_TIME = "66.7"
IMAGER_SPACING = [0.3, 0.3]


def pixels(n_frames: int, rows: int = 64, cols: int = 64) -> np.ndarray:
    """Deterministic 12-bit frames (no byte pair looks like ASCII digits)."""
    rng = np.random.default_rng(7)
    arr = rng.integers(200, 3900, size=(n_frames, rows, cols), dtype=np.uint16)
    # a block of "burned-in text" (bright pixels) the redaction tests blank
    arr[:, 2:10, 3:30] = 4000
    return arr


def make_xa(index: int = 0, n_frames: int = 4, referenced: int | None = None) -> Dataset:
    """An XA multi-frame image with identifiers everywhere (uncompressed)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = XA_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid(index)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    ds.file_meta.SourceApplicationEntityTitle = "FLUORO-ROOM-7"
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]
    ds.SOPClassUID = XA_CLASS
    ds.SOPInstanceUID = sop_uid(index)
    ds.InstanceCreationDate = "20240318"
    ds.InstanceCreationTime = "120000"
    ds.StudyDate = "20240317"
    ds.SeriesDate = "20240317"
    ds.ContentDate = "20240317"
    ds.StudyTime = "101530"
    ds.SeriesTime = "101530"
    ds.ContentTime = "101645"
    ds.AcquisitionDateTime = "20240317101645"
    ds.AccessionNumber = "ACC7777123"
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = "ACC-ISSUER-HOSP"
    ds.IssuerOfAccessionNumberSequence = [issuer]
    name_to_use = Dataset()
    name_to_use.add_new(0x00100012, "LO", "JOHNNY-NICKNAME")  # Name to Use
    ds.add_new(0x00100011, "SQ", [name_to_use])  # Person Names to Use Sequence
    ds.RetrieveURL = f"https://pacs.sainthosp.example/wado/studies/{STUDY_UID}"
    ds.RetrieveAETitle = "PACSAE01"
    ds.Modality = "XA"
    ds.Manufacturer = "ACME"
    ds.InstitutionName = "PRINCETON PLAINSBORO TEACHING"
    ds.InstitutionAddress = "1 Hospital Rd Plainsboro"
    ds.ReferringPhysicianName = "HOUSE^GREGORY"
    ds.StationName = "FLUORO-ROOM-7"
    ds.StudyDescription = "LUMBAR MILD JOHN DOE"
    ds.InstitutionalDepartmentName = "NEURO INTERVENTION DEPT"
    ds.PerformingPhysicianName = "WILSON^JAMES"
    ds.OperatorsName = "CUDDY^LISA"
    op = Dataset()
    op.PersonIdentificationCodeSequence = [_code("OPERATOR-ID-8080", "L", "CUDDY^LISA")]
    op.InstitutionName = "PRINCETON PLAINSBORO TEACHING"
    ds.OperatorIdentificationSequence = [op]
    ref_pat = Dataset()
    ref_pat.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.1.1"
    ref_pat.ReferencedSOPInstanceUID = PATIENT_REF_UID
    ds.ReferencedPatientSequence = [ref_pat]
    ref_study = Dataset()
    ref_study.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
    ref_study.ReferencedSOPInstanceUID = STUDY_REF_UID
    ds.ReferencedStudySequence = [ref_study]
    if referenced is not None:
        ref_img = Dataset()
        ref_img.ReferencedSOPClassUID = XA_CLASS
        ref_img.ReferencedSOPInstanceUID = sop_uid(referenced)
        ref_img.add_new(0x00110010, "LO", "ACME SEQ PRIVATE")
        ref_img.add_new(0x00111001, "LO", "HIDDEN-NAME-IN-SEQ")
        ds.ReferencedImageSequence = [ref_img]
    ds.PatientName = "DOE^JOHN^Q"
    ds.PatientID = "MRN99887766"
    ds.IssuerOfPatientID = "SAINT ELSEWHERE HOSP"
    ds.PatientBirthDate = "19530412"
    ds.PatientSex = "M"
    ds.PatientAge = "070Y"
    ds.PatientWeight = "81.5"
    ds.PatientSize = "1.78"
    ds.PatientAddress = "42 Wallaby Way Sydney"
    ds.PatientTelephoneNumbers = "555-0134"
    other = Dataset()
    other.PatientID = "ALT-ID-55511"
    other.IssuerOfPatientID = "SAINT ELSEWHERE"
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = [other]
    ds.KVP = "80"
    ds.DistanceSourceToDetector = "1100"
    ds.DistanceSourceToPatient = "750"
    ds.EstimatedRadiographicMagnificationFactor = "1.466667"
    ds.ImagerPixelSpacing = IMAGER_SPACING
    ds.DeviceSerialNumber = "SN-ZX-998877"
    ds.DateOfLastCalibration = "20231105"
    ds.add_new(0x00080055, "AE", "FLUOROAE7")  # Station AE Title
    ds.FrameTime = FRAME_TIME
    ds.CineRate = 15
    ds.RadiationSetting = "GR"
    ds.XRayTubeCurrent = 10
    ds.ExposureTime = 100
    ds.PositionerMotion = "STATIC"
    ds.PositionerPrimaryAngle = "90"
    ds.PositionerSecondaryAngle = "-5"
    ds.EvaluatorName = "FOREMAN^ERIC"  # a PN outside Table E.1-1
    ds.StudyInstanceUID = STUDY_UID
    ds.SeriesInstanceUID = SERIES_UID
    ds.StudyID = "STUDY4242"
    ds.SeriesNumber = 1
    ds.InstanceNumber = index + 1
    ds.PatientOrientation = ""
    req = Dataset()
    req.RequestedProcedureID = "RP-31337"
    req.ScheduledProcedureStepID = "SPS-27182"
    req.RequestedProcedureDescription = "MILD for JOHN DOE"
    ds.RequestAttributesSequence = [req]
    ds.PerformedProcedureStepStartDate = "20240317"
    ds.add_new(0x00090010, "LO", "ACME PRIVATE")
    ds.add_new(0x00091001, "LO", "PRIVATE-SECRET-XYZ DOE^JOHN^Q")
    ds.add_new(0x00091002, "PN", "CHASE^ROBERT")
    arr = pixels(n_frames)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.NumberOfFrames = n_frames
    ds.FrameIncrementPointer = 0x00181063
    ds.Rows, ds.Columns = arr.shape[1:]
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "LIN"
    ds.WindowCenter = "2048"
    ds.WindowWidth = "4096"
    ds.PixelData = arr.tobytes()
    return ds


def to_jpeg_baseline(ds: Dataset) -> Dataset:
    """``ds`` with its frames as 8-bit JPEG baseline (Pillow), as lossy fluoroscopy exports are."""
    import io

    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    frames = (ds.pixel_array.reshape(-1, ds.Rows, ds.Columns) >> 4).astype(np.uint8)
    encoded = []
    for frame in frames:
        buf = io.BytesIO()
        Image.fromarray(frame, mode="L").save(buf, format="JPEG", quality=90)
        encoded.append(buf.getvalue())
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = encapsulate(encoded, has_bot=True)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.WindowCenter, ds.WindowWidth = "128", "256"
    return ds


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    c = Dataset()
    c.CodeValue = value
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = meaning
    return c


def write(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


SECRET = bytes(range(32))  # a fixed set secret: UID mappings are reproducible in tests
