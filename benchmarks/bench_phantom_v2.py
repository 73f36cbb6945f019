"""Phantom v2: building a patient's volume (target < 3 s) and the v2 course cases
(target: the whole sample set < 60 s).

Run with pytest-benchmark (``python -m pytest benchmarks/bench_phantom_v2.py
--benchmark-enable``) or as a plain script printing min / median of interleaved runs
and the load average: ``python benchmarks/bench_phantom_v2.py``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from flannot.phantom.volume import build_volume, draw_patient


def test_bench_build_volume(benchmark) -> None:
    params = draw_patient(0)
    vol = benchmark.pedantic(build_volume, args=(params,), rounds=3, iterations=1)
    assert vol.hu.ndim == 3


def test_bench_course_case(benchmark) -> None:
    from flannot.phantom.course import generate_course_case

    made = benchmark.pedantic(
        generate_course_case, args=("p2-lateral-slip", 0), rounds=2, iterations=1
    )
    assert made.files["image.dcm"]


if __name__ == "__main__":  # pragma: no cover
    from flannot.phantom.course import V2_CASES, generate_course_case

    builds = []
    for seed in (0, 1, 2, 0, 1, 2):
        p = draw_patient(seed)
        t0 = time.perf_counter()
        build_volume(p)
        builds.append(time.perf_counter() - t0)
    print(f"build_volume: min {min(builds):.2f} s, median {statistics.median(builds):.2f} s")
    scenes: dict = {}
    t_all = time.perf_counter()
    for c in V2_CASES:
        t0 = time.perf_counter()
        generate_course_case(c, 0, scenes)
        print(f"{c.case_id:28s} {time.perf_counter() - t0:6.2f} s")
    print(f"{'v2 cases total':28s} {time.perf_counter() - t_all:6.2f} s")
    print("load average:", Path("/proc/loadavg").read_text().split()[:3])
