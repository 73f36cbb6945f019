"""COCO RLE for mask geometry: pycocotools-compatible, both counts forms, safe on bad input."""

from __future__ import annotations

import numpy as np
import pytest

from flannot.model import rle


def _square(a: int, b: int, n: int = 25) -> np.ndarray:
    m = np.zeros((n, n), dtype=bool)
    m[a:b, a:b] = True
    return m


# strings produced by pycocotools.mask.encode for these masks (from the pytorchcocotools
# test-suite, which checks itself against pycocotools)
@pytest.mark.parametrize(
    ("a", "b", "counts"),
    [(0, 5, "05d00000000d?"), (5, 10, "R45d00000000b;"), (20, 25, "X`05d00000000")],
)
def test_encode_matches_pycocotools(a: int, b: int, counts: str) -> None:
    assert rle.encode(_square(a, b)) == {"size": [25, 25], "counts": counts}
    assert np.array_equal(rle.decode({"size": [25, 25], "counts": counts}), _square(a, b))


def test_column_major_list_counts() -> None:
    # 2x3 mask, read column by column: [0,0 | 1,1 | 1,0] → runs 2 zeros, 3 ones, 1 zero
    m = rle.decode({"size": [2, 3], "counts": [2, 3, 1]})
    assert m.tolist() == [[False, True, True], [False, True, False]]


def test_list_and_string_counts_decode_identically() -> None:
    rng = np.random.default_rng(1)
    for shape in [(1, 1), (7, 3), (40, 33), (64, 64)]:
        m = rng.random(shape) < 0.3
        enc = rle.encode(m)
        runs = rle.counts_from_string(enc["counts"])
        assert rle.counts_to_string(runs) == enc["counts"]
        assert sum(runs) == m.size
        assert np.array_equal(rle.decode({"size": list(shape), "counts": runs}), m)
        assert np.array_equal(rle.decode(enc), m)
        assert rle.area(enc) == int(m.sum())


def test_large_counts_and_edge_masks_round_trip() -> None:
    # long runs exercise multi-chunk counts and negative differences
    for m in [
        np.zeros((512, 512), bool),
        np.ones((512, 512), bool),
        np.pad(np.ones((300, 10), bool), ((100, 112), (0, 502))),
    ]:
        assert np.array_equal(rle.decode(rle.encode(m)), m)
    assert rle.decode(rle.encode(np.zeros((0, 5), bool))).shape == (0, 5)


@pytest.mark.parametrize(
    "bad",
    [
        {"size": [2, 2], "counts": [1, 2]},  # covers 3 of 4 pixels
        {"size": [2, 2], "counts": [5]},  # too many
        {"size": [2, 2], "counts": [-1, 5]},
        {"size": [2, 2], "counts": "\x7f"},
        {"size": [2, 2], "counts": "1"},  # one run of 1 pixel for 4 pixels
        {"size": [2], "counts": [4]},
        {"size": [2, "2"], "counts": [4]},
        {"size": [100000, 100000], "counts": [10**10]},  # refused before allocating
        {"counts": [4]},
        {"size": [2, 2], "counts": 4},
    ],
)
def test_malformed_rle_raises_value_error(bad: dict) -> None:
    with pytest.raises(ValueError):
        rle.decode(bad)


def test_truncated_string_is_refused() -> None:
    assert rle.counts_from_string("5") == [5]  # complete: the continuation bit is clear
    # '`' (96-48 = 48 = 0x30) sets the continuation bit, so the string ends mid-count
    with pytest.raises(ValueError, match="ends inside"):
        rle.counts_from_string("`")
