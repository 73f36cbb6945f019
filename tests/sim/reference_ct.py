"""The TotalSegmentator 2.18.0 example CT and spine labelmap, fetched once into a cache.

``pip download --no-deps --no-binary :all: totalsegmentator==2.18.0`` gets the
source distribution from PyPI; its SHA-256 is checked and the two files are
extracted into ``$FLANNOT_TEST_DATA`` (default ``~/.cache/flannot-test-data``).
Only tests use this, never the product (SPEC §15). A test that needs it fails
when it cannot be fetched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from flannot.sim.sample_ct import CACHE_SUBDIR, SDIST, SDIST_SHA256, ct_cache_dir
from flannot.sim.sample_ct import CT_FILES as MEMBERS
from flannot.sim.sample_ct import sha256 as _sha


def cache_dir() -> Path:
    """``$FLANNOT_TEST_DATA`` when set (and not empty), else ``~/.cache/flannot-test-data``."""
    return ct_cache_dir().parent


def fetch() -> tuple[Path, Path]:
    """Paths of ``example_ct.nii.gz`` and its ``totalseg.nii.gz`` (downloading if needed)."""
    folder = cache_dir() / CACHE_SUBDIR
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
