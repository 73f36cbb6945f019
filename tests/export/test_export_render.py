"""Exports apply the VOI LUT Function the image declares (PS3.3 C.11.2.1.2-3)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from flannot.export.render import apply_window, render_frame


def test_linear_window_of_ps3_3():
    # c=100, w=51: y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255 inside c - 0.5 -/+ (w - 1)/2
    out = apply_window(np.array([74.5, 75.0, 99.5, 124.0, 130.0]), 100, 51)
    assert out.tolist() == [0, 3, 128, 252, 255]


def test_linear_exact_and_sigmoid_differ_from_linear_as_defined():
    x = np.array([90.0, 100.0, 110.0])
    exact = apply_window(x, 100, 20, "LINEAR_EXACT")
    assert exact.tolist() == [0, 128, 255]  # c -/+ w/2 exactly
    sig = apply_window(x, 100, 20, "SIGMOID")
    expected = [round(255 / (1 + math.exp(-4 * (v - 100) / 20))) for v in x]
    assert sig.tolist() == expected  # 30, 128, 225: not clipped at the window's ends
    assert sig[0] > 0 and sig[-1] < 255


@pytest.mark.parametrize("function", ["LINEAR", "SIGMOID"])
def test_render_frame_uses_the_images_function(function):
    frame = np.linspace(0, 200, 100).reshape(10, 10)
    image = SimpleNamespace(
        n_frames=1,
        frames=[frame],
        is_rgb=False,
        windows=[SimpleNamespace(center=100.0, width=40.0)],
        voi_lut_function=function,
        path="x.dcm",
    )
    got = render_frame(image, 0)
    assert np.array_equal(got, apply_window(frame, 100.0, 40.0, function))
