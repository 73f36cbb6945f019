"""Mutated DICOM files of every transfer syntax: decoded, or one FlannotError line, nothing else."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydicom import uid

import flannot
from tests.io.dicom_factory import make_dicom, make_pixels

SYNTAXES = {
    "native": uid.ExplicitVRLittleEndian,
    "implicit": uid.ImplicitVRLittleEndian,
    "big": uid.ExplicitVRBigEndian,
    "deflate": uid.DeflatedExplicitVRLittleEndian,
    "rle": uid.RLELossless,
    "jpeg-ls": uid.JPEGLSLossless,
    "j2k": uid.JPEG2000Lossless,
    "jpeg-lossless": uid.JPEGLossless,  # decoded by GDCM, which aborted on lying headers
}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    pixels = make_pixels(frames=2, rows=32, cols=32)
    return {
        name: make_dicom(folder, f"{name}.dcm", pixels=pixels, transfer_syntax=ts).read_bytes()
        for name, ts in SYNTAXES.items()
    }


# a mutation: overwrite bytes at positions (anywhere, header-heavy), or cut the file
mutations = st.lists(
    st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=4)), min_size=1, max_size=6
)


def _mutate(data: bytes, edits: list[tuple[float, bytes]], cut: float | None) -> bytes:
    out = bytearray(data)
    for where, value in edits:
        pos = 128 + int(where * (len(out) - 129))
        out[pos : pos + len(value)] = value
    if cut is not None:
        out = out[: int(len(out) * cut)]
    return bytes(out)


def _one_line_or_frames(path: Path) -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            img = flannot.read_dicom(path)
            np.asarray(img.frames)
            img.info()
        except flannot.FlannotError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path)), str(exc)
    assert [str(w.message) for w in seen] == []  # nothing printed on top of the one line


@pytest.mark.parametrize("name", list(SYNTAXES))
def test_mutated_files(seeds: dict[str, bytes], tmp_path_factory, name: str) -> None:
    folder = tmp_path_factory.mktemp(name)

    @given(edits=mutations, cut=st.one_of(st.none(), st.floats(0.3, 1.0)))
    def check(edits: list[tuple[float, bytes]], cut: float | None) -> None:
        path = folder / "m.dcm"
        path.write_bytes(_mutate(seeds[name], edits, cut))
        _one_line_or_frames(path)

    check()


@example(rows=32, cols=32, bits=32, spp=1, frames=2)  # GDCM aborted the process (SIGABRT)
@example(rows=65535, cols=65535, bits=16, spp=3, frames=1)
@given(
    rows=st.integers(0, 65535),
    cols=st.integers(0, 65535),
    bits=st.sampled_from([1, 8, 12, 16, 24, 32, 64]),
    spp=st.integers(0, 4),
    frames=st.integers(-1, 200000),
)
def test_lying_image_pixel_module(
    seeds: dict[str, bytes], tmp_path_factory, rows, cols, bits, spp, frames
) -> None:
    import pydicom

    folder = tmp_path_factory.mktemp("lies", numbered=True)
    for name in ("rle", "jpeg-lossless", "j2k"):
        src = folder / f"{name}.dcm"
        src.write_bytes(seeds[name])
        ds = pydicom.dcmread(src)
        ds.Rows, ds.Columns, ds.BitsAllocated, ds.SamplesPerPixel = rows, cols, bits, spp
        ds.NumberOfFrames = frames
        ds.save_as(src)
        _one_line_or_frames(src)
