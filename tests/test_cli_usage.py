"""Bad usage of the ``flannot`` command: one line ``flannot: error: …``, exit 2, never an
"internal error" (typer >= 0.2x raises its vendored click's exceptions, not click's)."""

from __future__ import annotations

import pytest

from flannot.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["no-such-command"], "No such command 'no-such-command'"),
        (["info"], "Missing argument"),
        (["info", "--bogus", "x.dcm"], "No such option: --bogus"),
        (["set", "new"], "Missing argument"),
        (["sample", "--seed", "-1", "out"], "--seed"),
    ],
)
def test_usage_error_is_one_line_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("flannot: error: ")
    assert expected in err
    assert "internal error" not in err
    assert "--help" in err  # points at the sub-command's help


@pytest.mark.parametrize("argv", [[], ["set"]])
def test_no_arguments_prints_the_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("Usage: flannot") and "Commands:" in err
    assert "internal error" not in err


def test_an_unwritable_output_is_one_line_naming_it(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("not a folder")
    assert main(["set", "new", str(tmp_path / "file" / "course")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err
    assert err.startswith(f"flannot: error: {tmp_path / 'file' / 'course'}: ")


def test_debug_is_accepted_after_the_command(tmp_path) -> None:
    from flannot.errors import FlannotError

    bad = tmp_path / "x.dcm"
    bad.write_bytes(b"not dicom")
    # --debug re-raises instead of printing one line, wherever it stands
    with pytest.raises(FlannotError):
        main(["info", str(bad), "--debug"])
