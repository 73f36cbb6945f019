"""flannot.atomic: failures name the target file, not the temporary one."""

from __future__ import annotations

from pathlib import Path

import pytest

from flannot.atomic import atomic_write_bytes


def test_unwritable_folder_error_names_the_target(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    target = tmp_path / "file" / "out.json"
    with pytest.raises(OSError) as info:
        atomic_write_bytes(target, b"{}")
    assert info.value.filename == str(target)
    assert isinstance(info.value, NotADirectoryError)


def test_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]  # no temporary left
