from __future__ import annotations

from pathlib import Path

import pytest
from identified import make_xa, write
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless


@pytest.fixture
def xa_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two XA files of one study/series; the first references the second."""
    a = write(make_xa(0, referenced=1), tmp_path / "in" / "a.dcm")
    b = write(make_xa(1), tmp_path / "in" / "sub" / "b.dcm")
    return a, b


@pytest.fixture(params=[JPEGLSLossless, RLELossless, JPEG2000Lossless], ids=lambda u: u.name)
def compressed_xa(request, tmp_path: Path) -> Path:
    ds = make_xa(0, referenced=1)
    ds.compress(request.param, generate_instance_uid=False)
    return write(ds, tmp_path / "in" / "c.dcm")
