"""The one exception type users and scripts need to catch."""

from __future__ import annotations

from os import PathLike

# C0 and C1 controls and DEL: a newline or escape sequence in a file name must
# not split the one-line message or drive the terminal
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}
_CONTROL.update({0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"})


def safe_name(name: str | PathLike[str]) -> str:
    """A file name fit for a one-line message: control characters escaped (``\\n``, ``\\x1b``).

    Lone surrogates (undecodable bytes in a POSIX file name) are escaped as well.
    """
    text = str(name).translate(_CONTROL)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class FlannotError(Exception):
    """Bad input or a refused operation, with a one-line reason.

    The message names the file (when there is one) and the reason, e.g.
    ``"scan.dcm: pixel data is truncated (1048576 of 2097152 bytes)"``. The CLI
    prints it as ``flannot: error: <message>`` and exits with status 2.
    """

    def __init__(self, reason: str, path: str | PathLike[str] | None = None) -> None:
        self.reason = " ".join(str(reason).split())  # always one line
        self.path = None if path is None else safe_name(path)
        super().__init__(self.reason if self.path is None else f"{self.path}: {self.reason}")
