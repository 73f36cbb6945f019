"""Benchmark inputs shared by the batch benchmarks: a teaching set of many cases.

``big_set(root, n)`` copies the sample set's cases round-robin into ``n`` cases
(case files copied, DICOM files hard-linked when possible) so that batch commands
(measure, validate, export, deidentify) run on realistic cases at scale.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicoms"


def big_set(root: Path, n: int = 200, sample: Path = SAMPLE) -> Path:
    """A teaching set of ``n`` cases at ``root`` made from the sample set's cases."""
    meta = json.loads((sample / "flannot-set.json").read_text())
    base = meta["cases"]
    root.mkdir(parents=True, exist_ok=True)
    cases = []
    for i in range(n):
        entry = base[i % len(base)]
        cid = f"{entry['case_id']}-{i:04d}"
        src, dst = sample / entry["path"], root / "cases" / cid
        dst.mkdir(parents=True, exist_ok=True)
        for item in src.iterdir():
            target = dst / item.name
            if item.name == "annotations.json":
                doc = json.loads(item.read_text())
                doc["case_id"] = cid
                target.write_text(json.dumps(doc, indent=2))
            elif item.is_file():
                try:
                    os.link(item, target)
                except OSError:
                    shutil.copy2(item, target)
            else:
                shutil.copytree(item, target)
        cases.append({**entry, "case_id": cid, "path": f"cases/{cid}"})
    (root / "flannot-set.json").write_text(json.dumps({**meta, "cases": cases}, indent=2))
    return root


def dicom_files(root: Path) -> list[Path]:
    """Every DICOM file of a set made by :func:`big_set` (single-file images)."""
    return sorted(root.glob("cases/*/image.dcm"))
