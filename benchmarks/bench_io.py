"""SPEC §13: open a 300-frame 1024x1024 uint16 cine and show frame 150.

Targets: ``read_dicom`` + ``frames[150]`` within 2x the time numpy needs to read
that frame's bytes (the issue's acceptance limit: 5x); at least 20x faster than
pydicom's full decode; memory held after showing frame 150 below 3 frames + 50 MB.

The numpy baseline is ``np.fromfile(path, uint16, 1024*1024, offset=off)`` with
``off`` known in advance (no header work at all). Runs alternate flannot, numpy,
flannot, numpy … so that machine noise and cache pollution hit both alike; the
figures are medians. Two settings:

- "from disk": the file is dropped from the OS page cache before every run
  (``posix_fadvise(DONTNEED)``, no root needed) — what a user opening a cine meets;
- "in the page cache": the file stays cached — here a 2 MB read takes ~0.1 ms,
  so any fixed cost of opening shows (flannot walks the header with ``struct``
  and parses it with pydicom only when header facts are asked for).

Run with pytest-benchmark (``make bench``, i.e.
``python -m pytest benchmarks/bench_io.py --benchmark-enable``) or as a plain
script printing the figures: ``python benchmarks/bench_io.py``.
"""

from __future__ import annotations

import gc
import os
import statistics
import struct
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, XRayAngiographicImageStorage, generate_uid

import flannot

N_FRAMES, ROWS, COLS = 300, 1024, 1024
FRAME = 150
FRAME_BYTES = ROWS * COLS * 2
MEMORY_LIMIT = 3 * FRAME_BYTES + 50 * 2**20
TARGET_RATIO, MAX_RATIO = 2.0, 5.0  # SPEC §13 target; the acceptance limit


def write_cine(path: Path, n_frames: int = N_FRAMES, rows: int = ROWS, cols: int = COLS) -> Path:
    """Write an uncompressed uint16 cine: the header with pydicom, then pixels in chunks."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = XRayAngiographicImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = XRayAngiographicImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "XA"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, n_frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.ImagerPixelSpacing = [0.3, 0.3]
    ds.FrameTime = 33.3
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.save_as(path, enforce_file_format=True)
    # a 12-bit ramp, shifted per frame
    base = (np.arange(rows * cols, dtype=np.uint32) % 4096).astype(np.uint16).reshape(rows, cols)
    with open(path, "ab") as fh:
        # (7FE0,0010) OW, explicit VR little endian: tag, VR, 2 reserved bytes, 4-byte length
        fh.write(struct.pack("<HH2sHL", 0x7FE0, 0x0010, b"OW", 0, n_frames * rows * cols * 2))
        for i in range(n_frames):  # one frame at a time: never the whole cine in memory
            fh.write(((base + i) % 4096).astype(np.uint16).tobytes())
    return path


def frame_offset(path: Path, index: int = FRAME) -> int:
    """Independent of flannot: pixel data are the file's last bytes."""
    return path.stat().st_size - (N_FRAMES - index) * FRAME_BYTES


def open_and_show(path: Path) -> np.ndarray:
    """What the viewer does: open the cine, fetch frame 150."""
    return flannot.read_dicom(path).frames[FRAME]


def numpy_reader(path: Path) -> Callable[[], np.ndarray]:
    """numpy reading frame 150's bytes, the offset worked out beforehand."""
    offset = frame_offset(path)

    def read() -> np.ndarray:
        return np.fromfile(path, np.uint16, ROWS * COLS, offset=offset).reshape(ROWS, COLS)

    return read


def pydicom_full(path: Path) -> np.ndarray:
    return pydicom.dcmread(path).pixel_array[FRAME]


