"""Find the Pixel Data element in a file and index its frames without reading them.

pydicom parses the header (``stop_before_pixels``) and leaves the file positioned
at the (7FE0,0010) element; from there we read the element header, and for
encapsulated data walk the item headers (8 bytes each) to record where each
fragment lives. Nothing here reads pixel values, so opening a 1 GB cine costs a
few kilobytes of I/O.
"""

from __future__ import annotations

import os
import struct
import threading
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


def _ends_with_eoi(fd: int, offset: int, length: int) -> bool:
    """True when a fragment ends with a JPEG EOI / J2K EOC marker (FFD9), ignoring padding."""
    n = min(length, 4)
    return _pread(fd, n, offset + length - n).rstrip(b"\x00").endswith(b"\xff\xd9")


def _pread(fd: int, n: int, offset: int) -> bytes:
    """``n`` bytes at ``offset`` (fewer at the end of the file)."""
    if hasattr(os, "pread"):
        return os.pread(fd, n, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows: no pread
    return os.read(fd, n)


class FragmentIndex:
    """Where each frame's fragments are, found lazily (PS3.5 A.4).

    Opening reads the Basic Offset Table item (or takes the Extended Offset
    Table from the header) and checks it against the file size: no fragment
    header is read. Without a usable table, fragment headers are read only up
    to the frame asked for (frames split one fragment each, or at JPEG EOI /
    J2K EOC markers); a file that splits otherwise is scanned whole, once.

    Parameters
    ----------
    path, size
        The file and its size in bytes.
    first_fragment
        File offset of the first fragment's item tag (after the Basic Offset Table).
    n_frames
        Number of Frames.
    starts
        File offsets of each frame's first item tag, from an offset table, or ``None``.
    one_per_frame
        Without a table: every fragment is one frame (RLE, PS3.5 A.4.2).
    """

    def __init__(
        self,
        path: Path,
        size: int,
        first_fragment: int,
        n_frames: int,
        starts: list[int] | None,
        one_per_frame: bool = False,
    ) -> None:
        self.path = path
        self.size = size
        self.first_fragment = first_fragment
        self.n_frames = n_frames
        self.starts = starts
        self.one_per_frame = one_per_frame
        self._frames: dict[int, list[tuple[int, int]]] = {}
        # lazy scan state (no table): fragments found so far, and frames completed
        self._scan_pos = first_fragment
        self._scan_done = False
        self._scanned: list[tuple[int, int]] = []
        self._grouped: list[list[tuple[int, int]]] = []
        self._pending: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    @property
    def uses_offset_table(self) -> bool:
        return self.starts is not None

    def fragments(self, index: int, fd: int) -> list[tuple[int, int]]:
        """``(file offset, length)`` of frame ``index``'s fragments (``fd``: the open file)."""
        with self._lock:
            found = self._frames.get(index)
            if found is None:
                found = self._find(index, fd)
                self._frames[index] = found
            return found

    def _item(self, fd: int, pos: int) -> tuple[int, int]:
        """The tag and length of the item header at ``pos``."""
        head = _pread(fd, 8, pos)
        if len(head) < 8:
            raise FlannotError(
                "pixel data is truncated (encapsulated data ends without a delimiter)", self.path
            )
        group, elem, length = struct.unpack("<HHL", head)
        return (group << 16) | elem, length

    def _fragment(self, pos: int, tag: int, length: int) -> tuple[int, int]:
        if tag != ITEM or length == UNDEFINED:
            raise FlannotError(
                f"malformed encapsulated pixel data (unexpected tag {tag:08X} at byte {pos})",
                self.path,
            )
        if pos + 8 + length > self.size:
            raise FlannotError(
                f"pixel data is truncated (a fragment ends at byte {pos + 8 + length},"
                f" file has {self.size})",
                self.path,
            )
        return pos + 8, length

    def _find(self, index: int, fd: int) -> list[tuple[int, int]]:
        if self.starts is None:
            return self._scan_to(index, fd)
        pos = self.starts[index]
        end = self.starts[index + 1] if index + 1 < len(self.starts) else None
        out: list[tuple[int, int]] = []
        while end is None or pos < end:
            tag, length = self._item(fd, pos)
            if tag == SEQ_DELIM and end is None and out:
                return out
            if tag == SEQ_DELIM:
                raise FlannotError(
                    "offset table points past the last fragment (malformed encapsulated"
                    " pixel data)",
                    self.path,
                )
            out.append(self._fragment(pos, tag, length))
            if len(out) > MAX_FRAGMENTS:
                raise FlannotError(f"more than {MAX_FRAGMENTS} pixel data fragments", self.path)
            pos += 8 + length
        if pos != end:
            raise FlannotError(
                "offset table points between fragments (malformed encapsulated pixel data)",
                self.path,
            )
        return out

    def _next_fragment(self, fd: int) -> tuple[int, int] | None:
        """The next fragment of the lazy scan, or ``None`` at the sequence delimiter."""
        pos = self._scan_pos
        tag, length = self._item(fd, pos)
        if tag == SEQ_DELIM:
            self._scan_done = True
            return None
        frag = self._fragment(pos, tag, length)
        self._scanned.append(frag)
        if len(self._scanned) > MAX_FRAGMENTS:
            raise FlannotError(f"more than {MAX_FRAGMENTS} pixel data fragments", self.path)
        self._scan_pos = pos + 8 + length
        return frag

    def _scan_to(self, index: int, fd: int) -> list[tuple[int, int]]:
        """No offset table: read fragment headers until frame ``index`` is complete."""
        if self.n_frames == 1:
            while self._next_fragment(fd) is not None:
                pass
            return self._check_count(list(self._scanned), [list(self._scanned)])[0]
        while len(self._grouped) <= index and not self._scan_done:
            frag = self._next_fragment(fd)
            if frag is None:
                break
            if self.one_per_frame:
                self._grouped.append([frag])
                continue
            self._pending.append(frag)
            if _ends_with_eoi(fd, *frag):
                self._grouped.append(self._pending)
                self._pending = []
            else:  # a frame in several fragments, or a codestream without its marker
                return self._scan_all(index, fd)
        if len(self._grouped) <= index:
            return self._scan_all(index, fd)
        return self._grouped[index]

    def _scan_all(self, index: int, fd: int) -> list[tuple[int, int]]:
        """Scan every fragment and split them as before (1:1 when the counts agree, else EOI)."""
        while not self._scan_done:
            self._next_fragment(fd)
        fragments = self._scanned
        if len(fragments) == self.n_frames:
            return self._check_count(fragments, [[f] for f in fragments])[index]
        frames: list[list[tuple[int, int]]] = [[]]
        for frag in fragments:
            frames[-1].append(frag)
            if _ends_with_eoi(fd, *frag):
                frames.append([])
        if not frames[-1]:
            frames.pop()
        return self._check_count(fragments, frames)[index]

    def _check_count(
        self, fragments: list[tuple[int, int]], frames: list[list[tuple[int, int]]]
    ) -> list[list[tuple[int, int]]]:
        if not fragments:
            raise FlannotError("no pixel data: encapsulated pixel data has no fragments", self.path)
        if self.n_frames > len(fragments):
            raise FlannotError(
                f"dimensions larger than the data: {self.n_frames} frames but only "
                f"{len(fragments)} fragments",
                self.path,
            )
        if len(frames) != self.n_frames:
            raise FlannotError(
                f"cannot split {len(fragments)} fragments into {self.n_frames} frames "
                "(no usable offset table)",
                self.path,
            )
        return frames


def index_fragments(
    fh: BinaryIO,
    start: int,
    size: int,
    n_frames: int,
    header: Dataset,
    path: Path,
    one_per_frame: bool = False,
) -> FragmentIndex:
    """Index encapsulated pixel data starting at ``start`` without reading its fragments.

    Reads the Basic Offset Table item; uses it, or the Extended Offset Table, when
    it has one entry a frame, starts at 0, increases and points inside the file.

    Raises
    ------
    FlannotError
        A malformed or truncated first item, no fragments, or an offset table
        that is not increasing or points past the end of the file.
    """
    fh.seek(start)
    head = fh.read(8)
    if len(head) < 8:
        raise FlannotError(
            "pixel data is truncated (encapsulated data ends without a delimiter)", path
        )
    group, elem, bot_length = struct.unpack("<HHL", head)
    tag = (group << 16) | elem
    if tag == SEQ_DELIM:
        raise FlannotError("encapsulated pixel data has no Basic Offset Table item", path)
    if tag != ITEM or bot_length == UNDEFINED:
        raise FlannotError(
            f"malformed encapsulated pixel data (unexpected tag {tag:08X} at byte {start})", path
        )
    first = start + 8 + bot_length
    if first + 8 > size:
        raise FlannotError(
            f"pixel data is truncated (a fragment ends at byte {first + 8}, file has {size})",
            path,
        )
    fh.seek(first)
    group, elem = struct.unpack("<HH", fh.read(4))
    if (group << 16) | elem == SEQ_DELIM:
        raise FlannotError("no pixel data: encapsulated pixel data has no fragments", path)
    offsets: list[int] | None = None
    if n_frames > 1 and bot_length >= 4 and bot_length == 4 * n_frames:
        fh.seek(start + 8)
        offsets = np.frombuffer(fh.read(bot_length), "<u4").astype(int).tolist()
    elif n_frames > 1:
        eot = header.get("ExtendedOffsetTable")
        if eot is not None and len(eot) == 8 * n_frames:
            offsets = np.frombuffer(eot, "<u8").astype(int).tolist()
    starts = None
    if offsets is not None:
        if offsets[0] != 0 or any(b <= a for a, b in zip(offsets, offsets[1:], strict=False)):
            raise FlannotError("offset table is not increasing from the first fragment", path)
        if first + offsets[-1] + 8 > size:
            raise FlannotError(
                f"offset table points past the end of the file (frame {n_frames - 1} at byte"
                f" {first + offsets[-1]}, file has {size}): pixel data is truncated",
                path,
            )
        starts = [first + off for off in offsets]
    return FragmentIndex(path, size, first, n_frames, starts, one_per_frame)
