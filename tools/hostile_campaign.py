"""A hostile-input campaign against the flannot CLI: counts outcomes for a source tree.

Makes ~150 malformed DICOM files (mutated files of eight transfer syntaxes,
lying Image Pixel modules, inflation and codestream bombs, overflowing numbers,
a control character in a name) and ~50 hostile case files (2·10⁶-point
polygon, 10⁵ annotations, 2⁶³ coordinates, lone surrogates, 5000-digit
integers, deep nesting, random hostile values), then runs ``flannot info`` plus
a decode of every frame on each file, and ``validate``/``measure``/``score`` on
each case, each in its own process under a 6 GB address-space limit.

Every run is classified: ``ok``, ``bad_input`` (exit 2, exactly one line
``flannot: error: …``), ``internal``, ``signal``, ``multiline``, ``hang``; runs
over 2 s or 1 GB are counted as well. Compare two trees (e.g. main and a branch)::

    python tools/hostile_campaign.py make /tmp/camp
    python tools/hostile_campaign.py run /tmp/camp /path/to/main/src
    python tools/hostile_campaign.py run /tmp/camp src

Start-up time counts towards the 2 s (about 1 s for ``flannot`` on an idle machine).
"""

from __future__ import annotations

import collections
import copy
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_DECODE = """
import sys
import numpy as np
import flannot
from flannot.cli import main
rc = main(["info", sys.argv[1], "--json"])
if rc == 0:
    try:
        img = flannot.read_dicom(sys.argv[1])
        for i in range(len(img.frames)):
            np.asarray(img.frames[i])
    except flannot.FlannotError as exc:
        print(f"flannot: error: {exc}", file=sys.stderr)
        rc = 2
sys.exit(rc)
"""


def make_reader_inputs(out: Path, rng: random.Random) -> int:
    sys.path.insert(0, str(ROOT))
    import pydicom
    from pydicom import uid

    from tests.io.dicom_factory import make_dataset, make_dicom, make_pixels

    out.mkdir(parents=True, exist_ok=True)
    syntaxes = {
        "native": uid.ExplicitVRLittleEndian,
        "implicit": uid.ImplicitVRLittleEndian,
        "big": uid.ExplicitVRBigEndian,
        "deflate": uid.DeflatedExplicitVRLittleEndian,
        "rle": uid.RLELossless,
        "jls": uid.JPEGLSLossless,
        "j2k": uid.JPEG2000Lossless,
        "jll": uid.JPEGLossless,
    }
    px = make_pixels(frames=2, rows=32, cols=32)
    seeds = {
        k: make_dicom(out / "seeds", f"{k}.dcm", pixels=px, transfer_syntax=v).read_bytes()
        for k, v in syntaxes.items()
    }
    files = out / "reader"
    files.mkdir(exist_ok=True)
    for k, data in seeds.items():
        for i in range(14):
            b = bytearray(data)
            for _ in range(rng.randint(1, 6)):
                p = rng.randrange(128, len(b))
                b[p : p + 2] = bytes([rng.randrange(256), rng.randrange(256)])
            if rng.random() < 0.2:
                b = b[: int(len(b) * rng.uniform(0.3, 1))]
            (files / f"mut_{k}_{i}.dcm").write_bytes(bytes(b))
    for k in ("rle", "jll", "j2k", "jls", "native"):
        for i in range(6):
            f = files / f"lie_{k}_{i}.dcm"
            f.write_bytes(seeds[k])
            ds = pydicom.dcmread(f)
            ds.Rows = rng.choice([1, 16, 33, 4000, 30000, 65535])
            ds.Columns = rng.choice([1, 32, 4000, 65535])
            ds.BitsAllocated = rng.choice([8, 16, 32])
            ds.SamplesPerPixel = rng.choice([1, 3])
            ds.NumberOfFrames = rng.choice([1, 2, 100000])
            ds.save_as(f)
    ds = make_dataset(make_pixels(rows=16, cols=16))
    ds.add_new(0x00091010, "OB", bytes(300 << 20))
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    ds.save_as(files / "bomb_deflate.dcm", enforce_file_format=True)
    b = bytearray(seeds["j2k"])
    at = b.find(b"\xff\x4f\xff\x51")
    struct.pack_into(">IIIIII", b, at + 8, 30000, 30000, 0, 0, 30000, 30000)
    (files / "bomb_j2k.dcm").write_bytes(bytes(b))
    b = bytearray(seeds["jls"])
    at = b.find(b"\xff\xf7")
    struct.pack_into(">HH", b, at + 5, 40000, 40000)
    (files / "bomb_jls.dcm").write_bytes(bytes(b))
    odd = {
        "slope": {"RescaleSlope": b"1e300", "RescaleIntercept": b"0"},
        "ermf": {
            "ImagerPixelSpacing": [0.3, 0.3],
            "EstimatedRadiographicMagnificationFactor": b"1e-320",
        },
        "newline\nname": {},
    }
    for name, kw in odd.items():
        make_dicom(files, f"num_{name}.dcm", **kw)
    return len(list(files.iterdir()))


