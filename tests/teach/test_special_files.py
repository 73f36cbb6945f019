"""FIFOs, devices and symlinks where a regular file or folder is expected: refused, never a hang."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
from identified import make_xa, write

from flannot import FlannotError
from flannot.cli import main
from flannot.deid.uids import load_secret, new_secret
from flannot.teach.teaching_set import SECRET_FILE, TeachingSet
from flannot.teach.zipio import import_set


def _no_hang(call, seconds: float = 10.0) -> BaseException | None:
    """Run ``call`` in a thread; fail the test (not hang it) if it blocks."""
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            result.append(None)
        except BaseException as exc:  # the exception is the result under test
            result.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "blocked (a FIFO opened for reading waits for a writer)"
    return result[0]


def test_fifo_as_the_zip_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "set.zip"
    os.mkfifo(fifo)
    err = _no_hang(lambda: import_set(fifo, tmp_path / "out"))
    assert isinstance(err, FlannotError) and "a FIFO" in str(err)
    assert not (tmp_path / "out").exists()


def test_device_as_the_zip_is_refused(tmp_path: Path) -> None:
    start = time.perf_counter()
    with pytest.raises(FlannotError, match="character device"):
        import_set("/dev/zero", tmp_path / "out")
    assert time.perf_counter() - start < 5


def test_fifo_as_the_salt_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "salt"
    os.mkfifo(fifo)
    err = _no_hang(lambda: load_secret(fifo))
    assert isinstance(err, FlannotError) and "a FIFO" in str(err)


def test_device_as_the_salt_file_is_refused() -> None:
    with pytest.raises(FlannotError, match="character device"):
        load_secret("/dev/zero")


def test_symlinked_set_secret_is_refused(tmp_path: Path) -> None:
    ts = TeachingSet.new(tmp_path / "s", "T")
    elsewhere = tmp_path / "theirs"
    elsewhere.write_text(new_secret().hex())
    secret = ts.root / SECRET_FILE
    secret.unlink(missing_ok=True)
    secret.symlink_to(elsewhere)
    with pytest.raises(FlannotError, match="symlink"):
        load_secret(secret)


def test_salt_file_that_is_huge_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "salt"
    big.write_text("ab" * 10_000)
    with pytest.raises(FlannotError, match="larger than"):
        load_secret(big)


def test_set_add_into_a_symlinked_cases_folder_is_refused(
    tmp_path: Path, dicoms: tuple[Path, Path]
) -> None:
    ts = TeachingSet.new(tmp_path / "s", "T")
    outside = tmp_path / "outside"
    outside.mkdir()
    cases = ts.root / "cases"
    if cases.exists():
        cases.rmdir()
    cases.symlink_to(outside, target_is_directory=True)
    with pytest.raises(FlannotError, match="symlink"):
        ts.add_dicom(list(dicoms[:1]))
    assert list(outside.iterdir()) == []


@pytest.fixture
def deep_tree():
    """``make(name, levels)`` -> the deepest folder of ``ROOT/name/a/a/…/a``.

    ``ROOT`` is a temporary folder outside pytest's ``tmp_path``: pytest removes old
    ``tmp_path`` trees with ``shutil.rmtree``, which recurses per level and would fail on
    these (in this session or any later one); this fixture removes ``ROOT`` without
    recursion instead.
    """
    root = Path(tempfile.mkdtemp(prefix="flannot-deep-"))

    def make(name: str, levels: int) -> Path:
        folder = root / name
        folder.mkdir()
        for _ in range(levels):
            folder = folder / "a"
            folder.mkdir()
        return folder

    try:
        yield make, root
    finally:
        folders = []
        for base, files in _walk(root):
            folders.append(base)
            for name in files:
                os.unlink(os.path.join(base, name))
        for folder in reversed(folders):  # deepest first
            os.rmdir(folder)


def _walk(root: Path):
    """``(folder, non-folder names)`` top-down without recursion; symlinks are not entered."""
    stack = [str(root)]
    while stack:
        base = stack.pop()
        dirs, files = [], []
        with os.scandir(base) as it:
            for e in it:
                (dirs if e.is_dir(follow_symlinks=False) else files).append(e.name)
        yield base, files
        stack.extend(os.path.join(base, d) for d in dirs)


def test_walk_files_has_no_recursion_limit(deep_tree) -> None:
    from flannot.safe_files import walk_files

    make, root = deep_tree
    deepest = make("t", 1200)  # deeper than the interpreter's 1000 frames
    t = root / "t"
    (deepest / "f.txt").write_text("x")
    (t / "top.txt").write_text("y")
    os.symlink(t / "top.txt", t / "link.txt")
    os.symlink(t, t / "loop")  # never entered
    assert walk_files(t) == sorted([deepest / "f.txt", t / "top.txt"])
    assert t / "link.txt" in walk_files(t, symlinks=True)


def test_deidentify_and_set_export_of_deeply_nested_folders(capsys, deep_tree) -> None:
    # campaign (issue 16): rglob and mkdir(parents=True) recurse per folder level:
    # `flannot deidentify` of a 1,200-deep tree said "internal error: RecursionError"
    make, tmp_path = deep_tree
    deepest = make("in", 1200)
    write(make_xa(0), deepest / "x.dcm")
    assert main(["deidentify", str(tmp_path / "in"), str(tmp_path / "out")]) == 0
    assert capsys.readouterr().err == ""
    assert (tmp_path / "out" / deepest.relative_to(tmp_path / "in") / "x.dcm").is_file()

    TeachingSet.new(tmp_path / "s", "T").save()
    os.rename(tmp_path / "out" / "a", tmp_path / "s" / "deep")  # de-identified: may be shared
    assert main(["set", "export", str(tmp_path / "s"), str(tmp_path / "s.zip")]) == 0
    assert capsys.readouterr().err == ""
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        assert any(n.endswith("/a/x.dcm") and n.startswith("deep/a/") for n in zf.namelist())
