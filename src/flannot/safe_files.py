"""Open files that must be regular files: never block on a FIFO, never read a device forever.

``open()`` on a FIFO blocks until a writer appears; ``/dev/zero`` reads without
end; a symlink inside a teaching set can lead out of it. Every file flannot
takes from a user or a set where a plain file is expected (a zip to import, a
salt file, a set's ``.flannot-secret``) is opened here: non-blocking, checked
with ``fstat`` on the open descriptor (no check-then-open race), and read with
a size limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from flannot.errors import FlannotError

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def open_regular(
    path: str | os.PathLike[str], what: str = "file", *, follow_symlinks: bool = True
) -> BinaryIO:
    """Open ``path`` for binary reading only if it is a regular file.

    Parameters
    ----------
    path
        The file.
    what
        What it should be, for the message (``"zip"``, ``"salt file"`` …).
    follow_symlinks
        ``False`` refuses a symlink (files inside a teaching set).

    Raises
    ------
    FlannotError
        Missing, a symlink (when refused), a FIFO, device, socket or folder.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        raise FlannotError(f"no such {what}", p) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise FlannotError(f"the {what} is a symlink; a regular file is expected", p) from None
        raise FlannotError(f"cannot read the {what}: {exc.strerror or exc}", p) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise FlannotError(f"the {what} is {kind}; a regular file is expected", p)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(
    path: str | os.PathLike[str], limit: int, what: str = "file", *, follow_symlinks: bool = True
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (see :func:`open_regular`)."""
    with open_regular(path, what, follow_symlinks=follow_symlinks) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise FlannotError(f"the {what} is larger than {limit} bytes", Path(path))
    return data


def walk_files(root: str | os.PathLike[str], *, symlinks: bool = False) -> list[Path]:
    """The regular files under ``root``, sorted, found without recursion.

    ``Path.rglob`` and ``os.walk`` recurse once per folder level (before Python 3.12):
    a tree 1,000 folders deep raised ``RecursionError``. Folders are never entered
    through a symlink; a symlink to a file is listed only with ``symlinks=True``.

    Raises
    ------
    FlannotError
        A folder that cannot be listed (e.g. a path past the system's length limit),
        named.
    """
    found: list[Path] = []
    stack = [os.fspath(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            raise FlannotError(f"cannot list the folder: {exc.strerror or exc}", folder) from None
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=symlinks):
                    found.append(Path(entry.path))
            except OSError:  # vanished or unreadable meanwhile: not a file to take
                continue
    return sorted(found)


def make_dirs(path: str | os.PathLike[str]) -> None:
    """``mkdir -p`` without recursion (``Path.mkdir(parents=True)`` recurses per level)."""
    missing: list[Path] = []
    p = Path(path)
    while not p.is_dir() and p != p.parent:
        missing.append(p)
        p = p.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            if not folder.is_dir():
                raise
