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


# -- AtomicBatch: many atomic files, durable together --------------------------------
def test_batch_moves_files_in_only_when_flushed(tmp_path: Path) -> None:
    from flannot.atomic import AtomicBatch

    (tmp_path / "old.bin").write_bytes(b"old")
    with AtomicBatch(max_files=10) as batch:
        batch.write_bytes(tmp_path / "old.bin", b"new")
        batch.write_bytes(tmp_path / "b.bin", b"B")
        assert (tmp_path / "old.bin").read_bytes() == b"old"  # not before the flush
        assert not (tmp_path / "b.bin").exists()
    assert (tmp_path / "old.bin").read_bytes() == b"new" and (
        tmp_path / "b.bin"
    ).read_bytes() == b"B"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "old.bin"]  # no temporary


def test_batch_syncs_once_a_batch_instead_of_fsyncing_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import sys

    from flannot.atomic import AtomicBatch

    if not sys.platform.startswith("linux"):
        pytest.fail("this test runs on Linux, where a batch is one sync()")
    calls: dict[str, int] = {"sync": 0, "fsync": 0}
    real_sync, real_fsync = os.sync, os.fsync

    def sync() -> None:
        calls["sync"] += 1
        real_sync()

    def fsync(fd: int) -> None:
        calls["fsync"] += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "sync", sync)
    monkeypatch.setattr(os, "fsync", fsync)
    (tmp_path / "a").mkdir()
    with AtomicBatch(max_files=4) as batch:
        for i in range(10):
            batch.write_bytes(tmp_path / ("a" if i % 2 else "") / f"{i}.bin", bytes([i]))
    assert calls["sync"] == 3  # 4 + 4 + 2 files
    assert calls["fsync"] == 6  # the two folders, once a batch
    assert all((tmp_path / ("a" if i % 2 else "") / f"{i}.bin").exists() for i in range(10))


def test_batch_write_streams_and_a_failing_writer_leaves_nothing(tmp_path: Path) -> None:
    from flannot.atomic import AtomicBatch

    def fail(fh) -> None:
        fh.write(b"half")
        raise ValueError("cannot serialise")

    with AtomicBatch() as batch:
        batch.write(tmp_path / "a.bin", lambda fh: (fh.write(b"A" * 5), fh.write(b"B")))
        with pytest.raises(ValueError, match="cannot serialise"):
            batch.write(tmp_path / "b.bin", fail)
        assert [p.name for p in tmp_path.iterdir()][0].startswith(".a.bin.")  # one temporary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]
    assert (tmp_path / "a.bin").read_bytes() == b"AAAAAB"


def test_batch_discards_its_temporaries_on_an_error(tmp_path: Path) -> None:
    from flannot.atomic import AtomicBatch

    with pytest.raises(RuntimeError), AtomicBatch() as batch:
        batch.write_bytes(tmp_path / "a.bin", b"A")
        raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_batch_full_disk_names_the_target_and_a_refused_rename_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    from flannot.atomic import AtomicBatch

    real = os.fdopen

    class Full:
        def __init__(self, fd: int, mode: str) -> None:
            self.fh = real(fd, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.fh.close()

        def write(self, data: bytes) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    with AtomicBatch() as batch:
        monkeypatch.setattr(os, "fdopen", Full)
        with pytest.raises(OSError) as info:
            batch.write_bytes(tmp_path / "full.bin", b"x")
        monkeypatch.setattr(os, "fdopen", real)
        assert info.value.filename == str(tmp_path / "full.bin")
        (tmp_path / "dir.bin").mkdir()
        batch.write_bytes(tmp_path / "dir.bin", b"y")  # a folder is in the way
        batch.write_bytes(tmp_path / "ok.bin", b"z")
    assert list(batch.failed) == [tmp_path / "dir.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.bin", "ok.bin"]
