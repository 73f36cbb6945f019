"""Find the Pixel Data element in a file and index its frames without reading them.

pydicom parses the header (``stop_before_pixels``) and leaves the file positioned
at the (7FE0,0010) element; from there we read the element header, and for
encapsulated data walk the item headers (8 bytes each) to record where each
fragment lives. Nothing here reads pixel values, so opening a 1 GB cine costs a
few kilobytes of I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from pydicom.dataset import Dataset

from flannot.errors import FlannotError

PIXEL_DATA = 0x7FE00010
FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)
ITEM = 0xFFFEE000
SEQ_DELIM = 0xFFFEE0DD
UNDEFINED = 0xFFFFFFFF
# more items than this is a crafted or broken file, not a cine (1 GB in 1 kB fragments)
MAX_FRAGMENTS = 1_000_000
# VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_LONG_VRS.add(b"UV")


@dataclass(frozen=True)
class PixelDataElement:
    """Where the Pixel Data value starts and how long it is (``None``: encapsulated)."""

    value_offset: int
    length: int | None
    vr: bytes = b""  # explicit VR only (b"OB" / b"OW"); empty when implicit


def read_element_header(
    fh: BinaryIO, pos: int, little_endian: bool, implicit_vr: bool, path: Path
) -> tuple[int, PixelDataElement] | None:
    """Parse the data element header at ``pos``; ``None`` at end of file."""
    fh.seek(pos)
    head = fh.read(12)
    if len(head) < 8:
        return None
    end = "<" if little_endian else ">"
    group, elem = struct.unpack(end + "HH", head[:4])
    tag = (group << 16) | elem
    vr = b""
    if implicit_vr:
        (length,) = struct.unpack(end + "L", head[4:8])
        start = pos + 8
    elif head[4:6] in _LONG_VRS:
        if len(head) < 12:
            raise FlannotError("pixel data element header is truncated", path)
        (length,) = struct.unpack(end + "L", head[8:12])
        start = pos + 12
        vr = head[4:6]
    else:
        (length,) = struct.unpack(end + "H", head[6:8])
        start = pos + 8
        vr = head[4:6]
    return tag, PixelDataElement(start, None if length == UNDEFINED else length, vr)


def scan_fragments(fh: BinaryIO, start: int, size: int, path: Path) -> list[tuple[int, int]]:
    """``(offset, length)`` of every item (Basic Offset Table first) of encapsulated data."""
    items: list[tuple[int, int]] = []
    pos = start
    while True:
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8:
            raise FlannotError(
                "pixel data is truncated (encapsulated data ends without a delimiter)", path
            )
        group, elem, length = struct.unpack("<HHL", head)
        tag = (group << 16) | elem
        if tag == SEQ_DELIM:
            return items
        if tag != ITEM or length == UNDEFINED:
            raise FlannotError(
                f"malformed encapsulated pixel data (unexpected tag {tag:08X} at byte {pos})", path
            )
        if pos + 8 + length > size:
            raise FlannotError(
                f"pixel data is truncated (a fragment ends at byte {pos + 8 + length},"
                f" file has {size})",
                path,
            )
        items.append((pos + 8, length))
        if len(items) > MAX_FRAGMENTS:
            raise FlannotError(f"more than {MAX_FRAGMENTS} pixel data fragments", path)
        pos += 8 + length


def _ends_with_eoi(fh: BinaryIO, offset: int, length: int) -> bool:
    """True when a fragment ends with a JPEG EOI / J2K EOC marker (FFD9), ignoring padding."""
    n = min(length, 4)
    fh.seek(offset + length - n)
    return fh.read(n).rstrip(b"\x00").endswith(b"\xff\xd9")


def _group_by_offsets(
    offsets: list[int], fragments: list[tuple[int, int]], path: Path
) -> list[list[tuple[int, int]]]:
    """Group fragments into frames using offsets relative to the first fragment's item tag."""
    first_item = fragments[0][0] - 8
    starts = {off - 8 - first_item: i for i, (off, _) in enumerate(fragments)}
    idx = []
    for rel in offsets:
        if rel not in starts:
            raise FlannotError(
                "offset table points between fragments (malformed encapsulated pixel data)", path
            )
        idx.append(starts[rel])
    if idx[0] != 0 or sorted(idx) != idx:
        raise FlannotError("offset table is not increasing from the first fragment", path)
    bounds = [*idx, len(fragments)]
    return [fragments[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def group_frames(
    fh: BinaryIO,
    items: list[tuple[int, int]],
    n_frames: int,
    header: Dataset,
    path: Path,
) -> list[list[tuple[int, int]]]:
    """Split fragments into ``n_frames`` frames (BOT, Extended Offset Table, 1:1 or EOI markers).

    Raises
    ------
    FlannotError
        When the fragments cannot be split into exactly ``n_frames`` frames.
    """
    if not items:
        raise FlannotError("encapsulated pixel data has no Basic Offset Table item", path)
    bot_offset, bot_length = items[0]
    fragments = items[1:]
    if not fragments:
        raise FlannotError("no pixel data: encapsulated pixel data has no fragments", path)
    if n_frames > len(fragments):
        raise FlannotError(
            f"dimensions larger than the data: {n_frames} frames but only "
            f"{len(fragments)} fragments",
            path,
        )
    if n_frames == 1:
        return [fragments]
    if bot_length >= 4 and bot_length % 4 == 0 and bot_length // 4 == n_frames:
        fh.seek(bot_offset)
        offsets = np.frombuffer(fh.read(bot_length), "<u4").astype(int).tolist()
        return _group_by_offsets(offsets, fragments, path)
    eot = header.get("ExtendedOffsetTable")
    if eot is not None and len(eot) == 8 * n_frames:
        offsets = np.frombuffer(eot, "<u8").astype(int).tolist()
        return _group_by_offsets(offsets, fragments, path)
    if len(fragments) == n_frames:
        return [[f] for f in fragments]
    frames: list[list[tuple[int, int]]] = [[]]
    for frag in fragments:
        frames[-1].append(frag)
        if _ends_with_eoi(fh, *frag):
            frames.append([])
    if not frames[-1]:
        frames.pop()
    if len(frames) != n_frames:
        raise FlannotError(
            f"cannot split {len(fragments)} fragments into {n_frames} frames "
            "(no usable offset table)",
            path,
        )
    return frames
