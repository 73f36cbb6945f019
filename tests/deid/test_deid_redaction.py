"""Redaction rectangles blank burned-in text in the stored pixels, nothing else."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from identified import SECRET, make_xa, pixels, to_jpeg_baseline, write
from pydicom.encaps import generate_frames
from pydicom.uid import (
    JPEG2000,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGLSLossless,
    RLELossless,
)

from flannot import FlannotError
from flannot.deid import deidentify

TEXT = (slice(2, 10), slice(3, 30))  # where identified.pixels() burns its "text"


def _codes(ds) -> set[str]:
    return {c.CodeValue for c in ds.DeidentificationMethodCodeSequence}


def test_uncompressed_rectangle_blanked_rest_unchanged(tmp_path):
    src = write(make_xa(0), tmp_path / "a.dcm")
    report = deidentify(src, tmp_path / "out.dcm", secret=SECRET, redactions=[(None, 2, 3, 10, 30)])
    out = pydicom.dcmread(tmp_path / "out.dcm")
    before, after = pixels(4), out.pixel_array
    assert (before[:, TEXT[0], TEXT[1]] == 4000).all()  # the text was there
    assert (after[:, TEXT[0], TEXT[1]] == 0).all()
    mask = np.ones(before.shape, bool)
    mask[:, TEXT[0], TEXT[1]] = False
    np.testing.assert_array_equal(after[mask], before[mask])
    assert out.BurnedInAnnotation == "NO"
    assert {"113100", "113101"} <= _codes(out)
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    f = report.files[0]
    assert f.redaction == {"frames": [0, 1, 2, 3], "method": "in-place"}
    assert f.burned_in_flagged is False


@pytest.mark.parametrize("syntax", [JPEGLSLossless, RLELossless], ids=lambda u: u.name)
def test_lossless_compressed_only_touched_frame_reencoded(tmp_path, syntax):
    ds = make_xa(0)
    ds.compress(syntax, generate_instance_uid=False)
    src = write(ds, tmp_path / "c.dcm")
    orig_frames = list(generate_frames(ds.PixelData, number_of_frames=4))
    deidentify(src, tmp_path / "out.dcm", secret=SECRET, redactions=[(2, 2, 3, 10, 30)])
    out = pydicom.dcmread(tmp_path / "out.dcm")
    assert out.file_meta.TransferSyntaxUID == syntax  # same syntax, still lossless
    new_frames = list(generate_frames(out.PixelData, number_of_frames=4))
    for i in (0, 1, 3):
        assert new_frames[i] == orig_frames[i]  # untouched frames: same compressed bytes
    assert new_frames[2] != orig_frames[2]
    before, after = pixels(4), out.pixel_array
    assert (after[2, TEXT[0], TEXT[1]] == 0).all()
    mask = np.ones(before.shape, bool)
    mask[2, TEXT[0], TEXT[1]] = False
    np.testing.assert_array_equal(after[mask], before[mask])
    assert {"113100", "113101"} <= _codes(out)


@pytest.mark.parametrize("syntax", [JPEG2000, JPEGBaseline8Bit], ids=lambda u: u.name)
def test_lossy_compressed_is_written_uncompressed(tmp_path, syntax):
    ds = make_xa(0, n_frames=2)
    if syntax == JPEGBaseline8Bit:
        to_jpeg_baseline(ds)
    else:
        ds.compress(JPEG2000, j2k_cr=[10], generate_instance_uid=False)
    src = write(ds, tmp_path / "c.dcm")
    decoded = pydicom.dcmread(src).pixel_array
    deidentify(src, tmp_path / "out.dcm", secret=SECRET, redactions=[(0, 2, 3, 10, 30)])
    out = pydicom.dcmread(tmp_path / "out.dcm")
    assert out.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    after = out.pixel_array
    assert (after[0, TEXT[0], TEXT[1]] == 0).all()
    mask = np.ones(after.shape, bool)
    mask[0, TEXT[0], TEXT[1]] = False
    np.testing.assert_array_equal(after[mask], decoded[mask])  # no further loss


def test_bad_redactions_refused(tmp_path):
    src = write(make_xa(0), tmp_path / "a.dcm")
    with pytest.raises(FlannotError, match="frame 9"):
        deidentify(src, tmp_path / "o.dcm", redactions=[(9, 0, 0, 5, 5)])
    with pytest.raises(FlannotError, match="single file"):
        deidentify(tmp_path, tmp_path / "o", redactions=[(0, 0, 0, 5, 5)])
    assert not (tmp_path / "o.dcm").exists()
