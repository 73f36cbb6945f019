"""The package's outer promises: a headless core and a CLI with one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import flannot
from flannot.cli import main

HEAVY = ("napari", "qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "vispy")


def test_import_flannot_is_headless() -> None:
    # a fresh interpreter: other tests may already have imported napari in this one
    code = (
        "import sys, flannot, flannot.cli, flannot.model, flannot.io, flannot.measure,"
        " flannot.teach, flannot.deid, flannot.phantom;"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}));"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import flannot pulled in: {out.stdout.strip()}"


def test_public_api_names_resolve() -> None:
    for name in flannot.__all__:
        assert getattr(flannot, name) is not None, name
    with pytest.raises(AttributeError):
        flannot.no_such_thing  # noqa: B018


def test_flannot_error_is_one_line() -> None:
    err = flannot.FlannotError("pixel data is\ntruncated", "scan.dcm")
    assert str(err) == "scan.dcm: pixel data is truncated"


def test_cli_usage_error_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("flannot: error:") and "\n" not in err


def test_cli_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "info" in capsys.readouterr().out
