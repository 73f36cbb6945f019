"""``flannot export``: exit codes, one-line errors, quiet in a pipe."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import uid

import flannot
from flannot.cli import main
from tests.export.export_helpers import SAMPLE, small_set
from tests.io.dicom_factory import make_dicom


def test_csv_export_from_the_command_line(sample_set: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "csv"
    assert main(["export", str(sample_set), "--format", "csv", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert (out / "measurements.csv").read_text().startswith("case_id,frame,annotation_id")
    assert "exported 16 case(s) as csv" in captured.out  # 6 v1 + 7 v2 + 3 CT cases
    assert captured.err == ""  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "png"], "unknown export format"),
        (["--format", "csv", "--workers", "0"], "--workers"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    sample_set: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    code = main(["export", str(sample_set), *args, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("flannot: error:") and message in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_bad_set_exits_2_naming_the_folder(tmp_path: Path, capsys) -> None:
    code = main(["export", str(tmp_path), "--format", "coco", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and str(tmp_path) in err and err.count("\n") == 1


def test_bad_case_file_exits_2(sample_set: Path, tmp_path: Path, capsys) -> None:
    from tests.export.export_helpers import small_set

    src = small_set(sample_set, tmp_path / "set", ["ap"])
    (src / "cases" / "ap" / "annotations.json").write_text("{not json")
    code = main(["export", str(src), "--format", "coco", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "annotations.json" in err and err.count("\n") == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(sample_set: Path, tmp_path: Path, monkeypatch) -> None:
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    out = tmp_path / "csv"
    assert main(["export", str(sample_set), "--format", "csv", "--out", str(out)]) == 0
    text = term.getvalue()
    assert "export csv" in text and "16/16" in text and "100%" in text


def test_full_disk_exits_2_naming_the_file_and_leaves_no_partial_file(
    sample_set: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import flannot.atomic as atomic
    from tests.export.export_helpers import small_set

    src = small_set(sample_set, tmp_path / "set", ["ap", "lateral"])
    real, calls = atomic._write_file, []

    def write(path: Path, data: bytes) -> None:
        calls.append(path)
        if path.name == "annotations.json":  # the last file: every image was written already
            path.write_bytes(data[:10])
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(atomic, "_write_file", write)
    out = tmp_path / "o"
    code = main(["export", str(src), "--format", "coco", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err == f"flannot: error: {out / 'annotations.json'}: No space left on device\n"
    assert len(calls) > 1  # images were staged before the JSON failed
    assert not out.exists()  # no partial file, no image, no staging: not even the new folder


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_image_that_aborted_gdcm_is_one_line_serial_and_in_workers(
    tmp_path: Path, workers: str
) -> None:
    # issue 16: GDCM's JPEG codec aborted `flannot export` (SIGABRT) on a JPEG Lossless
    # image whose header claims Bits Allocated 32; with --workers 2 the abort became a
    # BrokenProcessPool traceback. Its own process: an abort would take pytest down.
    s = small_set(SAMPLE, tmp_path / "set", ["ap", "lateral"])
    image = s / "cases" / "ap" / "image.dcm"
    orig = pydicom.dcmread(image)
    jpeg = make_dicom(
        tmp_path,
        "j.dcm",
        pixels=orig.pixel_array[None].astype(np.uint16),
        transfer_syntax=uid.JPEGLossless,
    )
    ds = pydicom.dcmread(jpeg)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = orig.SOPInstanceUID
    ds.ImagerPixelSpacing = orig.ImagerPixelSpacing
    ds.BitsAllocated = 32  # the lie
    ds.save_as(image)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": f"{Path(flannot.__file__).parents[1]}{os.pathsep}{root}"}
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "flannot",
            "export",
            str(s),
            "-f",
            "coco",
            "-o",
            str(out),
            "--workers",
            workers,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert run.stderr.count("\n") == 1 and "BrokenProcessPool" not in run.stderr
    assert run.stderr.startswith(f"flannot: error: {image}: ") and "Bits Allocated 32" in run.stderr
    assert not out.exists()  # nothing half-written


@pytest.mark.parametrize(
    ("value", "match"),
    [("NaN", "NaN is not a JSON number"), ("1e300", "far outside"), ("-1e300", "far outside")],
)
def test_non_finite_or_huge_coordinates_are_one_line_everywhere(
    tmp_path: Path, capsys, value: str, match: str
) -> None:
    # issue 16: NaN coordinates broke the COCO JSON (NaN is not JSON); +-1e300 printed
    # 9 lines of numpy RuntimeWarnings on top of the output of measure and score
    s = small_set(SAMPLE, tmp_path / "set", ["lateral-stenotic"])
    case = s / "cases" / "lateral-stenotic" / "annotations.json"
    text = case.read_text("utf-8")
    at = text.index('"points"')
    first = text.index("[", text.index("[", at) + 1) + 1  # the first point's row
    end = text.index(",", first)
    case.write_text(text[:first] + value + text[end:], "utf-8")
    for args in (
        ["validate", str(s)],
        ["measure", str(s)],
        ["score", str(s), str(s)],
        ["export", str(s), "-f", "coco", "-o", str(tmp_path / "coco")],
    ):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            code = main(args)
        captured = capsys.readouterr()
        assert [str(w.message) for w in seen] == [], args
        if args[0] == "validate":
            assert code == 1 and match in captured.out, captured.out
        else:
            assert code == 2 and captured.err.count("\n") == 1 and match in captured.err, args
    assert not (tmp_path / "coco").exists()
