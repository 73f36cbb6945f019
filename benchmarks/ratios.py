"""Side-by-side ratios for ``make bench``: interleaved runs, min and median, saved for the README.

Each ratio benchmark runs flannot and its anchor alternately (so a burst of load
from elsewhere hits both), keeps every time, and :func:`record` saves the figures
as JSON in ``benchmarks/results/`` (``FLANNOT_BENCH_RESULTS`` overrides the folder)
with the machine's load average. ``benchmarks/report_table.py`` turns those files
into the README's table.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(os.environ.get("FLANNOT_BENCH_RESULTS", Path(__file__).parent / "results"))


def subprocess_env() -> dict[str, str]:
    """The environment a benchmark's command-line runs get: this one, with this process's
    ``sys.path`` as ``PYTHONPATH``, and bytecode caching on as in a user's Python.

    A machine may set ``PYTHONDONTWRITEBYTECODE`` (this one does): an anchor installed
    from a wheel still has its ``.pyc`` files (pip compiles them), while flannot, installed
    in place from its source tree, would compile every module on every run (~60 ms of a
    ``flannot measure``). The warm-up run each benchmark makes writes them.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def loadavg() -> float:
    """The 1-minute load average (0 where /proc is missing)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0


def interleave(
    runs: dict[str, Callable[[], Any]], rounds: int, setup: Callable[[], Any] | None = None
) -> dict[str, list[float]]:
    """Seconds of each callable, ``rounds`` times, alternating (``setup`` before each run)."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            if setup is not None:
                setup()
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def summary(values: list[float]) -> dict[str, float]:
    """``min`` and ``median`` of a list of figures."""
    return {"min": min(values), "median": statistics.median(values)}


def ratio(mine: list[float], anchor: list[float]) -> dict[str, float]:
    """flannot ÷ anchor of the minima and of the medians (a slow-down: lower is better)."""
    return {
        "min": min(mine) / min(anchor),
        "median": statistics.median(mine) / statistics.median(anchor),
    }


def record(name: str, row: dict[str, Any]) -> Path:
    """Save one benchmark's figures (``what``, ``figure``, ``target``, ``ok`` and details)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    row = {**row, "load": row.get("load", loadavg()), "when": time.strftime("%Y-%m-%d %H:%M")}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(row, indent=1) + "\n", "utf-8")
    return path
