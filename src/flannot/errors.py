"""The one exception type users and scripts need to catch."""

from __future__ import annotations

from os import PathLike


class FlannotError(Exception):
    """Bad input or a refused operation, with a one-line reason.

    The message names the file (when there is one) and the reason, e.g.
    ``"scan.dcm: pixel data is truncated (1048576 of 2097152 bytes)"``. The CLI
    prints it as ``flannot: error: <message>`` and exits with status 2.
    """

    def __init__(self, reason: str, path: str | PathLike[str] | None = None) -> None:
        self.reason = " ".join(str(reason).split())  # always one line
        self.path = None if path is None else str(path)
        super().__init__(self.reason if self.path is None else f"{self.path}: {self.reason}")
