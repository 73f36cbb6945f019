"""Adversarial campaign against the ``flannot`` CLI (issue 16): hostile DICOM, case files, zips.

Every input is made here (mutations of files built with pydicom and of the sample set),
then each command runs in its own process. A run is *bad* when it ends by a signal, hangs
(past ``--timeout``), exits with a status other than 0/1/2, prints a traceback or more than
one line on stderr, says "internal error", takes more than 2 s of CPU time or peaks above
1 GB of memory. Usage (from the repository root)::

    PYTHONPATH=src:. python tools/campaign.py --out /tmp/campaign --dicom 300 --cases 150 --zips 80

It prints the counts and writes ``summary.json`` and ``bad.jsonl`` (one line per bad run,
with its command) in ``--out``. The unit-sized version of these checks is ``tests/fuzz``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CPU_LIMIT_S = 2.0
RSS_LIMIT_KB = 1024 * 1024  # 1 GB


@dataclass
class Run:
    """One CLI run and what it left."""

    kind: str
    args: list[str]
    rc: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    rss_kb: int = 0
    stderr: str = ""
    problems: list[str] = field(default_factory=list)


def run_measured(kind: str, args: list[str], timeout: float, cwd: Path) -> Run:
    """Run ``python -m flannot ARGS``; its wall and CPU time and peak RSS.

    Measured by GNU ``time`` (``/usr/bin/time``, Debian package ``time``): a child forked
    straight from this (large) process would inherit its peak RSS across ``exec``.
    """
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}")
    env.pop("DISPLAY", None)
    tag = f"{os.getpid()}-{random.getrandbits(40):x}"
    errfile, timefile = cwd / f".stderr-{tag}", cwd / f".time-{tag}"
    run = Run(kind, args)
    t0 = time.perf_counter()
    with open(errfile, "wb") as err:
        proc = subprocess.Popen(
            ["/usr/bin/time", "-f", "%U %S %M %x", "-o", str(timefile)]
            + [sys.executable, "-m", "flannot", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            run.problems.append("hang")
    run.wall_s = time.perf_counter() - t0
    fields = timefile.read_text().split() if timefile.exists() else []
    if len(fields) >= 4:
        user, sys_, rss, status = fields[-4:]
        run.cpu_s, run.rss_kb, run.rc = float(user) + float(sys_), int(rss), int(status)
        if "signal" in timefile.read_text():  # "Command terminated by signal N"
            run.rc = -int(timefile.read_text().split("signal")[1].split()[0])
    else:  # time itself was killed (a hang)
        run.rc = -9
    run.stderr = errfile.read_bytes().decode("utf-8", "replace")
    errfile.unlink()
    timefile.unlink(missing_ok=True)
    judge(run)
    return run


def judge(run: Run) -> None:
    """Fill ``run.problems`` from what the run left."""
    lines = run.stderr.strip().splitlines()
    if run.rc < 0:
        run.problems.append(f"signal {-run.rc}")
    elif run.rc not in (0, 1, 2):
        run.problems.append(f"exit {run.rc}")
    if "Traceback" in run.stderr:
        run.problems.append("traceback")
    if len(lines) > 1:
        run.problems.append("multi-line")
    if run.rc == 2 and not (len(lines) == 1 and lines[0].startswith("flannot: error: ")):
        run.problems.append("no one-line error")
    if "internal error" in run.stderr:
        run.problems.append("internal error")
    if run.cpu_s > CPU_LIMIT_S:
        run.problems.append("slow")
    if run.rss_kb > RSS_LIMIT_KB:
        run.problems.append("memory")


# ---------------------------------------------------------------- DICOM inputs


def dicom_seeds(folder: Path) -> dict[str, bytes]:
    """Small valid files of every transfer syntax flannot decodes, and a sample image."""
    from pydicom import uid

    from tests.io.dicom_factory import make_dicom, make_pixels

    syntaxes = {
        "native": uid.ExplicitVRLittleEndian,
        "implicit": uid.ImplicitVRLittleEndian,
        "big": uid.ExplicitVRBigEndian,
        "deflate": uid.DeflatedExplicitVRLittleEndian,
        "rle": uid.RLELossless,
        "jpeg-ls": uid.JPEGLSLossless,
        "j2k": uid.JPEG2000Lossless,
        "jpeg-lossless": uid.JPEGLossless,
        "jpeg-baseline": uid.JPEGBaseline8Bit,
    }
    out = {}
    for name, ts in syntaxes.items():
        import numpy as np

        pixels = make_pixels(frames=2, rows=32, cols=32)
        if name == "jpeg-baseline":
            pixels = (pixels >> 8).astype(np.uint8)
        out[name] = make_dicom(
            folder, f"{name}.dcm", pixels=pixels, transfer_syntax=ts
        ).read_bytes()
    out["sample"] = (ROOT / "sample_dicoms" / "cases" / "lateral" / "image.dcm").read_bytes()
    return out


HOSTILE_VALUES: list[bytes] = [
    b"1.2.abc..x",
    b"zz",
    b"1e400",
    b"-1e400",
    b"1e-320",
    b"nan",
    b"99999999999999999999",
    b"-2147483649",
    b"",
    b"\x00\x00",
    b"line\nbreak",
    b"\xff\xfe\xfd",
    b"A" * 4096,
    b"0",
    b"-1",
    b"65535",
    b"4294967295",
    b"YBR_FULL_422",
    b"PALETTE COLOR",
    b"1.2.840.10008.1.2.4.50",
    b"1.2.840.10008.1.2.1.99",
]
KEYWORDS = [
    "MediaStorageSOPClassUID",
    "MediaStorageSOPInstanceUID",
    "TransferSyntaxUID",
    "SOPClassUID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "Rows",
    "Columns",
    "BitsAllocated",
    "BitsStored",
    "HighBit",
    "SamplesPerPixel",
    "PixelRepresentation",
    "PlanarConfiguration",
    "NumberOfFrames",
    "PhotometricInterpretation",
    "RescaleSlope",
    "RescaleIntercept",
    "WindowCenter",
    "WindowWidth",
    "ImagerPixelSpacing",
    "PixelSpacing",
    "EstimatedRadiographicMagnificationFactor",
    "InstanceNumber",
    "FrameTime",
    "PatientName",
    "SpecificCharacterSet",
    "ImageType",
    "BurnedInAnnotation",
    "VOILUTFunction",
]


def _set_raw(data: bytes, keyword: str, value: bytes) -> bytes | None:
    """Rewrite one attribute with raw bytes (any VR) through pydicom; ``None`` if it cannot."""
    import pydicom
    from pydicom.datadict import dictionary_VR
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(io.BytesIO(data))
            tag = Tag(keyword)
            vr = dictionary_VR(tag)
            if len(value) % 2:
                value += b" " if vr not in ("UI", "OB", "OW") else b"\x00"
            elem = RawDataElement(tag, vr, len(value), value, 0, False, True)
            target = ds.file_meta if tag.group == 2 else ds
            target[tag] = elem
            buf = io.BytesIO()
            ds.save_as(buf, enforce_file_format=False)
            return buf.getvalue()
        except Exception:
            return None


def _set_value(data: bytes, keyword: str, value: Any) -> bytes | None:
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = pydicom.dcmread(io.BytesIO(data))
            setattr(ds, keyword, value)
            buf = io.BytesIO()
            ds.save_as(buf, enforce_file_format=False)
            return buf.getvalue()
        except Exception:
            return None


def mutate_dicom(rng: random.Random, seed: bytes) -> tuple[str, bytes]:
    """One hostile variant of ``seed`` and the name of the mutation."""
    kind = rng.choice(["bytes", "bytes", "cut", "lie", "raw", "raw", "length", "combo"])
    data = seed
    if kind in ("raw", "combo"):
        out = _set_raw(data, rng.choice(KEYWORDS), rng.choice(HOSTILE_VALUES))
        data = out if out is not None else data
    if kind == "lie":
        kw, values = rng.choice(
            [
                ("Rows", [0, 1, 3, 4096, 40000, 65535]),
                ("Columns", [0, 1, 3, 4096, 40000, 65535]),
                ("BitsAllocated", [0, 1, 8, 12, 24, 32, 64]),
                ("BitsStored", [0, 1, 7, 15, 16, 17, 33]),
                ("SamplesPerPixel", [0, 2, 3, 4, 65535]),
                ("NumberOfFrames", [0, -1, 3, 100000, 2**31 - 1]),
                ("PixelRepresentation", [1, 2]),
                ("PhotometricInterpretation", ["RGB", "YBR_FULL", "PALETTE COLOR", "XYZ"]),
                ("PlanarConfiguration", [1, 2]),
            ]
        )
        out = _set_value(data, kw, rng.choice(values))
        data = out if out is not None else data
    if kind in ("bytes", "combo"):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            head = rng.random() < 0.7
            hi = min(len(buf) - 1, 1200) if head else len(buf) - 1
            pos = rng.randint(128, max(128, hi))
            val = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4)))
            buf[pos : pos + len(val)] = val
        data = bytes(buf)
    if kind == "length":  # a lying 32-bit length somewhere in the header
        buf = bytearray(data)
        pos = rng.randrange(132, min(len(buf) - 4, 1500))
        buf[pos : pos + 4] = rng.choice(
            [b"\xff\xff\xff\xff", b"\xfe\xff\xff\x7f", b"\x00\x00\x00\x40"]
        )
        data = bytes(buf)
    if kind == "cut" or rng.random() < 0.1:
        data = data[: rng.randint(0, len(data))]
    return kind, data


# ---------------------------------------------------------------- case files

HOSTILE_JSON: list[Any] = [
    2**70,
    -(2**70),
    10**40,
    2.0**63,
    -(2.0**63),
    1e300,
    -1e300,
    5e-324,
    float("nan"),
    float("inf"),
    "\ud800",
    "a\x00b",
    "../../etc/passwd",
    "/etc/passwd",
    "",
    "L4",
    "x" * 100_000,
    None,
    True,
    [],
    {},
    [[1e308, 1e308]] * 3,
    [[0, 0]] * 200_000,
    -1,
    0,
]


def _json_paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _json_paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:6]):
            out += _json_paths(v, (*prefix, i))
    return out


def mutate_case(rng: random.Random, base: dict[str, Any]) -> tuple[str, str]:
    """A hostile ``annotations.json`` text and the mutation's name."""
    kind = rng.choice(["value", "value", "value", "structure", "text"])
    data = json.loads(json.dumps(base))
    if kind == "value":
        paths = _json_paths(data)[1:]
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(paths)
            node = data
            try:
                for key in path[:-1]:
                    node = node[key]
                node[path[-1]] = rng.choice(HOSTILE_JSON)
            except (KeyError, IndexError, TypeError):
                pass
        return kind, json.dumps(data, allow_nan=True)
    if kind == "structure":
        choice = rng.randrange(5)
        if choice == 0:  # many annotations
            data["annotations"] = data["annotations"] * rng.choice([500, 2000, 20_000])
        elif choice == 1:  # deep nesting
            return kind, '{"annotations": ' + "[" * 100_000 + "]" * 100_000 + "}"
        elif choice == 2:  # a huge polygon
            poly = [
                [float(i % 500), float(i // 500 % 500)] for i in range(rng.choice([10**5, 10**6]))
            ]
            for a in data["annotations"]:
                if a.get("geometry", {}).get("kind") == "polygon":
                    a["geometry"]["points"] = poly
                    break
        elif choice == 3:
            data["image"]["path"] = rng.choice(
                ["/dev/zero", "/proc/self/mem", "../ap/image.dcm", "."]
            )
        else:
            data = rng.choice([[], "text", 5, None])
        return kind, json.dumps(data)
    text = json.dumps(data)
    cut = rng.randint(0, len(text))
    return kind, rng.choice([text[:cut], "\ufeff" + text, text.replace('"', "'", 3), text + "}"])


# ---------------------------------------------------------------- zips


def mutate_zip(rng: random.Random, seed: bytes) -> tuple[str, bytes]:
    kind = rng.choice(["bytes", "cut", "names", "bomb", "names"])
    if kind == "bytes":
        buf = bytearray(seed)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(len(buf))
            buf[pos] = rng.getrandbits(8)
        return kind, bytes(buf)
    if kind == "cut":
        return kind, seed[: rng.randint(0, len(seed))]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(seed)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if kind == "bomb":
                name = rng.choice(["cases/ap/image.dcm", "cases/ap/annotations.json", "big.bin"])
                dst.writestr(name, b"\0" * (rng.choice([64, 600]) << 20), zipfile.ZIP_DEFLATED)
            else:
                for _ in range(rng.randint(1, 4)):
                    name = rng.choice(
                        [
                            "../escape",
                            "/abs",
                            "cases/../../x",
                            "cases/ap/\x00",
                            "a/" * 2000 + "f",
                            "flannot-set.json",
                            ".flannot-secret",
                            "cases/ap",
                            "cases/ap/annotations.json/x",
                        ]
                    )
                    info = zipfile.ZipInfo(name)
                    if rng.random() < 0.3:  # a symlink entry
                        info.external_attr = 0o120777 << 16
                    dst.writestr(info, rng.choice([b"/etc/passwd", b"{}", b"[" * 100_000]))
    return kind, out.getvalue()


# ---------------------------------------------------------------- campaign


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--dicom", type=int, default=200)
    ap.add_argument("--cases", type=int, default=100)
    ap.add_argument("--zips", type=int, default=50)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30.0)
    opts = ap.parse_args()
    rng = random.Random(opts.seed)
    out: Path = opts.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    work: list[tuple[str, list[str]]] = []

    # DICOM: info, info --json, deidentify; set add on every third
    seeds = dicom_seeds(out / "seeds")
    template = out / "template-set"
    subprocess.run(
        [sys.executable, "-m", "flannot", "set", "new", str(template)],
        check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        capture_output=True,
    )
    for i in range(opts.dicom):
        name = rng.choice(sorted(seeds))
        kind, data = mutate_dicom(rng, seeds[name])
        stem = f"d{i:04d}-{name}-{kind}"
        if rng.random() < 0.05:
            stem += rng.choice(["\nnewline", "\x1b[31mred", "\ttab"])
        folder = out / "dicom" / f"{i:04d}"
        folder.mkdir(parents=True)
        f = folder / f"{stem}.dcm"
        f.write_bytes(data)
        work.append(("dicom", ["info", str(f)]))
        work.append(("dicom", ["info", "--json", str(f)]))
        work.append(("dicom", ["deidentify", str(f), str(folder / "deid.dcm")]))
        if i % 3 == 0:
            s = folder / "set"
            shutil.copytree(template, s)
            work.append(("dicom", ["set", "add", str(s), str(f)]))

    # case files: one-case copies of the sample set with a hostile annotations.json
    sample = ROOT / "sample_dicoms"
    base = json.loads((sample / "cases" / "lateral-stenotic" / "annotations.json").read_text())
    set_meta = json.loads((sample / "flannot-set.json").read_text())
    set_meta["cases"] = [c for c in set_meta["cases"] if c["case_id"] == "lateral-stenotic"]
    commands = [
        ["validate"],
        ["measure"],
        ["score", "REF"],
        ["export", "-f", "coco"],
        ["export", "-f", "csv"],
        ["export", "-f", "dicom"],
        ["export", "-f", "html"],
        ["export", "-f", "masks"],
    ]
    for i in range(opts.cases):
        s = out / "cases" / f"{i:04d}"
        (s / "cases" / "lateral-stenotic").mkdir(parents=True)
        (s / "flannot-set.json").write_text(json.dumps(set_meta))
        shutil.copy(
            sample / "cases" / "lateral-stenotic" / "image.dcm", s / "cases" / "lateral-stenotic"
        )
        kind, text = mutate_case(rng, base)
        (s / "cases" / "lateral-stenotic" / "annotations.json").write_text(
            text, encoding="utf-8", errors="surrogatepass"
        )
        for cmd in rng.sample(commands, 4):
            if cmd[0] == "score":
                work.append(("case", ["score", str(sample), str(s)]))
            elif cmd[0] == "export":
                work.append(("case", [*cmd[:1], str(s), *cmd[1:], "-o", str(s / f"out-{cmd[2]}")]))
            else:
                work.append(("case", [cmd[0], str(s)]))

    # zips: the sample set zipped, then mutated; plus special files as the zip
    seed_zip = out / "seed.zip"
    subprocess.run(
        [sys.executable, "-m", "flannot", "set", "export", str(sample), str(seed_zip)],
        check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        capture_output=True,
    )
    zseed = seed_zip.read_bytes()
    for i in range(opts.zips):
        kind, data = mutate_zip(rng, zseed)
        z = out / "zips" / f"z{i:04d}-{kind}.zip"
        z.parent.mkdir(parents=True, exist_ok=True)
        z.write_bytes(data)
        work.append(("zip", ["set", "import", str(z), str(out / "zips" / f"set{i:04d}")]))
    fifo = out / "zips" / "fifo.zip"
    os.mkfifo(fifo)
    for special in (str(fifo), "/dev/zero", "/dev/null", str(out / "zips")):
        work.append(("zip", ["set", "import", special, str(out / "zips" / "set-special")]))
    native = out / "seeds" / "native.dcm"
    work.append(("zip", ["deidentify", str(native), str(out / "x.dcm"), "--salt-file", str(fifo)]))

    print(f"{len(work)} runs", file=sys.stderr)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(opts.jobs) as pool:
        runs = list(pool.map(lambda w: run_measured(w[0], w[1], opts.timeout, out), work))
    elapsed = time.perf_counter() - t0

    summary: dict[str, Any] = {"runs": len(runs), "elapsed_s": round(elapsed, 1)}
    for kind in ("dicom", "case", "zip"):
        rs = [r for r in runs if r.kind == kind]
        if not rs:
            continue
        counts: dict[str, int] = {}
        for r in rs:
            for p in r.problems:
                counts[p] = counts.get(p, 0) + 1
        summary[kind] = {
            "runs": len(rs),
            "exit": {str(c): sum(r.rc == c for r in rs) for c in sorted({r.rc for r in rs})},
            "one_line_errors": sum(
                r.rc == 2 and len(r.stderr.strip().splitlines()) == 1 for r in rs
            ),
            "problems": counts,
            "max_cpu_s": round(max(r.cpu_s for r in rs), 2),
            "max_wall_s": round(max(r.wall_s for r in rs), 2),
            "peak_rss_mb": round(max(r.rss_kb for r in rs) / 1024, 1),
        }
    summary["files"] = {"dicom": opts.dicom, "cases": opts.cases, "zips": opts.zips + 4}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    with open(out / "bad.jsonl", "w") as fh:
        for r in runs:
            if r.problems:
                fh.write(json.dumps(asdict(r)) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
