"""The wheel carries the licence, the data files flannot needs at run time, and no GPL Qt."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("flannot-*.whl")
    return zipfile.ZipFile(built)


def _metadata(wheel: zipfile.ZipFile):
    name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    return Parser().parsestr(wheel.read(name).decode("utf-8"))


def test_licence_file_and_expression(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    licence = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert licence, names
    text = wheel.read(licence[0]).decode("utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert text == (ROOT / "LICENSE").read_text("utf-8")
    meta = _metadata(wheel)
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert "LICENSE" in meta.get_all("License-File")


def test_run_time_data_files_are_packaged(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for needed in (
        "flannot/napari.yaml",
        "flannot/model/schema/case.schema.json",
        "flannot/model/schema/set.schema.json",
        "flannot/deid/table_e11.py",
        "flannot/cli/__init__.py",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/") or n.endswith(".pyc")]


def test_no_qt_binding_in_the_core_requirements(wheel: zipfile.ZipFile) -> None:
    # napari's convention: the core installs headless; extras bring a binding
    requires = _metadata(wheel).get_all("Requires-Dist")
    core = [r for r in requires if "extra ==" not in r]
    bindings = ("pyqt", "pyside", "napari[all]", "napari[pyqt", "napari[pyside")
    assert not [r for r in core if any(b in r.lower() for b in bindings)], core
    assert any(r.startswith("hypothesis") and "extra == 'test'" in r for r in requires)


def test_extras_bring_pyside6_not_pyqt6(wheel: zipfile.ZipFile) -> None:
    # PyQt6 is GPL-3.0; the BSD project's extras bring PySide6 (LGPL-3.0), below 6.12
    # (napari's GUI tests abort under PySide6 6.12.0, issue 16)
    requires = _metadata(wheel).get_all("Requires-Dist")
    for extra in ("all", "test"):
        reqs = [r.lower() for r in requires if f"extra == '{extra}'" in r]
        assert not [r for r in reqs if "pyqt" in r or "napari[all]" in r], (extra, reqs)
        (pyside,) = [r for r in reqs if r.startswith("pyside6")]
        assert "<6.12" in pyside and ">=6.8" in pyside, pyside
        assert any(r.startswith("napari[") and "pyside6" in r for r in reqs), reqs
