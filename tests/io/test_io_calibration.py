"""Every row of the SPEC §2 calibration table, from DICOM files built with pydicom."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import flannot
from flannot.cli import main
from flannot.io.calibration import CALIBRATIONS, Calibration
from tests.io.dicom_factory import make_dicom, make_pixels

PS = [0.2, 0.25]
IPS = [0.3, 0.35]


def read(tmp_path: Path, **attrs: object) -> flannot.FluoroImage:
    return flannot.read_dicom(make_dicom(tmp_path, **attrs))


# (attributes, calibration, spacing_mm): every row of the SPEC §2 table
TABLE = [
    # fiducial / geometry: the calibration type wins over everything else
    (
        dict(
            PixelSpacing=PS,
            PixelSpacingCalibrationType="FIDUCIAL",
            ImagerPixelSpacing=IPS,
            EstimatedRadiographicMagnificationFactor=1.5,
        ),
        "fiducial",
        (0.2, 0.25),
    ),
    (dict(PixelSpacing=PS, PixelSpacingCalibrationType="FIDUCIAL"), "fiducial", (0.2, 0.25)),
    (
        dict(PixelSpacing=PS, PixelSpacingCalibrationType="GEOMETRY", ImagerPixelSpacing=IPS),
        "geometry",
        (0.2, 0.25),
    ),
    # calibrated: PS differs from IPS (or Nominal Scanned Pixel Spacing), no type
    (
        dict(
            PixelSpacing=PS,
            ImagerPixelSpacing=IPS,
            EstimatedRadiographicMagnificationFactor=1.5,
        ),
        "calibrated",
        (0.2, 0.25),
    ),
    (
        dict(PixelSpacing=PS, NominalScannedPixelSpacing=IPS, modality="OT"),
        "calibrated",
        (0.2, 0.25),
    ),
    # magnification corrected: IPS / ERMF, or IPS x SOD / SID
    (
        dict(ImagerPixelSpacing=IPS, EstimatedRadiographicMagnificationFactor=1.25),
        "magnification_corrected",
        (0.3 / 1.25, 0.35 / 1.25),
    ),
    (
        dict(ImagerPixelSpacing=IPS, DistanceSourceToPatient=750, DistanceSourceToDetector=1000),
        "magnification_corrected",
        (0.3 * 0.75, 0.35 * 0.75),
    ),
    (  # PS equal to IPS does not stop the magnification correction
        dict(
            PixelSpacing=IPS,
            ImagerPixelSpacing=IPS,
            EstimatedRadiographicMagnificationFactor=1.5,
        ),
        "magnification_corrected",
        (0.2, 0.35 / 1.5),
    ),
    # detector plane: IPS alone, or PS equal to IPS with no type
    (dict(ImagerPixelSpacing=IPS), "detector_plane", (0.3, 0.35)),
    (dict(PixelSpacing=IPS, ImagerPixelSpacing=IPS), "detector_plane", (0.3, 0.35)),
    (dict(NominalScannedPixelSpacing=IPS, modality="OT"), "detector_plane", (0.3, 0.35)),
    # pixel spacing: PS alone
    (dict(PixelSpacing=PS), "pixel_spacing", (0.2, 0.25)),
    (dict(PixelSpacing=PS, EstimatedRadiographicMagnificationFactor=1.5), "pixel_spacing", PS),
    # uncalibrated
    (dict(), "uncalibrated", None),
]


@pytest.mark.parametrize(("attrs", "kind", "spacing"), TABLE)
def test_calibration_table(
    tmp_path: Path, attrs: dict, kind: str, spacing: tuple[float, float] | None
) -> None:
    img = read(tmp_path, **attrs)
    assert img.calibration == kind
    if spacing is None:
        assert img.spacing_mm is None
    else:
        assert img.spacing_mm == pytest.approx(spacing)
    assert img.calibration_note == Calibration(kind, img.spacing_mm).note


@pytest.mark.parametrize(("attrs", "kind", "spacing"), TABLE)
def test_flannot_info_reports_every_row(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    attrs: dict,
    kind: str,
    spacing: tuple[float, float] | None,
) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=2), **attrs)
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["frames"], info["rows"], info["columns"]) == (2, 64, 64)
    assert info["calibration"] == kind
    if spacing is None:
        assert info["pixel_spacing_mm"] is None
    else:
        assert info["pixel_spacing_mm"] == pytest.approx(spacing)
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out.replace(str(path), "")
    (line,) = [x for x in text.splitlines() if x.startswith("calibration ")]
    assert line.split()[1] == f"{kind}:"
    assert (" mm" in text) == (spacing is not None)


@pytest.mark.parametrize(
    ("attrs", "kind"),
    [
        (dict(PixelSpacing=[0.0, 0.2]), "uncalibrated"),
        (dict(PixelSpacing=[-0.2, -0.2]), "uncalibrated"),
        (dict(PixelSpacing=b"abc\\0.2 "), "uncalibrated"),
        (dict(PixelSpacing=[0.2]), "uncalibrated"),  # one value: malformed
        (dict(ImagerPixelSpacing=[0, 0], PixelSpacing=PS), "pixel_spacing"),
        (
            dict(ImagerPixelSpacing=IPS, EstimatedRadiographicMagnificationFactor=0),
            "detector_plane",
        ),
        (
            dict(ImagerPixelSpacing=IPS, EstimatedRadiographicMagnificationFactor=-1.2),
            "detector_plane",
        ),
        (
            dict(ImagerPixelSpacing=IPS, EstimatedRadiographicMagnificationFactor=b"x1.2"),
            "detector_plane",
        ),
        (  # source-object distance beyond the detector is impossible
            dict(
                ImagerPixelSpacing=IPS, DistanceSourceToPatient=1200, DistanceSourceToDetector=1000
            ),
            "detector_plane",
        ),
        (dict(ImagerPixelSpacing=IPS, DistanceSourceToDetector=1000), "detector_plane"),
        (  # invalid spacing with a type: the type has nothing to qualify
            dict(PixelSpacing=[0, 0], PixelSpacingCalibrationType="FIDUCIAL"),
            "uncalibrated",
        ),
        (  # unknown type value counts as no type
            dict(PixelSpacing=PS, PixelSpacingCalibrationType="MAGIC"),
            "pixel_spacing",
        ),
    ],
)
def test_zero_negative_malformed_count_as_absent(tmp_path: Path, attrs: dict, kind: str) -> None:
    img = read(tmp_path, **attrs)
    assert img.calibration == kind
    assert (img.spacing_mm is None) == (kind == "uncalibrated")


def test_user_calibration_overrides_header(tmp_path: Path) -> None:
    img = read(tmp_path, PixelSpacing=PS, PixelSpacingCalibrationType="FIDUCIAL")
    user = img.with_user_calibration(0.18)
    assert user.calibration == "user"
    assert user.spacing_mm == (0.18, 0.18)
    assert "user" in user.calibration_note
    assert img.calibration == "fiducial"  # the original is unchanged
    with pytest.raises(ValueError):
        img.with_user_calibration(0.0)
    # what a case file may record (its schema): a spacing the reader would refuse is refused
    for bad in (1e-300, 1e-7, 2.0**63, float("nan"), (0.2, 1e7)):
        with pytest.raises(ValueError, match="1e-06"):
            img.with_user_calibration(bad)


def test_enhanced_xa_shared_functional_groups(tmp_path: Path) -> None:
    img = read(
        tmp_path,
        modality="ENHANCED_XA",
        SharedFunctionalGroupsSequence=[
            {
                "PixelMeasuresSequence": {"PixelSpacing": PS},
                "FramePixelDataPropertiesSequence": {"ImagerPixelSpacing": IPS},
            }
        ],
    )
    assert img.calibration == "calibrated"
    assert img.spacing_mm == pytest.approx(PS)


def test_enhanced_xrf_per_frame_functional_groups(tmp_path: Path) -> None:
    img = read(
        tmp_path,
        modality="ENHANCED_XRF",
        PerFrameFunctionalGroupsSequence=[
            {"FramePixelDataPropertiesSequence": {"ImagerPixelSpacing": IPS}}
        ],
        SharedFunctionalGroupsSequence=[
            {
                "XRayGeometrySequence": {
                    "DistanceSourceToIsocenter": 700,
                    "DistanceSourceToDetector": 1000,
                }
            }
        ],
    )
    assert img.calibration == "magnification_corrected"
    assert img.spacing_mm == pytest.approx((0.3 * 0.7, 0.35 * 0.7))


def test_enhanced_detector_plane_only(tmp_path: Path) -> None:
    img = read(
        tmp_path,
        modality="ENHANCED_XA",
        SharedFunctionalGroupsSequence=[
            {"FramePixelDataPropertiesSequence": {"ImagerPixelSpacing": IPS}}
        ],
    )
    assert img.calibration == "detector_plane"
    assert "magnified" in img.calibration_note


def test_notes_say_what_it_means() -> None:
    assert set(CALIBRATIONS) == {
        "user",
        "fiducial",
        "geometry",
        "calibrated",
        "magnification_corrected",
        "detector_plane",
        "pixel_spacing",
        "uncalibrated",
    }
    assert "10-50 %" in Calibration("detector_plane", (1.0, 1.0)).note
    assert "projection" in Calibration("pixel_spacing", (1.0, 1.0)).note
    assert "pixels only" in Calibration("uncalibrated", None).note
    assert "isocentre" in Calibration("magnification_corrected", (1.0, 1.0)).note
    with pytest.raises(ValueError):
        Calibration("uncalibrated", (1.0, 1.0))
    with pytest.raises(ValueError):
        Calibration("bogus", (1.0, 1.0))