def make_case_inputs(out: Path, rng: random.Random) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    sample = out / "sample"
    if not sample.exists():
        subprocess.run(
            [sys.executable, "-m", "flannot", "sample", str(sample)], check=True, env=env
        )
    src = sample / "cases" / "clo-left"
    base = json.loads((src / "annotations.json").read_text())
    pool = [10**5000, 2**63, -(2**63), 1e300, -1e300, float("nan"), float("inf"), "\ud800"]
    pool += ["a\x00b", "/etc/passwd", "../../x.dcm", "L" * 100, [], {}, None, True, 0, -1]
    pool += [1e-320, [[1e308, 1e308]], "x" * 70]

    def paths(o: object, p: tuple = ()) -> list[tuple]:
        found = [p]
        if isinstance(o, dict):
            for k, v in o.items():
                found += paths(v, (*p, k))
        elif isinstance(o, list):
            for i, v in enumerate(o[:6]):
                found += paths(v, (*p, i))
        return found

    where = paths(base)[1:]
    cases: list[tuple[str, dict]] = []

    def variant(name: str, edit) -> None:
        d = copy.deepcopy(base)
        edit(d)
        cases.append((name, d))

    variant(
        "poly2M",
        lambda d: d["annotations"][1]["geometry"].__setitem__(
            "points", [[float(i % 500), float(i % 300)] for i in range(2_000_000)]
        ),
    )
    variant(
        "ann100k",
        lambda d: d.__setitem__(
            "annotations", [dict(base["annotations"][0], id=f"r{i}") for i in range(100_000)]
        ),
    )
    variant(
        "coord2e63",
        lambda d: d["annotations"][1]["geometry"]["points"].__setitem__(0, [2.0**63, 5.0]),
    )
    variant("spacing2e63", lambda d: d["image"].__setitem__("spacing_mm", [2.0**63, 2.0**63]))
    variant(
        "abspath",
        lambda d: d["image"].__setitem__("path", str(sample / "cases" / "ap" / "image.dcm")),
    )
    variant("surrogate", lambda d: d["annotations"][1].__setitem__("note", "\ud800"))
    variant(
        "maskcount",
        lambda d: d["annotations"][1].__setitem__(
            "geometry", {"kind": "mask", "mask": {"size": [512, 512], "counts": [10**4000]}}
        ),
    )
    variant(
        "nan",
        lambda d: d["annotations"][1]["geometry"]["points"].__setitem__(0, [float("nan"), 3.0]),
    )
    variant("longlevel", lambda d: d["annotations"][1].__setitem__("level", "L4-" * 30))
    variant("deep", lambda d: d.__setitem__("x_deep", "__DEEP__"))
    variant(
        "e300", lambda d: d["annotations"][1]["geometry"]["points"].__setitem__(0, [1e300, -1e300])
    )
    for i in range(40):
        d = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(where)
            node = d
            try:
                for key in path[:-1]:
                    node = node[key]
                node[path[-1]] = copy.deepcopy(rng.choice(pool))
            except (KeyError, IndexError, TypeError):
                pass
        cases.append((f"mut{i}", d))
    manifest = {
        "flannot_set_version": 1,
        "name": "c",
        "protocol": "mild",
        "cases": [{"case_id": "clo-left", "path": "cases/case-001"}],
    }
    sys.set_int_max_str_digits(0)
    root = out / "cases"
    shutil.rmtree(root, ignore_errors=True)
    for name, d in cases:
        case = root / name / "set" / "cases" / "case-001"
        case.mkdir(parents=True)
        (root / name / "ref").mkdir()
        (root / name / "set" / "flannot-set.json").write_text(json.dumps(manifest))
        shutil.copy(src / "image.dcm", case / "image.dcm")
        text = json.dumps(d, allow_nan=True).replace('"__DEEP__"', "[" * 100000 + "]" * 100000)
        (case / "annotations.json").write_text(text)
        shutil.copy(src / "image.dcm", root / name / "ref" / "image.dcm")
        shutil.copy(src / "annotations.json", root / name / "ref" / "annotations.json")
    return len(cases)


