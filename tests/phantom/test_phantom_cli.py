"""``flannot sample`` error handling (the happy path is the session fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flannot.cli import main


def test_sample_into_a_file_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "not-a-folder"
    target.write_text("x")
    assert main(["sample", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flannot: error:") and "not-a-folder" in err and "\n" == err[-1]
    assert err.count("\n") == 1


def test_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["sample", str(tmp_path / "x"), "--seed", "-1"]) == 2
    assert not (tmp_path / "x").exists()
