"""SPEC §16 / issue 13: a course of 30 trainees × 20 cases × 3 attempts reports in < 10 s.

The course is the scripted one (:mod:`flannot.teach.course_demo`): five trainees, one
per error pattern, check each of 20 cases three times (300 scored Checks, recorded in
the attempt history); their folders are then copied to 30 trainees (the history
lines renamed), so the report reads 1,800 Checks, 600 attempt files with their
rubric, and a second answer key for 3 cases. Timed: ``course_report`` (reading and
tables) and ``write_html`` (plots, CSVs, the page), separately and together.

Run as a script (prints the figures): ``python benchmarks/bench_report.py``, or with
pytest-benchmark: ``python -m pytest benchmarks/bench_report.py --benchmark-enable``.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from flannot.teach.course_demo import PATTERNS, Trainee, build_course
from flannot.teach.report import course_report
from flannot.teach.report_html import write_html

TARGET_S = 10.0
N_TRAINEES, N_CASES, N_ATTEMPTS = 30, 20, 3


def build(folder: Path) -> Path:
    """The 30 × 20 × 3 course in ``folder / "set"``."""
    root = build_course(folder / "set", [Trainee(p, p) for p in PATTERNS], N_CASES, N_ATTEMPTS)
    attempts = root / "attempts"
    for k in range(N_TRAINEES):
        pattern = PATTERNS[k % len(PATTERNS)]
        name = f"trainee-{k + 1:02d}"
        dst = attempts / name
        shutil.copytree(attempts / pattern, dst)
        for h in dst.glob("*.history.jsonl"):
            lines = [json.loads(x) for x in h.read_text().splitlines()]
            for e in lines:
                e["trainee"] = name
            h.write_text("".join(json.dumps(e) + "\n" for e in lines))
    for p in PATTERNS:
        shutil.rmtree(attempts / p)
    return root


def run(root: Path, out: Path) -> tuple[float, float, int]:
    """Seconds for the tables and for the HTML page; the number of Checks read."""
    t0 = time.perf_counter()
    rep = course_report(root)
    t1 = time.perf_counter()
    write_html(rep, out)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(rep.checks)


def test_report_30_trainees(benchmark, tmp_path):
    root = build(tmp_path)
    tables, page, n = benchmark.pedantic(run, args=(root, tmp_path / "html"), rounds=1)
    assert n == N_TRAINEES * N_CASES * N_ATTEMPTS
    assert tables + page < TARGET_S


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        root = build(Path(tmp))
        print(f"built the course in {time.perf_counter() - t:.1f} s (not timed)")
        runs = [run(root, Path(tmp) / f"html{i}") for i in range(3)]
    for tables, page, n in runs:
        print(f"{n} checks: tables {tables:.2f} s + HTML page {page:.2f} s = {tables + page:.2f} s")
    best = min(a + b for a, b, _ in runs)
    ok = best < TARGET_S
    print(f"best {best:.2f} s (target < {TARGET_S:.0f} s): {'OK' if ok else 'TOO SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
