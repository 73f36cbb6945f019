"""Bad input: one-line FlannotError naming the file, never a hang or a huge allocation."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import uid

import flannot
from tests.io.dicom_factory import make_dicom, make_pixels, truncate


def expect_error(path: Path, match: str) -> str:
    with pytest.raises(flannot.FlannotError, match=match) as err:
        img = flannot.read_dicom(path)
        np.asarray(img.frames)  # errors found only while decoding count too
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(str(path))
    return msg


def test_not_dicom(tmp_path: Path) -> None:
    p = tmp_path / "notes.dcm"
    p.write_bytes(b"hello world, definitely not DICOM" * 10)
    expect_error(p, "not a DICOM file")


def test_garbage_after_preamble_does_not_hang(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    p = tmp_path / "garbage.dcm"
    p.write_bytes(b"\0" * 128 + b"DICM" + rng.integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    expect_error(p, ".")


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.dcm"
    p.write_bytes(b"")
    expect_error(p, "empty file")


def test_missing_path(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.dcm", "no such file")


def test_no_pixel_data(tmp_path: Path) -> None:
    path = make_dicom(tmp_path)
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    expect_error(path, "no pixel data")


@pytest.mark.parametrize("keep", [140, 200])
def test_cut_inside_the_file_meta(tmp_path: Path, keep: int) -> None:
    path = make_dicom(tmp_path)
    path.write_bytes(path.read_bytes()[:keep])
    expect_error(path, "truncated")


def test_cut_inside_the_header_says_it_may_be_cut(tmp_path: Path) -> None:
    path = make_dicom(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: data.find(b"\x28\x00\x10\x00")])  # just before Rows
    expect_error(path, "cut short")


def test_png_named_dcm(tmp_path: Path) -> None:
    p = tmp_path / "screenshot.dcm"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 300)
    expect_error(p, "not a DICOM file")


def test_truncated_native_pixel_data(tmp_path: Path) -> None:
    path = truncate(make_dicom(tmp_path, pixels=make_pixels(frames=4)), 0.6)
    expect_error(path, "truncated")


def test_truncated_encapsulated_pixel_data(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=4), transfer_syntax=uid.RLELossless)
    truncate(path, 0.7)
    expect_error(path, "truncated")


def test_dimensions_larger_than_data(tmp_path: Path) -> None:
    # header claims 1000 frames of 64x64 but holds 2: refused before anything is allocated
    path = make_dicom(tmp_path, pixels=make_pixels(frames=2), NumberOfFrames=1000)
    msg = expect_error(path, "dimensions larger than the data")
    assert "1000 frames" in msg


def test_absurd_dimensions_refused(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=2), NumberOfFrames=10**9)
    expect_error(path, "exceeds the limit")


def test_rows_columns_larger_than_data(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, Rows=10000, Columns=10000)
    expect_error(path, "dimensions larger than the data")


def test_more_frames_than_fragments(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=2), transfer_syntax=uid.RLELossless)
    ds = pydicom.dcmread(path)
    ds.NumberOfFrames = 5
    ds.save_as(path)
    expect_error(path, "dimensions larger than the data")


def test_corrupt_compressed_frame(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=1), transfer_syntax=uid.JPEG2000Lossless)
    data = bytearray(path.read_bytes())
    start = data.find(b"\xff\x4f\xff\x51")  # J2K codestream start
    data[start + 100 : start + 400] = b"\x00" * 300
    path.write_bytes(bytes(data))
    expect_error(path, "cannot decode frame 0|decoded to shape")


def test_zero_rows(tmp_path: Path) -> None:
    expect_error(make_dicom(tmp_path, Rows=0), "image size")


def test_malformed_offset_table(tmp_path: Path) -> None:
    pixels = make_pixels(frames=3, dtype=np.uint8)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=uid.JPEGBaseline8Bit)
    data = bytearray(path.read_bytes())
    # the Basic Offset Table item follows the Pixel Data header; point frame 2 mid-fragment
    bot = data.find(b"\xfe\xff\x00\xe0")
    length = struct.unpack("<L", data[bot + 4 : bot + 8])[0]
    assert length == 12
    data[bot + 12 : bot + 16] = struct.pack("<L", 3)
    path.write_bytes(bytes(data))
    expect_error(path, "offset table")


def test_empty_folder(tmp_path: Path) -> None:
    expect_error(tmp_path, "no DICOM images")
