from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the identifier-laden DICOM builders live with the de-identification tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deid"))

from identified import make_xa, write


@pytest.fixture
def dicoms(tmp_path: Path) -> tuple[Path, Path]:
    """Two identified XA files named after the patient (as real exports often are)."""
    a = write(make_xa(0, referenced=1), tmp_path / "src" / "DOE_JOHN_MRN99887766_1.dcm")
    b = write(make_xa(1), tmp_path / "src" / "DOE_JOHN_MRN99887766_2.dcm")
    return a, b