def _classify(rc: int, err: str) -> str:
    lines = [ln for ln in err.splitlines() if not ln.startswith(("MAXRSS", "Command "))]
    if rc >= 128 or rc < 0 or "terminated by signal" in err:
        return "signal"
    if len(lines) > 1:
        return "multiline"
    if "internal error" in err:
        return "internal"
    if rc == 2 and len(lines) == 1 and lines[0].startswith("flannot: error:"):
        return "bad_input"
    if rc in (0, 1):
        return "ok"
    return f"rc{rc}"


def run(out: Path, tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{tree.resolve()}{os.pathsep}{ROOT}"}
    py = sys.executable
    jobs = [(f.name, [py, "-c", _DECODE, str(f)]) for f in sorted((out / "reader").iterdir())]
    for d in sorted((out / "cases").iterdir()):
        case = d / "set" / "cases" / "case-001"
        jobs += [
            (f"{d.name}:validate", [py, "-m", "flannot", "validate", str(d / "set")]),
            (f"{d.name}:measure", [py, "-m", "flannot", "measure", str(case), "--json"]),
            (f"{d.name}:score", [py, "-m", "flannot", "score", str(d / "ref"), str(case)]),
        ]
    stats: collections.Counter[str] = collections.Counter()
    for _name, cmd in jobs:
        start = time.time()
        wrapped = ["bash", "-c", 'ulimit -v 6000000; exec /usr/bin/time -f "MAXRSS %M" "$@"', "x"]
        try:
            r = subprocess.run(
                [*wrapped, *cmd], capture_output=True, text=True, env=env, timeout=60, cwd=out
            )
        except subprocess.TimeoutExpired:
            stats["hang"] += 1
            continue
        kind = "reader" if ":" not in _name else "cases"
        stats[f"{kind}:{_classify(r.returncode, r.stderr)}"] += 1
        rss = [ln for ln in r.stderr.splitlines() if ln.startswith("MAXRSS")]
        if rss and int(rss[-1].split()[1]) > 1_000_000:
            stats[f"{kind}:mem>1GB"] += 1
        if time.time() - start > 2:
            stats[f"{kind}:slow>2s"] += 1
    return dict(sorted(stats.items()))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] not in ("make", "run"):
        print(__doc__)
        return 2
    out = Path(argv[2])
    if argv[1] == "make":
        rng = random.Random(16)
        print(f"{make_reader_inputs(out, rng)} files, {make_case_inputs(out, rng)} cases in {out}")
        return 0
    print(json.dumps(run(out, Path(argv[3])), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
