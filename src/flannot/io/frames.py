"""Lazy frame arrays: decode one frame at a time, hold at most a couple.

A :class:`FrameSource` knows where each frame's bytes live (a byte range of an
uncompressed file, the fragments of an encapsulated one, a buffer for deflated
files) and returns the *stored* values of one frame. :class:`LazyFrames` turns
one or more sources into a numpy-like array ``(n, rows, cols[, 3])`` that
napari, dask and numpy can slice; an optional :class:`PixelTransform` maps stored
values to presentation values (modality LUT, MONOCHROME1 inversion).
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydicom.uid import UID

from flannot.errors import FlannotError
from flannot.io.cage import guarded
from flannot.io.codestream import check_frame
from flannot.io.decoders import DecoderChain
from flannot.io.pixeldata import FragmentIndex, _pread

# frames kept decoded per LazyFrames: the one on screen and its neighbour
CACHE_FRAMES = 2
# read-ahead: frames decoded ahead of the reader (cine playback, iter_frames), and a byte cap
READ_AHEAD_FRAMES = 8
READ_AHEAD_BYTES = 256 << 20


class FrameSource(Protocol):
    """Where one file's frames live; ``read(i)`` returns frame ``i``'s stored values."""

    path: Path
    n_frames: int
    frame_shape: tuple[int, ...]
    dtype: np.dtype

    def read(self, index: int) -> np.ndarray: ...


def _fix_bits(arr: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Clear unused high bits (unsigned) or sign-extend from Bits Stored (signed)."""
    nbits = arr.dtype.itemsize * 8
    if bits_stored >= nbits:
        return arr
    if not arr.flags.writeable:
        arr = arr.copy()
    if signed:
        shift = arr.dtype.type(nbits - bits_stored)
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)  # arithmetic shift: sign-extends
        return arr
    np.bitwise_and(arr, arr.dtype.type((1 << bits_stored) - 1), out=arr)
    return arr


def _read_into(path: Path, offset: int, out: memoryview) -> int:
    """Fill ``out`` with the file's bytes from ``offset``; returns how many were read."""
    got = 0
    if hasattr(os, "preadv"):
        fd = os.open(path, os.O_RDONLY)
        try:
            while got < len(out):
                n = os.preadv(fd, [out[got:]], offset + got)
                if n == 0:
                    break
                got += n
        finally:
            os.close(fd)
        return got
    with open(path, "rb", buffering=0) as fh:  # Windows: no preadv
        fh.seek(offset)
        while got < len(out):
            n = fh.readinto(out[got:])
            if not n:
                break
            got += n
    return got