def evict(path: Path) -> None:
    """Drop the file's pages from the OS page cache (no root needed; Linux/POSIX only)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # dirty pages cannot be dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def alternate(
    funcs: list[Callable[[], object]], repeat: int, before: Callable[[], object] | None = None
) -> list[float]:
    """Median time of each function, run in turn ``repeat`` times (``before`` untimed)."""
    times: list[list[float]] = [[] for _ in funcs]
    for _ in range(repeat):
        for func, out in zip(funcs, times, strict=True):
            if before is not None:
                before()
            t0 = time.perf_counter()
            func()
            out.append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def memory_held(path: Path) -> int:
    """Bytes still allocated (tracemalloc, numpy included) while the frame is shown."""
    gc.collect()
    tracemalloc.start()
    try:
        image = flannot.read_dicom(path)
        shown = image.frames[FRAME]
        gc.collect()
        held, _peak = tracemalloc.get_traced_memory()
        assert shown.shape == (ROWS, COLS)
    finally:
        tracemalloc.stop()
    return held


def measure(path: Path, hot_repeat: int = 400, cold_repeat: int = 21) -> dict[str, float]:
    """All the figures (seconds, ratios, bytes)."""
    numpy_frame = numpy_reader(path)
    np.testing.assert_array_equal(open_and_show(path), numpy_frame())  # also warms imports
    funcs = [lambda: open_and_show(path), numpy_frame]
    cold = (lambda: evict(path)) if hasattr(os, "posix_fadvise") else None
    t_flannot_cold, t_numpy_cold = alternate(funcs, cold_repeat, before=cold)
    t_flannot, t_numpy = alternate(funcs, hot_repeat)
    t_pydicom = alternate([lambda: pydicom_full(path)], 1)[0]
    held = memory_held(path)
    return {
        "flannot_cold_s": t_flannot_cold,
        "numpy_cold_s": t_numpy_cold,
        "flannot_vs_numpy_cold": t_flannot_cold / t_numpy_cold,
        "flannot_s": t_flannot,
        "numpy_s": t_numpy,
        "pydicom_full_s": t_pydicom,
        "flannot_vs_numpy": t_flannot / t_numpy,
        "pydicom_vs_flannot": t_pydicom / t_flannot_cold,
        "memory_held_mb": held / 2**20,
        "memory_limit_mb": MEMORY_LIMIT / 2**20,
    }


# --- pytest-benchmark -------------------------------------------------------------------
try:
    import pytest
except ImportError:  # pragma: no cover - plain-script use without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="module")
    def cine(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return write_cine(tmp_path_factory.mktemp("bench_io") / "cine.dcm")

    def test_open_and_show_frame_150(benchmark, cine: Path) -> None:
        frame = benchmark(open_and_show, cine)
        assert frame.shape == (ROWS, COLS)

    def test_numpy_reads_frame_150(benchmark, cine: Path) -> None:
        benchmark(numpy_reader(cine))

    def test_pydicom_full_decode(benchmark, cine: Path) -> None:
        benchmark.pedantic(pydicom_full, args=(cine,), rounds=1, iterations=1)

    def test_targets(cine: Path) -> None:
        figures = measure(cine, hot_repeat=200, cold_repeat=9)
        print(format_figures(figures))
        # SPEC target 2x (printed above); fail only beyond the acceptance of 5x,
        # since a busy shared machine adds noise to sub-millisecond timings
        assert figures["flannot_vs_numpy_cold"] <= MAX_RATIO, figures
        assert figures["flannot_vs_numpy"] <= MAX_RATIO, figures
        assert figures["pydicom_vs_flannot"] >= 20.0, figures
        assert figures["memory_held_mb"] < figures["memory_limit_mb"], figures


def format_figures(f: dict[str, float]) -> str:
    return "\n".join(
        [
            "from disk (page cache evicted before each run, median):",
            f"  read_dicom + frames[150]: {f['flannot_cold_s'] * 1e3:8.2f} ms",
            f"  numpy frame bytes:        {f['numpy_cold_s'] * 1e3:8.2f} ms",
            f"  flannot / numpy:          {f['flannot_vs_numpy_cold']:8.2f} x  "
            f"(target <= {TARGET_RATIO:g}, accepted <= {MAX_RATIO:g})",
            "file in the page cache (median):",
            f"  read_dicom + frames[150]: {f['flannot_s'] * 1e3:8.2f} ms",
            f"  numpy frame bytes:        {f['numpy_s'] * 1e3:8.2f} ms",
            f"  flannot / numpy:          {f['flannot_vs_numpy']:8.2f} x  "
            f"(target <= {TARGET_RATIO:g}, accepted <= {MAX_RATIO:g})",
            f"pydicom full pixel_array:   {f['pydicom_full_s'] * 1e3:8.2f} ms",
            f"pydicom / flannot (disk):   {f['pydicom_vs_flannot']:8.1f} x  (target >= 20)",
            f"memory held after frame 150:{f['memory_held_mb']:8.1f} MB "
            f"(limit {f['memory_limit_mb']:.0f} MB = 3 frames + 50 MB)",
        ]
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = write_cine(Path(tmp) / "cine.dcm")
        size_mb = path.stat().st_size / 2**20
        print(f"wrote {path.name}: {size_mb:.0f} MB in {time.perf_counter() - t0:.1f} s")
        figures = measure(path)
        print(format_figures(figures))
    ok = (
        figures["flannot_vs_numpy_cold"] <= MAX_RATIO
        and figures["flannot_vs_numpy"] <= MAX_RATIO
        and figures["pydicom_vs_flannot"] >= 20.0
        and figures["memory_held_mb"] < figures["memory_limit_mb"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
