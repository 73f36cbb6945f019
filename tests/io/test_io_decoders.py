"""Decoders chosen for speed (issue 17): the same pixels as pydicom on every transfer syntax,
offset tables used without reading fragment headers, lazy scanning otherwise."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import uid

import flannot
from flannot.io import decoders, pixeldata
from flannot.io.decoders import DecoderChain
from tests.io.dicom_factory import make_dicom, make_pixels

# (transfer syntax, pixel options, make_dicom options): the corpus every decoder must match
CORPUS = [
    (uid.ExplicitVRLittleEndian, {}, {}),
    (uid.ImplicitVRLittleEndian, {}, {}),
    (uid.ExplicitVRBigEndian, {}, {}),
    (uid.DeflatedExplicitVRLittleEndian, {}, {}),
    (uid.RLELossless, {}, {}),
    (uid.RLELossless, {"signed": True}, {}),
    (uid.RLELossless, {"dtype": np.uint8}, {}),
    (uid.RLELossless, {"rgb": True, "dtype": np.uint8}, {}),
    (uid.JPEGLSLossless, {}, {}),
    (uid.JPEGLSLossless, {"signed": True}, {}),
    (uid.JPEGLSLossless, {"dtype": np.uint8}, {}),
    (uid.JPEGLSNearLossless, {}, {"compress_options": {"jls_error": 2}}),
    (uid.JPEG2000Lossless, {}, {}),
    (uid.JPEG2000Lossless, {"signed": True}, {}),
    (uid.JPEG2000Lossless, {"dtype": np.uint8}, {}),
    (uid.JPEG2000, {}, {"compress_options": {"j2k_cr": [5]}}),
    (uid.JPEGBaseline8Bit, {"dtype": np.uint8}, {}),
    (uid.JPEGBaseline8Bit, {"dtype": np.uint8}, {"offset_table": "none"}),
    (uid.JPEGBaseline8Bit, {"dtype": np.uint8}, {"offset_table": "extended"}),
    (uid.JPEGBaseline8Bit, {"dtype": np.uint8}, {"offset_table": "none", "fragments_per_frame": 3}),
    (uid.JPEGLossless, {}, {}),
    (uid.JPEGLosslessSV1, {}, {}),
]


def _id(case: tuple) -> str:
    ts, pix, opts = case
    extra = ",".join(f"{k}={v}" for k, v in {**pix, **opts}.items() if k != "compress_options")
    return f"{ts.name}[{extra}]"


def _pixels(signed: bool = False, dtype: type = np.uint16, rgb: bool = False) -> np.ndarray:
    bits = 12 if np.dtype(dtype).itemsize == 2 else None
    return make_pixels(
        frames=4, rows=40, cols=48, dtype=np.int16 if signed else dtype, bits_stored=bits, rgb=rgb
    )


@pytest.mark.parametrize("case", CORPUS, ids=[_id(c) for c in CORPUS])
def test_every_transfer_syntax_reads_as_pydicom(tmp_path: Path, case: tuple) -> None:
    ts, pix, opts = case
    pixels = _pixels(**pix)
    kwargs: dict = {"bits_stored": 12} if pixels.dtype.itemsize == 2 else {}
    if pix.get("signed"):
        kwargs["PixelRepresentation"] = 1
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=ts, **kwargs, **opts)
    expected = pydicom.dcmread(path).pixel_array
    expected = expected.astype(expected.dtype.newbyteorder("="))
    image = flannot.read_dicom(path)
    got = np.asarray(image.raw_frames)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
    # frame by frame, in reverse: the lazy index finds each frame alone
    again = flannot.read_dicom(path).raw_frames
    for i in reversed(range(len(again))):
        np.testing.assert_array_equal(again[i], expected[i])
    assert image.info()["decoder"] == image.decoder
    if ts.is_compressed and not pix.get("rgb"):
        direct = {
            uid.RLELossless: "pylibjpeg-rle (direct)",
            uid.JPEGLSLossless: "pyjpegls (direct)",
            uid.JPEGLSNearLossless: "pyjpegls (direct)",
            uid.JPEG2000Lossless: "pylibjpeg-openjpeg (direct)",
            uid.JPEG2000: "pylibjpeg-openjpeg (direct)",
        }
        if decoders.usable_cores() >= 2:  # GDCM's threads decode JPEG 2000 faster
            direct.update(dict.fromkeys([uid.JPEG2000Lossless, uid.JPEG2000], "pydicom/gdcm"))
        assert image.decoder == direct.get(ts, image.decoder)
        assert image.decoder.startswith(("pylibjpeg", "pyjpegls", "pydicom/"))
    elif not ts.is_compressed:
        assert image.decoder == "numpy"


def test_direct_decoders_match_pydicom_on_signed_precision_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 13-bit signed values in a J2K codestream marked unsigned: pydicom sign-corrects, so must we
    pixels = make_pixels(frames=1, dtype=np.int16, bits_stored=13)
    path = make_dicom(
        tmp_path,
        pixels=pixels,
        transfer_syntax=uid.JPEG2000Lossless,
        bits_stored=13,
        PixelRepresentation=1,
    )
    data = bytearray(path.read_bytes())
    siz = data.find(b"\xff\x4f\xff\x51") + 2
    assert data[siz + 40] & 0x80  # Ssiz: signed, 13 bits
    data[siz + 40] &= 0x7F  # now marked unsigned
    path.write_bytes(bytes(data))
    ds = pydicom.dcmread(path)
    frame = pydicom.encaps.get_frame(ds.PixelData, 0, number_of_frames=1)
    opts = {
        "rows": 64,
        "columns": 64,
        "samples_per_pixel": 1,
        "bits_allocated": 16,
        "bits_stored": 13,
        "pixel_representation": 1,
        "photometric_interpretation": "MONOCHROME2",
        "planar_configuration": 0,
    }
    chain = DecoderChain(str(uid.JPEG2000Lossless), opts)
    expected = ds.pixel_array
    assert expected.min() < 0
    np.testing.assert_array_equal(chain.decode(frame), expected)
    np.testing.assert_array_equal(flannot.read_dicom(path).raw_frames[0], expected)
    # one core: pylibjpeg-openjpeg called directly goes first, and corrects the sign too
    monkeypatch.setattr(decoders, "usable_cores", lambda: 1)
    one_core = DecoderChain(str(uid.JPEG2000Lossless), opts)
    assert one_core.names[0] == "pylibjpeg-openjpeg (direct)"
    np.testing.assert_array_equal(one_core.decode(frame), expected)


def test_jpeg_2000_takes_gdcm_first_with_two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = {
        "rows": 8,
        "columns": 8,
        "samples_per_pixel": 1,
        "bits_allocated": 16,
        "bits_stored": 12,
        "pixel_representation": 0,
        "photometric_interpretation": "MONOCHROME2",
        "planar_configuration": 0,
    }
    monkeypatch.setattr(decoders, "usable_cores", lambda: 2)
    for ts in (uid.JPEG2000Lossless, uid.JPEG2000):
        names = DecoderChain(str(ts), opts).names
        assert names[:2] == ["pydicom/gdcm", "pylibjpeg-openjpeg (direct)"]
        assert names.count("pydicom/gdcm") == 1
    # HTJ2K: GDCM does not decode it, openjpeg stays first
    assert DecoderChain(str(uid.HTJ2KLossless), opts).names[0] == "pylibjpeg-openjpeg (direct)"


def test_fallback_chain_takes_the_next_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    import jpeg_ls

    pixels = make_pixels(frames=1, rows=16, cols=16)
    codestream = bytes(jpeg_ls.encode_array(pixels[0]))
    opts = {
        "rows": 16,
        "columns": 16,
        "samples_per_pixel": 1,
        "bits_allocated": 16,
        "bits_stored": 16,
        "pixel_representation": 0,
        "photometric_interpretation": "MONOCHROME2",
        "planar_configuration": 0,
    }
    chain = DecoderChain(str(uid.JPEGLSLossless), opts)
    assert chain.names[0] == "pyjpegls (direct)" and len(chain.names) >= 2

    def broken(src: bytes) -> tuple:
        raise RuntimeError("CharLS is broken")

    monkeypatch.setattr(jpeg_ls, "decode_buffer", broken)
    np.testing.assert_array_equal(chain.decode(codestream), pixels[0])


def _count_preads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    calls: list[tuple[int, int]] = []
    real = pixeldata._pread

    def counting(fd: int, n: int, offset: int) -> bytes:
        calls.append((n, offset))
        return real(fd, n, offset)

    monkeypatch.setattr(pixeldata, "_pread", counting)
    return calls


def test_basic_offset_table_means_no_fragment_headers_read_at_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pixels = make_pixels(frames=40, rows=16, cols=16)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=uid.RLELossless)
    assert len(pydicom.dcmread(path)["PixelData"].value) > 0
    headers = _count_preads(monkeypatch)
    image = flannot.read_dicom(path)
    assert headers == []  # the table gives every frame's place
    np.testing.assert_array_equal(image.raw_frames[30], pixels[30])
    assert [n for n, _ in headers] == [8]  # one item header: frame 30's own


@pytest.mark.parametrize("ts", [uid.RLELossless, uid.JPEGBaseline8Bit])
def test_without_a_table_fragments_are_scanned_only_up_to_the_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ts: uid.UID
) -> None:
    pixels = make_pixels(frames=40, rows=16, cols=16, dtype=np.uint8)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=ts)
    ds = pydicom.dcmread(path)
    frames = list(pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=40))
    ds.PixelData = pydicom.encaps.encapsulate(frames, has_bot=False)
    ds.save_as(path)
    headers = _count_preads(monkeypatch)
    image = flannot.read_dicom(path)
    frame = image.raw_frames[5]
    item_reads = [n for n, _ in headers if n == 8]
    assert 6 <= len(item_reads) <= 7  # frames 0-5, not all 40
    if ts == uid.RLELossless:
        np.testing.assert_array_equal(frame, pixels[5])
    np.testing.assert_array_equal(np.asarray(image.raw_frames), ds.pixel_array)


def test_offset_table_past_the_end_of_the_file_is_refused_at_open(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=3), transfer_syntax=uid.RLELossless)
    data = bytearray(path.read_bytes())
    bot = data.find(b"\xfe\xff\x00\xe0")
    struct.pack_into("<L", data, bot + 16, 10**8)  # frame 2 starts 100 MB in
    path.write_bytes(bytes(data))
    with pytest.raises(flannot.FlannotError, match="offset table points past the end"):
        flannot.read_dicom(path)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int8, np.int16, np.int32])
def test_unused_bits_cleared_as_shifting_left_and_back(dtype: type) -> None:
    """_shift keeps the low bits (unsigned: one mask) exactly as shifting them out and
    back does (PS3.5 §8.1.1; signed: the sign extended from the top stored bit)."""
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    for bits in range(1, info.bits + 1):
        values = rng.integers(info.min, info.max, 500, dtype=dtype, endpoint=True)
        unused = dtype(info.bits - bits)
        want = np.right_shift(np.left_shift(values, unused), unused)
        np.testing.assert_array_equal(decoders._shift(values.copy(), bits), want)
