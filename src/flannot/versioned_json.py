"""Reading flannot's own versioned JSON files (a set manifest, ``sim.json``, ``shots.json``).

One rule for all of them: a JSON object (a UTF-8 BOM is fine), parsed strictly (no NaN,
bounded nesting and size: :func:`flannot.model.limits.parse_json`), with an integer
``<key>`` version from 1 up to the version this flannot writes. Every failure is one
line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flannot.errors import FlannotError


def read_versioned(
    path: Path, key: str, newest: int, missing: str | None = None, missing_at: Path | None = None
) -> tuple[dict[str, Any], bytes]:
    """The JSON object at ``path`` whose ``key`` is a version ``1 … newest``, and its bytes.

    Parameters
    ----------
    path
        The file.
    key
        Its version field (``flannot_set_version`` …).
    newest
        The newest version this flannot reads.
    missing, missing_at
        The message when the file does not exist (default ``no such file``) and the
        path it names (default ``path``: a folder that should hold the file reads better).

    Raises
    ------
    FlannotError
        Missing, unreadable, not strict JSON, not an object, a bad or newer version.
    """
    from flannot.model.limits import parse_json

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FlannotError(missing or "no such file", missing_at or path) from None
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", path) from None
    data = parse_json(raw, path, path.name)
    if not isinstance(data, dict):
        raise FlannotError("must hold a JSON object", path)
    version = data.get(key)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FlannotError(f"missing or bad {key}", path)
    if version > newest:
        raise FlannotError(f"written by a newer flannot ({key} {version} > {newest})", path)
    return data, raw
