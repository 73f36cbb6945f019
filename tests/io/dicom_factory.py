"""Build small DICOM files with pydicom for tests (reusable by every test package).

>>> from tests.io.dicom_factory import make_dicom, make_pixels
>>> pixels = make_pixels(frames=3)                                   # doctest: +SKIP
>>> path = make_dicom(tmp_path, pixels=pixels, ImagerPixelSpacing=[0.3, 0.3])  # doctest: +SKIP

Any DICOM keyword can be passed as an override (``None`` deletes it). Pixel
values are deterministic (seeded), so tests compare decoded frames with the
array they wrote.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, encapsulate_extended
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    ComputedRadiographyImageStorage,
    DeflatedExplicitVRLittleEndian,
    DigitalXRayImageStorageForPresentation,
    EnhancedXAImageStorage,
    EnhancedXRFImageStorage,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    SecondaryCaptureImageStorage,
    XRayAngiographicImageStorage,
    XRayRadiofluoroscopicImageStorage,
    generate_uid,
)

SOP_CLASSES = {
    "XA": XRayAngiographicImageStorage,
    "RF": XRayRadiofluoroscopicImageStorage,
    "DX": DigitalXRayImageStorageForPresentation,
    "CR": ComputedRadiographyImageStorage,
    "OT": SecondaryCaptureImageStorage,
    "ENHANCED_XA": EnhancedXAImageStorage,
    "ENHANCED_XRF": EnhancedXRFImageStorage,
}
NATIVE = (ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian)
BINARY_VRS = {"OB", "OW", "OD", "OF", "OL", "OV", "UN"}
GDCM_SYNTAXES = (JPEGLossless, JPEGLosslessSV1)  # encoded with python-gdcm


def make_pixels(
    frames: int = 1,
    rows: int = 64,
    cols: int = 64,
    dtype: Any = np.uint16,
    bits_stored: int | None = None,
    rgb: bool = False,
    seed: int = 0,
) -> np.ndarray:
    """Deterministic test pixels ``(frames, rows, cols[, 3])`` within ``bits_stored``.

    Each frame has a gradient plus noise plus the frame number, so frames differ.
    """
    dt = np.dtype(dtype)
    bits = bits_stored or dt.itemsize * 8
    rng = np.random.default_rng(seed)
    shape = (frames, rows, cols, 3) if rgb else (frames, rows, cols)
    if dt.kind == "i":
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    else:
        lo, hi = 0, (1 << bits) - 1
    ramp = np.linspace(lo, hi, cols)[None, None, :]
    ramp = ramp[..., None] if rgb else ramp
    noise = rng.integers(0, max(2, (hi - lo) // 16), size=shape)
    frame_no = np.arange(frames).reshape((frames,) + (1,) * (len(shape) - 1))
    values = (ramp * 0.8 + noise + frame_no * 7).astype(np.int64)
    return np.clip(values, lo, hi).astype(dt)


def item(**attributes: Any) -> Dataset:
    """A sequence item with the given keyword attributes (nested dicts become items)."""
    ds = Dataset()
    for keyword, value in attributes.items():
        if isinstance(value, dict):
            value = [item(**value)]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            value = [item(**v) for v in value]
        setattr(ds, keyword, value)
    return ds


def make_dataset(
    pixels: np.ndarray | None = None,
    *,
    modality: str = "XA",
    sop_class: str | None = None,
    bits_stored: int | None = None,
    photometric: str | None = None,
    series_uid: str | None = None,
    **overrides: Any,
) -> Dataset:
    """An uncompressed dataset (file meta included) holding ``pixels``.

    ``pixels`` is ``(frames, rows, cols)`` or ``(frames, rows, cols, 3)`` (RGB),
    default ``make_pixels(bits_stored=12)``. ``overrides`` set/delete attributes.
    """
    if pixels is None:
        pixels = make_pixels(bits_stored=bits_stored or 12)
    if pixels.ndim == 2:
        pixels = pixels[None]
    rgb = pixels.ndim == 4
    frames, rows, cols = pixels.shape[:3]
    dt = pixels.dtype
    sop = UID(sop_class or SOP_CLASSES.get(modality, SecondaryCaptureImageStorage))
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.Modality = "OT" if modality in ("SC",) else modality
    ds.PatientName = "Test^Phantom"
    ds.PatientID = "TEST"
    ds.InstanceNumber = 1
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = photometric or ("RGB" if rgb else "MONOCHROME2")
    if rgb:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = dt.itemsize * 8
    ds.BitsStored = bits_stored or dt.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if dt.kind == "i" else 0
    if frames > 1 or sop in (EnhancedXAImageStorage, EnhancedXRFImageStorage):
        ds.NumberOfFrames = frames
    ds.PixelData = np.ascontiguousarray(pixels).astype(dt.newbyteorder("<")).tobytes()
    for keyword, value in overrides.items():
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            if isinstance(value, bytes) and dictionary_VR(keyword) not in BINARY_VRS:
                # raw bytes: written as-is, to build malformed values (e.g. DS "abc")
                tag = Tag(keyword)
                ds[tag] = RawDataElement(
                    tag, dictionary_VR(keyword), len(value), value, 0, False, True
                )
                continue
            if isinstance(value, dict):
                value = [item(**value)]
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                value = [item(**v) for v in value]
            setattr(ds, keyword, value)
    return ds


def _pillow_jpeg(frame: np.ndarray, quality: int = 95) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _gdcm_compress(src: Path, dst: Path, ts: UID) -> None:
    import gdcm

    syntax = {
        JPEGLossless: gdcm.TransferSyntax.JPEGLosslessProcess14,
        JPEGLosslessSV1: gdcm.TransferSyntax.JPEGLosslessProcess14_1,
        JPEGExtended12Bit: gdcm.TransferSyntax.JPEGExtendedProcess2_4,
    }[ts]
    reader = gdcm.ImageReader()
    reader.SetFileName(str(src))
    if not reader.Read():
        raise RuntimeError(f"gdcm cannot read {src}")
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(syntax))
    change.SetInput(reader.GetImage())
    if not change.Change():
        raise RuntimeError(f"gdcm cannot encode {ts.name}")
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(dst))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    if not writer.Write():
        raise RuntimeError(f"gdcm cannot write {dst}")


def make_dicom(
    tmp_path: Path,
    name: str = "image.dcm",
    *,
    pixels: np.ndarray | None = None,
    transfer_syntax: str = ExplicitVRLittleEndian,
    offset_table: str = "bot",
    fragments_per_frame: int = 1,
    jpeg_quality: int = 95,
    compress_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Path:
    """Write a DICOM file and return its path.

    Parameters
    ----------
    tmp_path
        Folder to write into (pytest's ``tmp_path``).
    name
        File name.
    pixels
        ``(frames, rows, cols[, 3])`` array; default 1 frame of 64x64 12-bit.
    transfer_syntax
        Native (explicit/implicit little, explicit big endian), deflate, RLE,
        JPEG-LS, JPEG 2000 (pydicom encoders), JPEG baseline/extended (8-bit,
        Pillow-encoded), JPEG lossless Process 14 / SV1 (python-gdcm).
    offset_table
        For encapsulated data built here (JPEG baseline): ``"bot"``, ``"none"``
        (empty Basic Offset Table) or ``"extended"`` (Extended Offset Table).
    fragments_per_frame
        Split each JPEG frame into this many fragments (exercises EOI grouping).
    jpeg_quality
        Pillow quality for JPEG baseline/extended.
    compress_options
        Passed to ``Dataset.compress`` (e.g. ``{"jls_error": 2}``, ``{"j2k_cr": [10]}``).
    **kwargs
        ``modality``, ``bits_stored``, ``photometric``, ``sop_class``,
        ``series_uid`` and any DICOM keyword override (see :func:`make_dataset`).
    """
    path = Path(tmp_path) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = make_dataset(pixels, **kwargs)
    arr = pixels if pixels is not None else None
    ts = UID(transfer_syntax)
    if ts in NATIVE:
        if ts == ExplicitVRBigEndian and ds.BitsAllocated > 8:
            dt = np.dtype(f"<u{ds.BitsAllocated // 8}")
            ds.PixelData = np.frombuffer(ds.PixelData, dt).astype(dt.newbyteorder(">")).tobytes()
        ds.file_meta.TransferSyntaxUID = ts
        ds.save_as(
            path,
            enforce_file_format=True,
            implicit_vr=ts.is_implicit_VR,
            little_endian=ts.is_little_endian,
        )
    elif ts == DeflatedExplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = ts
        ds.save_as(path, enforce_file_format=True)
    elif ts in (JPEGBaseline8Bit, JPEGExtended12Bit) and ds.BitsAllocated == 8:
        if arr is None:
            arr = np.frombuffer(ds.PixelData, np.uint8).reshape(
                int(ds.get("NumberOfFrames", 1)), ds.Rows, ds.Columns
            )
        frames = [_pillow_jpeg(f, jpeg_quality) for f in arr]
        if ds.SamplesPerPixel == 3:
            ds.PhotometricInterpretation = "YBR_FULL_422"
        _encapsulate(ds, frames, offset_table, fragments_per_frame)
        ds.file_meta.TransferSyntaxUID = ts
        ds.save_as(path, enforce_file_format=True)
    elif ts in GDCM_SYNTAXES or ts == JPEGExtended12Bit:
        src = path.with_suffix(".src.dcm")
        ds.save_as(src, enforce_file_format=True)
        _gdcm_compress(src, path, ts)
        src.unlink()
    else:  # RLE, JPEG-LS, JPEG 2000: pydicom's own encoders
        ds.compress(ts, **(compress_options or {}))
        ds.save_as(path, enforce_file_format=True)
    return path


def _encapsulate(
    ds: Dataset, frames: Sequence[bytes], offset_table: str, fragments_per_frame: int
) -> None:
    if offset_table == "extended":
        data, offsets, lengths = encapsulate_extended(list(frames))
        ds.PixelData = data
        ds.ExtendedOffsetTable = offsets
        ds.ExtendedOffsetTableLengths = lengths
    else:
        ds.PixelData = encapsulate(
            list(frames),
            fragments_per_frame=fragments_per_frame,
            has_bot=offset_table == "bot",
        )
    ds["PixelData"].VR = "OB"


def truncate(path: Path, keep_fraction: float = 0.5) -> Path:
    """Cut the file, keeping the header and ``keep_fraction`` of the rest."""
    data = path.read_bytes()
    keep = int(len(data) * keep_fraction)
    path.write_bytes(data[:keep])
    return path
