"""The phantom: rendering one 512x512 case and the 24-frame cine (target: the whole
sample set in a few seconds on one core).

Run with pytest-benchmark (``python -m pytest benchmarks/bench_phantom.py
--benchmark-enable``) or as a plain script printing the figures:
``python benchmarks/bench_phantom.py``.
"""

from __future__ import annotations

import time

from flannot.phantom import generate_case


def test_bench_phantom_lateral(benchmark) -> None:
    case = benchmark.pedantic(generate_case, args=("lateral", 0), rounds=3, iterations=1)
    assert case.stored.shape == (1, 512, 512)


def test_bench_phantom_cine(benchmark) -> None:
    case = benchmark.pedantic(generate_case, args=("cine", 0), rounds=2, iterations=1)
    assert case.stored.shape[0] >= 20


if __name__ == "__main__":  # pragma: no cover
    from flannot.phantom import CASES

    total = 0.0
    for c in CASES:
        t0 = time.perf_counter()
        generate_case(c, 0)
        dt = time.perf_counter() - t0
        total += dt
        print(f"{c.case_id:24s} {dt:6.2f} s")
    print(f"{'total':24s} {total:6.2f} s")
