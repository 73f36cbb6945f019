"""``read_dicom(path)``: open a DICOM file or a folder of one series as a :class:`FluoroImage`.

Opening reads the header only, checks the image dimensions against the bytes
actually present *before* anything is allocated, and indexes where each frame
lives; frames are decoded when indexed. Plain uncompressed Explicit VR Little
Endian files are opened by :mod:`flannot.io.native_scan` (a ``struct`` walk of
the element headers: opening then costs far less than reading one frame) and
their pydicom header is parsed on first access to a header fact (calibration,
view, windows, UIDs …); every other file is parsed by pydicom
(``stop_before_pixels``) at once. Every bad input raises
:class:`flannot.FlannotError` naming the file.
"""

from __future__ import annotations

import functools
import os
import stat
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    JPEGExtended12Bit,
    RLELossless,
)

from flannot.errors import FlannotError
from flannot.io import header as hdr
from flannot.io.deflate import inflate_pixels, is_deflated, read_deflated
from flannot.io.frames import EncapsulatedSource, FrameSource, NativeSource
from flannot.io.image import FileParts, FluoroImage
from flannot.io.items import check_raw_items, item_budget
from flannot.io.native_scan import scan_native
from flannot.io.pixeldata import (
    FLOAT_PIXEL_DATA,
    PIXEL_DATA,
    PixelDataElement,
    index_fragments,
    read_element_header,
)
from flannot.io.presentation import presentation

# a header look-up by keyword, answering as header.find does
Lookup = Callable[[str], Any]
_EVRLE = UID(ExplicitVRLittleEndian)
_RLE = UID(RLELossless)

# sanity caps on header values (checked before anything is allocated)
MAX_FRAMES = 100_000
# one decoded frame: a 16-bit RGB 6000x7000 frame is 252 MB; fluoroscopy frames are far
# smaller. Codestream headers must agree with Rows/Columns, so no codec allocates more.
MAX_FRAME_BYTES = 256 << 20
# elements above this size stay on disk while the header is parsed
DEFER_SIZE = 1 << 20

# what to install when pydicom has no decoder for a transfer syntax
_EXTRAS = {
    "1.2.840.10008.1.2.4.50": "pillow or python-gdcm",
    "1.2.840.10008.1.2.4.51": "pillow or python-gdcm",
    "1.2.840.10008.1.2.4.57": "python-gdcm, or the GPL extra flannot[gpl]",
    "1.2.840.10008.1.2.4.70": "python-gdcm, or the GPL extra flannot[gpl]",
    "1.2.840.10008.1.2.4.80": "pyjpegls or python-gdcm",
    "1.2.840.10008.1.2.4.81": "pyjpegls or python-gdcm",
    "1.2.840.10008.1.2.4.90": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.91": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.201": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.202": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.203": "pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.5": "pylibjpeg-rle",
}


def read_dicom(path: str | os.PathLike[str]) -> FluoroImage:
    """Open a DICOM file, or a folder of single-frame files of one series, lazily.

    Parameters
    ----------
    path
        A DICOM file (XA, RF, DX, CR, Secondary Capture, Enhanced XA/XRF; single-
        or multi-frame; uncompressed, deflate, RLE, JPEG, JPEG-LS, JPEG 2000) or a
        folder whose DICOM images all belong to one series (opened as one cine,
        ordered by Instance Number, then acquisition time, then file name).

    Returns
    -------
    FluoroImage
        Header facts, calibration, view and windows; ``frames`` decode on access.

    Raises
    ------
    FlannotError
        Not DICOM, empty, truncated or missing pixel data, dimensions larger than
        the data, no decoder for the compression, a folder without DICOM images or
        mixing series — with a one-line reason naming the file.
    """
    p = path if isinstance(path, Path) else Path(path)
    st = _stat(p)
    # pydicom warns about every malformed value it meets (a mangled UID …): the reason
    # that matters reaches the user as the one-line FlannotError, nothing else is printed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if stat.S_ISDIR(st.st_mode):
            from flannot.io.series import read_series

            return read_series(p)
        # calibration, view and the other header facts are derived on first access
        return FluoroImage(p, [open_file(p, st)])


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError:
        raise FlannotError("no such file or folder", path) from None
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", path) from None