@dataclass
class NativeSource:
    """Uncompressed frames: read exactly one frame's bytes from the file (or a buffer).

    Parameters
    ----------
    path
        The file (used for reading unless ``buffer`` is given, and in messages).
    offset
        Byte offset of the first pixel in the file or buffer.
    n_frames, frame_shape, dtype
        Geometry; ``dtype`` carries the byte order (``<u2``, ``>i2`` …).
    bits_stored, signed
        Used to mask unused high bits or sign-extend.
    planar
        Planar Configuration 1 (``RRR…GGG…BBB…``) for 3-sample data.
    buffer
        In-memory pixel data (deflated files are inflated by pydicom as a whole).
    """

    path: Path
    offset: int
    n_frames: int
    frame_shape: tuple[int, ...]
    dtype: np.dtype
    bits_stored: int
    signed: bool
    planar: bool = False
    buffer: bytes | None = None
    swap_words: bool = False
    photometric: str = ""

    def __post_init__(self) -> None:
        # values per frame as stored: YBR_FULL_422 keeps 2 samples a pixel (PS3.3 C.7.6.3.1.2)
        count = math.prod(self.frame_shape)
        if self.photometric == "YBR_FULL_422":
            count = count // 3 * 2
        self._count = count

    @property
    def frame_nbytes(self) -> int:
        return self._count * self.dtype.itemsize

    def _raw(self, index: int) -> np.ndarray:
        """Frame ``index``'s stored values, in file order (no reshaping)."""
        count = self._count
        start = self.offset + index * self.frame_nbytes
        if self.swap_words:
            # 8-bit data in OW, big endian: every 16-bit word is byte-swapped (PS3.5 §8.1.1);
            # read whole words around the frame, swap them, then cut the frame out
            lead = (start - self.offset) % 2
            first = start - lead
            span = lead + self.frame_nbytes + ((lead + self.frame_nbytes) % 2)
            words = (
                self._bytes(first, span, index, lead + self.frame_nbytes)
                .view(">u2")
                .byteswap()
                .view(np.uint8)
            )
            return words[lead : lead + count].copy()
        return self._bytes(start, self.frame_nbytes, index, self.frame_nbytes).view(self.dtype)

    def _bytes(self, start: int, nbytes: int, index: int, need: int) -> np.ndarray:
        """``nbytes`` from ``start`` (zero-padded past the end); fewer than ``need`` is an error."""
        if self.buffer is not None:
            avail = max(0, min(nbytes, len(self.buffer) - start))
            arr = np.zeros(nbytes, np.uint8)
            arr[:avail] = np.frombuffer(self.buffer, np.uint8, avail, start)
            return arr
        # straight from the file into the frame's own array: no intermediate copy
        arr = np.empty(nbytes, np.uint8)
        got = _read_into(self.path, start, memoryview(arr.data))
        arr[got:] = 0
        if got < need:
            raise FlannotError(
                f"pixel data is truncated: frame {index} has {got} of {self.frame_nbytes} bytes",
                self.path,
            )
        return arr

    def read(self, index: int) -> np.ndarray:
        arr = self._raw(index)
        if not self.dtype.isnative:
            arr = arr.byteswap().view(self.dtype.newbyteorder("="))
        if self.photometric in ("YBR_FULL", "YBR_FULL_422"):
            return self._ybr_to_rgb(arr)
        if len(self.frame_shape) == 3 and self.planar:
            rows, cols, spp = self.frame_shape
            arr = np.ascontiguousarray(arr.reshape(spp, rows, cols).transpose(1, 2, 0))
        return _fix_bits(arr.reshape(self.frame_shape), self.bits_stored, self.signed)

    def _ybr_to_rgb(self, arr: np.ndarray) -> np.ndarray:
        """Uncompressed YBR_FULL / YBR_FULL_422 → RGB by pydicom (PS3.3 C.7.6.3.1.2)."""
        from pydicom.pixels import get_decoder
        from pydicom.uid import ExplicitVRLittleEndian

        rows, cols, _ = self.frame_shape
        opts = {
            "rows": rows,
            "columns": cols,
            "samples_per_pixel": 3,
            "bits_allocated": self.dtype.itemsize * 8,
            "bits_stored": self.bits_stored,
            "pixel_representation": int(self.signed),
            "photometric_interpretation": self.photometric,
            "planar_configuration": int(self.planar),
            "number_of_frames": 1,
            "pixel_keyword": "PixelData",
        }
        data = np.ascontiguousarray(arr).astype(self.dtype.newbyteorder("<"), copy=False)
        decoder = get_decoder(ExplicitVRLittleEndian)
        out, _ = guarded(
            lambda: _any(decoder).as_array(data.tobytes(), index=0, as_rgb=True, **opts),
            self.path,
            f"cannot convert {self.photometric} to RGB",
        )
        return out.reshape(self.frame_shape)


@dataclass
class EncapsulatedSource:
    """Compressed frames: read one frame's fragments and decode only those.

    ``index`` finds each frame's fragments (from the offset table, or lazily);
    ``decode_options`` are the Image Pixel values the decoders need. The frame's
    bytes go to the fastest decoder available (:mod:`flannot.io.decoders`).
    """

    path: Path
    n_frames: int
    frame_shape: tuple[int, ...]
    dtype: np.dtype
    transfer_syntax: UID
    index: FragmentIndex
    decode_options: dict[str, Any]

    def __post_init__(self) -> None:
        self._chain: DecoderChain | None = None

    @property
    def decoders(self) -> DecoderChain:
        """The decoder chain for this file, fastest first."""
        if self._chain is None:
            self._chain = DecoderChain(str(self.transfer_syntax), self.decode_options)
        return self._chain

    @property
    def decoder(self) -> str:
        """The decoder tried first, e.g. ``"pyjpegls (direct)"`` or ``"pydicom/gdcm"``."""
        return self.decoders.name

    def frame_bytes(self, index: int) -> bytes:
        """Frame ``index``'s codestream: its fragments read straight from the file."""
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            fragments = self.index.fragments(index, fd)
            if len(fragments) == 1:  # the usual case: one read, no join
                offset, length = fragments[0]
                data = _pread(fd, length, offset)
                if len(data) != length:
                    raise FlannotError(f"pixel data is truncated in frame {index}", self.path)
                return data
            buf = bytearray(sum(length for _, length in fragments))
            view = memoryview(buf)
            at = 0
            for offset, length in fragments:
                got = _preadinto(fd, view[at : at + length], offset)
                if got != length:
                    raise FlannotError(f"pixel data is truncated in frame {index}", self.path)
                at += length
            return bytes(buf)
        except OSError as exc:
            raise FlannotError(f"cannot read: {exc.strerror or exc}", self.path) from None
        finally:
            os.close(fd)

    def read(self, index: int) -> np.ndarray:
        data = self.frame_bytes(index)
        opts = self.decode_options
        # the codestream must agree with the header before a codec sees it (PS3.5 §8.2)
        check_frame(
            self.transfer_syntax,
            data,
            int(opts["rows"]),
            int(opts["columns"]),
            int(opts["samples_per_pixel"]),
            int(opts["bits_allocated"]),
            self.path,
            index,
        )
        chain = self.decoders
        arr = guarded(
            lambda: chain.decode(data),
            self.path,
            f"cannot decode frame {index} ({self.transfer_syntax.name})",
        )
        if arr.shape != self.frame_shape:
            raise FlannotError(
                f"frame {index} decoded to shape {arr.shape}, header says {self.frame_shape}",
                self.path,
            )
        return arr.astype(self.dtype, copy=False)


