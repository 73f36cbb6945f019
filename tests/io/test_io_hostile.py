"""Hostile and odd real-world files: one line naming the file, never a crash, a bomb or chatter.

Each test here failed on the reader before issue 16 (native abort, panic,
inflation bomb, lost codec reasons, wrong pixels on real files).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import uid
from pydicom.pixels import convert_color_space

import flannot
from flannot.io import cage
from tests.io.dicom_factory import make_dataset, make_dicom, make_pixels

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(flannot.__file__).resolve().parents[1]  # the flannot under test, in subprocesses too


def expect_error(path: Path, match: str) -> str:
    with pytest.raises(flannot.FlannotError, match=match) as err:
        np.asarray(flannot.read_dicom(path).frames)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(path))
    return msg


def rewrite(src: Path, dst: Path, **values: object) -> Path:
    ds = pydicom.dcmread(src)
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    ds.save_as(dst)
    return dst


def patch(path: Path, marker: bytes, offset: int, fmt: str, *values: int) -> Path:
    """Overwrite the codestream bytes ``offset`` after ``marker`` (first occurrence)."""
    data = bytearray(path.read_bytes())
    at = data.find(marker)
    assert at > 0, marker
    struct.pack_into(fmt, data, at + offset, *values)
    path.write_bytes(bytes(data))
    return path


# --- codestream headers must agree with the DICOM header (PS3.5 §8.2) --------------------


def test_gdcm_jpeg_in_bits_allocated_32_is_one_line_not_an_abort(tmp_path: Path) -> None:
    # GDCM's JPEG codec aborted the process (SIGABRT, rc 134) on this lie
    src = make_dicom(tmp_path, "src.dcm", pixels=make_pixels(), transfer_syntax=uid.JPEGLossless)
    bad = rewrite(src, tmp_path / "ba32.dcm", BitsAllocated=32)
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{ROOT}"}
    run = subprocess.run(
        [sys.executable, "-m", "flannot", "info", str(bad), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    script = "import numpy, flannot, sys; numpy.asarray(flannot.read_dicom(sys.argv[1]).frames)"
    decode = subprocess.run(
        [sys.executable, "-c", script, str(bad)], capture_output=True, text=True, env=env
    )
    assert decode.returncode == 1 and "FlannotError" in decode.stderr, decode.returncode
    assert "Bits Allocated 32" in decode.stderr
    assert run.returncode in (0, 2), run.returncode  # never a signal


def test_jpeg_codestream_larger_than_rows_columns(tmp_path: Path) -> None:
    src = make_dicom(tmp_path, "src.dcm", pixels=make_pixels(), transfer_syntax=uid.JPEGLossless)
    bad = rewrite(src, tmp_path / "small.dcm", Rows=16)
    expect_error(bad, "JPEG codestream is 64x64 but Rows x Columns is 16x64")


def test_jpeg_precision_beyond_bits_allocated(tmp_path: Path) -> None:
    src = make_dicom(tmp_path, "src.dcm", pixels=make_pixels(), transfer_syntax=uid.JPEGLossless)
    bad = rewrite(src, tmp_path / "b8.dcm", BitsAllocated=8, BitsStored=8, HighBit=7)
    expect_error(bad, "16-bit samples but Bits Allocated is 8")


def test_jpeg2000_size_bomb_refused_before_decoding(tmp_path: Path) -> None:
    # SIZ claims 30000x30000: OpenJPEG tried to allocate 5.4 GB
    path = make_dicom(tmp_path, pixels=make_pixels(), transfer_syntax=uid.JPEG2000Lossless)
    patch(path, b"\xff\x4f\xff\x51", 8, ">IIIIII", 30000, 30000, 0, 0, 30000, 30000)
    expect_error(path, "JPEG 2000 codestream is 30000x30000 but Rows x Columns is 64x64")


def test_jpeg_ls_size_bomb_refused_before_decoding(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(), transfer_syntax=uid.JPEGLSLossless)
    patch(path, b"\xff\xf7", 5, ">HH", 40000, 40000)  # SOF55: Lf(2) P(1) Y X
    expect_error(path, "JPEG-LS codestream is 40000x40000")


def test_jpeg_ls_components_disagree(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(), transfer_syntax=uid.JPEGLSLossless)
    patch(path, b"\xff\xf7", 9, ">B", 3)
    expect_error(path, "3 components but Samples per Pixel is 1")


def test_rle_header_with_wrong_segment_count(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(), transfer_syntax=uid.RLELossless)
    ds = pydicom.dcmread(path)
    frame = pydicom.encaps.get_frame(ds.PixelData, 0, number_of_frames=1)
    at = path.read_bytes().find(frame[:64])
    data = bytearray(path.read_bytes())
    struct.pack_into("<L", data, at, 5)  # 5 segments for 16-bit grey (needs 2)
    path.write_bytes(bytes(data))
    expect_error(path, "RLE header lists 5 segments")


# --- the cage: panics, chatter, reasons ------------------------------------------------


class PanicException(BaseException):
    """What pyo3 raises when Rust code panics (not an ``Exception``)."""


def _rle_file(tmp_path: Path) -> Path:
    return make_dicom(tmp_path, pixels=make_pixels(), transfer_syntax=uid.RLELossless)


def test_native_panic_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pydicom.pixels.decoders.base import Decoder

    def panic(*args: object, **kwargs: object) -> None:
        os.write(2, b"thread '<unnamed>' panicked at src/lib.rs:1:\nindex out of bounds\n")
        raise PanicException("index out of bounds: the len is 3 but the index is 4")

    monkeypatch.setattr(Decoder, "as_array", panic)  # every decoder of the chain panics
    monkeypatch.setattr("rle.rle.decode_frame", panic)
    msg = expect_error(_rle_file(tmp_path), "PanicException: index out of bounds")
    assert "the codec said: thread '<unnamed>' panicked" in msg


def test_keyboard_interrupt_is_not_swallowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydicom.pixels.decoders.base import Decoder

    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Decoder, "as_array", interrupt)
    monkeypatch.setattr("rle.rle.decode_frame", interrupt)
    img = flannot.read_dicom(_rle_file(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        img.frames[0]


def test_codec_chatter_on_stderr_is_captured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    # OpenJPEG, GDCM and Rust print on the C stderr, past Python's sys.stderr
    import rle.rle
    from pydicom.pixels.decoders.base import Decoder

    real = Decoder.as_array
    real_rle = rle.rle.decode_frame
    said: list[int] = []

    def chatty(self: Decoder, *args: object, **kwargs: object) -> object:
        said.append(os.write(2, b"Failed to decode tile 1/1\n[WARNING] Must downscale data\n"))
        return real(self, *args, **kwargs)

    def chatty_rle(*args: object) -> object:
        said.append(os.write(2, b"Failed to decode tile 1/1\n[WARNING] Must downscale data\n"))
        return real_rle(*args)

    monkeypatch.setattr(Decoder, "as_array", chatty)
    monkeypatch.setattr(rle.rle, "decode_frame", chatty_rle)
    path = _rle_file(tmp_path)
    capfd.readouterr()
    np.asarray(flannot.read_dicom(path).frames)
    out, err = capfd.readouterr()
    assert said and out == "" and err == ""
    os.write(2, b"after\n")  # and stderr works again afterwards
    assert capfd.readouterr().err == "after\n"


def test_codec_reasons_are_kept(tmp_path: Path) -> None:
    # pydicom lists each plugin's reason on its own line; the message used to stop at ":"
    src = _rle_file(tmp_path)
    bad = rewrite(src, tmp_path / "rows.dcm", Rows=128)
    msg = expect_error(bad, "cannot decode frame 0")
    assert not msg.rstrip().endswith(":")
    assert "segment" in msg


def test_pydicom_warnings_do_not_escape(tmp_path: Path) -> None:
    rgb = make_pixels(rows=16, cols=16, dtype=np.uint8, rgb=True)
    path = make_dicom(tmp_path, pixels=rgb, transfer_syntax=uid.JPEGBaseline8Bit)
    ds = pydicom.dcmread(path)
    ds.PhotometricInterpretation = "RGB"  # the JFIF marker says YBR: pydicom warns
    ds.save_as(path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        np.asarray(flannot.read_dicom(path).frames)
    assert [str(w.message) for w in seen] == []


def test_control_characters_in_a_file_name_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "evil\nname\x1b[31m.dcm"
    path.write_bytes(b"not dicom" * 40)
    with pytest.raises(flannot.FlannotError) as err:
        flannot.read_dicom(path)
    msg = str(err.value)
    assert "\n" not in msg and "\x1b" not in msg
    assert "evil\\nname\\x1b[31m.dcm" in msg


# --- deflate: bounded inflation --------------------------------------------------------


def _deflated(path: Path, ds: pydicom.Dataset) -> Path:
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def test_deflate_bomb_in_the_header_is_refused_fast(tmp_path: Path) -> None:
    ds = make_dataset(make_pixels(rows=16, cols=16))
    ds.add_new(0x00091010, "OB", bytes(100 << 20))  # 100 MiB of zeros: ~100 kB deflated
    path = _deflated(tmp_path / "bomb.dcm", ds)
    assert path.stat().st_size < 1 << 20
    start = time.perf_counter()
    expect_error(path, "inflates past the 64 MiB limit")
    assert time.perf_counter() - start < 5


def test_deflate_inflates_only_the_pixels_the_header_promises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flannot.io import deflate

    pixels = make_pixels(rows=16, cols=16)
    ds = make_dataset(pixels)
    ds.add_new(0xFFFCFFFC, "OB", bytes(50 << 20))  # Data Set Trailing Padding after the pixels
    path = _deflated(tmp_path / "trailing.dcm", ds)
    grown: list[int] = []
    real = deflate.Inflater.grow
    monkeypatch.setattr(deflate.Inflater, "grow", lambda s, n: (grown.append(n), real(s, n)))
    img = flannot.read_dicom(path)
    np.testing.assert_array_equal(np.asarray(img.raw_frames)[0], pixels[0])
    assert max(grown) <= 4 << 20


def test_deflated_file_reads_as_before(tmp_path: Path) -> None:
    pixels = make_pixels(frames=2, rows=32, cols=24)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=uid.DeflatedExplicitVRLittleEndian)
    np.testing.assert_array_equal(np.asarray(flannot.read_dicom(path).raw_frames), pixels)


def test_corrupt_deflate_stream(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, transfer_syntax=uid.DeflatedExplicitVRLittleEndian)
    data = bytearray(path.read_bytes())
    meta_end = data.find(b"\x08\x00")  # first data set element, deflated right after meta
    for i in range(max(meta_end, 400), min(len(data), 460)):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    expect_error(path, "inflate|parse|truncated|pixel")


def test_raw_deflate_helper_is_bounded() -> None:
    import io

    from flannot.io.deflate import Inflater

    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    blob = comp.compress(bytes(200 << 20)) + comp.flush()
    inflater = Inflater(io.BufferedReader(io.BytesIO(blob)), 0)  # type: ignore[arg-type]
    inflater.grow(1 << 20)
    assert len(inflater.data) == 1 << 20 and not inflater.ended


# --- overflowing numbers are bad input naming the attribute ----------------------------


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ({"RescaleSlope": b"1e300", "RescaleIntercept": b"0"}, "Rescale Slope"),
        ({"RescaleSlope": b"1e400"}, "Rescale Slope"),
        ({"RescaleIntercept": b"-1e400"}, "Rescale Intercept"),
    ],
)
def test_overflowing_rescale(tmp_path: Path, values: dict[str, bytes], match: str) -> None:
    expect_error(make_dicom(tmp_path, **values), match)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (
            {
                "ImagerPixelSpacing": [0.3, 0.3],
                "EstimatedRadiographicMagnificationFactor": b"1e-320",
            },
            "Estimated Radiographic Magnification Factor",
        ),
        ({"PixelSpacing": b"1e400\\1e400"}, "Pixel Spacing"),
        ({"ImagerPixelSpacing": b"1e-320\\1e-320"}, "Imager Pixel Spacing"),
    ],
)
def test_overflowing_spacing(tmp_path: Path, values: dict[str, object], match: str) -> None:
    img = flannot.read_dicom(make_dicom(tmp_path, **values))
    with pytest.raises(flannot.FlannotError, match=match):
        img.info()


@pytest.mark.filterwarnings("ignore:.*IS:UserWarning")  # writing the file warns
def test_overflowing_instance_number_in_a_series(tmp_path: Path) -> None:
    series = uid.generate_uid()
    make_dicom(tmp_path, "a.dcm", series_uid=series, InstanceNumber=b"99999999999999999999999")
    make_dicom(tmp_path, "b.dcm", series_uid=series, InstanceNumber=b"2")
    with pytest.raises(flannot.FlannotError, match="a.dcm: Instance Number .* IS range"):
        flannot.read_dicom(tmp_path)


# --- real files that were refused or misread ---------------------------------------------


def test_ow_big_endian_8bit_rgb_is_word_swapped(tmp_path: Path) -> None:
    rgb = make_pixels(rows=8, cols=5, dtype=np.uint8, rgb=True)  # odd byte count: padded
    ds = make_dataset(rgb)
    ds.file_meta.TransferSyntaxUID = uid.ExplicitVRBigEndian
    raw = rgb.tobytes() + b"\0" * (rgb.nbytes % 2)
    ds.PixelData = np.frombuffer(raw, "<u2").byteswap().tobytes()  # OW words, big endian
    ds["PixelData"].VR = "OW"
    path = tmp_path / "owbe.dcm"
    ds.save_as(path, enforce_file_format=True, little_endian=False, implicit_vr=False)
    np.testing.assert_array_equal(pydicom.dcmread(path).pixel_array, rgb[0])  # the oracle
    np.testing.assert_array_equal(np.asarray(flannot.read_dicom(path).frames)[0], rgb[0])


def _ybr(tmp_path: Path, photometric: str) -> tuple[Path, np.ndarray]:
    rgb = make_pixels(rows=8, cols=6, dtype=np.uint8, rgb=True)[0]
    ybr = convert_color_space(rgb, "RGB", "YBR_FULL")
    ds = make_dataset(ybr[None], photometric=photometric)
    if photometric == "YBR_FULL_422":  # Y1 Y2 Cb Cr for each pair of pixels
        pairs = ybr.reshape(8, 3, 2, 3)
        ds.PixelData = np.stack(
            [pairs[:, :, 0, 0], pairs[:, :, 1, 0], pairs[:, :, 0, 1], pairs[:, :, 0, 2]], -1
        ).tobytes()
    path = tmp_path / f"{photometric}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path, pydicom.dcmread(path).pixel_array  # pydicom converts to RGB: the oracle


@pytest.mark.parametrize("photometric", ["YBR_FULL", "YBR_FULL_422"])
def test_uncompressed_ybr_reads_as_rgb(tmp_path: Path, photometric: str) -> None:
    path, expected = _ybr(tmp_path, photometric)
    img = flannot.read_dicom(path)
    assert img.frames.shape == (1, 8, 6, 3)
    np.testing.assert_array_equal(np.asarray(img.frames)[0], expected)


@pytest.mark.parametrize("photometric", ["YBR_FULL", "YBR_FULL_422", "RGB"])
def test_colour_photometric_with_one_sample_is_one_line(tmp_path: Path, photometric: str) -> None:
    # campaign (issue 16): YBR_FULL with Samples per Pixel 1 was "internal error:
    # ValueError: not enough values to unpack" in `flannot info`
    ds = make_dataset(make_pixels(rows=8, cols=6), photometric=photometric)
    path = tmp_path / "lie.dcm"
    ds.save_as(path, enforce_file_format=True)
    expect_error(path, f"{photometric} needs Samples per Pixel 3, not 1")


def test_implicit_vr_labelled_explicit(tmp_path: Path) -> None:
    pixels = make_pixels(rows=8, cols=6)
    ds = make_dataset(pixels)
    ds.file_meta.TransferSyntaxUID = uid.ImplicitVRLittleEndian
    path = tmp_path / "mislabelled.dcm"
    ds.save_as(path, enforce_file_format=True, implicit_vr=True)
    data = path.read_bytes()
    old = b"\x02\x00\x10\x00UI\x12\x001.2.840.10008.1.2\x00"
    new = b"\x02\x00\x10\x00UI\x14\x001.2.840.10008.1.2.1\x00"
    assert old in data
    (group_length,) = struct.unpack_from("<L", data, 140)
    data = data[:140] + struct.pack("<L", group_length + 2) + data[144:].replace(old, new, 1)
    path.write_bytes(data)
    np.testing.assert_array_equal(pydicom.dcmread(path).pixel_array, pixels[0])  # the oracle
    np.testing.assert_array_equal(np.asarray(flannot.read_dicom(path).raw_frames)[0], pixels[0])


def test_guarded_passes_results_through() -> None:
    assert cage.guarded(lambda: 42, "x.dcm", "step") == 42


def test_cli_os_error_names_the_file_on_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import flannot.io
    from flannot.cli import main

    def full_disk(path: object) -> None:
        raise OSError(28, "No space left on device", "out\nput\x1b[2J.json")

    monkeypatch.setattr(flannot.io, "read_dicom", full_disk)
    assert main(["info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert "out\\nput\\x1b[2J.json: No space left on device" in err


def test_mangled_transfer_syntax_warns_nothing(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(), transfer_syntax=uid.JPEG2000Lossless)
    data = bytearray(path.read_bytes())
    at = data.find(b"1.2.840.10008.1.2.4.90")
    data[at + 5 : at + 7] = b"@x"  # pydicom warns "Invalid value for VR UI" on access
    path.write_bytes(bytes(data))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        expect_error(path, "unknown transfer syntax")
    assert [str(w.message) for w in seen] == []


def test_decoded_frame_cap_is_below_a_gigabyte(tmp_path: Path) -> None:
    # a header may promise a frame only as large as the campaign's memory bound allows
    path = make_dicom(tmp_path, pixels=make_pixels(), transfer_syntax=uid.JPEG2000Lossless)
    big = rewrite(path, tmp_path / "big.dcm", Rows=20000, Columns=20000)  # 800 MB of uint16
    expect_error(big, "exceeds the 256 MiB limit")
