"""Set-level ``flannot validate`` of a teaching set holding one very large case file.

The case is the sample AP case plus seven traced polygons of 100,000 points each
(``MAX_POINTS``, the most a geometry may hold): a 15 MB ``annotations.json``, just
under the 16 MiB case-file cap. A second set holds a 43 MB case file (twenty such
polygons), which is refused by size: it must cost no more than reading the
manifest. Issue 16 measured 2–3 s for the large one (3.7 s on this machine before
the point checks were vectorised and the case file was parsed once instead of
twice; the refused one took 5.3 s and 470 MB, parsed whole for its image path).

Run with pytest-benchmark (``make bench``) or as a script printing medians:
``python benchmarks/bench_validate.py``.
"""

from __future__ import annotations

import json
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flannot.teach.set_validation import validate_path

SAMPLE = Path(__file__).resolve().parents[1] / "sample_dicoms"
POINTS = 100_000


def build_set(dst: Path, polygons: int) -> Path:
    """A one-case set (the sample AP case) with ``polygons`` traced 100k-point polygons."""
    data = json.loads((SAMPLE / "flannot-set.json").read_text("utf-8"))
    data["cases"] = [c for c in data["cases"] if c["case_id"] == "ap"]
    shutil.copytree(SAMPLE / "cases" / "ap", dst / "cases" / "ap")
    (dst / "flannot-set.json").write_text(json.dumps(data), "utf-8")
    case_file = dst / "cases" / "ap" / "annotations.json"
    case = json.loads(case_file.read_text("utf-8"))
    base = next(a for a in case["annotations"] if a["type"] == "interlaminar_space")
    for k in range(polygons):
        pts = [
            [
                round(200 + 100 * math.sin(2 * math.pi * i / POINTS), 4),
                round(200 + 100 * math.cos(2 * math.pi * i / POINTS), 4),
            ]
            for i in range(POINTS)
        ]
        case["annotations"].append(
            dict(base, id=f"traced-{k}", geometry={"kind": "polygon", "points": pts})
        )
    case_file.write_text(json.dumps(case), "utf-8")
    return dst


def test_validate_a_set_with_a_15_mb_case(benchmark, tmp_path: Path) -> None:
    root = build_set(tmp_path / "set", 7)
    problems, n = benchmark.pedantic(validate_path, args=(root,), rounds=3, iterations=1)
    assert n == 1 and not [p for p in problems if p.severity == "error"]


def test_validate_a_set_with_a_43_mb_case_is_refused_cheaply(benchmark, tmp_path: Path) -> None:
    root = build_set(tmp_path / "set", 20)
    problems, _ = benchmark.pedantic(validate_path, args=(root,), rounds=3, iterations=1)
    assert any("more than flannot reads" in p.message for p in problems)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for polygons in (7, 20):
            root = build_set(Path(tmp) / f"set{polygons}", polygons)
            size = (root / "cases" / "ap" / "annotations.json").stat().st_size / 1e6
            validate_path(root)  # warm up imports
            wall = []
            for _ in range(5):
                t = time.perf_counter()
                validate_path(root)
                wall.append(time.perf_counter() - t)
            med = statistics.median(wall)
            print(
                f"validate set, {size:.0f} MB case file: median {med:.2f} s (min {min(wall):.2f} s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
