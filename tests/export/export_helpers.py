"""Helpers for the export tests (imported as a plain module, like measure_builders)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms"


def case_json(set_dir: Path, case_id: str) -> dict:
    """The raw case file of a case (read independently of flannot.model)."""
    return json.loads((set_dir / "cases" / case_id / "annotations.json").read_text("utf-8"))


def small_set(src: Path, dst: Path, case_ids: list[str]) -> Path:
    """A copy of ``src`` holding only ``case_ids``."""
    data = json.loads((src / "flannot-set.json").read_text("utf-8"))
    data["cases"] = [c for c in data["cases"] if c["case_id"] in case_ids]
    (dst / "cases").mkdir(parents=True)
    for cid in case_ids:
        shutil.copytree(src / "cases" / cid, dst / "cases" / cid)
    (dst / "flannot-set.json").write_text(json.dumps(data), "utf-8")
    return dst
