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


def case_job(fmt: str, set_root: str, case_id: str, options: dict[str, Any]) -> dict[str, Any]:
    """Export one case of the set at ``set_root`` in format ``fmt``.

    Returns the format module's ``case_part`` result (records plus ``files``: relative
    path -> bytes); nothing is written here.
    """
    from flannot.teach.teaching_set import TeachingSet

    ts = TeachingSet.open(set_root)
    case = ts.case(case_id)
    if fmt == "csv":
        from flannot.export import table

        return {"table": table.case_part(case), "files": {}}
    if fmt == "masks":
        from flannot.export import masks

        shape = _shape(case)
        return masks.case_part(case, shape, options["labels"], case_info(ts, case_id, case))
    if fmt == "dicom":
        from flannot.export import dicom_files

        return dicom_files.case_part(case, case_info(ts, case_id, case))
    image = case.load_image()
    info = case_info(ts, case_id, case, image)
    from flannot.export.render import redaction_rects

    rects = redaction_rects(case)
    if fmt == "coco":
        from flannot.export import coco

        return coco.case_part(case, image, rects, info)
    from flannot.export import gallery, table
    from flannot.protocols import get_protocol

    colours = {t.name: t.color for t in get_protocol(case.protocol or "mild").types}
    return gallery.case_part(case, image, rects, info, table.case_part(case), colours)


def _shape(case: Any) -> tuple[int, int]:
    """Image size from the case record, else from the DICOM header."""
    rows, cols = case.image.rows, case.image.columns
    if rows and cols:
        return int(rows), int(cols)
    image = case.load_image()
    return int(image.rows), int(image.cols)