def _preadinto(fd: int, out: memoryview, offset: int) -> int:
    got = 0
    while got < len(out):
        if hasattr(os, "preadv"):
            n = os.preadv(fd, [out[got:]], offset + got)
        else:  # Windows
            chunk = _pread(fd, len(out) - got, offset + got)
            n = len(chunk)
            out[got : got + n] = chunk
        if n == 0:
            break
        got += n
    return got


@dataclass(frozen=True)
class PixelTransform:
    """Stored values → presentation values: modality LUT then inversion.

    ``apply(stored)`` computes ``slope * stored + intercept`` (or looks values
    up in ``lut``), then, when ``invert``, ``lo + hi - value`` so that the
    value range is kept and larger means brighter.
    """

    dtype: np.dtype
    slope: float = 1.0
    intercept: float = 0.0
    lut: Callable[[np.ndarray], np.ndarray] | None = None
    invert: bool = False
    lo: float = 0.0
    hi: float = 0.0

    @property
    def is_identity(self) -> bool:
        return self.lut is None and self.slope == 1.0 and self.intercept == 0.0 and not self.invert

    def apply(self, stored: np.ndarray) -> np.ndarray:
        if self.is_identity:
            return stored.astype(self.dtype, copy=False)
        if self.lut is not None:
            out = self.lut(stored).astype(self.dtype, copy=False)
        else:  # float32, or an integer type wide enough for the rescaled range
            out = stored.astype(self.dtype)
            if self.slope != 1.0:
                out *= self.dtype.type(self.slope)
            if self.intercept != 0.0:
                out += self.dtype.type(self.intercept)
        if self.invert:
            # lo + hi - v, computed in place without leaving the dtype's range
            np.subtract(self.dtype.type(self.lo + self.hi), out, out=out)
        return out


