"""``flannot info``: aligned table, --json, one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flannot.cli import main
from tests.io.dicom_factory import make_dicom, make_pixels


def _no_nan(name: str) -> None:
    raise AssertionError(f"not JSON: {name}")


def test_info_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = make_dicom(
        tmp_path,
        pixels=make_pixels(frames=3),
        ImagerPixelSpacing=[0.3, 0.3],
        EstimatedRadiographicMagnificationFactor=1.5,
        PositionerPrimaryAngle=90,
        FrameTime=66.7,
        WindowCenter=[2000, 500],
        WindowWidth=[4000, 300],
        WindowCenterWidthExplanation=["FULL", "SOFT"],
    )
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out, parse_constant=_no_nan)  # strict JSON
    assert info["modality"] == "XA"
    assert info["view"] == "lateral"
    assert info["frames"] == 3 and info["rows"] == 64 and info["columns"] == 64
    assert info["pixel_spacing_mm"] == pytest.approx([0.2, 0.2])
    assert info["calibration"] == "magnification_corrected"
    assert "isocentre" in info["calibration_note"]
    assert info["photometric_interpretation"] == "MONOCHROME2"
    assert info["transfer_syntax_uid"] == "1.2.840.10008.1.2.1"
    assert info["transfer_syntax_name"] == "Explicit VR Little Endian"
    assert [w["explanation"] for w in info["windows"]] == ["FULL", "SOFT"]
    assert info["frame_time_ms"] == pytest.approx(66.7)


def test_info_table_mm_only_when_calibrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cal = make_dicom(tmp_path, "cal.dcm", ImagerPixelSpacing=[0.3, 0.3])
    assert main(["info", str(cal)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(
        line.startswith("pixel spacing") and "0.3 x 0.3 mm" in line and "detector_plane" in line
        for line in lines
    )
    assert any("detector_plane" in line and "magnified" in line for line in lines)
    # aligned: every value starts in the same column
    starts = {len(line) - len(line.split("  ", 1)[1].lstrip()) for line in lines if "  " in line}
    assert len(starts) == 1

    raw = make_dicom(tmp_path, "raw.dcm")
    assert main(["info", str(raw)]) == 0
    out = capsys.readouterr().out
    assert " mm" not in out.replace(str(raw), "")
    assert "uncalibrated" in out and "pixels only" in out


def test_info_bad_file_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"not a dicom file")
    assert main(["info", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err
        == f"flannot: error: {bad}: not a DICOM file (no 'DICM' marker after the preamble)\n"
    )


def test_info_folder_series(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pixels = make_pixels(frames=3)
    for k in range(3):
        make_dicom(
            tmp_path,
            f"f{k}.dcm",
            pixels=pixels[k : k + 1],
            series_uid="1.2.3",
            InstanceNumber=k + 1,
        )
    assert main(["info", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["files"] == 3 and info["frames"] == 3
    assert main(["info", str(tmp_path)]) == 0
    assert "(3 files)" in capsys.readouterr().out


def test_info_subprocess(tmp_path: Path) -> None:
    good = make_dicom(tmp_path, "good.dcm", PixelSpacing=[0.2, 0.2])
    ok = subprocess.run(
        [sys.executable, "-m", "flannot", "info", str(good), "--json"],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["calibration"] == "pixel_spacing"
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    bad = subprocess.run(
        [sys.executable, "-m", "flannot", "info", str(empty)], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [f"flannot: error: {empty}: empty file"]
