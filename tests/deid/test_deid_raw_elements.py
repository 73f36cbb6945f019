"""Kept elements are written back as read, and only when that gives the bytes decoding would.

The engine decides an element's action from its tag, VR and keyword without decoding
its value; a kept element whose bytes pydicom would write back unchanged stays raw.
These tests prove the shortcut changes nothing: every file of a corpus (the sample
set, pydicom's own test files across transfer syntaxes and character sets, the
identified XA plain and compressed) de-identifies to the same bytes and report as
when every element is decoded first.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import pydicom
import pydicom.data
import pytest
from identified import make_xa, to_jpeg_baseline
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

from flannot.deid import UidMap, deidentify_dataset
from flannot.deid.engine import _writes_back_as_read, dataset_bytes, read_dicom_file
from flannot.errors import FlannotError

ROOT = Path(__file__).resolve().parents[2]
PYDICOM_FILES = sorted((Path(pydicom.data.__file__).parent / "test_files").glob("*.dcm"))
SAMPLE_FILES = sorted((ROOT / "sample_dicoms").rglob("*.dcm"))
OPTION_SETS = (
    (),
    ("patient-characteristics", "modified-dates", "device-identity", "institution-identity"),
    ("full-dates", "uids"),
)


def _decode_all(ds: Dataset) -> None:
    """Decode every element (what the engine did for each one before the shortcut)."""
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _decode_all(item)


def _both_ways(read, options) -> tuple[tuple[str, dict] | str, tuple[str, dict] | str]:
    out = []
    for decode in (False, True):
        ds = read()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if decode:
                    _decode_all(ds)
                report = deidentify_dataset(ds, options=options, uid_map=UidMap(b"same"))
                out.append((hashlib.sha256(dataset_bytes(ds)).hexdigest(), report.to_dict()))
        except Exception as exc:  # the same failure either way
            out.append(f"{type(exc).__name__}")
    return out[0], out[1]


@pytest.mark.parametrize("options", OPTION_SETS, ids=["basic", "retain", "full-uids"])
def test_corpus_same_bytes_as_decoding_every_element(options, tmp_path: Path) -> None:
    paths = [*PYDICOM_FILES, *SAMPLE_FILES]
    xa = {"plain": make_xa(0, referenced=1), "jpeg": to_jpeg_baseline(make_xa(1))}
    for uid in (JPEGLSLossless, RLELossless, JPEG2000Lossless):
        ds = make_xa(2, referenced=1)
        ds.compress(uid, generate_instance_uid=False)
        xa[uid.name] = ds
    for name, ds in xa.items():
        path = tmp_path / f"xa-{name.replace(' ', '_')}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    compared = 0
    for path in paths:
        try:
            if read_dicom_file(path, stop_before_pixels=True) is None:
                continue  # no DICM marker: not de-identified at all
        except FlannotError:
            continue
        raw, decoded = _both_ways(lambda p=path: read_dicom_file(p), options)
        assert raw == decoded, path.name
        compared += isinstance(raw, tuple)
    assert len(PYDICOM_FILES) >= 60 and compared >= 80, compared


def test_kept_elements_stay_raw_removed_ones_are_never_decoded() -> None:
    ds = read_dicom_file(SAMPLE_FILES[0])
    assert ds is not None
    deidentify_dataset(ds, uid_map=UidMap(b"x"))
    for keyword in ("Rows", "Columns", "BitsAllocated", "PixelData", "ImageType"):
        if keyword in ds:
            assert ds.get_item(Tag(keyword)).is_raw, keyword
    assert not ds.get_item(Tag("SOPInstanceUID")).is_raw  # remapped


def _raw(vr: str, value: bytes, tag: int = 0x00181000, length: int | None = None):
    n = len(value) if length is None else length
    return RawDataElement(Tag(tag), vr, n, value, 0, False, True)


@pytest.mark.parametrize(
    ("vr", "value", "ok"),
    [
        ("CS", b"ORIGINAL\\PRIMARY", True),
        ("LO", b"ABC ", True),
        ("LO", b"A B", False),  # odd length
        ("LO", b"AB  ", False),  # two spaces: pydicom strips both
        ("LO", b" AB ", False),  # leading space
        ("LO", b"AB\x00\x00", False),  # NUL padding
        ("LO", "Ä1".encode("latin-1"), False),  # not ASCII
        ("CS", b"A\\\\B ", False),  # an empty value between backslashes
        ("ST", b"a\r\nb ", False),  # control characters
        ("DS", b"0.25\\0.25 ", True),
        ("DS", b"1e3 ", True),
        ("DS", b"abc ", False),  # pydicom cannot decode it: decoded, fails as before
        ("IS", b"12", True),
        ("IS", b"1.5 ", False),
        ("US", b"\x01\x00", True),
        ("US", b"\x01\x00\x02", False),
        ("OB", b"\x00\x01\x02\x03", True),
        ("FD", b"\x00" * 8, False),  # floats are always decoded
        ("PN", b"DOE^JOHN", False),
        ("UN", b"\x00\x00", False),
        ("", b"", True),
    ],
)
def test_writes_back_as_read(vr: str, value: bytes, ok: bool) -> None:
    assert _writes_back_as_read(_raw(vr, value), vr, 0x00181000) is ok


def test_writes_back_as_read_special_tags() -> None:
    # a LUT descriptor's first value is changed by pydicom when negative
    assert not _writes_back_as_read(_raw("US", b"\x00\x01" * 3, 0x00283002), "US", 0x00283002)
    # encapsulated Pixel Data keeps its bytes; another undefined length is decoded
    frag = b"\xfe\xff\x00\xe0\x00\x00\x00\x00"
    pixel = _raw("OB", frag, 0x7FE00010, 0xFFFFFFFF)
    assert _writes_back_as_read(pixel, "OB", 0x7FE00010)
    other = _raw("OB", frag, 0x00181000, 0xFFFFFFFF)
    assert not _writes_back_as_read(other, "OB", 0x00181000)