class LazyFrames:
    """A read-only, numpy-like ``(n, rows, cols[, 3])`` array decoded one frame at a time.

    Indexing with an integer decodes that frame only; slices, lists and index
    arrays on the first axis decode the frames they select; further indices
    apply within the frames. ``np.asarray(frames)`` decodes everything. At most
    ``CACHE_FRAMES`` decoded frames are kept.

    Parameters
    ----------
    sources
        One source per file, concatenated along the frame axis.
    transform
        Maps stored to presentation values; ``None`` keeps stored values.
    """

    def __init__(
        self, sources: Sequence[FrameSource], transform: Sequence[PixelTransform] | None = None
    ) -> None:
        if not sources:
            raise ValueError("no frame sources")
        self._sources = list(sources)
        self._transforms = list(transform) if transform is not None else None
        self._starts = list(itertools.accumulate((s.n_frames for s in self._sources), initial=0))
        shapes = {s.frame_shape for s in self._sources}
        if len(shapes) != 1:
            raise ValueError(f"sources have different frame shapes: {sorted(shapes)}")
        self._frame_shape = self._sources[0].frame_shape
        if self._transforms is not None:
            self._dtype = np.result_type(*[t.dtype for t in self._transforms])
        else:
            self._dtype = np.result_type(*[s.dtype for s in self._sources])
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        # read-ahead: frames being (or already) decoded by a background thread
        self._ahead: OrderedDict[int, Future[np.ndarray]] = OrderedDict()
        self._pool: ThreadPoolExecutor | None = None
        #: number of frames decoded so far (tests and benchmarks check laziness with it)
        self.decode_count = 0

    # --- numpy array protocol -------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return (int(self._starts[-1]), *self._frame_shape)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * self._dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"LazyFrames(shape={self.shape}, dtype={self.dtype})"

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.iter_frames()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        out = np.empty(self.shape, self._dtype)
        for i in range(len(self)):
            out[i] = self._decode(i)
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is None for k in key):  # np.newaxis: rare, keep it simple
            return np.asarray(self)[key]
        if key and key[0] is Ellipsis:
            if len(key) - 1 >= self.ndim:  # the Ellipsis stands for nothing
                key = key[1:]
            else:
                key = (slice(None), *key)
        if not key:
            return np.asarray(self)
        first, rest = key[0], key[1:]
        if isinstance(first, (int, np.integer)):
            # the cached frame itself, read-only: no copy on the viewer's hot path
            frame = self.frame(int(first))
            return frame[rest] if rest else frame
        indices = np.arange(len(self))[first]
        out = np.empty((len(indices), *self._frame_shape), self._dtype)
        for j, i in enumerate(indices):
            out[j] = self.frame(int(i))
        return out[(slice(None), *rest)] if rest else out

    # --- frames -----------------------------------------------------------------------
    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (negative counts from the end); a cached, read-only array."""
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"frame {index} out of range for {n} frames")
        index %= n
        with self._lock:
            arr = self._cache.get(index)
            if arr is not None:
                self._cache.move_to_end(index)
                return arr
            pending = self._ahead.pop(index, None)
        if pending is not None:
            arr = pending.result()  # decoded ahead (or being decoded): errors surface here
        else:
            arr = self._decode(index)
            arr.flags.writeable = False
        with self._lock:
            self._cache[index] = arr
            while len(self._cache) > CACHE_FRAMES:
                self._cache.popitem(last=False)
        return arr

    # --- read-ahead ---------------------------------------------------------------------
    @property
    def read_ahead_limit(self) -> int:
        """How many frames may be decoded ahead: ``READ_AHEAD_FRAMES``, fewer for big frames."""
        frame_bytes = max(1, math.prod(self._frame_shape) * self._dtype.itemsize)
        return max(1, min(READ_AHEAD_FRAMES, READ_AHEAD_BYTES // frame_bytes))

    def prefetch(self, indices: Iterable[int]) -> None:
        """Decode these frames in a background thread, ahead of their use.

        At most :attr:`read_ahead_limit` frames are held ahead; asking for more
        drops the oldest requests. Frames already cached are skipped. ``frame(i)``
        (and indexing) returns a prefetched frame without decoding it again, or
        waits for it when it is being decoded. Errors surface when the frame is used.
        """
        n = len(self)
        limit = self.read_ahead_limit
        wanted = [int(i) % n for i in indices if -n <= int(i) < n][:limit]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="flannot-read-ahead")
            for i in wanted:
                if i in self._cache or i in self._ahead:
                    continue
                self._ahead[i] = self._pool.submit(self._decode_frozen, i)
            # over the limit: drop the oldest requests that are not wanted now
            keep = set(wanted)
            stale = [i for i in self._ahead if i not in keep]
            while len(self._ahead) > limit and stale:
                self._ahead.pop(stale.pop(0)).cancel()

    def iter_frames(
        self, start: int = 0, stop: int | None = None, step: int = 1, read_ahead: int | None = None
    ) -> Iterator[np.ndarray]:
        """Frames ``start, start + step, …`` (before ``stop``), decoded ahead of the reader.

        Parameters
        ----------
        start, stop, step
            As ``range``; ``stop`` defaults to the number of frames.
        read_ahead
            Frames decoded ahead in a background thread, at most 64 (default: none).
            Every decoder here holds the GIL — two threads decode no faster than one
            — so decoding ahead only pays when the reader's own work between frames
            releases it (NumPy on large arrays, writing files); reading alone it cost
            2–6 % (RLE 512²: 1205 vs 1282 fps). Memory stays bounded.

        Yields
        ------
        numpy.ndarray
            Each frame, read-only, as ``frame(i)`` returns it.
        """
        order = range(start, len(self) if stop is None else stop, step)
        ahead = 0 if read_ahead is None else min(read_ahead, 64)
        for j, i in enumerate(order):
            arr = self.frame(i)
            if ahead > 0:
                self.prefetch(order[j + 1 : j + 1 + ahead])
            yield arr

    def held(self) -> list[int]:
        """Indices of the decoded frames held now: cached, or decoded ahead."""
        with self._lock:
            ahead = [i for i, f in self._ahead.items() if f.done() and not f.cancelled()]
            return [*self._cache, *ahead]

    def close(self) -> None:
        """Stop the read-ahead thread and drop frames decoded ahead."""
        with self._lock:
            for pending in self._ahead.values():
                pending.cancel()
            self._ahead.clear()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _decode_frozen(self, index: int) -> np.ndarray:
        arr = self._decode(index)
        arr.flags.writeable = False
        return arr

    def _decode(self, index: int) -> np.ndarray:
        k = bisect.bisect_right(self._starts, index) - 1
        stored = self._sources[k].read(index - self._starts[k])
        self.decode_count += 1
        if self._transforms is None:
            return stored.astype(self._dtype, copy=False)
        return self._transforms[k].apply(stored).astype(self._dtype, copy=False)


def _any(decoder: Any) -> Any:
    """pydicom's ``Decoder.as_array`` types its keyword options as one ``DecodeOptions``
    (not ``Unpack[DecodeOptions]``), so keyword calls are made on an untyped handle."""
    return decoder
