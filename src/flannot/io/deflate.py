"""Deflated Explicit VR Little Endian (PS3.5 §A.5), inflated in bounded steps.

pydicom inflates a deflated data set whole before parsing it, so a 1.5 MB
file can demand 4.8 GB. Here the File Meta Information (never deflated) is
walked by hand, then the data set is inflated a chunk at a time with a hard
ceiling: first only as far as the header needs (:data:`HEADER_LIMIT`), then
exactly the pixel bytes Rows x Columns x Samples x Bits Allocated x Frames
promise (at most :data:`PIXEL_LIMIT`), never what the stream would give.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filereader import read_dataset

from flannot.errors import FlannotError
from flannot.io.pixeldata import FLOAT_PIXEL_DATA, PIXEL_DATA, read_element_header

#: the inflated header (everything before Pixel Data) may not exceed this
HEADER_LIMIT = 64 << 20
#: inflated pixel data may not exceed this (the whole image is held in memory)
PIXEL_LIMIT = 512 << 20
_CHUNK = 1 << 16
# values above this stay unread while the header is parsed (never needed by the reader)
DEFER = 4 << 20
DEFLATED = "1.2.840.10008.1.2.1.99"
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_LONG_VRS.add(b"UV")


class Inflater:
    """Raw deflate (RFC 1951, no zlib header) read from a file, inflated on demand, capped."""

    def __init__(self, fh: io.BufferedReader, start: int) -> None:
        fh.seek(start)
        self._fh = fh
        self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        self.data = bytearray()
        self.ended = False

    def grow(self, limit: int) -> None:
        """Inflate until ``limit`` bytes are held or the stream ends (never beyond ``limit``)."""
        while len(self.data) < limit and not self.ended:
            pending = self._z.unconsumed_tail
            if not pending:
                pending = self._fh.read(_CHUNK)
                if not pending:
                    self.data += self._z.flush()[: limit - len(self.data)]
                    self.ended = True
                    break
            self.data += self._z.decompress(pending, limit - len(self.data))
            if self._z.eof:
                self.ended = True


def _walk_meta(fh: BinaryIO) -> tuple[int, str | None]:
    """Walk the group 0002 elements (explicit VR little endian, PS3.10 §7.1).

    Returns the offset just after them and the Transfer Syntax UID (``None``
    if absent); raises ``ValueError`` on anything that is not a file meta group.
    """
    fh.seek(128)
    if fh.read(4) != b"DICM":
        raise ValueError("not a DICOM file (no 'DICM' marker after the preamble)")
    pos, syntax = 132, None
    for _ in range(1000):  # a meta group has a dozen elements
        fh.seek(pos)
        head = fh.read(12)
        if len(head) < 8:
            raise ValueError("truncated: no data set after the file meta information")
        group, elem = struct.unpack_from("<HH", head)
        if group != 0x0002:
            return pos, syntax
        if head[4:6] in _LONG_VRS:
            if len(head) < 12:
                raise ValueError("truncated file meta information")
            start, length = pos + 12, struct.unpack_from("<L", head, 8)[0]
        else:
            start, length = pos + 8, struct.unpack_from("<H", head, 6)[0]
        if elem == 0x0010 and length <= 64:
            fh.seek(start)
            syntax = fh.read(length).decode("ascii", "replace").strip(" \0")
        pos = start + length
    raise ValueError("the file meta information does not end")


def is_deflated(fh: BinaryIO) -> bool:
    """True when the file meta names Deflated Explicit VR Little Endian (never raises).

    The file is left positioned at its start.
    """
    try:
        return _walk_meta(fh)[1] == DEFLATED
    except (ValueError, OSError, struct.error):
        return False
    finally:
        fh.seek(0)


def _file_meta_end(fh: io.BufferedReader, path: Path) -> int:
    try:
        return _walk_meta(fh)[0]
    except (ValueError, struct.error) as exc:
        raise FlannotError(str(exc), path) from None


def _at_pixels(tag: int, vr: str | None, length: int) -> bool:
    return int(tag) == PIXEL_DATA or int(tag) in FLOAT_PIXEL_DATA


@dataclass
class DeflatedHeader:
    """A deflated file's header, its inflater and where Pixel Data sits in the inflated bytes."""

    dataset: Dataset
    inflater: Inflater
    pixel_tag: int | None
    value_offset: int
    length: int | None


