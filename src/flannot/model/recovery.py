"""Autosave / recovery files next to a case file (used by the napari workspace).

While a case is being edited the workspace writes it every few seconds to
``.annotations.json.recovery`` beside the case file (atomically, without
touching the case file or its conflict check). When the case is opened again
after a crash, :func:`find_recovery` offers the recovered edits if they are
newer than the case file and differ from it.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from flannot.atomic import atomic_write_text
from flannot.errors import FlannotError
from flannot.model.case import Case, _DiskStamp, case_file_path, dumps_case, read_case_json

__all__ = ["discard_recovery", "find_recovery", "recovery_path", "write_recovery"]

_SUFFIX = ".recovery"


def recovery_path(case_path: str | os.PathLike[str]) -> Path:
    """The recovery file of a case file (or case folder): ``.<name>.recovery`` beside it."""
    file = case_file_path(case_path)
    return file.with_name(f".{file.name}{_SUFFIX}")


def write_recovery(case: Case, case_path: str | os.PathLike[str] | None = None) -> Path:
    """Write the case's current state to its recovery file (atomic; the case file is untouched).

    Parameters
    ----------
    case
        The case being edited.
    case_path
        Its case file; defaults to the file the case was loaded from or saved to.

    Raises
    ------
    FlannotError
        The case has no file yet and no ``case_path`` was given, or the write failed.
    """
    target = case_path if case_path is not None else case.path
    if target is None:
        raise FlannotError(
            f"case {case.case_id!r} has no file yet; give the case path for recovery"
        )
    rec = recovery_path(target)
    try:
        rec.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(rec, case.to_json())
    except OSError as exc:
        raise FlannotError(f"cannot write the recovery file: {exc.strerror or exc}", rec) from None
    return rec


def _comparable(data: dict) -> dict:
    # an autosave of unchanged content differs only in the modified time
    return {k: v for k, v in data.items() if k != "modified"}


def find_recovery(case_path: str | os.PathLike[str]) -> Case | None:
    """Recovered edits for a case file, or ``None``.

    Returns the recovery file's case only when it is newer than the case file (or
    the case file is gone) and its content differs from it. The returned case is
    bound to the case file as if loaded from it, so :meth:`Case.save` overwrites the
    case file and still refuses if someone changes that file meanwhile. An unreadable
    recovery file gives a warning and ``None``.
    """
    file = case_file_path(case_path)
    rec = recovery_path(file)
    try:
        rec_mtime = rec.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    try:
        _, rec_data, _ = read_case_json(rec)
        # keep the edits even if they repeat an id: the session gives repeats fresh ids
        recovered = Case.from_dict(rec_data, path=rec, strict=False)
    except FlannotError as exc:
        warnings.warn(f"ignoring unreadable recovery file: {exc}", stacklevel=2)
        return None
    if file.exists():
        if rec_mtime <= file.stat().st_mtime_ns:
            return None
        try:
            _, disk_data, content = read_case_json(file)
            on_disk = _roundtrip(Case.from_dict(disk_data, path=file))
        except FlannotError:
            on_disk, content = None, file.read_bytes()  # a broken case file: recover
        # compare as flannot would write both, so spelling differences do not count
        if on_disk is not None and _comparable(on_disk) == _comparable(_roundtrip(recovered)):
            return None
        recovered._file = Path(os.path.abspath(file))
        recovered._stamp = _DiskStamp.of(file, content)
    else:
        recovered._file = Path(os.path.abspath(file))
        recovered._stamp = None
    return recovered


def _roundtrip(case: Case) -> dict:
    import json

    return json.loads(dumps_case(case.to_dict()))


def discard_recovery(case_path: str | os.PathLike[str]) -> bool:
    """Delete the recovery file of a case; ``True`` when there was one."""
    rec = recovery_path(case_path)
    try:
        rec.unlink()
    except FileNotFoundError:
        return False
    return True
