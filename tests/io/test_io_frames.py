"""Lazy frames behave like a numpy array and decode only the frames touched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom import uid

import flannot
from flannot.io import frames as frames_mod
from flannot.io.decoders import DecoderChain
from tests.io.dicom_factory import make_dicom, make_pixels

KEYS = [
    3,
    -1,
    np.int64(2),
    slice(1, 4),
    slice(None, None, 2),
    (2, slice(10, 20), 5),
    (slice(0, 2), 7),
    [0, 2],
    np.array([True, False, True, False, True]),
    Ellipsis,
    (Ellipsis, 0),
    (0, Ellipsis),
    (slice(None), slice(None), 3),
    (1, None),
]


@pytest.fixture(scope="module")
def cine(tmp_path_factory: pytest.TempPathFactory) -> tuple[flannot.FluoroImage, np.ndarray]:
    pixels = make_pixels(frames=5, rows=32, cols=24)
    path = make_dicom(tmp_path_factory.mktemp("cine"), pixels=pixels)
    return flannot.read_dicom(path), pixels


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_indexing_matches_numpy(cine: tuple, key: object) -> None:
    img, pixels = cine
    np.testing.assert_array_equal(img.frames[key], pixels[key])


def test_array_protocol(cine: tuple) -> None:
    img, pixels = cine
    f = img.frames
    assert f.shape == pixels.shape and f.dtype == pixels.dtype and f.ndim == 3
    assert len(f) == 5 and f.size == pixels.size and f.nbytes == pixels.nbytes
    np.testing.assert_array_equal(np.asarray(f), pixels)
    np.testing.assert_array_equal(np.asarray(f, dtype=np.float32), pixels.astype(np.float32))
    assert [int(fr[0, 0]) for fr in f] == [int(v) for v in pixels[:, 0, 0]]
    with pytest.raises(IndexError):
        f[5]
    with pytest.raises(IndexError):
        f[-6]


def test_returned_frames_cannot_corrupt_the_cache(cine: tuple) -> None:
    img, pixels = cine
    a = img.frames[1]
    with pytest.raises(ValueError):
        a[:] = 0
    b = img.frames[0:2]  # multi-frame selections are fresh, writable arrays
    b[:] = 0
    np.testing.assert_array_equal(img.frames[1], pixels[1])


def test_dask_wraps_frames(cine: tuple) -> None:
    import dask.array as da

    img, pixels = cine
    arr = da.from_array(img.frames, chunks=(1, *img.frames.shape[1:]))
    np.testing.assert_array_equal(arr[3].compute(), pixels[3])
    assert float(arr.mean().compute()) == pytest.approx(float(pixels.mean()))


def test_cache_holds_at_most_two_frames(cine: tuple) -> None:
    img, _ = cine
    for i in range(5):
        img.frames[i]
    assert len(img.frames._cache) == frames_mod.CACHE_FRAMES == 2


def test_uncompressed_reads_only_the_frame_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pixels = make_pixels(frames=50, rows=32, cols=32)
    path = make_dicom(tmp_path, pixels=pixels)
    read_counts: list[int] = []  # bytes read per pixel read
    real_read_into = frames_mod._read_into

    def counting_read_into(*args: object, **kwargs: object) -> int:
        got = real_read_into(*args, **kwargs)  # type: ignore[arg-type]
        read_counts.append(got)
        return got

    monkeypatch.setattr(frames_mod, "_read_into", counting_read_into)
    img = flannot.read_dicom(path)
    assert read_counts == []  # opening reads no pixel values
    np.testing.assert_array_equal(img.frames[25], pixels[25])
    assert read_counts == [32 * 32 * 2]  # exactly one frame's bytes
    assert img.frames.decode_count == 1


def test_encapsulated_decodes_only_one_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pixels = make_pixels(frames=50, rows=32, cols=32)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=uid.RLELossless)
    decoded: list[int] = []
    fragment_bytes: list[int] = []
    real_decode = DecoderChain.decode
    real_frame_bytes = frames_mod.EncapsulatedSource.frame_bytes

    def counting_decode(self: DecoderChain, data: bytes) -> np.ndarray:
        out = real_decode(self, data)
        decoded.append(1)
        return out

    def counting_frame_bytes(self: frames_mod.EncapsulatedSource, index: int) -> bytes:
        data = real_frame_bytes(self, index)
        fragment_bytes.append(len(data))
        return data

    monkeypatch.setattr(DecoderChain, "decode", counting_decode)
    monkeypatch.setattr(frames_mod.EncapsulatedSource, "frame_bytes", counting_frame_bytes)
    img = flannot.read_dicom(path)
    assert decoded == [] and fragment_bytes == []
    np.testing.assert_array_equal(img.frames[25], pixels[25])
    assert decoded == [1]  # one call, one frame
    assert len(fragment_bytes) == 1 and fragment_bytes[0] < path.stat().st_size / 40
    img.frames[25]  # cached: no second decode
    assert decoded == [1]


def test_iter_frames_reads_ahead_once_per_frame(tmp_path: Path) -> None:
    pixels = make_pixels(frames=30, rows=16, cols=16)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=uid.RLELossless)
    frames = flannot.read_dicom(path).raw_frames
    seen = []
    for i, frame in enumerate(frames.iter_frames(read_ahead=4)):
        np.testing.assert_array_equal(frame, pixels[i])
        assert not frame.flags.writeable
        assert len(frames._ahead) <= 4  # bounded read-ahead
        seen.append(i)
    assert seen == list(range(30))
    assert frames.decode_count == 30  # each frame decoded once, ahead or not
    frames.close()


def test_prefetch_then_frame_does_not_decode_again(tmp_path: Path) -> None:
    pixels = make_pixels(frames=12, rows=16, cols=16)
    path = make_dicom(tmp_path, pixels=pixels, transfer_syntax=uid.RLELossless)
    frames = flannot.read_dicom(path).raw_frames
    frames.prefetch([3, 4, 5])
    for future in list(frames._ahead.values()):
        future.result()
    assert frames.decode_count == 3
    np.testing.assert_array_equal(frames[4], pixels[4])
    assert frames.decode_count == 3
    frames.prefetch(range(12))  # more than the limit: only the first read_ahead_limit
    assert len(frames._ahead) <= frames.read_ahead_limit
    np.testing.assert_array_equal(np.stack(list(frames.iter_frames(2, 12, 3))), pixels[2:12:3])
    frames.close()


def test_read_ahead_errors_surface_when_the_frame_is_used(tmp_path: Path) -> None:
    path = make_dicom(tmp_path, pixels=make_pixels(frames=4), transfer_syntax=uid.RLELossless)
    frames = flannot.read_dicom(path).raw_frames
    data = bytearray(path.read_bytes())
    data[-300:-8] = b"\x00" * 292  # the last frame's RLE data
    path.write_bytes(bytes(data))
    frames.prefetch([3])
    np.testing.assert_array_equal(frames[0], make_pixels(frames=4)[0])
    with pytest.raises(flannot.FlannotError, match="frame 3"):
        frames[3]


def test_read_ahead_is_capped_for_big_frames() -> None:
    from flannot.io.frames import READ_AHEAD_BYTES, LazyFrames, NativeSource

    big = NativeSource(Path("x"), 0, 50, (4096, 4096), np.dtype("<u2"), 16, False)
    frames = LazyFrames([big])
    assert frames.read_ahead_limit == READ_AHEAD_BYTES // (4096 * 4096 * 2)
    small = NativeSource(Path("x"), 0, 50, (16, 16), np.dtype("<u2"), 16, False)
    assert LazyFrames([small]).read_ahead_limit == frames_mod.READ_AHEAD_FRAMES


def test_iter_frames_reads_without_a_thread_unless_asked(tmp_path: Path) -> None:
    # the decoders hold the GIL: a read-ahead thread only costs time for a plain reader
    # (RLE 512²: 1205 vs 1282 fps), so iter_frames decodes ahead only when asked to
    pixels = make_pixels(frames=6, rows=16, cols=16)
    native = flannot.read_dicom(make_dicom(tmp_path, "n.dcm", pixels=pixels)).raw_frames
    np.testing.assert_array_equal(np.stack(list(native.iter_frames())), pixels)
    assert native._pool is None and native.decode_count == 6
    for ts in (uid.RLELossless, uid.JPEGLSLossless):
        path = make_dicom(tmp_path, f"{ts}.dcm", pixels=pixels, transfer_syntax=ts)
        plain = flannot.read_dicom(path).raw_frames
        np.testing.assert_array_equal(np.stack(list(plain.iter_frames())), pixels)
        assert plain._pool is None and plain.decode_count == 6
        ahead = flannot.read_dicom(path).raw_frames
        np.testing.assert_array_equal(np.stack(list(ahead.iter_frames(read_ahead=2))), pixels)
        assert ahead._pool is not None and ahead.decode_count == 6
        ahead.close()
