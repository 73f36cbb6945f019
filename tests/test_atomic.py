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


def test_full_disk_names_the_target_and_leaves_nothing(tmp_path: Path) -> None:
    import errno

    from flannot.atomic import atomic_write

    target = tmp_path / "coco.json"
    target.write_bytes(b"old")

    def write(fh) -> None:
        fh.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as info:
        atomic_write(target, write)
    assert info.value.filename == str(target) and info.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old"  # the old file, whole
    assert [p.name for p in tmp_path.iterdir()] == ["coco.json"]  # no partial temporary
