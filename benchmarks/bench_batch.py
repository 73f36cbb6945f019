"""``flannot measure`` of a 200-case set vs the floor of reading what it needs (target <= 2x).

The floor is a Python process that reads each case's ``annotations.json``
(``json.loads``) and its DICOM header (``pydicom.dcmread(stop_before_pixels=True)``)
and does nothing else. flannot is ``python -m flannot measure SET --csv`` (and
``--json``): start-up, schema check, geometry and output included. Both run as
subprocesses, alternately; min and median.

``make bench`` records the figures in ``benchmarks/results/``; as a script:
``python benchmarks/bench_batch.py [rounds]``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ratios import interleave, loadavg, ratio, record, subprocess_env, summary
from sets import big_set

N_CASES = 200
ROUNDS = 5
TARGET = 2.0

FLOOR = """
import json, sys
from pathlib import Path
import pydicom
root = Path(sys.argv[1])
for entry in json.loads((root / "flannot-set.json").read_text())["cases"]:
    folder = root / entry["path"]
    doc = json.loads((folder / "annotations.json").read_text())
    image = folder / doc["image"]["path"]
    files = sorted(image.iterdir())[:1] if image.is_dir() else [image]
    for f in files:
        pydicom.dcmread(f, stop_before_pixels=True)
"""


def compare(root: Path, rounds: int = ROUNDS, fmt: str = "--csv") -> dict[str, Any]:
    set_dir = root / "set"
    if not set_dir.exists():
        big_set(set_dir, N_CASES)
    env = subprocess_env()
    cmds = {
        "flannot": [sys.executable, "-m", "flannot", "measure", str(set_dir), fmt],
        "floor": [sys.executable, "-c", FLOOR, str(set_dir)],
    }

    def run(cmd: list[str]) -> None:
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)

    for cmd in cmds.values():  # page cache, .pyc files
        run(cmd)
    load0 = loadavg()
    times = interleave({k: (lambda c=c: run(c)) for k, c in cmds.items()}, rounds)
    r = ratio(times["flannot"], times["floor"])
    s = {k: summary(t) for k, t in times.items()}
    return {
        "what": f"`flannot measure` of {N_CASES} cases (`{fmt}`) vs reading each case's JSON "
        "and DICOM header",
        "figure": f"{r['median']:.2f}× ({r['min']:.2f}× min); {s['flannot']['median']:.2f} vs "
        f"{s['floor']['median']:.2f} s",
        "target": f"≤ {TARGET}×",
        "ok": r["median"] <= TARGET,
        "ratio": r,
        "seconds": s,
        "load": max(load0, loadavg()),
    }


def test_measure_200_cases_vs_floor(tmp_path: Path) -> None:
    row = compare(tmp_path)
    record("measure-200", row)
    print(row["what"], row["figure"], f"load {row['load']:.2f}")
    assert row["ratio"]["median"] <= TARGET, row["figure"]


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else ROUNDS
    with tempfile.TemporaryDirectory() as tmp:
        row = compare(Path(tmp), rounds)
        record("measure-200", row)
        print(f"{row['what']}: {row['figure']} (target {row['target']}; load {row['load']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
