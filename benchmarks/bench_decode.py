"""Compressed cines: sequential reading per transfer syntax and a cold-cache RLE open.

1. **Sequential reading** of a 40-frame 512x512 12-bit cine in each transfer syntax
   (native, RLE, JPEG-LS, JPEG 2000, JPEG lossless SV1): ``read_dicom(path).frames.
   iter_frames()`` against the better of pydicom's ``iter_pixels`` and highdicom's
   ``imread(..., lazy_frame_retrieval=True).get_stored_frame``; target: flannot's
   frames per second >= 0.9x the better anchor's. Every frame is compared with
   pydicom's before timing.
2. **Cold-cache open of a 100-frame RLE cine** (1024x1024, dropped from the page
   cache before every run): ``read_dicom`` + frame 0 against numpy reading the first
   fragment (offset and length known beforehand) and decoding it with pylibjpeg-rle
   straight away; target <= 1.5x. The ratio to numpy reading only is reported too.

Runs alternate (min and median). ``make bench`` records them in
``benchmarks/results/``; as a script: ``python benchmarks/bench_decode.py [rounds]``.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from ratios import interleave, loadavg, ratio, record

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the test factory writes the cines (tests/io/dicom_factory.py)
    sys.path.insert(0, str(ROOT))

import flannot  # noqa: E402

SYNTAXES = {
    "native": ExplicitVRLittleEndian,
    "RLE": RLELossless,
    "JPEG-LS": JPEGLSLossless,
    "JPEG 2000": JPEG2000Lossless,
    "JPEG lossless SV1": JPEGLosslessSV1,
}
SEQ_FRAMES, SEQ_SIZE = 40, 512
COLD_FRAMES, COLD_SIZE = 100, 1024
ROUNDS = 5
COLD_ROUNDS = 15
TARGET_FPS = 0.9
TARGET_COLD = 1.5


def write(folder: Path, name: str, ts: str, frames: int, size: int) -> Path:
    from tests.io.dicom_factory import make_dicom, make_pixels

    path = folder / f"{name.replace(' ', '_')}.dcm"
    if not path.exists():
        pixels = make_pixels(frames, size, size, bits_stored=12)
        make_dicom(folder, path.name, pixels=pixels, transfer_syntax=ts, bits_stored=12)
    return path


def flannot_all(path: Path) -> int:
    n = 0
    for frame in flannot.read_dicom(path).frames.iter_frames():
        n += frame.shape[0] > 0
    return n


def pydicom_all(path: Path) -> int:
    from pydicom.pixels import iter_pixels

    return sum(frame.shape[0] > 0 for frame in iter_pixels(path))


def highdicom_all(path: Path) -> int:
    import highdicom as hd

    image = hd.imread(path, lazy_frame_retrieval=True)
    return sum(image.get_stored_frame(i).shape[0] > 0 for i in range(1, image.number_of_frames + 1))


def same_pixels(path: Path) -> bool:
    from pydicom.pixels import iter_pixels

    mine = flannot.read_dicom(path).frames
    return all(np.array_equal(mine[i], ref) for i, ref in enumerate(iter_pixels(path)))


def sequential(folder: Path, name: str, rounds: int = ROUNDS) -> dict[str, Any]:
    path = write(folder, name, SYNTAXES[name], SEQ_FRAMES, SEQ_SIZE)
    same = same_pixels(path)
    runs = {"flannot": flannot_all, "pydicom": pydicom_all, "highdicom": highdicom_all}
    for fn in runs.values():
        assert fn(path) == SEQ_FRAMES
    load0 = loadavg()
    times = interleave({k: (lambda f=f: f(path)) for k, f in runs.items()}, rounds)
    best = min(("pydicom", "highdicom"), key=lambda k: statistics.median(times[k]))
    r = ratio(times["flannot"], times[best])
    fps = {k: SEQ_FRAMES / statistics.median(t) for k, t in times.items()}
    speed = {"min": 1 / r["min"], "median": 1 / r["median"]}
    return {
        "what": f"sequential reading, {name}, {SEQ_FRAMES} frames {SEQ_SIZE}², vs best of "
        "pydicom `iter_pixels` / highdicom",
        "figure": f"{speed['median']:.2f}× ({speed['min']:.2f}× min): {fps['flannot']:.0f} fps "
        f"vs {best} {fps[best]:.0f} fps",
        "target": f"≥ {TARGET_FPS}×",
        "ok": bool(same and speed["median"] >= TARGET_FPS),
        "same_pixels": same,
        "speed": speed,
        "fps": fps,
        "anchor": best,
        "load": max(load0, loadavg()),
    }


def evict(path: Path) -> None:
    """Drop the file's pages from the OS page cache (Linux/POSIX)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def first_fragment(path: Path) -> tuple[int, int]:
    """Offset and length of frame 0's fragment (worked out before timing, without flannot)."""
    data = path.read_bytes()
    tag = b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff"  # Pixel Data, undefined length
    at = data.rindex(tag) + len(tag)
    assert data[at : at + 4] == b"\xfe\xff\x00\xe0"  # the Basic Offset Table item
    at += 8 + int.from_bytes(data[at + 4 : at + 8], "little")
    assert data[at : at + 4] == b"\xfe\xff\x00\xe0"  # frame 0's fragment
    return at + 8, int.from_bytes(data[at + 4 : at + 8], "little")


