"""Check a compressed frame's own header against the DICOM header before any codec runs.

A codec trusts the codestream; a hostile file makes the codestream and the
DICOM header disagree (a JPEG 2000 SIZ claiming 30000², a JPEG frame in Bits
Allocated 32 on which GDCM aborts the process). PS3.5 §8.2 requires them to
agree: the frame header's lines and samples per line are Rows and Columns, its
component count is Samples per Pixel, and its sample precision fits Bits
Allocated (JPEG and JPEG-LS carry at most 16 bits: Bits Allocated 8 or 16,
PS3.5 §8.2.1 and §8.2.3). The RLE header (PS3.5 Annex G) must describe one
segment per byte plane. Only what is parsed here reaches a decoder.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from flannot.errors import FlannotError

JPEG = {
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70",
}
JPEG_LS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
J2K = {
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
}
RLE = "1.2.840.10008.1.2.5"

# SOFn markers of ISO 10918-1 (not DHT C4, JPG C8, DAC CC) and JPEG-LS SOF55 (F7)
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_SOS, _EOI = 0xDA, 0xD9
_J2K_SIZ = b"\xff\x4f\xff\x51"


@dataclass(frozen=True)
class FrameHeader:
    """What a codestream says about its image: size, components, precision (bits)."""

    rows: int
    columns: int
    components: int
    precision: int


def _jpeg_frame_header(data: bytes, name: str) -> FrameHeader:
    """The SOFn (or JPEG-LS SOF55) segment of a JPEG family codestream (ISO 10918-1 B.2.2)."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError(f"the {name} frame does not start with an SOI marker")
    pos = 2
    n = len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise ValueError(f"the {name} frame has no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (_SOS, _EOI):
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            raise ValueError(f"the {name} frame has a marker segment of length {length}")
        if marker in _SOF:
            if pos + 10 > n:
                break
            precision, rows, cols, comps = struct.unpack_from(">BHHB", data, pos + 4)
            return FrameHeader(rows, cols, comps, precision)
        pos += 2 + length
    raise ValueError(f"the {name} frame has no frame header (SOF) before its scan")


def _j2k_frame_header(data: bytes) -> FrameHeader:
    """The SIZ segment of a JPEG 2000 codestream (ISO 15444-1 A.5.1), in a JP2 box or not."""
    pos = 0 if data.startswith(_J2K_SIZ) else data.find(_J2K_SIZ, 0, 1 << 16)
    if pos < 0:
        raise ValueError("the JPEG 2000 frame has no SOC and SIZ markers")
    fixed = struct.Struct(">HHIIIIIIIIH")
    if pos + 4 + fixed.size > len(data):
        raise ValueError("the JPEG 2000 SIZ segment is cut short")
    (_, _, xsiz, ysiz, xo, yo, xt, yt, xto, yto, comps) = fixed.unpack_from(data, pos + 4)
    if xsiz <= xo or ysiz <= yo or xt == 0 or yt == 0 or xto > xo or yto > yo:
        raise ValueError("the JPEG 2000 SIZ segment describes no image (bad offsets or tiles)")
    start = pos + 4 + fixed.size
    if comps == 0 or start + 3 * comps > len(data):
        raise ValueError("the JPEG 2000 SIZ segment is cut short")
    precision = 0
    for c in range(comps):
        ssiz, xr, yr = data[start + 3 * c : start + 3 * c + 3]
        if xr == 0 or yr == 0:
            raise ValueError("the JPEG 2000 SIZ segment has a zero subsampling factor")
        precision = max(precision, (ssiz & 0x7F) + 1)
    return FrameHeader(ysiz - yo, xsiz - xo, comps, precision)


def _check_rle(data: bytes, spp: int, bits_allocated: int, length_hint: int) -> None:
    """The 64-byte RLE header: one segment per byte plane, offsets increasing inside the frame."""
    if len(data) < 64:
        raise ValueError("the RLE frame is shorter than its 64-byte header")
    header = struct.unpack_from("<16L", data)
    segments = header[0]
    expected = spp * (bits_allocated // 8)
    if segments != expected:
        raise ValueError(
            f"the RLE header lists {segments} segments; Samples per Pixel {spp} and"
            f" Bits Allocated {bits_allocated} need {expected}"
        )
    offsets = header[1 : 1 + segments]
    if offsets[0] != 64 or any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)):
        raise ValueError("the RLE segment offsets are not increasing from byte 64")
    if offsets[-1] >= length_hint:
        raise ValueError("an RLE segment offset points past the end of the frame")


def check_frame(
    transfer_syntax: str,
    data: bytes,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    path: Path,
    index: int,
) -> None:
    """Refuse a compressed frame whose own header disagrees with the DICOM header.

    Parameters
    ----------
    transfer_syntax
        The file's Transfer Syntax UID; syntaxes not listed here pass unchecked.
    data
        The frame's bytes (its fragments joined).
    rows, columns, samples_per_pixel, bits_allocated
        The Image Pixel module values already validated by the reader.
    path, index
        For the message.

    Raises
    ------
    FlannotError
        One line naming the file, the frame and both values, e.g. ``frame 0: the
        JPEG 2000 codestream is 30000x30000 but Rows x Columns is 64x64``.
    """
    ts = str(transfer_syntax)
    try:
        if ts == RLE:
            _check_rle(data, samples_per_pixel, bits_allocated, len(data))
            return
        if ts in JPEG or ts in JPEG_LS:
            name = "JPEG-LS" if ts in JPEG_LS else "JPEG"
            head = _jpeg_frame_header(data, name)
            if head.rows == 0:
                raise ValueError(f"the {name} frame sets its height later (DNL): not supported")
            if bits_allocated not in (8, 16):
                raise ValueError(
                    f"Bits Allocated {bits_allocated} cannot hold {name} data (8 or 16)"
                )
        elif ts in J2K:
            name = "JPEG 2000"
            head = _j2k_frame_header(data)
        else:
            return
    except (ValueError, struct.error) as exc:
        raise FlannotError(f"frame {index}: {exc}", path) from None
    if (head.rows, head.columns) != (rows, columns):
        raise FlannotError(
            f"frame {index}: the {name} codestream is {head.rows}x{head.columns}"
            f" but Rows x Columns is {rows}x{columns}",
            path,
        )
    if head.components != samples_per_pixel:
        raise FlannotError(
            f"frame {index}: the {name} codestream has {head.components} components"
            f" but Samples per Pixel is {samples_per_pixel}",
            path,
        )
    if not 1 <= head.precision <= bits_allocated:
        raise FlannotError(
            f"frame {index}: the {name} codestream has {head.precision}-bit samples"
            f" but Bits Allocated is {bits_allocated}",
            path,
        )
