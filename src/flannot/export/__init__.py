"""Exports of a teaching set (SPEC §9): COCO, label masks, a measurement CSV, an HTML gallery.

>>> from flannot.export import export_set
>>> export_set("sample_dicoms", "coco", "out/coco", workers=2)  # doctest: +SKIP

Each case is one task (:mod:`flannot.export.jobs`) run serially, on local Dask worker
processes (``workers``) or on a Dask cluster (``scheduler``); the tasks return records
and file bytes and this module writes everything (atomically) in case order, so the
output is the same bytes however it was computed. ``dicom`` writes a DICOM SEG and SR
per case (:mod:`flannot.export.dicom_files`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from flannot.atomic import atomic_write_bytes
from flannot.errors import FlannotError
from flannot.export.runner import Progress, run_tasks

__all__ = ["FORMATS", "export_set"]

FORMATS = ("coco", "masks", "csv", "html", "dicom")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _json_text(obj: Any) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def _check_format(fmt: str) -> str:
    f = str(fmt).strip().lower()
    if f not in FORMATS:
        raise FlannotError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return f


def export_set(
    set_dir: str | os.PathLike[str],
    fmt: str,
    out_dir: str | os.PathLike[str],
    scheduler: Any = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Export every case of a teaching set.

    Parameters
    ----------
    set_dir
        The teaching-set folder (``flannot-set.json``).
    fmt
        ``coco``, ``masks``, ``csv``, ``html`` or ``dicom``.
    out_dir
        Output folder (created; files already there with the same names are replaced).
    scheduler
        Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``; the
        default runs locally.
    workers
        Local worker processes (``None``/1: serially in this process).
    progress
        Called with ``(cases done, cases)``.

    Returns
    -------
    dict
        ``format``, ``out`` (folder), ``cases`` (count) and ``files`` (relative paths written).

    Raises
    ------
    FlannotError
        A bad set, case or format (one line naming the file).
    """
    from flannot.teach.teaching_set import TeachingSet

    f = _check_format(fmt)
    if workers is not None and int(workers) < 1:
        raise FlannotError(f"--workers must be 1 or more, not {workers}")
    ts = TeachingSet.open(set_dir)
    case_ids = ts.case_ids
    for cid in case_ids:
        if not _SAFE_ID.match(cid):
            raise FlannotError(f"case id {cid!r} cannot name export files", ts.file)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FlannotError("exists and is not a folder", out)
    options: dict[str, Any] = {}
    if f == "masks":
        from flannot.export import masks

        keys = {
            masks.label_key(a) for cid in case_ids for a in masks.region_annotations(ts.case(cid))
        }
        options["labels"] = masks.label_table(keys, ts.file)
    root = str(ts.root.resolve())
    parts = run_tasks(
        _job(),
        [(f, root, cid, options) for cid in case_ids],
        scheduler=scheduler,
        workers=workers,
        progress=progress,
    )
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []

    def write(rel: str, data: bytes) -> None:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
        written.append(rel)

    for part in parts:
        for rel, data in part.pop("files").items():
            write(rel, data)
    if f == "coco":
        from flannot.export import coco
        from flannot.protocols import get_protocol

        doc = coco.assemble(parts, ts.data, get_protocol(ts.protocol))
        write(coco.ANNOTATIONS_FILE, _json_text(doc).encode("utf-8"))
    elif f == "masks":
        from flannot.export import masks

        write(
            masks.LEGEND_FILE, _json_text(masks.assemble(parts, options["labels"])).encode("utf-8")
        )
    elif f == "csv":
        from flannot.export import table

        write(table.CSV_FILE, table.assemble([p["table"] for p in parts]).encode("utf-8"))
    elif f == "dicom":
        from flannot.export import dicom_files

        legend = dicom_files.assemble(parts)
        write(dicom_files.LEGEND_FILE, _json_text(legend).encode("utf-8"))
    else:
        from flannot.export import gallery

        html = gallery.index_html(ts.data, [p["entry"] for p in parts])
        write(gallery.INDEX_FILE, html.encode("utf-8"))
    return {"format": f, "out": str(out), "cases": len(case_ids), "files": written}


def _job() -> Any:
    from flannot.export.jobs import case_job

    return case_job
