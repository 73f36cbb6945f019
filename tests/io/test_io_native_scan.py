"""The fast native open gives exactly what the pydicom path gives, and declines the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom import uid

import flannot
from flannot.io import reader
from flannot.io.native_scan import CHUNK, FIRST_READ, scan_native
from tests.io.dicom_factory import make_dataset, make_dicom, make_pixels

ICON = {
    "Rows": 8,
    "Columns": 8,
    "SamplesPerPixel": 1,
    "PhotometricInterpretation": "MONOCHROME2",
    "BitsAllocated": 8,
    "BitsStored": 8,
    "HighBit": 7,
    "PixelRepresentation": 0,
    "PixelData": bytes(range(64)),
}

# files the fast path must take: (pixels kwargs, make_dicom kwargs)
PLAIN: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "12-bit": ({"bits_stored": 12}, {"bits_stored": 12}),
    "cine": ({"frames": 4, "bits_stored": 10}, {"bits_stored": 10, "FrameTime": 33.3}),
    "8-bit": ({"dtype": np.uint8}, {}),
    "signed rescale": (
        {"dtype": np.int16, "bits_stored": 12},
        {"bits_stored": 12, "RescaleIntercept": -1024, "RescaleSlope": 1},
    ),
    "fractional rescale": ({}, {"RescaleSlope": 0.5, "RescaleIntercept": 3.25}),
    "monochrome1": ({"bits_stored": 12}, {"bits_stored": 12, "photometric": "MONOCHROME1"}),
    "presentation lut inverse": ({}, {"PresentationLUTShape": "INVERSE"}),
    "rgb": ({"dtype": np.uint8, "rgb": True}, {"modality": "OT"}),
    "rgb planar": ({"dtype": np.uint8, "rgb": True}, {"modality": "OT", "PlanarConfiguration": 1}),
    "malformed slope": ({}, {"RescaleSlope": b"abc "}),
    "empty lut shape": ({}, {"PresentationLUTShape": b""}),
    "icon sequence": ({"frames": 2}, {"IconImageSequence": [ICON]}),
    "nested sequences": (
        {},
        {
            "AnatomicRegionSequence": [{"CodeValue": "T-D0300", "CodeMeaning": "Lumbar spine"}],
            "ReferencedStudySequence": [
                {"ReferencedSOPInstanceUID": "1.2.3", "ReferencedSOPClassUID": "1.2.4"},
                {"ReferencedSOPInstanceUID": "1.2.5", "ReferencedSOPClassUID": "1.2.4"},
            ],
        },
    ),
}


def _scan(path: Path) -> Any:
    with open(path, "rb", buffering=0) as fh:
        return scan_native(fh, path.stat().st_size)


def _both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = reader.open_file(path)
    with monkeypatch.context() as m:
        m.setattr(reader, "scan_native", lambda fh, size: None)
        slow = reader.open_file(path)
        slow_image = flannot.read_dicom(path)
    return (fast, flannot.read_dicom(path)), (slow, slow_image)


@pytest.mark.parametrize("case", PLAIN, ids=str)
def test_fast_path_gives_what_pydicom_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    pixel_kw, dicom_kw = PLAIN[case]
    pixels = make_pixels(**pixel_kw)
    path = make_dicom(tmp_path, pixels=pixels, **dicom_kw)
    assert _scan(path) is not None  # the fast path is taken
    (fast, fast_img), (slow, slow_img) = _both_ways(path, monkeypatch)
    assert fast.source == slow.source  # offset, geometry, dtype, bits, planar
    assert fast.presentation == slow.presentation  # modality LUT, inversion, range
    assert (fast.transfer_syntax_uid, fast.transfer_syntax_name) == (
        slow.transfer_syntax_uid,
        slow.transfer_syntax_name,
    )
    np.testing.assert_array_equal(np.asarray(fast_img.frames), np.asarray(slow_img.frames))
    np.testing.assert_array_equal(np.asarray(fast_img.raw_frames), np.asarray(slow_img.raw_frames))
    if "PlanarConfiguration" not in dicom_kw:  # the factory writes pixel-interleaved RGB
        np.testing.assert_array_equal(np.asarray(fast_img.raw_frames), pixels)
    assert fast_img.info() == slow_img.info()


def test_undefined_length_sequences_are_walked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pixels = make_pixels(frames=2)
    ds = make_dataset(
        pixels,
        IconImageSequence=[ICON],
        AnatomicRegionSequence=[{"CodeValue": "T-D0300", "CodeMeaning": "Lumbar spine"}],
    )
    for keyword in ("IconImageSequence", "AnatomicRegionSequence"):
        ds[keyword].is_undefined_length = True
        for entry in ds[keyword].value:
            entry.is_undefined_length_sequence_item = True
    path = tmp_path / "undefined.dcm"
    ds.save_as(path, enforce_file_format=True)
    raw = path.read_bytes()
    assert b"\xfe\xff\xdd\xe0" in raw and b"\xfe\xff\x0d\xe0" in raw  # delimiters written
    found = _scan(path)
    assert found is not None and found.find("Rows") == 64
    assert found.pixel_value_offset == len(raw) - pixels.nbytes
    (fast, fast_img), (slow, _) = _both_ways(path, monkeypatch)
    assert fast.source == slow.source
    np.testing.assert_array_equal(np.asarray(fast_img.frames), pixels)


def _enhanced(tmp_path: Path) -> Path:
    shared = {"PixelMeasuresSequence": [{"PixelSpacing": [0.2, 0.2]}]}
    return make_dicom(tmp_path, modality="ENHANCED_XA", SharedFunctionalGroupsSequence=[shared])


def _modality_lut(tmp_path: Path) -> Path:
    data = np.arange(4096, dtype=np.uint16).tobytes()
    lut = {"LUTDescriptor": [4096, 0, 16], "ModalityLUTType": "US", "LUTData": data}
    return make_dicom(tmp_path, ModalityLUTSequence=[lut])


DECLINED = {
    "implicit VR": lambda t: make_dicom(t, transfer_syntax=uid.ImplicitVRLittleEndian),
    "big endian": lambda t: make_dicom(t, transfer_syntax=uid.ExplicitVRBigEndian),
    "deflated": lambda t: make_dicom(t, transfer_syntax=uid.DeflatedExplicitVRLittleEndian),
    "RLE": lambda t: make_dicom(t, transfer_syntax=uid.RLELossless),
    "enhanced": _enhanced,
    "modality LUT": _modality_lut,
    "not DICOM": lambda t: (t / "x.dcm", (t / "x.dcm").write_bytes(b"\0" * 300))[0],
}


@pytest.mark.parametrize("case", DECLINED, ids=str)
def test_fast_path_declines_the_rest(tmp_path: Path, case: str) -> None:
    assert _scan(DECLINED[case](tmp_path)) is None


def test_truncated_header_declined(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, AnatomicRegionSequence=[{"CodeValue": "T-D0300"}])
    data = path.read_bytes()
    cut = data.index(b"T-D0300")  # inside the sequence
    path.write_bytes(data[:cut])
    assert _scan(path) is None
    with pytest.raises(flannot.FlannotError) as err:
        flannot.read_dicom(path)
    assert str(path) in str(err.value)


def test_header_parsed_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pixels = make_pixels(frames=3)
    path = make_dicom(
        tmp_path, pixels=pixels, ImagerPixelSpacing=[0.3, 0.3], ViewPosition="LL", Modality="XA"
    )
    calls: list[object] = []
    real = pydicom.dcmread

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(reader.pydicom, "dcmread", counting)
    img = flannot.read_dicom(path)
    np.testing.assert_array_equal(img.frames[1], pixels[1])
    assert calls == []  # showing a frame needs no pydicom parse
    assert (img.calibration, img.view, img.modality) == ("detector_plane", "lateral", "XA")
    assert img.spacing_mm == (0.3, 0.3) and img.header.Rows == 64
    assert len(calls) == 1  # parsed once, on first access, then kept


def test_header_gone_later_names_the_file(tmp_path: Path) -> None:
    path = make_dicom(tmp_path)
    img = flannot.read_dicom(path)
    path.unlink()
    with pytest.raises(flannot.FlannotError) as err:
        _ = img.calibration
    assert str(path) in str(err.value)


def test_long_header_read_in_several_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pixels = make_pixels(frames=2)
    regions = [{"CodeValue": f"T-{i:05d}", "CodeMeaning": "x" * 60} for i in range(800)]
    ds = make_dataset(pixels, AnatomicRegionSequence=regions)  # ~80 kB of sequence
    block = ds.private_block(0x0019, "FLANNOT TEST", create=True)
    for i in range(200):  # before group 0028: Rows & co. lie beyond the first read
        block.add_new(i, "LO", f"private value {i:04d}")
    path = tmp_path / "long.dcm"
    ds.save_as(path, enforce_file_format=True)
    size = path.stat().st_size
    assert size - pixels.nbytes > FIRST_READ + CHUNK  # the header needs several reads
    found = _scan(path)
    assert found is not None and found.pixel_value_offset == size - pixels.nbytes
    assert (found.find("Rows"), found.find("BitsStored")) == (64, ds.BitsStored)
    (fast, fast_img), (slow, _) = _both_ways(path, monkeypatch)
    assert fast.source == slow.source and fast.presentation == slow.presentation
    np.testing.assert_array_equal(np.asarray(fast_img.frames), pixels)
