"""FIFOs, devices and symlinks where a regular file or folder is expected: refused, never a hang."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from flannot import FlannotError
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
