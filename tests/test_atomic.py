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


# -- write_tree: a whole export through a staging folder ------------------------------
def _full_disk_after(monkeypatch: pytest.MonkeyPatch, n: int) -> list[str]:
    """Make flannot.atomic's file write fail with ENOSPC (after writing half) from the
    ``n``-th file on; returns the names it was asked to write."""
    import errno

    import flannot.atomic as atomic

    real = atomic._write_file
    asked: list[str] = []

    def write(path: Path, data: bytes) -> None:
        asked.append(path.name)
        if len(asked) >= n:
            path.write_bytes(data[: len(data) // 2])  # a partial file, as a full disk leaves
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, data)

    monkeypatch.setattr(atomic, "_write_file", write)
    return asked


def test_write_tree_writes_every_file_and_leaves_no_staging(tmp_path: Path) -> None:
    from flannot.atomic import write_tree

    out = tmp_path / "out"
    written = write_tree(out, [("a.json", b"A"), ("sub/b.png", b"B"), ("a.json", b"A2")])
    assert written == ["sub/b.png", "a.json"]
    assert (out / "a.json").read_bytes() == b"A2" and (out / "sub" / "b.png").read_bytes() == b"B"
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "sub"]  # no staging folder


def test_write_tree_full_disk_names_the_file_and_leaves_the_old_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from flannot.atomic import write_tree

    out = tmp_path / "out"
    out.mkdir()
    (out / "a.json").write_bytes(b"old a")
    asked = _full_disk_after(monkeypatch, 2)
    with pytest.raises(OSError) as info:
        write_tree(out, [("a.json", b"new a"), ("masks/b.png", b"new b" * 100)])
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(out / "masks" / "b.png")  # the file asked for
    assert asked == ["a.json", "b.png"]
    assert (out / "a.json").read_bytes() == b"old a"  # the first file was not moved in
    assert [p.name for p in out.iterdir()] == ["a.json"]  # no partial file, no staging


def test_write_tree_refuses_paths_out_of_the_folder(tmp_path: Path) -> None:
    from flannot.atomic import write_tree

    for bad in ("../escape.txt", "/etc/x", "", "a/../../b"):
        with pytest.raises(ValueError):
            write_tree(tmp_path / "out", [(bad, b"x")])
    assert not (tmp_path / "escape.txt").exists()


def test_write_tree_removes_stale_staging_folders(tmp_path: Path) -> None:
    import os
    import time

    from flannot.atomic import STAGING_PREFIX, write_tree

    out = tmp_path / "out"
    stale, fresh = out / f"{STAGING_PREFIX}old", out / f"{STAGING_PREFIX}new"
    for d in (stale, fresh):
        d.mkdir(parents=True)
        (d / "half.png").write_bytes(b"x")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    write_tree(out, [("a", b"1")])
    assert not stale.exists()  # debris of a killed export
    assert fresh.exists()  # perhaps another export running now: left alone
