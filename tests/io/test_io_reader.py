"""read_dicom: modalities, transfer syntaxes, presentation values, windows, views, series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import uid

import flannot
from flannot.io import Window
from tests.io.dicom_factory import item, make_dicom, make_pixels

LOSSLESS = [
    uid.ExplicitVRLittleEndian,
    uid.ImplicitVRLittleEndian,
    uid.ExplicitVRBigEndian,
    uid.DeflatedExplicitVRLittleEndian,
    uid.RLELossless,
    uid.JPEGLSLossless,
    uid.JPEG2000Lossless,
    uid.JPEGLossless,  # Process 14, encoded and decoded with python-gdcm (not GPL)
    uid.JPEGLosslessSV1,
]


@pytest.mark.parametrize("ts", LOSSLESS, ids=lambda t: t.name)
def test_lossless_transfer_syntaxes_decode_exactly(tmp_path: Path, ts: uid.UID) -> None:
    pixels = make_pixels(frames=3, bits_stored=12)
    img = flannot.read_dicom(
        make_dicom(tmp_path, pixels=pixels, bits_stored=12, transfer_syntax=ts)
    )
    assert img.transfer_syntax_uid == ts
    assert img.frames.shape == (3, 64, 64)
    assert img.frames.dtype == np.uint16
    np.testing.assert_array_equal(np.asarray(img.frames), pixels)
    np.testing.assert_array_equal(img.frames[1], pixels[1])
    np.testing.assert_array_equal(img.raw_frames[2], pixels[2])


@pytest.mark.parametrize("ts", [uid.RLELossless, uid.JPEGLSLossless, uid.JPEG2000Lossless])
def test_lossless_signed_data(tmp_path: Path, ts: uid.UID) -> None:
    pixels = make_pixels(frames=2, dtype=np.int16, bits_stored=12)
    assert pixels.min() < 0
    img = flannot.read_dicom(
        make_dicom(tmp_path, pixels=pixels, bits_stored=12, transfer_syntax=ts)
    )
    np.testing.assert_array_equal(np.asarray(img.raw_frames), pixels)


def test_native_signed_sign_extension(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, dtype=np.int16, bits_stored=12)
    path = make_dicom(tmp_path, pixels=pixels, bits_stored=12)
    np.testing.assert_array_equal(flannot.read_dicom(path).raw_frames[0], pixels[0])


@pytest.mark.parametrize(
    ("ts", "offset_table", "fragments"),
    [
        (uid.JPEGBaseline8Bit, "bot", 1),
        (uid.JPEGBaseline8Bit, "none", 3),  # no offset table, frames split by EOI markers
        (uid.JPEGBaseline8Bit, "extended", 1),
        (uid.JPEGExtended12Bit, "bot", 1),  # 8-bit data in the Extended syntax
    ],
)
def test_jpeg_lossy_within_tolerance(
    tmp_path: Path, ts: uid.UID, offset_table: str, fragments: int
) -> None:
    pixels = make_pixels(frames=3, dtype=np.uint8)
    path = make_dicom(
        tmp_path,
        pixels=pixels,
        transfer_syntax=ts,
        offset_table=offset_table,
        fragments_per_frame=fragments,
    )
    img = flannot.read_dicom(path)
    assert img.frames.shape == (3, 64, 64)
    for i in range(3):
        diff = np.abs(img.frames[i].astype(int) - pixels[i].astype(int))
        assert diff.mean() < 3 and diff.max() < 40


@pytest.mark.parametrize(
    ("ts", "options", "max_error"),
    [
        (uid.JPEGLSNearLossless, {"jls_error": 2}, 2),  # near-lossless: bounded error
        (uid.JPEG2000, {"j2k_cr": [8]}, None),
    ],
)
def test_lossy_jpegls_and_j2k(tmp_path: Path, ts: uid.UID, options: dict, max_error: int) -> None:
    pixels = make_pixels(frames=2, bits_stored=12)
    path = make_dicom(
        tmp_path, pixels=pixels, bits_stored=12, transfer_syntax=ts, compress_options=options
    )
    img = flannot.read_dicom(path)
    diff = np.abs(np.asarray(img.frames).astype(int) - pixels.astype(int))
    assert img.transfer_syntax_uid == ts
    if max_error is not None:
        assert diff.max() <= max_error
    assert diff.mean() < 0.02 * 4095


def test_decoder_missing_names_syntax_and_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydicom.pixels.decoders.base import Decoder

    path = make_dicom(tmp_path, transfer_syntax=uid.JPEGLSLossless)
    monkeypatch.setattr(Decoder, "is_available", property(lambda self: False))
    with pytest.raises(flannot.FlannotError) as err:
        flannot.read_dicom(path)
    msg = str(err.value)
    assert "JPEG-LS Lossless" in msg and "1.2.840.10008.1.2.4.80" in msg and "pyjpegls" in msg


def test_jpeg_ybr_rgb_becomes_rgb(tmp_path: Path) -> None:
    pixels = make_pixels(frames=2, dtype=np.uint8, rgb=True)
    path = make_dicom(tmp_path, pixels=pixels, modality="OT", transfer_syntax=uid.JPEGBaseline8Bit)
    img = flannot.read_dicom(path)
    assert img.is_rgb and img.frames.shape == (2, 64, 64, 3)
    assert np.abs(img.frames[1].astype(int) - pixels[1]).mean() < 6


def test_secondary_capture_rgb_native(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, dtype=np.uint8, rgb=True)
    img = flannot.read_dicom(make_dicom(tmp_path, pixels=pixels, modality="OT"))
    assert img.is_rgb and img.frames.shape == (1, 64, 64, 3)
    np.testing.assert_array_equal(img.frames[0], pixels[0])
    assert img.windows[0].explanation.startswith("RGB")


def test_rgb_planar_configuration_1(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, dtype=np.uint8, rgb=True)
    planar = make_pixels(frames=1, dtype=np.uint8, rgb=True)
    path = make_dicom(tmp_path, pixels=planar, modality="OT", PlanarConfiguration=1)
    # rewrite the pixel bytes as RRR..GGG..BBB
    import pydicom

    ds = pydicom.dcmread(path)
    ds.PixelData = np.ascontiguousarray(pixels[0].transpose(2, 0, 1)).tobytes()
    ds.save_as(path)
    np.testing.assert_array_equal(flannot.read_dicom(path).frames[0], pixels[0])


@pytest.mark.parametrize("modality", ["XA", "RF", "DX", "CR", "ENHANCED_XA", "ENHANCED_XRF"])
def test_modalities(tmp_path: Path, modality: str) -> None:
    pixels = make_pixels(frames=2 if modality != "DX" else 1)
    img = flannot.read_dicom(make_dicom(tmp_path, pixels=pixels, modality=modality))
    assert img.n_frames == len(pixels)
    assert (img.rows, img.cols) == (64, 64)
    np.testing.assert_array_equal(np.asarray(img.frames), pixels)


def test_missing_decoder_names_syntax_and_extra(tmp_path: Path) -> None:
    # 12-bit JPEG Extended needs the GPL libjpeg plugin, not in the default install
    pixels = make_pixels(frames=1, bits_stored=12)
    path = make_dicom(
        tmp_path, pixels=pixels, bits_stored=12, transfer_syntax=uid.JPEGExtended12Bit
    )
    with pytest.raises(flannot.FlannotError) as err:
        flannot.read_dicom(path)
    msg = str(err.value)
    assert "JPEG Extended" in msg and "1.2.840.10008.1.2.4.51" in msg
    assert "flannot[gpl]" in msg and str(path) in msg


def test_unknown_transfer_syntax(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, dtype=np.uint8)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=uid.JPEGBaseline8Bit)
    data = path.read_bytes().replace(b"1.2.840.10008.1.2.4.50", b"1.2.840.10008.1.2.4.99")
    path.write_bytes(data)
    with pytest.raises(flannot.FlannotError, match=r"1\.2\.840\.10008\.1\.2\.4\.99"):
        flannot.read_dicom(path)


# --- presentation values ---------------------------------------------------------------


def test_monochrome1_inverted_once(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, bits_stored=12)
    img = flannot.read_dicom(
        make_dicom(tmp_path, pixels=pixels, bits_stored=12, photometric="MONOCHROME1")
    )
    np.testing.assert_array_equal(img.frames[0], 4095 - pixels[0])
    np.testing.assert_array_equal(img.raw_frames[0], pixels[0])
    assert img.inverted


def test_monochrome1_with_presentation_lut_inverse_not_inverted_twice(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, bits_stored=12)
    path = make_dicom(
        tmp_path,
        pixels=pixels,
        bits_stored=12,
        photometric="MONOCHROME1",
        modality="DX",
        PresentationLUTShape="INVERSE",
    )
    np.testing.assert_array_equal(flannot.read_dicom(path).frames[0], 4095 - pixels[0])


def test_monochrome2_identity_not_inverted(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, bits_stored=12)
    path = make_dicom(tmp_path, pixels=pixels, bits_stored=12, PresentationLUTShape="IDENTITY")
    img = flannot.read_dicom(path)
    np.testing.assert_array_equal(img.frames[0], pixels[0])
    assert not img.inverted


def test_monochrome2_with_presentation_lut_inverse_inverted_once(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, dtype=np.uint8)
    path = make_dicom(tmp_path, pixels=pixels, PresentationLUTShape="INVERSE")
    img = flannot.read_dicom(path)
    np.testing.assert_array_equal(img.frames[0], 255 - pixels[0])
    assert img.inverted


def test_integral_rescale_keeps_integers(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, bits_stored=12)
    path = make_dicom(
        tmp_path, pixels=pixels, bits_stored=12, RescaleSlope=1, RescaleIntercept=-1024
    )
    img = flannot.read_dicom(path)
    assert img.frames.dtype.kind == "i" and img.frames.dtype.itemsize >= 4
    np.testing.assert_array_equal(img.frames[0], pixels[0].astype(np.int64) - 1024)


def test_fractional_rescale_gives_float32(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, bits_stored=12)
    path = make_dicom(tmp_path, pixels=pixels, bits_stored=12, RescaleSlope=0.5, RescaleIntercept=3)
    img = flannot.read_dicom(path)
    assert img.frames.dtype == np.float32
    np.testing.assert_allclose(img.frames[0], pixels[0] * 0.5 + 3)


def test_rescale_then_monochrome1_inversion(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, bits_stored=12)
    path = make_dicom(
        tmp_path,
        pixels=pixels,
        bits_stored=12,
        photometric="MONOCHROME1",
        RescaleSlope=2,
        RescaleIntercept=100,
    )
    img = flannot.read_dicom(path)
    lo, hi = 100, 2 * 4095 + 100
    np.testing.assert_array_equal(img.frames[0], lo + hi - (2 * pixels[0].astype(np.int64) + 100))


def test_modality_lut_sequence(tmp_path: Path) -> None:
    pixels = make_pixels(frames=1, dtype=np.uint8)
    lut = (np.arange(256, dtype=np.uint16) * 3 + 10).astype(np.uint16)
    path = make_dicom(
        tmp_path,
        pixels=pixels,
        modality="CR",
        ModalityLUTSequence=[
            {
                "LUTDescriptor": [256, 0, 16],
                "ModalityLUTType": "US",
                "LUTData": lut.tobytes(),
            }
        ],
    )
    img = flannot.read_dicom(path)
    np.testing.assert_array_equal(img.frames[0], lut[pixels[0]])


# --- windows ------------------------------------------------------------------------


def test_all_header_windows_with_explanations(tmp_path: Path) -> None:
    path = make_dicom(
        tmp_path,
        WindowCenter=[2048, 1000],
        WindowWidth=[4096, 500],
        WindowCenterWidthExplanation=["FULL", "BONE"],
        VOILUTFunction="SIGMOID",
    )
    img = flannot.read_dicom(path)
    assert img.windows == [Window(2048, 4096, "FULL"), Window(1000, 500, "BONE")]
    assert img.voi_lut_function == "SIGMOID"
    assert img.windows[1].contrast_limits == (750, 1250)


def test_invalid_window_width_dropped_and_derived_default(tmp_path: Path) -> None:
    pixels = make_pixels(frames=3, bits_stored=12)
    path = make_dicom(tmp_path, pixels=pixels, bits_stored=12, WindowCenter=100, WindowWidth=0)
    img = flannot.read_dicom(path)
    assert len(img.windows) == 1
    w = img.windows[0]
    assert "derived" in w.explanation and "frame 1" in w.explanation
    lo, hi = np.percentile(pixels[1], [0.5, 99.5])
    assert w.contrast_limits == pytest.approx((lo, hi))
    assert img.voi_lut_function == "LINEAR"


def test_window_follows_monochrome1_inversion(tmp_path: Path) -> None:
    path = make_dicom(
        tmp_path, bits_stored=12, photometric="MONOCHROME1", WindowCenter=1000, WindowWidth=400
    )
    w = flannot.read_dicom(path).windows[0]
    assert (w.center, w.width) == (4095 - 1000, 400)


def test_enhanced_frame_voi_lut_window(tmp_path: Path) -> None:
    path = make_dicom(
        tmp_path,
        modality="ENHANCED_XA",
        SharedFunctionalGroupsSequence=[
            {"FrameVOILUTSequence": {"WindowCenter": 300, "WindowWidth": 200}}
        ],
    )
    w = flannot.read_dicom(path).windows[0]
    assert (w.center, w.width) == (300, 200)


# --- view -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "view"),
    [
        (dict(ViewPosition="AP"), "ap"),
        (dict(ViewPosition="PA"), "ap"),
        (dict(ViewPosition="LL"), "lateral"),
        (dict(ViewPosition="RAO"), "oblique"),
        (dict(PositionerPrimaryAngle=2.0, PositionerSecondaryAngle=5.0), "ap"),
        (dict(PositionerPrimaryAngle=-88.0), "lateral"),
        (dict(PositionerPrimaryAngle=91.0), "lateral"),
        (dict(PositionerPrimaryAngle=35.0), "oblique"),
        (dict(PositionerPrimaryAngle=178.0), "ap"),
        (dict(PositionerSecondaryAngle=30.0), "oblique"),
        (dict(), "unknown"),
    ],
)
def test_view(tmp_path: Path, attrs: dict, view: str) -> None:
    img = flannot.read_dicom(make_dicom(tmp_path, **attrs))
    assert img.view == view
    other = img.with_view("lateral" if view != "lateral" else "ap")
    assert other.view != view and img.view == view
    with pytest.raises(ValueError):
        img.with_view("sideways")


def test_enhanced_positioner_angle(tmp_path: Path) -> None:
    path = make_dicom(
        tmp_path,
        modality="ENHANCED_XA",
        PerFrameFunctionalGroupsSequence=[
            {"PositionerPositionSequence": {"PositionerPrimaryAngle": 90}}
        ],
    )
    assert flannot.read_dicom(path).view == "lateral"


# --- header facts ---------------------------------------------------------------------


def test_header_facts_and_info(tmp_path: Path) -> None:
    pixels = make_pixels(frames=4)
    path = make_dicom(
        tmp_path, pixels=pixels, FrameTime=33.3, ImagerPixelSpacing=[0.3, 0.3], ViewPosition="LL"
    )
    img = flannot.read_dicom(path)
    assert img.frame_time_ms == pytest.approx(33.3)
    assert img.modality == "XA" and img.photometric == "MONOCHROME2"
    assert img.header.get("PixelData") is None  # header only
    info = img.info()
    assert info["frames"] == 4 and info["rows"] == 64 and info["columns"] == 64
    assert info["pixel_spacing_mm"] == [0.3, 0.3] and info["calibration"] == "detector_plane"
    assert info["transfer_syntax_uid"] == uid.ExplicitVRLittleEndian
    assert info["transfer_syntax_name"] == "Explicit VR Little Endian"
    assert info["view"] == "lateral"
    import json

    json.dumps(info)  # serialisable


def test_frame_time_from_cine_rate(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=2), CineRate=25)
    assert flannot.read_dicom(path).frame_time_ms == pytest.approx(40.0)


# --- folders of single frames -----------------------------------------------------------


def _series(tmp_path: Path, order: list[int], series_uid: str = "1.2.3.4") -> np.ndarray:
    pixels = make_pixels(frames=len(order), seed=3)
    for name_no, k in enumerate(order):
        make_dicom(
            tmp_path,
            f"f{name_no:02d}.dcm",
            pixels=pixels[k - 1 : k],
            series_uid=series_uid,
            InstanceNumber=k,
            ImagerPixelSpacing=[0.3, 0.3],
        )
    return pixels


def test_folder_is_one_cine_ordered_by_instance_number(tmp_path: Path) -> None:
    pixels = _series(tmp_path, [3, 1, 4, 2])
    (tmp_path / "notes.txt").write_text("not dicom")
    img = flannot.read_dicom(tmp_path)
    assert img.n_frames == 4 and img.path == tmp_path
    np.testing.assert_array_equal(np.asarray(img.frames), pixels)
    assert img.calibration == "detector_plane"
    assert img.info()["files"] == 4


def test_folder_ties_broken_by_acquisition_time(tmp_path: Path) -> None:
    pixels = make_pixels(frames=2, seed=5)
    make_dicom(tmp_path, "a.dcm", pixels=pixels[1:], series_uid="1.2.3", AcquisitionTime="101500")
    make_dicom(tmp_path, "b.dcm", pixels=pixels[:1], series_uid="1.2.3", AcquisitionTime="101000")
    np.testing.assert_array_equal(np.asarray(flannot.read_dicom(tmp_path).frames), pixels)


def test_folder_mixing_series_is_refused(tmp_path: Path) -> None:
    _series(tmp_path, [1, 2], series_uid="1.2.3.4")
    make_dicom(tmp_path, "other.dcm", series_uid="1.2.3.5")
    with pytest.raises(flannot.FlannotError, match="mixes 2 series"):
        flannot.read_dicom(tmp_path)


def test_folder_disagreeing_spacing_is_uncalibrated(tmp_path: Path) -> None:
    make_dicom(
        tmp_path, "a.dcm", series_uid="1.2.3", InstanceNumber=1, ImagerPixelSpacing=[0.3, 0.3]
    )
    make_dicom(
        tmp_path, "b.dcm", series_uid="1.2.3", InstanceNumber=2, ImagerPixelSpacing=[0.2, 0.2]
    )
    img = flannot.read_dicom(tmp_path)
    assert img.calibration == "uncalibrated" and img.spacing_mm is None


def test_folder_without_dicom(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    with pytest.raises(flannot.FlannotError, match="no DICOM images") as err:
        flannot.read_dicom(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_window_namedtuple_free() -> None:
    w = Window(10, 4, "x")
    assert w.to_dict() == {"center": 10, "width": 4, "explanation": "x"}
    assert item(WindowCenter=1).WindowCenter == 1


@pytest.mark.parametrize("ts", [uid.ExplicitVRLittleEndian, uid.RLELossless], ids=lambda t: t.name)
def test_icon_image_pixel_data_is_not_the_image(tmp_path: Path, ts: uid.UID) -> None:
    # vendors embed a thumbnail with its own Pixel Data in Icon Image Sequence (0088,0200)
    icon = {
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
    pixels = make_pixels(frames=3)
    path = make_dicom(tmp_path, pixels=pixels, IconImageSequence=[icon], transfer_syntax=ts)
    np.testing.assert_array_equal(np.asarray(flannot.read_dicom(path).frames), pixels)


def test_io_helpers_import_without_the_reader() -> None:
    # flannot.io's names are imported on first use: a helper module alone stays light
    import subprocess
    import sys

    code = (
        "import sys, flannot.io.deflate; "
        "print('flannot.io.reader' in sys.modules, 'flannot.io.image' in sys.modules); "
        "from flannot.io import read_dicom, FluoroImage, Calibration, Window; "
        "import flannot.io as io; print(io.read_dicom is read_dicom, 'read_dicom' in dir(io))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True", "True"]
