"""SPEC §17: pull a 100-instance study from a local Orthanc into a teaching set.

A throw-away Orthanc (the test suite's, ``tests/pacs/pacs_support.py``) on the loopback
holds one study of 100 single-frame 512x512 16-bit XA images full of identifiers.
In the same run, three ways of getting it, each timed from a cold client:

* ``dicomweb-client retrieve_study`` — the plain client, one multipart answer, no
  de-identification (the floor);
* ``dicomweb-client retrieve_instance`` x 100 — the plain client with flannot's request
  pattern (one WADO-RS request per instance), no de-identification;
* ``flannot pacs pull`` (:func:`flannot.pacs.pull_study`) — QIDO listing, the same
  retrieves, staging on disk, PS3.15 de-identification and the add into the set.

Run as a script (``python benchmarks/bench_pacs.py``) for instances/s and MB/s, or with
pytest-benchmark (``python -m pytest benchmarks/bench_pacs.py --benchmark-enable``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "pacs"), str(ROOT / "tests" / "deid")]

N_INSTANCES = 100
SIZE = 512


def upload_study(server: Any) -> tuple[str, int]:
    """Store the benchmark study; returns its UID and its size in bytes (as DICOM files)."""
    from identified import make_xa
    from pacs_studies import Study, dicom_bytes
    from pydicom.uid import generate_uid

    study = Study(generate_uid(), [generate_uid()])
    rng = np.random.default_rng(0)
    for i in range(N_INSTANCES):
        ds = make_xa(i, n_frames=1)
        del ds.NumberOfFrames, ds.FrameIncrementPointer
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study.study_uid, study.series_uids[0]
        ds.InstanceNumber = i + 1
        ds.Rows = ds.Columns = SIZE
        ds.PixelData = rng.integers(0, 4096, (SIZE, SIZE), dtype=np.uint16).tobytes()
        study.datasets.append(ds)
    server.upload(study.datasets)
    return study.study_uid, sum(len(b) for b in dicom_bytes(study))


def plain_study(url: str, study_uid: str) -> int:
    """dicomweb-client, one Retrieve Study request; returns the instances received."""
    from flannot.pacs.client import PacsClient

    with PacsClient(url) as pacs:
        return len(pacs.dicomweb.retrieve_study(study_uid))


def plain_instances(url: str, study_uid: str) -> int:
    """dicomweb-client, a QIDO listing then one Retrieve Instance request per instance."""
    from flannot.pacs.client import PacsClient

    with PacsClient(url) as pacs:
        client = pacs.dicomweb
        n = 0
        for s in client.search_for_series(study_uid):
            series = s["0020000E"]["Value"][0]
            for i in client.search_for_instances(study_uid, series, limit=N_INSTANCES + 1):
                sop = i["00080018"]["Value"][0]
                client.retrieve_instance(
                    study_uid, series, sop, media_types=(("application/dicom", "*"),)
                )
                n += 1
        return n


def flannot_pull(url: str, study_uid: str, set_dir: Path) -> int:
    """``flannot pacs pull`` into a fresh set; returns the instances pulled."""
    from pacs_support import new_set

    from flannot.pacs.client import PacsClient
    from flannot.pacs.pull import pull_study

    new_set(set_dir)
    with PacsClient(url) as pacs:
        return pull_study(pacs, study_uid, set_dir).instances


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = fn()
    return time.perf_counter() - t0, n


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    from pacs_support import PASSWORD, USER, Orthanc

    server = Orthanc(tmp_path_factory.mktemp("orthanc"))
    server.start()
    try:
        mp = pytest.MonkeyPatch()
        mp.setenv("FLANNOT_PACS_USER", USER)
        mp.setenv("FLANNOT_PACS_PASSWORD", PASSWORD)
        mp.delenv("FLANNOT_PACS_TOKEN", raising=False)
        yield server, upload_study(server)[0]
        mp.undo()
    finally:
        server.stop()


def test_plain_retrieve_study(benchmark, served) -> None:
    server, uid = served
    assert benchmark.pedantic(plain_study, args=(server.url, uid), rounds=1) == N_INSTANCES


def test_flannot_pull(benchmark, served, tmp_path: Path) -> None:
    server, uid = served
    n = benchmark.pedantic(flannot_pull, args=(server.url, uid, tmp_path / "set"), rounds=1)
    assert n == N_INSTANCES


def main() -> int:
    import os

    from pacs_support import PASSWORD, USER, Orthanc

    os.environ.update(FLANNOT_PACS_USER=USER, FLANNOT_PACS_PASSWORD=PASSWORD)
    os.environ.pop("FLANNOT_PACS_TOKEN", None)
    with tempfile.TemporaryDirectory() as tmp:
        server = Orthanc(Path(tmp) / "orthanc")
        server.start()
        try:
            uid, size = upload_study(server)
            runs = {
                "dicomweb-client retrieve_study (1 request)": lambda: plain_study(server.url, uid),
                "dicomweb-client retrieve_instance x 100": lambda: plain_instances(server.url, uid),
                "flannot pacs pull (de-identified into a set)": lambda: flannot_pull(
                    server.url, uid, Path(tmp) / "set"
                ),
            }
            results = {name: timed(fn) for name, fn in runs.items()}
        finally:
            server.stop()
    mb = size / 1e6
    print(f"{N_INSTANCES} instances, {SIZE}x{SIZE} 16-bit XA, {mb:.1f} MB, local Orthanc")
    for name, (seconds, n) in results.items():
        assert n == N_INSTANCES, (name, n)
        print(f"  {name:<46} {seconds:6.2f} s  {n / seconds:7.1f} inst/s  {mb / seconds:6.1f} MB/s")
    floor = results["dicomweb-client retrieve_study (1 request)"][0]
    pull = results["flannot pacs pull (de-identified into a set)"][0]
    print(f"  flannot pull takes {pull / floor:.1f}x the plain retrieve of the study")
    return 0


if __name__ == "__main__":
    sys.exit(main())
