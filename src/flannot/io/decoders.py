"""Decoders chosen for speed, per transfer syntax, with a fallback chain.

Each compressed frame is decoded from its own bytes (the frame's fragments read
into one buffer): no re-encapsulation, no per-call set-up of pydicom's decoding
machinery where a codec can be called directly.

Direct calls (grey-scale frames only, Samples per Pixel 1, MONOCHROME1/2):

- RLE Lossless: pylibjpeg-rle's ``decode_frame``;
- JPEG-LS: pyjpegls (CharLS) — measured 1.6x faster than GDCM here;
- JPEG 2000 / HTJ2K: pylibjpeg-openjpeg — except JPEG 2000 (not HTJ2K) on a machine
  with two cores or more, where pydicom's GDCM plugin goes first: GDCM decodes a frame
  on several threads (512² frames: 44 vs 30 fps on two free cores), pylibjpeg-openjpeg
  on one (faster only when the other cores are busy).

They reproduce what pydicom 3 does after decoding (``Decoder.as_array``, PS3.5
§8.1.1 unused bits, JPEG-LS/JPEG 2000 sign correction), and the tests compare
their output with pydicom's on every transfer syntax. Every other frame (colour,
JPEG baseline/extended/lossless …) goes through pydicom's ``Decoder.as_array``
with its plugins tried fastest first (``PLUGIN_ORDER``). When a decoder fails,
the next in the chain is tried; the reason given is the first decoder's.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flannot.errors import FlannotError

RLE = "1.2.840.10008.1.2.5"
JPEG_LS = ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")
J2K = (
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
)
_J2K_CLASSIC = J2K[:2]  # JPEG 2000 Lossless and JPEG 2000, which GDCM decodes
_JPEG_8_12 = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
_JPEG_LOSSLESS = ("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70")

# pydicom plugins, fastest first (benchmarks/bench_decode.py measures them on this machine)
PLUGIN_ORDER: dict[str, tuple[str, ...]] = {
    RLE: ("pylibjpeg", "pydicom", "gdcm"),
    **dict.fromkeys(JPEG_LS, ("pyjpegls", "gdcm", "pylibjpeg")),
    **dict.fromkeys(J2K, ("pylibjpeg", "pillow", "gdcm")),
    **dict.fromkeys(_JPEG_8_12, ("pillow", "gdcm", "pylibjpeg")),
    **dict.fromkeys(_JPEG_LOSSLESS, ("gdcm", "pylibjpeg")),
}

Options = dict[str, Any]
DecodeFn = Callable[[bytes | bytearray | memoryview], np.ndarray]


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _stored(opts: Options) -> np.dtype:
    kind = "i" if int(opts["pixel_representation"]) else "u"
    return np.dtype(f"{kind}{int(opts['bits_allocated']) // 8}")


def _shift(arr: np.ndarray, bits: int) -> np.ndarray:
    """Keep the low ``bits`` bits: masks unsigned values, sign-extends signed ones."""
    shift = arr.dtype.itemsize * 8 - bits
    if shift <= 0:
        return arr
    if arr.dtype.kind == "u":  # one pass: the same bits as shifting left and back
        np.bitwise_and(arr, arr.dtype.type((1 << bits) - 1), out=arr)
    else:
        np.left_shift(arr, arr.dtype.type(shift), out=arr)
        np.right_shift(arr, arr.dtype.type(shift), out=arr)  # arithmetic: sign-extends
    return arr


def _from_decoded(buf: Any, precision: int, opts: Options, max_item: int = 2) -> np.ndarray:
    """Decoded little-endian samples (1, 2 or 4 bytes by precision) as the stored dtype."""
    item = 1 if precision <= 8 else 2 if precision <= 16 else 4
    if item > max_item:
        raise ValueError(f"{precision}-bit samples are not supported by this decoder")
    signed = bool(int(opts["pixel_representation"]))
    count = int(opts["rows"]) * int(opts["columns"])
    decoded = np.frombuffer(buf, f"<{'i' if signed else 'u'}{item}")
    if decoded.size != count:
        raise ValueError(f"decoded {decoded.size} samples, Rows x Columns is {count}")
    stored = _stored(opts)
    if decoded.dtype == stored and decoded.dtype.isnative:
        out = decoded if isinstance(buf, bytearray) else decoded.copy()
    else:
        out = np.empty(count, stored)
        out[:] = decoded
    return out.reshape(int(opts["rows"]), int(opts["columns"]))


def _rle(opts: Options) -> DecodeFn:
    from rle.rle import decode_frame

    count = int(opts["rows"]) * int(opts["columns"])
    bits_allocated = int(opts["bits_allocated"])
    bits_stored = int(opts["bits_stored"])
    dtype = np.dtype(f"<{'i' if int(opts['pixel_representation']) else 'u'}{bits_allocated // 8}")
    shape = (int(opts["rows"]), int(opts["columns"]))

    def decode(data: bytes | bytearray | memoryview) -> np.ndarray:
        buf = decode_frame(bytes(data), count, bits_allocated, "<")
        arr = np.frombuffer(buf, dtype)
        if arr.size != count:
            raise ValueError(f"decoded {arr.size} samples, Rows x Columns is {count}")
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        # pydicom's correct_unused_bits (PS3.5 §8.1.1)
        return _shift(arr, bits_stored).reshape(shape)

    return decode


def _jpeg_ls(opts: Options) -> DecodeFn:
    import jpeg_ls

    signed = bool(int(opts["pixel_representation"]))

    def decode(data: bytes | bytearray | memoryview) -> np.ndarray:
        buf, info = jpeg_ls.decode_buffer(bytes(data))
        if int(info.get("components", 1)) != 1:
            raise ValueError("the JPEG-LS frame is not grey-scale")
        precision = int(info["bits_per_sample"])
        arr = _from_decoded(buf, precision, opts)
        # JPEG-LS cannot say it holds signed values: sign-extend from its precision
        return _shift(arr, precision) if signed else arr

    return decode


def _j2k(opts: Options) -> DecodeFn:
    import openjpeg
    from pydicom.pixels.utils import get_j2k_parameters

    signed = bool(int(opts["pixel_representation"]))

    def decode(data: bytes | bytearray | memoryview) -> np.ndarray:
        src = bytes(data)
        params = get_j2k_parameters(src)
        precision = int(params.get("precision") or opts["bits_stored"])
        buf = openjpeg.decode_pixel_data(src, version=2)
        arr = _from_decoded(buf, precision, opts, max_item=4)
        if bool(params.get("is_signed", signed)) != signed:
            # the codestream's signedness disagrees with Pixel Representation (pydicom does so)
            return _shift(arr, precision)
        return arr

    return decode


_DIRECT: dict[str, tuple[str, str, Callable[[Options], DecodeFn]]] = {
    RLE: ("pylibjpeg-rle", "rle", _rle),
    **dict.fromkeys(JPEG_LS, ("pyjpegls", "jpeg_ls", _jpeg_ls)),
    **dict.fromkeys(J2K, ("pylibjpeg-openjpeg", "openjpeg", _j2k)),
}


def _pydicom(ts: str, plugin: str, opts: Options) -> DecodeFn:
    from pydicom.encaps import encapsulate
    from pydicom.pixels import get_decoder

    decoder: Any = get_decoder(ts)  # as_array's keywords are typed as one DecodeOptions
    shape = _frame_shape(opts)

    def decode(data: bytes | bytearray | memoryview) -> np.ndarray:
        arr, _ = decoder.as_array(
            encapsulate([bytes(data)]),
            index=0,
            number_of_frames=1,
            decoding_plugin=plugin,
            **opts,
        )
        if arr.shape != shape:
            raise ValueError(f"decoded to shape {arr.shape}, header says {shape}")
        return arr

    return decode


def _frame_shape(opts: Options) -> tuple[int, ...]:
    rows, cols, spp = int(opts["rows"]), int(opts["columns"]), int(opts["samples_per_pixel"])
    return (rows, cols) if spp == 1 else (rows, cols, spp)


@dataclass
class DecoderChain:
    """The decoders for one file's frames, fastest first.

    Parameters
    ----------
    transfer_syntax
        The file's Transfer Syntax UID.
    options
        The Image Pixel values (``rows``, ``columns``, ``samples_per_pixel``,
        ``bits_allocated``, ``bits_stored``, ``pixel_representation``,
        ``photometric_interpretation``, ``planar_configuration``).
    """

    transfer_syntax: str
    options: Options
    names: list[str] = field(default_factory=list)
    _funcs: list[DecodeFn | None] = field(default_factory=list, repr=False)
    _makers: list[Callable[[], DecodeFn]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        ts = str(self.transfer_syntax)
        opts = self.options
        grey = int(opts["samples_per_pixel"]) == 1 and str(
            opts["photometric_interpretation"]
        ).startswith("MONOCHROME")
        available = _pydicom_plugins(ts)
        first = [p for p in _threaded_first(ts) if p in available]
        for plugin in first:
            self._add(f"pydicom/{plugin}", lambda p=plugin: _pydicom(ts, p, opts))  # type: ignore[misc]
        direct = _DIRECT.get(ts)
        if direct is not None and grey and _have(direct[1]):
            label, _module, maker = direct
            self._add(f"{label} (direct)", lambda: maker(opts))
        order = PLUGIN_ORDER.get(ts, ())
        rest = [*[p for p in order if p in available], *sorted(available - set(order))]
        for plugin in (p for p in rest if p not in first):
            self._add(f"pydicom/{plugin}", lambda p=plugin: _pydicom(ts, p, opts))  # type: ignore[misc]

    def _add(self, name: str, maker: Callable[[], DecodeFn]) -> None:
        self.names.append(name)
        self._makers.append(maker)
        self._funcs.append(None)

    @property
    def name(self) -> str:
        """The decoder tried first (what ``flannot info`` reports), or ``"none"``."""
        return self.names[0] if self.names else "none"

    def decode(self, data: bytes | bytearray | memoryview) -> np.ndarray:
        """Decode one frame's codestream; the first decoder that succeeds answers.

        Raises
        ------
        Exception
            The first decoder's exception when every decoder fails.
        """
        first: BaseException | None = None
        for i, maker in enumerate(self._makers):
            func = self._funcs[i]
            try:
                if func is None:
                    func = self._funcs[i] = maker()
                return func(data)
            except (KeyboardInterrupt, SystemExit, GeneratorExit, FlannotError):
                raise
            except BaseException as exc:  # native panics (pyo3) are BaseException too
                if first is None:
                    first = exc
        if first is None:
            raise ValueError(f"no decoder for {self.transfer_syntax}")
        raise first


def usable_cores() -> int:
    """CPU cores this process may run on."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _threaded_first(ts: str) -> tuple[str, ...]:
    """pydicom plugins that go before the direct decoder: GDCM for JPEG 2000 when there
    are cores for its threads (see the module's docstring)."""
    return ("gdcm",) if ts in _J2K_CLASSIC and usable_cores() >= 2 else ()


def _pydicom_plugins(ts: str) -> set[str]:
    from pydicom.pixels import get_decoder

    try:
        return set(get_decoder(ts).available_plugins)
    except NotImplementedError:
        return set()