def read_deflated(fh: io.BufferedReader, path: Path) -> DeflatedHeader:
    """Inflate only as much as the header needs and parse it.

    Raises
    ------
    FlannotError
        Not DICOM, a corrupt deflate stream, a header past :data:`HEADER_LIMIT`.
    """
    meta_end = _file_meta_end(fh, path)
    fh.seek(132)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            meta = read_dataset(io.BytesIO(fh.read(meta_end - 132)), False, True)
        except Exception as exc:
            raise FlannotError(f"cannot parse the file meta information: {exc}", path) from None
    inflater = Inflater(fh, meta_end)
    step = 1 << 20
    while True:
        try:
            inflater.grow(step)
        except zlib.error as exc:
            raise FlannotError(f"cannot inflate the deflated data set: {exc}", path) from None
        buf = io.BytesIO(bytes(inflater.data))
        ds: Dataset | None = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = read_dataset(buf, False, True, stop_when=_at_pixels, defer_size=DEFER)
        except Exception as exc:
            if inflater.ended:
                raise FlannotError(
                    f"cannot parse the inflated DICOM header: {type(exc).__name__}: {exc}", path
                ) from None
        if ds is not None:
            stop = buf.tell()
            found = read_element_header(buf, stop, True, False, path)
            if found is not None or inflater.ended:
                break
        if inflater.ended:
            break
        if step >= HEADER_LIMIT:
            raise FlannotError(
                f"the deflated header inflates past the {HEADER_LIMIT >> 20} MiB limit", path
            )
        step *= 4
    if ds is None:
        raise FlannotError("cannot parse the inflated DICOM header", path)
    ds.file_meta = FileMetaDataset(meta)
    if found is None:
        return DeflatedHeader(ds, inflater, None, 0, None)
    tag, element = found
    return DeflatedHeader(ds, inflater, tag, element.value_offset, element.length)


def check_inflated_size(path: Path, limit: int = HEADER_LIMIT + PIXEL_LIMIT) -> int:
    """Inflate a deflated file's data set to count its size, keeping nothing; refuse past ``limit``.

    For readers that must hold the whole data set (de-identification rewrites it):
    call before handing the file to pydicom, which inflates without a bound.

    Raises
    ------
    FlannotError
        The data set inflates past ``limit`` bytes, or the stream is corrupt.
    """
    with open(path, "rb") as fh:
        start = _file_meta_end(fh, path)
        fh.seek(start)
        z = zlib.decompressobj(-zlib.MAX_WBITS)
        total = 0
        try:
            while True:
                pending = z.unconsumed_tail or fh.read(_CHUNK)
                if not pending:
                    total += len(z.flush())
                    break
                total += len(z.decompress(pending, _CHUNK))
                if total > limit:
                    raise FlannotError(
                        f"the deflated data set inflates past the {limit >> 20} MiB limit", path
                    )
                if z.eof:
                    break
        except zlib.error as exc:
            raise FlannotError(f"cannot inflate the deflated data set: {exc}", path) from None
    return total


def inflate_pixels(header: DeflatedHeader, needed: int, path: Path) -> bytes:
    """The first ``needed`` bytes of the Pixel Data value, inflating no further.

    Raises
    ------
    FlannotError
        ``needed`` past :data:`PIXEL_LIMIT`, a corrupt stream, or fewer bytes than promised.
    """
    if needed > PIXEL_LIMIT:
        raise FlannotError(
            f"deflated pixel data of {needed} bytes exceeds the {PIXEL_LIMIT >> 20} MiB limit",
            path,
        )
    end = header.value_offset + needed
    try:
        header.inflater.grow(end)
    except zlib.error as exc:
        raise FlannotError(f"cannot inflate the deflated pixel data: {exc}", path) from None
    data = header.inflater.data
    if len(data) < end:
        got = max(0, len(data) - header.value_offset)
        raise FlannotError(f"pixel data is truncated ({got} of {needed} bytes)", path)
    return bytes(data[header.value_offset : end])