def _file_size(path: Path, st: os.stat_result | None = None) -> int:
    """The size of a regular, non-empty file, else a FlannotError."""
    if st is None:
        st = _stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise FlannotError("not a regular file", path)
    if st.st_size == 0:
        raise FlannotError("empty file", path)
    return st.st_size


def read_header(path: Path) -> tuple[Dataset, int]:
    """Parse the header up to the pixel data; returns it and the file offset where it stopped."""
    _file_size(path)
    try:
        with open(path, "rb") as fh:
            return _parse_header(fh, path)
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", path) from None


def _parse_header(fh: BinaryIO, path: Path) -> tuple[Dataset, int]:
    """pydicom's parse of ``fh`` up to the pixel data, and the offset where it stopped."""
    try:
        fh.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with item_budget(path):  # undefined-length sequences are parsed right here
                ds = pydicom.dcmread(
                    fh, defer_size=DEFER_SIZE, stop_before_pixels=True, force=False
                )
        check_raw_items(ds, path, fh=fh)  # the others are parsed on first access
        return ds, fh.tell()
    except FlannotError:
        raise
    except InvalidDicomError:
        raise FlannotError("not a DICOM file (no 'DICM' marker after the preamble)", path) from None
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", path) from None
    except Exception as exc:  # pydicom raises many types on corrupt headers
        reason = f"cannot parse the DICOM header: {type(exc).__name__}: {exc}"
        raise FlannotError(reason, path) from None


def _int(find: Lookup, keyword: str, path: Path, default: int | None = None) -> int:
    value = find(keyword)
    if value is None:
        if default is None:
            raise FlannotError(f"{keyword} is missing", path)
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FlannotError(f"{keyword} is malformed ({value!r})", path) from None


def _is_vr(vr: bytes) -> bool:
    """Two upper-case letters: an explicit VR, not the length bytes of an implicit element."""
    return len(vr) == 2 and vr.isalpha() and vr.isupper()


