"""Compare the de-identified output of two flannot source trees, byte for byte.

Usage: ``python tools/deid_compare.py OUT_A OUT_B`` compares two folders written by
``python tools/deid_compare.py --write OUT`` (run once with each tree's ``src`` first
on ``PYTHONPATH``). The corpus: the sample set's images, pydicom's own test files (every
transfer syntax, character sets, implicit VR and big endian, odd padding, private
sequences) and the identified XA of ``tests/deid`` (plain and compressed), each
de-identified with no option, with every option but ``uids``/``full-dates``, and with
``full-dates`` + ``uids``. The reports (JSON, paths made relative) are compared too.
"""

from __future__ import annotations

import filecmp
import json
import shutil
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPTION_SETS = {
    "basic": [],
    "retain": [
        "patient-characteristics",
        "modified-dates",
        "device-identity",
        "institution-identity",
    ],
    "full-uids": ["full-dates", "uids"],
}


def corpus(folder: Path) -> Path:
    """Gather the input files (copies) under ``folder``."""
    import pydicom.data

    folder.mkdir(parents=True, exist_ok=True)
    for f in sorted((ROOT / "sample_dicoms").rglob("*.dcm")):
        rel = f.relative_to(ROOT / "sample_dicoms")
        dst = folder / "sample" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dst)
    test_files = Path(pydicom.data.__file__).parent / "test_files"
    for f in sorted(test_files.glob("*.dcm")):
        dst = folder / "pydicom" / f.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, dst)
    sys.path.insert(0, str(ROOT / "tests" / "deid"))
    from identified import make_xa, to_jpeg_baseline, write
    from pydicom.uid import JPEG2000Lossless, JPEGLSLossless, RLELossless

    write(make_xa(0, referenced=1), folder / "xa" / "a.dcm")
    write(make_xa(1), folder / "xa" / "sub" / "b.dcm")
    for uid in (JPEGLSLossless, RLELossless, JPEG2000Lossless):
        ds = make_xa(2, referenced=1)
        ds.compress(uid, generate_instance_uid=False)
        write(ds, folder / "xa" / f"c-{uid.name.replace(' ', '_')}.dcm")
    write(to_jpeg_baseline(make_xa(3)), folder / "xa" / "c-jpeg.dcm")
    return folder


def write_outputs(out: Path) -> None:
    from flannot.deid import deidentify

    inp = corpus(out / "in")
    for name, options in OPTION_SETS.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = deidentify(inp, out / name, options=options, secret=b"compare")
        doc = report.to_dict()
        for f in doc["files"]:
            f["input"] = str(Path(f["input"]).relative_to(inp))
            f["output"] = f["output"] and str(Path(f["output"]).relative_to(out / name))
        (out / f"{name}.json").write_text(json.dumps(doc, indent=1, sort_keys=True))


def compare(a: Path, b: Path) -> int:
    bad = 0
    for name in OPTION_SETS:
        ja, jb = (json.loads((x / f"{name}.json").read_text()) for x in (a, b))
        if ja != jb:
            bad += 1
            for fa, fb in zip(ja["files"], jb["files"], strict=False):
                if fa != fb:
                    print(f"report differs: {name}/{fa['input']}")
        files_a = sorted(p.relative_to(a / name) for p in (a / name).rglob("*") if p.is_file())
        files_b = sorted(p.relative_to(b / name) for p in (b / name).rglob("*") if p.is_file())
        if files_a != files_b:
            bad += 1
            print(f"{name}: file lists differ: {set(files_a) ^ set(files_b)}")
        same = 0
        for rel in set(files_a) & set(files_b):
            if filecmp.cmp(a / name / rel, b / name / rel, shallow=False):
                same += 1
            else:
                bad += 1
                print(f"bytes differ: {name}/{rel}")
        print(f"{name}: {same} of {len(files_a)} files byte-identical")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--write":
        write_outputs(Path(argv[1]))
        return 0
    return compare(Path(argv[0]), Path(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
