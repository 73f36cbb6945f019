"""Pure geometry against shapes whose answers are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flannot.measure import geometry as g


def test_polygon_area_and_feret_of_a_rectangle():
    rect = np.array([[0, 0], [0, 40], [10, 40], [10, 0]], float)
    assert g.polygon_area(rect) == pytest.approx(400.0)
    assert g.max_feret(rect) == pytest.approx(math.hypot(10, 40))


def test_to_mm_scales_rows_and_cols_separately():
    pts = g.to_mm([[10, 10]], (0.2, 0.3))
    assert pts.tolist() == [[pytest.approx(2.0), pytest.approx(3.0)]]


def test_angles():
    assert g.angle_to_horizontal_deg(np.array([-1.0, math.sqrt(3)])) == pytest.approx(30.0)
    assert g.angle_to_horizontal_deg(np.array([1.0, -1.0])) == pytest.approx(45.0)
    assert g.angle_to_horizontal_deg(np.array([5.0, 0.0])) == pytest.approx(90.0)
    assert g.acute_angle_deg(np.array([0, 1.0]), np.array([0, -1.0])) == pytest.approx(0.0)
    assert g.angle_between_deg(np.array([0, 1.0]), np.array([0, -1.0])) == pytest.approx(180.0)
    assert math.isnan(g.angle_between_deg(np.zeros(2), np.array([1.0, 0])))


def test_min_area_rectangle_of_a_rotated_rectangle():
    a = math.radians(25)
    ax = np.array([math.sin(a), math.cos(a)])
    n = np.array([ax[1], -ax[0]])
    pts = np.array([ax * 20 + n * 5, ax * 20 - n * 5, -ax * 20 - n * 5, -ax * 20 + n * 5])
    rect = g.min_area_rectangle(pts)
    assert sorted([rect.length_a, rect.length_b]) == [pytest.approx(10), pytest.approx(40)]
    assert g.acute_angle_deg(rect.long_axis, ax) == pytest.approx(0, abs=1e-6)


def test_principal_axis_of_an_elongated_polygon():
    pts = np.array([[0, 0], [0, 50], [6, 50], [6, 0]], float)
    axis = g.area_moments_axis(pts)
    assert abs(axis[1]) == pytest.approx(1.0)


def test_distance_to_polyline():
    line = np.array([[0, 0], [0, 10], [10, 10]], float)
    d = g.distance_to_polyline(np.array([[3, 5], [5, 12], [-4, -3]], float), line)
    assert d.tolist() == pytest.approx([3.0, 2.0, 5.0])


@pytest.mark.parametrize(
    ("tip", "expected"),
    [
        ((4.0, 5.0), 6.0),  # before the line (row 10): on the entry side
        ((13.0, 5.0), -3.0),  # crossed it
        ((13.0, 30.0), -math.hypot(3, 10)),  # crossed beside the drawn end: still crossed
    ],
)
def test_signed_distance_past_line(tip, expected):
    line = np.array([[10, 0], [10, 20]], float)
    entry = np.array([-20.0, 5.0])
    assert g.signed_distance_past_line(np.array(tip), entry, line) == pytest.approx(expected)


def test_points_in_polygon_concave():
    # a square with a notch cut into its left side (col 0) reaching col 5 at row 5
    poly = np.array([[0, 0], [0, 10], [10, 10], [10, 0], [5, 5]], float)
    inside = g.points_in_polygon(np.array([[2, 5], [5, 4], [8, 1], [5, 6]], float), poly)
    assert inside.tolist() == [True, False, False, True]


def test_chords_of_an_hourglass():
    # u along the long axis 0..40; half-width 5 at the ends, 2 at the waist u=20
    top = [[0, 5], [20, 2], [40, 5]]
    bottom = [[40, -5], [20, -2], [0, -5]]
    poly = np.array(top + bottom, float)
    lengths, lo, hi = g.chords(poly, np.array([10.0, 20.0, 30.0, 50.0]))
    assert lengths.tolist() == pytest.approx([7.0, 4.0, 7.0, 0.0])
    assert lo[:3].tolist() == pytest.approx([-3.5, -2.0, -3.5])
    assert math.isnan(hi[3])


def _random_polylines(rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Random lines and polygons of 1-40 vertices, some with repeated vertices (zero-length
    segments), some on a coarse grid (points exactly on edges and on vertex rows)."""
    out = []
    for i in range(count):
        n = int(rng.integers(1, 41))
        pts = rng.uniform(-20, 20, (n, 2))
        if i % 3 == 0:
            pts = np.round(pts / 4) * 4
        if i % 5 == 0 and n > 1:
            pts[1] = pts[0]
        out.append(pts)
    return out


def test_outline_is_the_array_code_bit_for_bit():
    rng = np.random.default_rng(17)
    for poly in _random_polylines(rng, 300):
        points = np.vstack([rng.uniform(-25, 25, (20, 2)), np.round(rng.uniform(-5, 5, (5, 2)))])
        for closed in (False, True):
            outline = g.Outline(poly, closed=closed)
            expected = g.distance_to_polyline(points, poly, closed=closed)
            got = [outline.distance(tuple(p)) for p in points.tolist()]
            assert got == expected.tolist()  # exact: == on floats, not approx
        if len(poly) >= 3:
            inside = [g.Outline(poly, closed=True).contains(tuple(p)) for p in points.tolist()]
            assert inside == g.points_in_polygon(points, poly).tolist()


def test_boundary_is_signed_distance_past_line_bit_for_bit():
    rng = np.random.default_rng(1717)
    crossed = 0
    for line in _random_polylines(rng, 300):
        line = line[:9]
        reach = g.boundary_reach(line)
        boundary = g.Boundary(line, reach)
        for _ in range(10):
            entry, tip = rng.uniform(-30, 30, (2, 2))
            if rng.random() < 0.2:  # along a segment: parallel, never a proper crossing
                tip = entry + (line[-1] - line[0])
            elif len(line) >= 3 and rng.random() < 0.3:  # through a vertex: counted once
                vertex = line[int(rng.integers(1, len(line) - 1))]
                entry, tip = vertex + (3.0, -5.0), vertex - (3.0, -5.0)
            want = g.signed_distance_past_line(tip, entry, line, reach)
            got = boundary.signed_distance(tuple(tip.tolist()), tuple(entry.tolist()))
            assert got == want
            crossed += want < 0
    assert crossed > 100  # both signs were exercised


def test_chords_are_the_dense_evaluation_bit_for_bit():
    rng = np.random.default_rng(171717)
    split = 0
    for poly in _random_polylines(rng, 300):
        if len(poly) < 3:
            continue
        lo, hi = poly[:, 0].min(), poly[:, 0].max()
        ts = np.linspace(lo - 1, hi + 1, int(rng.integers(2, 60)))
        # lines through vertices (a crossing exactly at a vertex, zero-width chords)
        ts = np.sort(np.concatenate([ts, poly[:, 0]]))
        got = g.chords(poly, ts)
        want = g._chords_dense(poly, ts)
        for x, y in zip(got, want, strict=True):
            assert x.tobytes() == y.tobytes()  # same bits, NaNs and signed zeros included
        split += int((np.isfinite(got[1]) & (got[0] > 0)).sum() > 0)
    assert split > 150
    # unsorted lines take the dense path and answer alike
    poly = np.array([[0, 0], [0, 10], [10, 10], [10, 0]], float)
    ts = np.array([5.0, 1.0, 9.0])
    assert g.chords(poly, ts)[0].tolist() == [10.0, 10.0, 10.0]
