"""De-identification per file vs dicognito (target: within 1.1x), and start-up.

200 DICOM files (the sample set's images round-robin, hard-linked into one folder)
are de-identified by :func:`flannot.deid.deidentify` (PS3.15 Basic Profile, every
file written atomically and durably) and by dicognito's own per-file work, in the
same process, alternately: ``pydicom.dcmread`` + ``Anonymizer.anonymize`` +
``save_as`` (dicognito keeps private tags, redacts nothing, checks no burned-in
text and fsyncs nothing: it does less). Start-up: ``python -m flannot deidentify``
vs ``python -m dicognito`` on one file, alternately, as subprocesses.

Run with ``make bench`` (results in ``benchmarks/results/deid*.json``) or as a
script: ``python benchmarks/bench_deid.py [rounds]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ratios import interleave, loadavg, ratio, record, subprocess_env, summary
from sets import big_set, dicom_files

N_FILES = 200
ROUNDS = 5
TARGET = 1.1
TARGET_START = 1.5


def inputs(root: Path, n: int = N_FILES) -> Path:
    """A flat folder of ``n`` DICOM files (hard links to the sample images)."""
    folder = root / "in"
    if folder.exists():
        return folder
    files = dicom_files(big_set(root / "set", n))
    folder.mkdir(parents=True)
    for i, f in enumerate(files[:n]):
        try:
            os.link(f, folder / f"f{i:04d}.dcm")
        except OSError:
            shutil.copy2(f, folder / f"f{i:04d}.dcm")
    return folder


def flannot_run(src: Path, out: Path) -> None:
    from flannot.deid import deidentify

    report = deidentify(src, out, secret=b"bench")
    assert all(r.status == "deidentified" for r in report.files), [r.reason for r in report.files][
        :3
    ]


def dicognito_run(src: Path, out: Path) -> None:
    import pydicom
    from dicognito.anonymizer import Anonymizer

    anonymizer = Anonymizer(seed="bench")
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.iterdir()):
        with pydicom.dcmread(path) as ds:
            anonymizer.anonymize(ds)
            ds.save_as(out / path.name, enforce_file_format=True)


def compare(root: Path, rounds: int = ROUNDS) -> dict:
    src = inputs(root)
    n = sum(1 for _ in src.iterdir())
    outs = {"flannot": root / "o-flannot", "dicognito": root / "o-dicognito"}

    def clean() -> None:
        for o in outs.values():
            shutil.rmtree(o, ignore_errors=True)

    flannot_run(src, outs["flannot"])  # imports, page cache
    dicognito_run(src, outs["dicognito"])
    load0 = loadavg()
    times = interleave(
        {
            "flannot": lambda: flannot_run(src, outs["flannot"]),
            "dicognito": lambda: dicognito_run(src, outs["dicognito"]),
        },
        rounds,
        setup=clean,
    )
    r = ratio(times["flannot"], times["dicognito"])
    ms = {k: {s: v * 1000 / n for s, v in summary(t).items()} for k, t in times.items()}
    return {
        "what": f"`deidentify` of {n} files, per file, vs dicognito (in process)",
        "figure": f"{r['min']:.2f}× (min), {r['median']:.2f}× (median); "
        f"{ms['flannot']['median']:.1f} vs {ms['dicognito']['median']:.1f} ms a file",
        "target": f"≤ {TARGET}×",
        "ok": r["median"] <= TARGET,
        "ratio": r,
        "ms_per_file": ms,
        "load": max(load0, loadavg()),
    }


def startup(root: Path, rounds: int = ROUNDS) -> dict:
    """``python -m flannot deidentify`` vs ``python -m dicognito`` on one file."""
    one = next(iter(sorted(inputs(root).iterdir())))
    out = root / "o-start"
    env = subprocess_env()
    cmds = {
        "flannot": [sys.executable, "-m", "flannot", "deidentify", str(one), str(out / "x.dcm")],
        "dicognito": [sys.executable, "-m", "dicognito", "-q", "-o", str(out / "d"), str(one)],
    }

    def run(cmd: list[str]) -> None:
        subprocess.run(
            cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    load0 = loadavg()
    times = interleave(
        {k: (lambda c=c: run(c)) for k, c in cmds.items()},
        rounds,
        setup=lambda: (shutil.rmtree(out, ignore_errors=True), out.mkdir()),
    )
    r = ratio(times["flannot"], times["dicognito"])
    s = {k: summary(t) for k, t in times.items()}
    return {
        "what": "`deidentify` of one file from the command line (start-up) vs dicognito",
        "figure": f"{r['min']:.2f}× (min), {r['median']:.2f}× (median); "
        f"{s['flannot']['median']:.2f} vs {s['dicognito']['median']:.2f} s",
        "target": f"≤ {TARGET_START}×",
        "ok": r["median"] <= TARGET_START,
        "ratio": r,
        "seconds": s,
        "load": max(load0, loadavg()),
    }


def test_deidentify_vs_dicognito(tmp_path: Path) -> None:
    row = compare(tmp_path)
    record("deid", row)
    print(row["what"], row["figure"], f"load {row['load']:.2f}")
    assert row["ratio"]["median"] <= TARGET, row["figure"]


def test_deidentify_start_vs_dicognito(tmp_path: Path) -> None:
    row = startup(tmp_path)
    record("deid-start", row)
    print(row["what"], row["figure"], f"load {row['load']:.2f}")
    assert row["ratio"]["median"] <= TARGET_START, row["figure"]


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else ROUNDS
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in (("deid", compare), ("deid-start", startup)):
            row = fn(Path(tmp), rounds)
            record(name, row)
            print(
                f"{row['what']}: {row['figure']} (target {row['target']}; load {row['load']:.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