def cold_rle(folder: Path, rounds: int = COLD_ROUNDS) -> dict[str, Any]:
    from rle.rle import decode_frame

    path = write(folder, "RLE-cold", RLELossless, COLD_FRAMES, COLD_SIZE)
    offset, length = first_fragment(path)
    ref = pydicom.dcmread(path)
    rows, cols, bits = int(ref.Rows), int(ref.Columns), int(ref.BitsAllocated)

    def numpy_read() -> np.ndarray:
        return np.fromfile(path, np.uint8, length, offset=offset)

    def numpy_decode() -> np.ndarray:
        data = numpy_read().tobytes()
        return np.frombuffer(decode_frame(data, rows * cols, bits, "<"), "<u2").reshape(rows, cols)

    def open_first() -> np.ndarray:
        return flannot.read_dicom(path).frames[0]

    assert np.array_equal(open_first(), numpy_decode())
    load0 = loadavg()
    times = interleave(
        {"flannot": open_first, "numpy+rle": numpy_decode, "numpy": numpy_read},
        rounds,
        setup=lambda: evict(path),
    )
    r = ratio(times["flannot"], times["numpy+rle"])
    r_read = ratio(times["flannot"], times["numpy"])
    ms = {k: statistics.median(t) * 1000 for k, t in times.items()}
    return {
        "what": f"cold-cache open of a {COLD_FRAMES}-frame RLE cine ({COLD_SIZE}²) + frame 0, "
        "vs numpy reading the first fragment + pylibjpeg-rle",
        "figure": f"{r['median']:.2f}× ({r['min']:.2f}× min); {ms['flannot']:.1f} vs "
        f"{ms['numpy+rle']:.1f} ms ({r_read['median']:.1f}× numpy reading only, "
        f"{ms['numpy']:.1f} ms)",
        "target": f"≤ {TARGET_COLD}×",
        "ok": r["median"] <= TARGET_COLD,
        "ratio": r,
        "ratio_read_only": r_read,
        "ms": ms,
        "load": max(load0, loadavg()),
    }


def _key(name: str) -> str:
    return "decode-" + name.lower().replace(" ", "-")


try:
    import pytest
except ImportError:  # pragma: no cover
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture(scope="module")
    def cines(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return tmp_path_factory.mktemp("cines")

    @pytest.mark.parametrize("name", list(SYNTAXES))
    def test_sequential_reading(cines: Path, name: str) -> None:
        row = sequential(cines, name)
        record(_key(name), row)
        print(row["what"], row["figure"], f"load {row['load']:.2f}")
        assert row["same_pixels"]
        assert row["speed"]["median"] >= TARGET_FPS, row["figure"]

    def test_cold_rle_open(cines: Path) -> None:
        row = cold_rle(cines)
        record("decode-rle-cold", row)
        print(row["what"], row["figure"], f"load {row['load']:.2f}")
        assert row["ratio"]["median"] <= TARGET_COLD, row["figure"]


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else ROUNDS
    names = argv[1].split(",") if len(argv) > 1 else [*SYNTAXES, "cold"]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name == "cold":
                row = cold_rle(Path(tmp), max(rounds, 5))
                record("decode-rle-cold", row)
            else:
                row = sequential(Path(tmp), name, rounds)
                record(_key(name), row)
            print(
                f"{row['what']}: {row['figure']} (target {row['target']}; load {row['load']:.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
