"""The per-case export task (module level so worker processes can unpickle it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def case_info(ts: Any, case_id: str, case: Any, image: Any = None) -> dict[str, Any]:
    """What every export says about a case: id, title, view, spacing and calibration.

    Spacing and calibration are those :func:`flannot.measure.measure` uses (a
    ``calibration`` line overrides the image record as ``user``); ``spacing_mm`` is
    ``None`` when the case is uncalibrated.
    """
    from flannot.measure import resolve_units

    entry = ts.entry(case_id)
    units = resolve_units(case)
    view = entry.get("view") or (image.view if image is not None else "unknown")
    return {
        "case_id": case_id,
        "title": str(entry.get("title") or case_id),
        "view": str(view),
        "spacing_mm": [float(v) for v in units.spacing] if units.calibrated else None,
        "calibration": str(units.calibration),
        "source": str(Path(ts.case_dir(case_id)) / "annotations.json"),
    }


def case_job(
    fmt: str,
    set_root: str,
    case_id: str,
    options: dict[str, Any],
    stage: str | None = None,
    out: str | None = None,
) -> dict[str, Any]:
    """Export one case of the set at ``set_root`` with the exporter called ``fmt``.

    Returns the exporter's ``case_part`` result: its records plus ``files``
    (relative path -> bytes). With ``stage`` (a :class:`flannot.atomic.StagingTree`
    folder on a file system this process sees) the files are written there instead,
    fsynced, and ``staged`` lists their relative paths: only records travel back to
    the caller, and the writing runs in the worker. ``out`` (the output folder)
    names the file in an error.
    """
    from flannot.export.registry import CaseInput, get_exporter
    from flannot.teach.teaching_set import TeachingSet

    ts = TeachingSet.open(set_root)
    part = get_exporter(fmt).case_part(CaseInput(ts, case_id), options)
    files = part.pop("files", None) or {}
    if stage is None:
        part["files"] = files
        return part
    from flannot.atomic import stage_files
    from flannot.errors import FlannotError

    try:
        part["staged"] = stage_files(stage, files.items(), out or stage)
    except ValueError as exc:  # a plugin's file name that leaves the output folder
        raise FlannotError(str(exc), out) from None
    return part
