"""Exports of a teaching set (SPEC §9): COCO, label masks, a measurement CSV, an HTML gallery.

>>> from flannot.export import export_set
>>> export_set("sample_dicoms", "coco", "out/coco", workers=2)  # doctest: +SKIP

Each case is one task (:mod:`flannot.export.jobs`) run serially, on a pool of local
worker processes (``workers``, chunks of cases) or on a Dask cluster (``scheduler``).
Every file goes into a hidden staging folder inside the output folder and is moved into
place, in case order, once all of them are written (:class:`flannot.atomic.StagingTree`):
a full disk names the file and leaves no partial file. Local tasks render and write
their own files into the staging folder (in the worker, in parallel) and return only
their records; a cluster's tasks return the file bytes. Either way the output is the
same bytes. ``dicom`` writes a DICOM SEG and SR
per case (:mod:`flannot.export.dicom_files`).
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

from flannot.atomic import StagingTree
from flannot.errors import FlannotError
from flannot.export.registry import CaseInput, Exporter, available_exporters, get_exporter
from flannot.export.runner import Progress, run_tasks

__all__ = [
    "FORMATS",
    "CaseInput",
    "Exporter",
    "available_exporters",
    "export_set",
    "get_exporter",
    "png_bytes",
    "region_mask",
    "region_types",
    "render_case_frame",
]

#: the built-in formats (plugins add more: :func:`available_exporters`)
FORMATS = ("coco", "masks", "csv", "html", "dicom")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# -- the public helpers an exporter plugin builds on (SPEC §11) -------------------------
def region_types(protocol: Any) -> tuple[str, ...]:
    """Types a protocol exports as filled regions, in paint order (later over earlier)."""
    from flannot.export.regions import region_types as _region_types

    return _region_types(protocol)


def region_mask(ann: Any, shape: tuple[int, int], source: Any = None) -> Any:
    """Boolean mask of a region annotation (pixel-centre rule), ``None`` for other kinds."""
    from flannot.export.regions import region_mask as _region_mask

    return _region_mask(ann, shape, source)


def render_case_frame(case: CaseInput, frame: int) -> Any:
    """Frame ``frame`` of a case as 8-bit pixels: default window applied, the case's
    redaction rectangles blanked (what every export shows)."""
    from flannot.export.render import redaction_rects, render_frame

    return render_frame(case.image, frame, redaction_rects(case.case))


def png_bytes(pixels: Any) -> bytes:
    """A deterministic PNG of 8-bit pixels (grey or RGB)."""
    from flannot.export.render import png_bytes as _png_bytes

    return _png_bytes(pixels)


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
        A registered exporter: ``coco``, ``masks``, ``csv``, ``html``, ``dicom`` or a
        plugin's (:func:`available_exporters`).
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

    exporter = get_exporter(fmt)
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
    options = exporter.prepare(ts, case_ids)
    root = str(ts.root.resolve())
    existed = out.exists()
    try:
        with StagingTree(out) as tree:
            # local tasks (serial or worker processes) write their files into the staging
            # folder themselves; a remote cluster's tasks return the bytes instead
            local = scheduler is None
            parts = run_tasks(
                _job(),
                [
                    (
                        exporter.name,
                        root,
                        cid,
                        options,
                        tree.folder(f"c{i:06d}") if local else None,
                        str(out),
                    )
                    for i, cid in enumerate(case_ids)
                ],
                scheduler=scheduler,
                workers=workers,
                progress=progress,
            )
            for i, part in enumerate(parts):
                key = f"c{i:06d}"
                if "staged" in part:
                    tree.add(part.pop("staged"), tree.folder(key))
                else:
                    tree.write(part.pop("files", {}).items(), key)
            tree.write(exporter.assemble(ts, parts, options).items(), "set")
            written = tree.commit()
    except BaseException as exc:
        if not existed:  # a failed export leaves no new empty folder behind
            with contextlib.suppress(OSError):
                out.rmdir()
        if isinstance(exc, ValueError):  # a plugin's file name that leaves the output folder
            raise FlannotError(str(exc), out) from None
        raise
    return {"format": exporter.name, "out": str(out), "cases": len(case_ids), "files": written}


def _job() -> Any:
    from flannot.export.jobs import case_job

    return case_job