def _pixel_description(find: Lookup, path: Path) -> dict[str, int | str]:
    """Validated Image Pixel module values (``find``: header look-up by keyword)."""
    rows = _int(find, "Rows", path)
    cols = _int(find, "Columns", path)
    spp = _int(find, "SamplesPerPixel", path, 1)
    bits_alloc = _int(find, "BitsAllocated", path)
    bits_stored = _int(find, "BitsStored", path, bits_alloc)
    signed = _int(find, "PixelRepresentation", path, 0)
    n_frames = _int(find, "NumberOfFrames", path, 1)
    photometric = hdr.text_of(find("PhotometricInterpretation"))
    photometric = photometric or ("RGB" if spp == 3 else "MONOCHROME2")
    planar = _int(find, "PlanarConfiguration", path, 0)
    if rows <= 0 or cols <= 0:
        raise FlannotError(f"image size is {rows}x{cols}", path)
    if spp not in (1, 3):
        raise FlannotError(f"Samples per Pixel {spp} is not supported (1 or 3)", path)
    if bits_alloc == 1:
        raise FlannotError("1-bit pixel data is not supported", path)
    if bits_alloc not in (8, 16, 32):
        raise FlannotError(f"Bits Allocated {bits_alloc} is not supported (8, 16 or 32)", path)
    if not 1 <= bits_stored <= bits_alloc:
        raise FlannotError(
            f"Bits Stored {bits_stored} does not fit Bits Allocated {bits_alloc}", path
        )
    if n_frames <= 0:
        raise FlannotError(f"Number of Frames is {n_frames}", path)
    if n_frames > MAX_FRAMES:
        raise FlannotError(f"Number of Frames {n_frames} exceeds the limit of {MAX_FRAMES}", path)
    if rows * cols * spp * (bits_alloc // 8) > MAX_FRAME_BYTES:
        raise FlannotError(
            f"a {rows}x{cols}x{spp} frame of {bits_alloc}-bit samples exceeds the"
            f" {MAX_FRAME_BYTES >> 20} MiB limit",
            path,
        )
    if photometric == "PALETTE COLOR":
        raise FlannotError("PALETTE COLOR images are not supported", path)
    if (photometric == "RGB" or photometric.startswith("YBR")) and spp != 3:
        # PS3.3 C.7.6.3.1.2: a colour model has three samples per pixel
        raise FlannotError(
            f"Photometric Interpretation {photometric} needs Samples per Pixel 3, not {spp}", path
        )
    return {
        "rows": rows,
        "columns": cols,
        "samples_per_pixel": spp,
        "bits_allocated": bits_alloc,
        "bits_stored": bits_stored,
        "pixel_representation": 1 if signed else 0,
        "number_of_frames": n_frames,
        "photometric_interpretation": photometric,
        "planar_configuration": planar,
    }


def _stored_dtype(desc: dict[str, int | str], little_endian: bool = True) -> np.dtype:
    kind = "i" if desc["pixel_representation"] else "u"
    return np.dtype(f"{'<' if little_endian else '>'}{kind}{int(desc['bits_allocated']) // 8}")


def _samples(desc: dict[str, int | str]) -> int:
    """Stored samples a pixel: YBR_FULL_422 keeps 2 (Y Y Cb Cr a pair, PS3.3 C.7.6.3.1.2)."""
    if str(desc["photometric_interpretation"]) == "YBR_FULL_422":
        return 2
    return int(desc["samples_per_pixel"])


def _native_length(desc: dict[str, int | str], item: int) -> int:
    """Bytes of uncompressed pixel data the header promises (all frames)."""
    return (
        int(desc["rows"]) * int(desc["columns"]) * _samples(desc) * int(desc["number_of_frames"])
    ) * item


def _check_length(
    path: Path, desc: dict[str, int | str], item: int, declared: int, available: int
) -> None:
    """Native pixel data: Rows x Columns x Frames x bytes against what the file holds."""
    expected = _native_length(desc, item)
    if declared < expected:
        raise FlannotError(
            f"dimensions larger than the data: {desc['rows']}x{desc['columns']}x"
            f"{_samples(desc)} samples x {desc['number_of_frames']} frames x {item}"
            f" bytes = {expected} bytes but Pixel Data holds {declared}",
            path,
        )
    if available < expected:
        raise FlannotError(f"pixel data is truncated ({available} of {expected} bytes)", path)


def open_file(path: Path, st: os.stat_result | None = None) -> FileParts:
    """Read one file's header and index its frames (no pixel values are read).

    Plain uncompressed Explicit VR Little Endian files take the fast path
    (:mod:`flannot.io.native_scan`; pydicom parses the header later, on demand);
    everything else is parsed by pydicom now. ``st``: the file's ``stat``, if known.
    """
    size = _file_size(path, st)
    try:
        with warnings.catch_warnings():  # malformed values: the FlannotError says what matters
            warnings.simplefilter("ignore")
            with open(path, "rb", buffering=0) as raw:
                quick = scan_native(raw, size)
            if quick is not None:
                element = PixelDataElement(quick.pixel_value_offset, quick.pixel_length)
                return _native_parts(
                    path, quick.find, lambda: read_header(path)[0], element, True, _EVRLE, size
                )
            with open(path, "rb") as fh:
                if is_deflated(fh):  # pydicom would inflate it whole: a bomb's way in
                    return _open_deflated(path)
                ds, stop = _parse_header(fh, path)
                return _open_parsed(path, fh, ds, stop, size)
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", path) from None


def _open_parsed(path: Path, fh: BinaryIO, ds: Dataset, stop: int, size: int) -> FileParts:
    """Index the frames of a file whose header pydicom parsed (stopped at byte ``stop``)."""
    meta = getattr(ds, "file_meta", None)
    ts = UID(str(meta.get("TransferSyntaxUID", ""))) if meta is not None else UID("")
    implicit, little = ds.original_encoding
    if not ts:
        ts = UID("1.2.840.10008.1.2" if implicit else "1.2.840.10008.1.2.1")
    if not ts.is_transfer_syntax:
        raise FlannotError(f"unknown transfer syntax {ts}: no decoder", path)
    if ts == DeflatedExplicitVRLittleEndian:
        return _open_deflated(path)
    found = read_element_header(fh, stop, bool(little), bool(implicit), path)
    if found is not None and not implicit and not _is_vr(found[1].vr):
        # labelled explicit but encoded implicit: pydicom reads it so (PS3.5 §7.1.3), and so do we
        implicit = True
        found = read_element_header(fh, stop, bool(little), True, path)
    if found is None or found[0] in FLOAT_PIXEL_DATA or found[0] != PIXEL_DATA:
        if found is not None and found[0] in FLOAT_PIXEL_DATA:
            raise FlannotError("float pixel data is not supported", path)
        if len(ds) == 0:  # pydicom stops quietly at a cut in the file meta or first element
            raise FlannotError("truncated: no data set after the file meta information", path)
        # pydicom reads a header cut short without complaint: it may be either
        raise FlannotError("no pixel data (not an image, or the file is cut short)", path)
    element = found[1]
    find = functools.partial(hdr.find, ds)
    if not ts.is_compressed:
        return _native_parts(path, find, ds, element, bool(little), ts, size)
    desc = _pixel_description(find, path)
    if element.length is not None:
        raise FlannotError(f"compressed Pixel Data ({ts.name}) is not encapsulated", path)
    _check_decoder(ts, int(desc["bits_stored"]), path)
    n_frames = int(desc["number_of_frames"])
    index = index_fragments(fh, element.value_offset, size, n_frames, ds, path, ts == _RLE)
    source = EncapsulatedSource(
        path,
        int(desc["number_of_frames"]),
        _frame_shape(desc),
        _stored_dtype(desc).newbyteorder("="),
        ts,
        index,
        {k: v for k, v in desc.items() if k != "number_of_frames"},
    )
    return _parts(path, find, ds, source, desc, ts)


def _native_parts(
    path: Path,
    find: Lookup,
    header: Dataset | Callable[[], Dataset],
    element: PixelDataElement,
    little: bool,
    ts: UID,
    size: int,
) -> FileParts:
    """Uncompressed pixel data: check the dimensions against the bytes, index the frames."""
    desc = _pixel_description(find, path)
    if element.length is None:
        raise FlannotError("uncompressed Pixel Data has an undefined length", path)
    dtype = _stored_dtype(desc, little)
    _check_length(path, desc, dtype.itemsize, element.length, size - element.value_offset)
    _check_native_photometric(desc, path)
    # 8-bit samples in an OW value of a big endian file come byte-swapped in words
    swap = not little and element.vr == b"OW" and dtype.itemsize == 1
    source = _native_source(path, desc, dtype, element.value_offset, swap_words=swap)
    return _parts(path, find, header, source, desc, ts)


def _native_source(
    path: Path,
    desc: dict[str, int | str],
    dtype: np.dtype,
    offset: int,
    buffer: bytes | None = None,
    swap_words: bool = False,
) -> NativeSource:
    """Frames of uncompressed pixel data at ``offset`` in the file (or in ``buffer``)."""
    photometric = str(desc["photometric_interpretation"])
    return NativeSource(
        path,
        offset,
        int(desc["number_of_frames"]),
        _frame_shape(desc),
        dtype,
        int(desc["bits_stored"]),
        bool(desc["pixel_representation"]),
        planar=bool(desc["planar_configuration"]) and int(desc["samples_per_pixel"]) == 3,
        buffer=buffer,
        swap_words=swap_words,
        photometric=photometric if photometric.startswith("YBR_FULL") else "",
    )


def _frame_shape(desc: dict[str, int | str]) -> tuple[int, ...]:
    rows, cols, spp = int(desc["rows"]), int(desc["columns"]), int(desc["samples_per_pixel"])
    return (rows, cols) if spp == 1 else (rows, cols, spp)


def _check_native_photometric(desc: dict[str, int | str], path: Path) -> None:
    """Uncompressed colour: RGB, or YBR_FULL / YBR_FULL_422 (converted to RGB on reading)."""
    photometric = str(desc["photometric_interpretation"])
    if int(desc["samples_per_pixel"]) != 3:
        return
    if photometric not in ("RGB", "YBR_FULL", "YBR_FULL_422"):
        raise FlannotError(f"uncompressed {photometric} colour data is not supported", path)
    if photometric == "YBR_FULL_422":
        if int(desc["bits_allocated"]) != 8 or int(desc["columns"]) % 2:
            raise FlannotError(
                "uncompressed YBR_FULL_422 needs 8-bit samples and an even number of columns",
                path,
            )
        if int(desc["planar_configuration"]):
            raise FlannotError("uncompressed YBR_FULL_422 must be Planar Configuration 0", path)


def _check_decoder(ts: UID, bits_stored: int, path: Path) -> None:
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(ts)
    except NotImplementedError:
        name = ts.name if ts.is_transfer_syntax else ts
        raise FlannotError(f"unsupported transfer syntax {name} ({ts}): no decoder", path) from None
    if not decoder.is_available:
        extra = _EXTRAS.get(str(ts), "a pydicom decoder plugin")
        raise FlannotError(f"no decoder installed for {ts.name} ({ts}); install {extra}", path)
    if ts == JPEGExtended12Bit and bits_stored > 8 and "pylibjpeg" not in decoder.available_plugins:
        # Pillow and GDCM decode only 8-bit JPEG Extended; 12-bit needs libjpeg (GPL)
        raise FlannotError(
            f"no decoder installed for 12-bit {ts.name} ({ts}); install the GPL extra"
            " flannot[gpl] (pylibjpeg-libjpeg)",
            path,
        )


def _parts(
    path: Path,
    find: Lookup,
    header: Dataset | Callable[[], Dataset],
    source: FrameSource,
    desc: dict[str, int | str],
    ts: UID,
) -> FileParts:
    is_rgb = int(desc["samples_per_pixel"]) == 3
    pres = presentation(
        find,
        source.dtype.newbyteorder("="),
        int(desc["bits_stored"]),
        bool(desc["pixel_representation"]),
        is_rgb,
        (lambda: header) if isinstance(header, Dataset) else header,
        path,
    )
    name = ts.name if ts.is_transfer_syntax else str(ts)
    return FileParts(path, header, source, pres, str(ts), name)


def _open_deflated(path: Path) -> FileParts:
    """Deflate compresses the whole data set: inflate the header, then exactly the pixels.

    Inflation is bounded (:mod:`flannot.io.deflate`): a small file that would
    inflate to gigabytes is refused with the limit in the message.
    """
    try:
        with open(path, "rb") as fh:
            found = read_deflated(fh, path)
            if found.pixel_tag is None or found.pixel_tag != PIXEL_DATA:
                if found.pixel_tag in FLOAT_PIXEL_DATA:
                    raise FlannotError("float pixel data is not supported", path)
                raise FlannotError("no pixel data (not an image)", path)
            if found.length is None:
                raise FlannotError("uncompressed Pixel Data has an undefined length", path)
            ds = found.dataset
            find = functools.partial(hdr.find, ds)
            desc = _pixel_description(find, path)
            dtype = _stored_dtype(desc)
            needed = _native_length(desc, dtype.itemsize)
            _check_length(path, desc, dtype.itemsize, found.length, found.length)
            data = inflate_pixels(found, needed, path)
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", path) from None
    _check_native_photometric(desc, path)
    source = _native_source(path, desc, dtype, 0, data)
    return _parts(path, find, ds, source, desc, DeflatedExplicitVRLittleEndian)
