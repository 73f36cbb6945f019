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
