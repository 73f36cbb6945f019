"""Run untrusted decoding in a cage: one line out, whatever the codec does.

Codecs are native code. On a hostile file they raise odd types (a Rust
``PanicException`` from pylibjpeg-rle derives from ``BaseException``, not
``Exception``), print their own lines on the C ``stderr`` (OpenJPEG's "Failed to
decode tile", GDCM's traces, a Rust panic message) and pydicom adds warnings.
:func:`guarded` turns all of that into one :class:`~flannot.errors.FlannotError`
naming the file, keeping the codec's own words in the reason, and lets
``KeyboardInterrupt`` / ``SystemExit`` through.

What header validation cannot make safe (an abort inside a codec) is prevented
upstream by :mod:`flannot.io.codestream`, which refuses a codestream whose
dimensions, components or precision disagree with the DICOM header (PS3.5
§8.2) before any codec sees it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from flannot.errors import FlannotError

T = TypeVar("T")

# how much of a reason is kept: enough for pydicom's per-plugin list
MAX_REASON = 400

_lock = threading.Lock()
_depth = 0
_saved_fd: int | None = None
_sink: int | None = None
_sink_pid = 0


class _Captured:
    """What native code wrote on file descriptor 2 while the context was open."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.text = ""


def _open_sink() -> bool:
    global _saved_fd, _sink, _sink_pid
    try:
        sys.stderr.flush()
    except Exception:  # a closed or odd sys.stderr: nothing to flush
        pass
    try:
        if _sink is None or _sink_pid != os.getpid():
            # one private file a process (not shared with a forked parent), emptied at each use
            fd, name = tempfile.mkstemp(prefix="flannot-stderr-")
            os.unlink(name)
            _sink, _sink_pid = fd, os.getpid()
        else:
            os.ftruncate(_sink, 0)
        saved = os.dup(2)
    except OSError:
        return False
    os.dup2(_sink, 2)
    _saved_fd = saved
    return True


def _close_sink() -> None:
    global _saved_fd
    if _saved_fd is not None:
        os.dup2(_saved_fd, 2)
        os.close(_saved_fd)
    _saved_fd = None


def _read_sink(start: int) -> str:
    if _sink is None:
        return ""
    end = os.lseek(_sink, 0, os.SEEK_END)
    if end <= start:
        return ""
    return os.pread(_sink, min(end - start, 8192), start).decode("utf-8", "replace")


@contextlib.contextmanager
def quiet_stderr() -> Iterator[_Captured]:
    """Send file descriptor 2 to a private file while the block runs; keep what was said.

    Re-entrant and shared between threads (counted): the redirection stays
    while any block is open, each block reads back only what came after it began.
    """
    global _depth
    with _lock:
        if _depth == 0 and not _open_sink():
            active = False
        else:
            active = True
            _depth += 1
        start = os.lseek(_sink, 0, os.SEEK_END) if active and _sink is not None else 0
    captured = _Captured(start)
    try:
        yield captured
    finally:
        if active:
            with _lock:
                try:
                    captured.text = _read_sink(start)
                finally:
                    _depth -= 1
                    if _depth == 0:
                        _close_sink()


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` on one line (whitespace runs collapsed), shortened to ``limit`` characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def codec_said(text: str) -> str:
    """The first lines a codec printed, as a clause for an error message (or ``""``)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("note:", "stack backtrace"))]
    if not lines:
        return ""
    return f" (the codec said: {one_line('; '.join(lines[:3]), 200)})"


def guarded(call: Callable[[], T], path: str | os.PathLike[str], what: str) -> T:
    """``call()`` with warnings and native stderr captured; any failure is one FlannotError.

    Parameters
    ----------
    call
        The decoding step (a codec call through pydicom, an inflate …).
    path
        The file, named in the error.
    what
        What was being done, e.g. ``"cannot decode frame 0 (JPEG-LS Lossless)"``.

    Raises
    ------
    FlannotError
        ``<path>: <what>: <ExceptionType>: <reason> (the codec said: …)``. Native
        panics (``BaseException`` subclasses) count; ``KeyboardInterrupt`` and
        ``SystemExit`` do not and propagate unchanged.
    """
    failure: BaseException | None = None
    with quiet_stderr() as said, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return call()
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except FlannotError:
            raise
        except BaseException as exc:  # native panics (pyo3) are BaseException
            failure = exc
    if isinstance(failure, MemoryError):
        raise FlannotError(f"{what}: not enough memory to decode", Path(path)) from failure
    kind = type(failure).__name__
    raise FlannotError(
        f"{what}: {kind}: {one_line(str(failure))}{codec_said(said.text)}", Path(path)
    ) from failure
