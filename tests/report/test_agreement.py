"""ICC(2,1) and Bland–Altman against published numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flannot.teach.agreement import bland_altman, icc_2_1

# Shrout & Fleiss 1979, Table 2: 6 targets rated by 4 judges; ICC(2,1) = 0.29 (Table 4)
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_icc_2_1_reproduces_shrout_and_fleiss():
    assert icc_2_1(SHROUT_FLEISS) == pytest.approx(0.29, abs=0.005)


def test_icc_is_one_for_identical_raters_and_nan_without_targets():
    x = np.array([[1.0, 1.0], [2.0, 2.0], [5.0, 5.0]])
    assert icc_2_1(x) == pytest.approx(1.0)
    assert math.isnan(icc_2_1([[1.0, 2.0]]))
    # a constant offset lowers the absolute-agreement ICC below 1
    assert icc_2_1(np.c_[x[:, 0], x[:, 0] + 1]) < 1


def test_bland_altman_bias_and_limits():
    bias, sd, lo, hi = bland_altman([1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 3.0, 5.0])
    d = np.array([0.5, 0.5, 0.0, 1.0])
    assert bias == pytest.approx(d.mean())
    assert sd == pytest.approx(d.std(ddof=1))
    assert (lo, hi) == pytest.approx((bias - 1.96 * sd, bias + 1.96 * sd))
