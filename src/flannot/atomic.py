"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file flannot writes goes through here: write to a temporary file in the
same folder, flush and fsync it, rename it over the target (atomic on POSIX and
on Windows' same-volume ``os.replace``), then fsync the folder so the rename
itself survives a power cut.

:func:`write_tree` does the same for a whole export: every file is written into
a hidden staging folder inside the output folder first and only moved into place
once all of them were written, so a full disk leaves the old export (or nothing),
never a partial file or half a new export.

:class:`AtomicBatch` writes many files atomically and makes them durable together
(one sync and one fsync a folder per batch instead of two fsyncs a file).

:func:`save_lock` serialises writers of one file across processes: an
exclusive ``flock`` on a sidecar ``.<name>.lock`` file, held while a writer
compares the file on disk with what it loaded and replaces it. Without it two
writers can both pass the check and the second rename silently drops the
first one's work.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks here; saves stay atomic, not serialised
    fcntl = None  # type: ignore[assignment]

#: how long a save waits for another process's save of the same file
LOCK_TIMEOUT_S = 30.0


def lock_path(target: str | os.PathLike[str]) -> Path:
    """The sidecar lock file of ``target`` (``.<name>.lock`` in the same folder)."""
    t = Path(target)
    return t.with_name(f".{t.name}.lock")


@contextlib.contextmanager
def save_lock(target: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive lock on ``target``'s sidecar lock file while the block runs.

    Every flannot writer of ``target`` takes this lock around "compare what is
    on disk, then replace it", so the comparison cannot go stale before the
    rename. The lock file itself is left in place (removing it would race).

    Raises
    ------
    OSError
        The lock file is a symlink or not a regular file, or another save held
        the lock for more than ``timeout`` seconds (``EWOULDBLOCK``, naming ``target``).
    """
    if fcntl is None:
        yield
        return
    path = lock_path(target)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0), 0o644)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot lock for saving: {exc.strerror}", str(target)) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(
                0, "cannot lock for saving: the lock file is not a regular file", str(target)
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OSError(
                        11, f"another save has held the lock for over {timeout:g} s", str(target)
                    ) from None
                time.sleep(0.005)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def sweep_temporaries(target: str | os.PathLike[str], older_than_s: float = 0.0) -> int:
    """Delete temporaries that killed writes of ``target`` left (``.<name>.*.tmp``).

    Call it holding :func:`save_lock` with ``older_than_s=0``: then no other
    flannot writer of ``target`` can be mid-write, so every temporary is debris.
    Returns how many were removed.
    """
    t = Path(target)
    now, removed = time.time(), 0
    try:
        found = list(t.parent.glob(f".{glob.escape(t.name)}.*.tmp"))
    except OSError:
        return 0
    for tmp in found:
        try:
            st = tmp.lstat()
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= older_than_s:
                tmp.unlink()
                removed += 1
        except OSError:
            continue  # gone already, or not ours to delete
    return removed


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # not supported on this platform/filesystem
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Write a file atomically by calling ``write(fileobj)`` on a temporary file.

    Parameters
    ----------
    path
        Target file. Its folder must exist.
    write
        Callable that writes the whole content to the binary file object it gets.

    Returns
    -------
    Path
        The target path.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:  # name the file the caller asked for, not our temporary
        raise OSError(exc.errno, exc.strerror, str(target)) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():  # keep the permissions the user gave the old file
            try:
                os.chmod(tmp, target.stat().st_mode & 0o7777)
            except OSError:
                pass
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename is not None and exc.filename != str(tmp):
            raise
        # a full disk mid-write: name the file the caller asked for, never our temporary
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Atomically replace ``path`` with ``data``."""
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Atomically replace ``path`` with ``text``."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as pretty, key-order-preserving UTF-8 JSON with a final newline."""
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _sync_all(paths: Iterable[Path]) -> None:
    """Make the data of ``paths`` durable: one ``sync()`` on Linux (which waits for the
    writes, like an fsync of every file), an fsync of each file elsewhere."""
    if sys.platform.startswith("linux") and hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class AtomicBatch:
    """Atomic writes of many files, made durable together (a batch of fsyncs in one).

    Each :meth:`write_bytes` writes a temporary file beside its target; every
    ``max_files`` files (and on :meth:`flush` / leaving the ``with`` block) the
    temporaries are made durable at once, renamed over their targets and each folder
    is fsynced once. Every file is still atomic — a reader sees the old file or the
    new one, never half of one — and durable once the batch is flushed; what a batch
    costs is one sync instead of two fsyncs a file. Leaving the block on an exception
    removes the unflushed temporaries.

    Parameters
    ----------
    max_files
        Files written before the batch flushes itself.
    """

    def __init__(self, max_files: int = 256) -> None:
        self.max_files = max(1, int(max_files))
        self._pending: list[tuple[Path, Path]] = []  # (temporary, target)
        #: targets whose rename failed (at any flush so far) -> the error
        self.failed: dict[Path, OSError] = {}

    def __enter__(self) -> AtomicBatch:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.flush()
        else:
            self.discard()

    def write_bytes(self, path: str | os.PathLike[str], data: bytes) -> Path:
        """Write ``data`` to a temporary beside ``path`` (renamed over it at the flush).

        Raises
        ------
        OSError
            Writing failed (a full disk): ``filename`` is ``path``; nothing is left behind.
        """
        return self.write(path, lambda fh: fh.write(data))

    def write(self, path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
        """Like :meth:`write_bytes`, the content written by ``write(fileobj)``.

        Streaming into the temporary file spares holding (and copying) the whole
        content in memory first. Whatever ``write`` raises leaves nothing behind.

        Raises
        ------
        OSError
            Writing failed (a full disk): ``filename`` is ``path``; nothing is left behind.
        """
        target = Path(path)
        folder = target.parent if str(target.parent) else Path(".")
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
        except BaseException as exc:
            tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
            raise
        self._pending.append((tmp, target))
        if len(self._pending) >= self.max_files:
            self.flush()
        return target

    def flush(self) -> dict[Path, OSError]:
        """Make the batch durable and move it into place; the targets that could not be
        moved (their temporaries removed) with their errors, also added to :attr:`failed`."""
        pending, self._pending = self._pending, []
        failed: dict[Path, OSError] = {}
        if not pending:
            return {}
        try:
            _sync_all(tmp for tmp, _ in pending)
        except OSError:
            for tmp, _ in pending:
                tmp.unlink(missing_ok=True)
            raise
        folders: set[Path] = set()
        for tmp, target in pending:
            try:
                if target.exists():  # keep the permissions the user gave the old file
                    with contextlib.suppress(OSError):
                        os.chmod(tmp, target.stat().st_mode & 0o7777)
                else:
                    os.chmod(tmp, 0o644)
                os.replace(tmp, target)
                folders.add(tmp.parent)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                failed[target] = OSError(exc.errno, exc.strerror or str(exc), str(target))
        for folder in folders:
            _fsync_dir(folder)
        self.failed.update(failed)
        return failed

    def discard(self) -> None:
        """Remove the temporaries not flushed yet (their targets are left as they were)."""
        pending, self._pending = self._pending, []
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)


#: prefix of the hidden staging folder :func:`write_tree` writes into
STAGING_PREFIX = ".flannot-staging-"
#: a staging folder older than this is debris of a killed export: the next export removes it
STALE_STAGING_S = 3600.0


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` and fsync it (each write of :func:`write_tree`)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _relative(rel: str) -> PurePosixPath:
    """``rel`` as a path inside the output folder; ``ValueError`` for anything that leaves it."""
    p = PurePosixPath(str(rel).replace("\\", "/"))
    if not p.parts or p.is_absolute() or any(part in ("", ".", "..") for part in p.parts):
        raise ValueError(f"export file name {rel!r} is not a path inside the output folder")
    if "\x00" in str(rel):
        raise ValueError(f"export file name {rel!r} contains a NUL")
    return p


def _sweep_staging(out: Path) -> None:
    now = time.time()
    try:
        found = list(out.glob(f"{STAGING_PREFIX}*"))
    except OSError:
        return
    for folder in found:
        try:
            st = folder.lstat()
            if stat.S_ISDIR(st.st_mode) and now - st.st_mtime >= STALE_STAGING_S:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def stage_files(
    folder: str | os.PathLike[str],
    files: Iterable[tuple[str, bytes]],
    out: str | os.PathLike[str],
) -> list[str]:
    """Write ``files`` under the staging ``folder`` (each fsynced, then its folders).

    This is one worker's share of a :class:`StagingTree`: it may run in any process
    that sees the output folder's file system; nothing is moved into place here.

    Parameters
    ----------
    folder
        A folder inside a :class:`StagingTree` (:meth:`StagingTree.folder`), created here.
    files
        ``(relative POSIX path, content)`` pairs; a later pair with the same path
        replaces an earlier one.
    out
        The output folder: errors name the target file in it, never the staged copy.

    Returns
    -------
    list of str
        The relative paths staged, in order of their last occurrence.

    Raises
    ------
    OSError
        Writing failed (``filename`` is the target file inside ``out``).
    ValueError
        A relative path is absolute, empty or climbs out of the folder (``..``).
    """
    stage, root = Path(folder), Path(out)
    items: dict[PurePosixPath, bytes] = {}
    names: dict[PurePosixPath, str] = {}
    for rel, data in files:
        p = _relative(rel)
        items.pop(p, None)
        items[p] = data
        names[p] = str(rel)
    folders: set[Path] = set()
    for p, data in items.items():
        staged = stage.joinpath(*p.parts)
        try:
            if staged.parent not in folders:
                staged.parent.mkdir(parents=True, exist_ok=True)
                folders.add(staged.parent)
            _write_file(staged, data)
        except OSError as exc:  # name the file the caller asked for
            target = root.joinpath(*p.parts)
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
    for f in folders:
        _fsync_dir(f)
    return [names[p] for p in items]


class StagingTree:
    """A hidden staging folder inside an output folder; files moved into place together.

    Files are staged by :meth:`write` here or by :func:`stage_files` in worker
    processes (each into its own :meth:`folder`), recorded in order with
    :meth:`add`, and :meth:`commit` renames every one into ``out`` (a later file
    with the same relative path replaces an earlier one). Leaving the ``with``
    block removes the staging folder, so a failure leaves ``out`` as it was.

    Parameters
    ----------
    out
        The output folder (created with its parents; stale staging folders of
        killed exports are removed).
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        _sweep_staging(self.out)
        try:
            self.path = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.out))
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.out)) from exc
        self._items: dict[PurePosixPath, tuple[str, Path]] = {}

    def __enter__(self) -> StagingTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()

    def folder(self, key: str) -> str:
        """The staging sub-folder called ``key`` (one per task, so tasks never collide)."""
        if not key or "/" in key or key in (".", ".."):
            raise ValueError(f"bad staging folder name {key!r}")
        return str(self.path / key)

    def add(self, names: Iterable[str], folder: str | os.PathLike[str]) -> None:
        """Record files already staged in ``folder`` (:func:`stage_files`), in order."""
        for rel in names:
            p = _relative(rel)
            self._items.pop(p, None)
            self._items[p] = (str(rel), Path(folder).joinpath(*p.parts))

    def write(self, files: Iterable[tuple[str, bytes]], key: str) -> None:
        """Stage ``files`` into the sub-folder ``key`` now and record them."""
        folder = self.folder(key)
        self.add(stage_files(folder, files, self.out), folder)

    def commit(self) -> list[str]:
        """Move every recorded file into place (then fsync the folders moved into).

        Returns the relative paths, in order; ``OSError`` names the target file.
        """
        moved_into: set[Path] = set()
        made: set[Path] = set()
        for p, (_, staged) in self._items.items():
            target = self.out.joinpath(*p.parts)
            try:
                if target.parent not in made:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made.add(target.parent)
                if target.is_dir() and not target.is_symlink():
                    raise IsADirectoryError(21, "is a folder, not a file", str(target))
                if target.exists():  # keep the permissions the user gave the old file
                    with contextlib.suppress(OSError):
                        os.chmod(staged, target.stat().st_mode & 0o7777)
                os.replace(staged, target)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
            moved_into.add(target.parent)
        for folder in moved_into:
            _fsync_dir(folder)
        return [name for name, _ in self._items.values()]

    def discard(self) -> None:
        """Remove the staging folder (and whatever is still in it)."""
        shutil.rmtree(self.path, ignore_errors=True)


def write_tree(out: str | os.PathLike[str], files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Write ``files`` (relative path, bytes) under ``out`` through a staging folder.

    Every file is first written (and fsynced) into a hidden ``.flannot-staging-*``
    folder inside ``out`` — the same file system, so the moves are renames — and
    only when all of them are written is each one renamed into place. A failure
    while writing (a full disk, a quota) removes the staging folder and leaves
    ``out`` as it was; the error names the file the caller asked for, never the
    staging copy. (:class:`StagingTree` does the same with files staged by workers.)

    Parameters
    ----------
    out
        The output folder (created with its parents).
    files
        ``(relative POSIX path, content)`` pairs, in the order to write them; a
        later pair with the same path replaces an earlier one.

    Returns
    -------
    list of str
        The relative paths written, in order (without repeats).

    Raises
    ------
    OSError
        Writing or moving failed; ``filename`` is the target file inside ``out``.
    ValueError
        A relative path is absolute, empty or climbs out of ``out`` (``..``).
    """
    files = list(files)
    for rel, _ in files:  # refused before anything is created
        _relative(rel)
    with StagingTree(out) as tree:
        tree.write(files, "all")
        return tree.commit()
