"""Fast open for the common case: uncompressed Explicit VR Little Endian pixel data.

Why: with the file in the OS page cache, reading one 2 MB frame takes ~0.1 ms,
while pydicom's header parse (preamble, file meta, a Dataset per level) costs
0.2-0.5 ms — it would dominate showing a frame. This module walks the element
headers with :mod:`struct` (tens of µs for a typical header), keeps the values
of the dozen Image Pixel / Modality LUT attributes that decoding a frame needs,
and stops at Pixel Data. The full pydicom header is parsed later, when anything
else (calibration, view, windows, UIDs) is asked for.

It is an accelerator only: anything outside the plain case — another transfer
syntax, Enhanced functional groups, a Modality LUT Sequence, an unexpected VR,
undefined lengths outside sequences, a truncated or out-of-order header — makes
:func:`scan_native` return ``None`` and the reader uses pydicom, which also
produces the error messages for bad files. Sequences are walked (not decoded),
which checks their structure and skips their nested elements, an icon's Pixel
Data included.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from pydicom.datadict import dictionary_VR, tag_for_keyword

from flannot.io.header import MISSING, decode_simple, is_empty
from flannot.io.pixeldata import FLOAT_PIXEL_DATA, ITEM, PIXEL_DATA, SEQ_DELIM, UNDEFINED

EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
ITEM_DELIM = 0xFFFEE00D
TRANSFER_SYNTAX = 0x00020010

#: what decoding a frame asks about (``reader._pixel_description`` and ``presentation``)
KEYWORDS = (
    "Rows",
    "Columns",
    "SamplesPerPixel",
    "BitsAllocated",
    "BitsStored",
    "PixelRepresentation",
    "NumberOfFrames",
    "PhotometricInterpretation",
    "PlanarConfiguration",
    "RescaleSlope",
    "RescaleIntercept",
    "PresentationLUTShape",
)
# the top-level elements the walk stops at (one dict look-up per element):
# tag -> (keyword, the dictionary VR as bytes) to keep the value (another VR sends
# the file to pydicom), _PIXEL, or _PYDICOM for attributes that change how frames
# are presented and that only the pydicom path handles
_PIXEL, _PYDICOM = object(), object()
_SPECIAL: dict[int, Any] = {
    int(tag_for_keyword(k)): (k, dictionary_VR(k).encode())  # type: ignore[arg-type]
    for k in KEYWORDS
}
_SPECIAL[TRANSFER_SYNTAX] = ("TransferSyntaxUID", b"UI")
_SPECIAL[PIXEL_DATA] = _PIXEL
for _tag in (
    0x00283000,  # Modality LUT Sequence
    0x52009229,  # Shared Functional Groups Sequence (Enhanced XA/XRF)
    0x52009230,  # Per-frame Functional Groups Sequence
    *FLOAT_PIXEL_DATA,
):
    _SPECIAL[_tag] = _PYDICOM
# explicit VRs with 2 reserved bytes and a 4-byte length, and those with a 2-byte length
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_LONG_VRS.add(b"UV")
_SHORT_VRS = {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO"}
_SHORT_VRS |= {b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}
_HEAD = struct.Struct("<HH2sH")  # group, element, VR, 2-byte length
_U32 = struct.Struct("<L")
_TAG_LENGTH = struct.Struct("<HHL")  # item and delimiter headers

FIRST_READ = 4 * 1024  # the preamble, file meta and, often, the whole header
CHUNK = 64 * 1024  # later reads: the rest of a long header in one or two reads
MAX_VALUE = 1024  # a wanted value longer than this is not a plain Image Pixel value
MAX_DEPTH = 16  # sequence nesting
MAX_ELEMENTS = 100_000  # a longer header is left to pydicom


class _Unsupported(Exception):
    """Not the plain case: the caller falls back to pydicom."""


@dataclass(frozen=True)
class NativeHeader:
    """What :func:`scan_native` found: the wanted values and where Pixel Data lives.

    ``values`` maps each keyword of :data:`KEYWORDS` present with a non-empty
    value to that value, decoded exactly as :func:`flannot.io.header.find`
    decodes it from the pydicom header; ``find(keyword)`` is ``None`` otherwise.
    """

    values: dict[str, Any]
    pixel_vr: str
    pixel_value_offset: int
    pixel_length: int

    def find(self, keyword: str) -> Any:
        return self.values.get(keyword)


class _Reader:
    """Byte ranges of a file through one buffer (the header usually fits in one read)."""

    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size
        self.base = 0
        self.buf = fh.read(FIRST_READ)
        self.count = 0  # elements walked

    def view(self, pos: int, n: int) -> tuple[bytes, int]:
        """The buffer and the index of ``pos`` in it, holding at least ``n`` bytes from ``pos``."""
        rel = pos - self.base
        if rel < 0 or rel + n > len(self.buf):
            if pos + n > self.size:
                raise _Unsupported("truncated header")
            self.fh.seek(pos)
            self.base, self.buf, rel = pos, self.fh.read(max(n, CHUNK)), 0
            if len(self.buf) < n:
                raise _Unsupported("short read")
        return self.buf, rel

    def element(self, pos: int) -> tuple[int, bytes, int, int]:
        """``(tag, vr, length, value offset)`` of the explicit-VR element header at ``pos``."""
        self.count += 1
        if self.count > MAX_ELEMENTS:
            raise _Unsupported("too many elements")
        buf, i = self.view(pos, 8)
        group, elem, vr, length = _HEAD.unpack_from(buf, i)
        if vr in _LONG_VRS:
            buf, i = self.view(pos, 12)
            return (group << 16) | elem, vr, _U32.unpack_from(buf, i + 8)[0], pos + 12
        if vr not in _SHORT_VRS:
            raise _Unsupported("not an explicit VR")
        return (group << 16) | elem, vr, length, pos + 8

    def skip_value(self, vr: bytes, length: int, start: int, depth: int) -> int:
        """Position after a value; sequences are walked so that their structure is checked."""
        if vr == b"SQ":
            return self._sequence(start, length, depth + 1)
        if length == UNDEFINED:
            raise _Unsupported("undefined length outside a sequence")
        if start + length > self.size:
            raise _Unsupported("value runs past the end of the file")
        return start + length

    def _sequence(self, pos: int, length: int, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise _Unsupported("sequences nested too deep")
        end = None if length == UNDEFINED else pos + length
        while end is None or pos < end:
            buf, i = self.view(pos, 8)
            group, elem, item_length = _TAG_LENGTH.unpack_from(buf, i)
            tag = (group << 16) | elem
            if tag == SEQ_DELIM and end is None:
                return pos + 8
            if tag != ITEM:
                raise _Unsupported("unexpected tag in a sequence")
            pos = self._item(pos + 8, item_length, depth)
        if pos != end:
            raise _Unsupported("sequence items overrun the sequence length")
        return pos

    def _item(self, pos: int, length: int, depth: int) -> int:
        end = None if length == UNDEFINED else pos + length
        while end is None or pos < end:
            buf, i = self.view(pos, 8)
            group, elem, _ = _TAG_LENGTH.unpack_from(buf, i)
            if (group << 16) | elem == ITEM_DELIM and end is None:
                return pos + 8
            _tag, vr, vlen, start = self.element(pos)
            pos = self.skip_value(vr, vlen, start, depth)
        if pos != end:
            raise _Unsupported("item elements overrun the item length")
        return pos


def scan_native(fh: BinaryIO, size: int) -> NativeHeader | None:
    """Walk a file's header up to Pixel Data; ``None`` unless plain native Explicit VR LE.

    Parameters
    ----------
    fh
        The file, opened for binary reading (unbuffered is fastest); read from byte 0.
    size
        The file's size in bytes.

    Returns
    -------
    NativeHeader or None
        ``None`` whenever the file is anything but the plain case (see the module
        notes): the caller then parses it with pydicom.
    """
    fh.seek(0)
    try:
        return _scan(_Reader(fh, size))
    except (_Unsupported, struct.error):
        return None


def _scan(r: _Reader) -> NativeHeader | None:
    if r.buf[128:132] != b"DICM":
        return None
    values: dict[str, Any] = {}
    pos, previous = 132, -1
    in_meta = True
    buf, base, size = r.buf, r.base, r.size
    unpack_head, unpack_u32, special = _HEAD.unpack_from, _U32.unpack_from, _SPECIAL.get
    # the top level is walked inline with locals (this loop is most of the cost of
    # opening a file); sequences and refills go through the reader's methods
    for _ in range(MAX_ELEMENTS):
        i = pos - base
        if i < 0 or i + 12 > len(buf):
            buf, i = r.view(pos, 12 if pos + 12 <= size else 8)
            base = r.base
        group, elem, vr, length = unpack_head(buf, i)
        tag = (group << 16) | elem
        if vr in _LONG_VRS:
            if i + 12 > len(buf):
                return None
            length = unpack_u32(buf, i + 8)[0]
            start = pos + 12
        elif vr in _SHORT_VRS:
            start = pos + 8
        else:
            return None  # not explicit VR after all
        if tag <= previous:
            return None  # out of order or repeated: pydicom decides what that means
        previous = tag
        if in_meta and group != 0x0002:
            in_meta = False  # file meta ends: only the one transfer syntax handled here
            if values.pop("TransferSyntaxUID", None) != EXPLICIT_VR_LITTLE_ENDIAN:
                return None
        wanted = special(tag)
        if wanted is None:  # most elements: skip the value
            if vr == b"SQ":
                pos = r.skip_value(vr, length, start, 0)
                buf, base = r.buf, r.base
            elif length == UNDEFINED:
                return None
            else:
                pos = start + length  # past the end of the file: the next read says so
            continue
        if wanted is _PIXEL:
            if vr not in (b"OB", b"OW") or length == UNDEFINED:
                return None  # encapsulated or odd: the reader's pydicom path reports it
            return NativeHeader(values, vr.decode(), start, length)
        if wanted is _PYDICOM:
            return None
        keyword, expected_vr = wanted
        if vr != expected_vr or length > MAX_VALUE:
            return None
        if length:  # an empty value reads as absent, as pydicom's None does
            j = start - base
            if j < 0 or j + length > len(buf):
                buf, j = r.view(start, length)
                base = r.base
            value = decode_simple(expected_vr.decode(), buf[j : j + length])
            if value is MISSING:
                return None
            if not is_empty(value):
                values[keyword] = value
        pos = start + length
    return None
