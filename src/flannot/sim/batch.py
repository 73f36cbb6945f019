"""Many simulated cases from a manifest, through the export runner (SPEC §15, §8).

A manifest is a CSV (header ``ct,labels,label_map,views,target,seed,kvp,position,
case_id``; only ``ct`` and ``views`` are required, ``views`` separated by ``;``) or
a JSON list of objects with the same keys (``views`` a list or a string). Paths
are relative to the manifest's folder. Each row is one task (its CT is read and
prepared once for all its views); tasks run serially, on local Dask workers or on
a Dask cluster via :func:`flannot.export.runner.run_tasks`, and return their files
as bytes, written here in manifest order — the same bytes however they ran.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from flannot.errors import FlannotError

KEYS = ("ct", "labels", "label_map", "views", "target", "seed", "kvp", "position", "case_id")


def read_manifest(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV or JSON manifest, paths made absolute, values checked."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise FlannotError(f"cannot read the manifest ({exc.strerror})", p) from None
    if p.suffix.lower() == ".json":
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise FlannotError(f"not valid JSON ({exc})", p) from None
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            raise FlannotError("a JSON manifest is a list of objects", p)
        rows = raw
    else:
        rows = list(csv.DictReader(text.splitlines()))
    out = []
    for n, row in enumerate(rows, start=1):
        unknown = set(row) - set(KEYS)
        if unknown:
            raise FlannotError(f"row {n}: unknown column(s) {', '.join(sorted(unknown))}", p)
        if not row.get("ct"):
            raise FlannotError(f"row {n}: no ct", p)
        views = row.get("views") or ""
        if isinstance(views, str):
            views = [v.strip() for v in re.split(r"[;|]", views) if v.strip()]
        if not views:
            raise FlannotError(f"row {n}: no views (e.g. ap;lateral;clo-left)", p)
        item = {k: row[k] for k in KEYS if row.get(k) not in (None, "")}
        item["views"] = [str(v) for v in views]
        item["ct"] = str((p.parent / str(row["ct"])).resolve())
        if item.get("labels"):
            item["labels"] = str((p.parent / str(item["labels"])).resolve())
        try:
            item["seed"] = int(item.get("seed", n - 1))
            if "kvp" in item:
                item["kvp"] = float(item["kvp"])
        except (TypeError, ValueError):
            raise FlannotError(f"row {n}: seed and kvp must be numbers", p) from None
        lm = item.get("label_map")
        if lm and str(lm).lower() not in ("totalsegmentator", "verse"):
            item["label_map"] = str((p.parent / str(lm)).resolve())
        item.setdefault("case_id", f"row{n:03d}-{Path(str(row['ct'])).name.split('.')[0]}")
        out.append(item)
    if not out:
        raise FlannotError("the manifest has no rows", p)
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def render_row(row: dict[str, Any], settings: dict[str, Any]) -> list[tuple[str, dict[str, bytes]]]:
    """One manifest row → ``[(case_id, files), ...]`` for each of its views (a task)."""
    from flannot.sim.case import SimRequest, simulate
    from flannot.sim.render import prepare
    from flannot.sim.volume import load_ct, load_labels

    kvp = float(row.get("kvp", settings.get("kvp", 80.0)))
    ct = load_ct(row["ct"])
    labels = load_labels(row["labels"], ct) if row.get("labels") else None
    prep = prepare(ct, kvp)
    out = []
    for view in row["views"]:
        case_id = _slug(f"{row['case_id']}-{view.replace(':', '')}")
        req = SimRequest(
            ct=row["ct"],
            labels=row.get("labels"),
            label_map=row.get("label_map", "totalsegmentator"),
            view=view,
            target=row.get("target", settings.get("target")),
            kvp=kvp,
            seed=int(row["seed"]),
            position=row.get("position", settings.get("position", "prone")),
            case_id=case_id,
            **{k: settings[k] for k in ("sid", "sod", "detector", "pixel") if k in settings},
        )
        out.append((case_id, simulate(req, prepared=(ct, labels, prep)).files))
    return out


def run_manifest(
    manifest: str | Path,
    out_dir: str | Path,
    *,
    settings: dict[str, Any] | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    progress: Any = None,
) -> list[Path]:
    """Simulate every row × view of ``manifest`` into ``out_dir/<case_id>/``; the case folders."""
    from flannot.export.runner import run_tasks
    from flannot.sim.case import write_case

    rows = read_manifest(manifest)
    results = run_tasks(
        render_row,
        [(row, dict(settings or {})) for row in rows],
        scheduler=scheduler,
        workers=workers,
        progress=progress,
    )
    out = Path(out_dir)
    written = []
    seen: set[str] = set()
    for cases in results:
        for case_id, files in cases:
            if case_id in seen:
                raise FlannotError(f"two manifest rows make the case {case_id}", manifest)
            seen.add(case_id)
            written.append(write_case(files, out / case_id))
    return written
