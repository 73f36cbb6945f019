from __future__ import annotations

from pathlib import Path

import pytest
from identified import make_xa, to_jpeg_baseline, write
from pydicom.uid import JPEG2000Lossless, JPEGBaseline8Bit, JPEGLSLossless, RLELossless


@pytest.fixture
def xa_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two XA files of one study/series; the first references the second."""
    a = write(make_xa(0, referenced=1), tmp_path / "in" / "a.dcm")
    b = write(make_xa(1), tmp_path / "in" / "sub" / "b.dcm")
    return a, b


@pytest.fixture(
    params=[JPEGLSLossless, RLELossless, JPEG2000Lossless, JPEGBaseline8Bit], ids=lambda u: u.name
)
def compressed_xa(request, tmp_path: Path) -> Path:
    """A multi-frame XA full of identifiers, compressed (JPEG baseline through Pillow)."""
    ds = make_xa(0, referenced=1)
    if request.param == JPEGBaseline8Bit:
        to_jpeg_baseline(ds)
    else:
        ds.compress(request.param, generate_instance_uid=False)
    return write(ds, tmp_path / "in" / "c.dcm")
