"""SPEC §13: all measurements of a case with 20 annotations on 1024x1024 in < 30 ms.

The case is a realistic lateral/oblique mix at 0.2 mm pixels: five vertebrae with
corners and one centre point, four LF bands, two canals with a waist, two
interlaminar windows, two cannulas, two contrast lines, a calibration line and a
redaction box (20 annotations). Run with pytest-benchmark
(``python -m pytest benchmarks/bench_measure.py --benchmark-enable``) or as a
plain script printing the median: ``python benchmarks/bench_measure.py``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time

import numpy as np

import flannot
from flannot.model.case import Case

TARGET_MS = 30.0
SPACING = (0.2, 0.2)


def _band(center_mm, length_mm, thickness_mm, angle_deg) -> list[list[float]]:
    """Corners (pixels) of a band: long side at ``angle_deg`` to the horizontal."""
    a = math.radians(angle_deg)
    ax = np.array([-math.sin(a), math.cos(a)])
    n = np.array([ax[1], -ax[0]])
    c = np.asarray(center_mm, float)
    h, w = length_mm / 2, thickness_mm / 2
    pts = [c + ax * h + n * w, c + ax * h - n * w, c - ax * h - n * w, c - ax * h + n * w]
    return (np.array(pts) / SPACING).tolist()


def _canal(center_mm, waist_mm) -> list[list[float]]:
    """Vertical canal 40 mm long, 15 mm wide, narrowing to ``waist_mm`` at the disc."""
    r0, c0 = center_mm
    prof = [(-20, 7.5), (-8, 7.5), (0, waist_mm / 2), (8, 7.5), (20, 7.5)]
    right = [[r0 + dr, c0 + w] for dr, w in prof]
    left = [[r0 + dr, c0 - w] for dr, w in reversed(prof)]
    return (np.array(right + left) / SPACING).tolist()


def _vertebra(top_mm: float, shift_mm: float) -> list[list[float]]:
    sa, sp = [top_mm, 60 + shift_mm + 40], [top_mm, 60 + shift_mm]
    ip, ia = [top_mm + 27, 60 + shift_mm], [top_mm + 29, 60 + shift_mm + 40]
    return (np.array([sa, sp, ip, ia]) / SPACING).tolist()


def _ann(id_, type_, kind, points, **attrs):
    return {"id": id_, "type": type_, "geometry": {"kind": kind, "points": points}, **attrs}


def build_case() -> Case:
    """The 20-annotation benchmark case on a 1024 x 1024 image."""
    anns = []
    for i, level in enumerate(("L1", "L2", "L3", "L4", "L5")):
        anns.append(
            _ann(f"v{level}", "vertebra", "polygon", _vertebra(10 + 38 * i, i), level=level)
        )
    anns.append(_ann("vS1", "vertebra", "point", [[950.0, 400.0]], level="S1"))
    for lvl, row in (("L3-L4", 110), ("L4-L5", 150)):
        for side, thick, col in (("left", 3.0, 120), ("right", 5.0, 132)):
            anns.append(
                _ann(
                    f"lf-{lvl}-{side}",
                    "ligamentum_flavum",
                    "polygon",
                    _band((row, col), 16, thick, 70),
                    level=lvl,
                    side=side,
                )
            )
        anns.append(
            _ann(
                f"canal-{lvl}",
                "spinal_canal",
                "polygon",
                _canal((row, 126), 9.0 if lvl == "L4-L5" else 12.0),
                level=lvl,
            )
        )
        anns.append(
            _ann(
                f"il-{lvl}", "interlaminar_space", "polygon", _band((row, 60), 20, 12, 5), level=lvl
            )
        )
    for side, col in (("left", 116), ("right", 130)):
        anns.append(
            _ann(
                f"ec-{side}",
                "epidural_contrast",
                "path",
                (np.array([[140, col + 8], [150, col + 9], [160, col + 8]]) / SPACING).tolist(),
                level="L4-L5",
                side=side,
            )
        )
        anns.append(
            _ann(
                f"k-{side}",
                "cannula",
                "line",
                (np.array([[100, 40], [150, col + 2]]) / SPACING).tolist(),
                level="L4-L5",
                side=side,
                instrument="portal",
            )
        )
    anns.append(
        _ann("cal", "calibration", "line", [[900.0, 100.0], [900.0, 225.0]], length_mm=25.0)
    )
    anns.append(_ann("red", "redaction", "rectangle", [[0.0, 0.0], [40.0, 300.0]]))
    assert len(anns) == 20
    return Case.from_dict(
        {
            "flannot_version": 1,
            "case_id": "bench",
            "image": {
                "path": "image.dcm",
                "rows": 1024,
                "columns": 1024,
                "spacing_mm": list(SPACING),
                "calibration": "magnification_corrected",
            },
            "annotations": anns,
        }
    )


def test_measure_20_annotations(benchmark):
    case = build_case()
    df = benchmark(flannot.measure, case)
    assert len(df) > 50 and set(df.calibration) == {"user"}


def main() -> int:
    case = build_case()
    flannot.measure(case)  # warm up imports and caches
    wall, cpu = [], []
    for _ in range(50):
        t, c = time.perf_counter(), time.process_time()
        df = flannot.measure(case)
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    med = statistics.median(wall)
    print(
        f"measure(case with 20 annotations, 1024x1024): {len(df)} rows; "
        f"wall median {med:.1f} ms (min {min(wall):.1f}), "
        f"CPU median {statistics.median(cpu):.1f} ms; target < {TARGET_MS:.0f} ms"
    )
    return 0 if med < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
