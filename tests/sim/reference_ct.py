"""The TotalSegmentator 2.18.0 example CT and spine labelmap, fetched once into a cache.

``pip download --no-deps --no-binary :all: totalsegmentator==2.18.0`` gets the
source distribution from PyPI; its SHA-256 is checked and the two files are
extracted into ``$FLANNOT_TEST_DATA`` (default ``~/.cache/flannot-test-data``).
Only tests use this, never the product (SPEC §15). A test that needs it fails
when it cannot be fetched.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST = "totalsegmentator-2.18.0.tar.gz"
SDIST_SHA256 = "5d4223ef93973bc36d710869d11e7742ead2c154c72f7f9edcaaadd5b6c4bd03"
MEMBERS = {
    "example_ct.nii.gz": (
        "totalsegmentator-2.18.0/tests/reference_files/example_ct.nii.gz",
        "dbd3ae6d614d1d7ef3a46925c30c70038ed52da6b37fdd6afdc7b9b71387e3e1",
    ),
    "totalseg.nii.gz": (
        "totalsegmentator-2.18.0/tests/reference_files/spine_report/example_ct_report/"
        "totalseg.nii.gz",
        "1dee90b23f201480e42211527b1e3acefd99c22e21291ef319a95d0b460d7376",
    ),
}


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir() -> Path:
    """``$FLANNOT_TEST_DATA`` when set (and not empty), else ``~/.cache/flannot-test-data``."""
    env = os.environ.get("FLANNOT_TEST_DATA", "").strip()
    return Path(env) if env else Path.home() / ".cache" / "flannot-test-data"


def fetch() -> tuple[Path, Path]:
    """Paths of ``example_ct.nii.gz`` and its ``totalseg.nii.gz`` (downloading if needed)."""
    folder = cache_dir() / "totalsegmentator-2.18.0"
    paths = {name: folder / name for name in MEMBERS}
    if all(p.is_file() and _sha(p) == MEMBERS[n][1] for n, p in paths.items()):
        return paths["example_ct.nii.gz"], paths["totalseg.nii.gz"]
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-binary",
            ":all:",
            "totalsegmentator==2.18.0",
            "-d",
            tmp,
        ]
        sdist = Path(tmp) / SDIST
        run = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
        if not sdist.is_file():  # metadata preparation may fail offline; the file is what counts
            raise RuntimeError(f"could not download {SDIST}: {run.stderr.strip()[-500:]}")
        if _sha(sdist) != SDIST_SHA256:
            raise RuntimeError(f"{SDIST}: checksum mismatch")
        with tarfile.open(sdist) as tar:
            for name, (member, sha) in MEMBERS.items():
                src = tar.extractfile(member)
                if src is None:
                    raise RuntimeError(f"{SDIST} has no {member}")
                tmp_file = Path(tmp) / name
                tmp_file.write_bytes(src.read())
                if _sha(tmp_file) != sha:
                    raise RuntimeError(f"{member}: checksum mismatch")
                os.replace(tmp_file, paths[name])
    return paths["example_ct.nii.gz"], paths["totalseg.nii.gz"]
