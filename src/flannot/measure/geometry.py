"""Pure vector geometry on ``(N, 2)`` ``[row, col]`` arrays.

Everything here works in whatever unit the coordinates are in: callers convert
pixel coordinates to millimetres first with :func:`to_mm` (``points * spacing``),
which is what makes every measure right for anisotropic pixels (row_mm ≠ col_mm).
Angles are computed on those scaled coordinates too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

_EPS = 1e-12
# Point-by-edge work is done in blocks of at most this many pairs, so that a polygon of
# thousands of vertices (a freehand outline) needs a few tens of MB, not gigabytes.
BLOCK_PAIRS = 1 << 20
# EdgeSet's point-by-edge temporaries are kept this small: each (pairs,) float array then
# stays in the CPU cache between the dozen NumPy passes the kernel makes over it.
KERNEL_PAIRS = 1 << 15


def _blocks(n_items: int, n_edges: int, pairs: int | None = None) -> list[slice]:
    """Slices of ``range(n_items)`` holding at most ``pairs`` (``BLOCK_PAIRS``) item-edge
    pairs each."""
    step = max(1, (BLOCK_PAIRS if pairs is None else pairs) // max(n_edges, 1))
    return [slice(i, i + step) for i in range(0, n_items, step)] or [slice(0, 0)]


def _next(a: np.ndarray) -> np.ndarray:
    """``a`` shifted by one along axis 0 (the following vertex of a closed polygon)."""
    return np.concatenate([a[1:], a[:1]])


def as_points(points: object) -> np.ndarray:
    """``points`` as a float ``(N, 2)`` array (``[row, col]``)."""
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"expected an (N, 2) array of [row, col] points, got shape {arr.shape}")
    return arr


def to_mm(points: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    """Scale pixel ``[row, col]`` coordinates by ``spacing = (row_mm, col_mm)``."""
    return as_points(points) * np.asarray(spacing, dtype=float)


def distance(p: np.ndarray, q: np.ndarray) -> float:
    """Euclidean distance between two points."""
    return float(np.hypot(*(np.asarray(q, float) - np.asarray(p, float))))


def polyline_length(points: np.ndarray) -> float:
    """Length of an open polyline."""
    pts = as_points(points)
    return float(np.hypot(*np.diff(pts, axis=0).T).sum()) if len(pts) > 1 else 0.0


def angle_between_deg(u: np.ndarray, v: np.ndarray) -> float:
    """Angle in degrees (0–180) between two direction vectors."""
    u = np.asarray(u, float)
    v = np.asarray(v, float)
    nu, nv = np.hypot(*u), np.hypot(*v)
    if nu < _EPS or nv < _EPS:
        return float("nan")
    # atan2 of cross and dot is accurate for tiny and near-180° angles, unlike acos
    cross = u[0] * v[1] - u[1] * v[0]
    return float(np.degrees(np.arctan2(abs(cross), float(np.dot(u, v)))))


def acute_angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    """Acute angle in degrees (0–90) between two undirected lines."""
    a = angle_between_deg(u, v)
    return a if np.isnan(a) else min(a, 180.0 - a)


def angle_to_horizontal_deg(v: np.ndarray) -> float:
    """Acute angle in degrees between direction ``v = (d_row, d_col)`` and the image rows."""
    return acute_angle_deg(v, np.array([0.0, 1.0]))


def polygon_area(points: np.ndarray) -> float:
    """Area of a simple polygon (shoelace formula), always ≥ 0."""
    pts = as_points(points)
    if len(pts) < 3:
        return 0.0
    y, x = pts[:, 0], pts[:, 1]
    return float(abs(np.dot(x, _next(y)) - np.dot(y, _next(x))) / 2.0)


def _monotone_chain(pts: np.ndarray) -> np.ndarray:
    """Convex hull of a few points (Andrew's monotone chain; cheaper than qhull there)."""
    order = sorted(pts.tolist())  # [row, col] lists sort as the tuples would
    hull = _half_hull(order)[:-1] + _half_hull(reversed(order))[:-1]
    return np.array(hull, float) if len(hull) >= 2 else pts


def _half_hull(points: Iterable[list[float]]) -> list[list[float]]:
    """One chain of :func:`_monotone_chain`: each point pops the points it does not turn
    left from (cross product ``(a - o) x (p - o) <= 0``, written out: no call per test)."""
    chain: list[list[float]] = []
    for p in points:
        p0, p1 = p
        while len(chain) >= 2:
            (o0, o1), (a0, a1) = chain[-2], chain[-1]
            if (a0 - o0) * (p1 - o1) - (a1 - o1) * (p0 - o0) > 0:
                break
            chain.pop()
        chain.append(p)
    return chain


# Up to this many points the hull is found in Python: a traced outline of a few hundred
# points takes well under a millisecond, while importing scipy.spatial takes ~0.2 s.
HULL_IN_PYTHON = 4096


def hull_points(points: np.ndarray) -> np.ndarray:
    """Vertices of the convex hull (all points when the hull is degenerate)."""
    pts = as_points(points)
    if len(pts) < 3:
        return pts
    if len(pts) <= HULL_IN_PYTHON:
        return _monotone_chain(pts)
    from scipy.spatial import ConvexHull, QhullError  # huge outlines only

    try:
        return pts[ConvexHull(pts).vertices]
    except (QhullError, ValueError):  # collinear or repeated points
        return pts


def max_feret(points: np.ndarray) -> float:
    """Maximum Feret (caliper) diameter: largest distance between two hull vertices."""
    hull = hull_points(points)
    if len(hull) < 2:
        return 0.0
    d = hull[:, None, :] - hull[None, :, :]
    dy, dx = d[..., 0], d[..., 1]
    return float(np.sqrt((dy * dy + dx * dx).max()))  # (d**2).sum(-1): the same sums


@dataclass(frozen=True)
class Rectangle:
    """An oriented rectangle: centre, two unit axes and the side length along each."""

    center: np.ndarray
    axis_a: np.ndarray
    length_a: float
    axis_b: np.ndarray
    length_b: float

    @property
    def long_axis(self) -> np.ndarray:
        return self.axis_a if self.length_a >= self.length_b else self.axis_b

    @property
    def area(self) -> float:
        return self.length_a * self.length_b


def min_area_rectangle(points: np.ndarray) -> Rectangle:
    """Minimum-area enclosing rectangle (rotating calipers over the hull's edge directions)."""
    hull = hull_points(points)
    if len(hull) < 2:
        c = hull.mean(axis=0) if len(hull) else np.zeros(2)
        return Rectangle(c, np.array([0.0, 1.0]), 0.0, np.array([1.0, 0.0]), 0.0)
    edges = _next(hull) - hull
    norms = np.hypot(edges[:, 0], edges[:, 1])
    keep = norms > _EPS
    axes = edges[keep] / norms[keep, None]  # (E, 2) candidate directions
    normals = np.stack([-axes[:, 1], axes[:, 0]], axis=1)
    pa = hull @ axes.T  # (H, E) projections
    pb = hull @ normals.T
    ext_a = pa.max(axis=0) - pa.min(axis=0)
    ext_b = pb.max(axis=0) - pb.min(axis=0)
    best = int(np.argmin(ext_a * ext_b))
    mid_a = (pa[:, best].max() + pa[:, best].min()) / 2
    mid_b = (pb[:, best].max() + pb[:, best].min()) / 2
    center = mid_a * axes[best] + mid_b * normals[best]
    return Rectangle(center, axes[best], float(ext_a[best]), normals[best], float(ext_b[best]))


def _segment_sq_distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distances from points (K, 2) to segments ``a[i]–b[i]``: shape (K, E)."""
    py, px = points[:, 0:1], points[:, 1:2]
    ay, ax = a[:, 0], a[:, 1]
    dy, dx = b[:, 0] - ay, b[:, 1] - ax
    inv = 1.0 / np.maximum(dy * dy + dx * dx, _EPS)
    ry, rx = py - ay, px - ax
    t = (ry * dy + rx * dx) * inv
    np.clip(t, 0.0, 1.0, out=t)
    ey = ry - t * dy
    ex = rx - t * dx
    return ey * ey + ex * ex


def point_segment_distances(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances from each of ``points`` (K, 2) to each segment ``a[i]–b[i]``: shape (K, E)."""
    return np.sqrt(
        _segment_sq_distances(np.asarray(points, float), np.asarray(a, float), np.asarray(b, float))
    )


def distance_to_polyline(
    points: np.ndarray, polyline: np.ndarray, closed: bool = False
) -> np.ndarray:
    """Distance from each point (K, 2) to an open (or closed) polyline: shape (K,)."""
    line = as_points(polyline)
    pts = np.atleast_2d(np.asarray(points, float))
    if len(line) == 1:
        return np.hypot(*(pts - line[0]).T)
    a = line if closed else line[:-1]
    b = _next(line) if closed else line[1:]
    out = np.empty(len(pts))
    for blk in _blocks(len(pts), len(a)):
        out[blk] = _segment_sq_distances(pts[blk], a, b).min(axis=1)
    return np.sqrt(out)


def _segment_crossings(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> int:
    """How many of the segments ``a[i]–b[i]`` the segment ``p–q`` properly crosses."""
    r = q - p
    s = b - a
    denom = r[0] * s[:, 1] - r[1] * s[:, 0]
    ap = a - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (ap[:, 0] * s[:, 1] - ap[:, 1] * s[:, 0]) / denom
        u = (ap[:, 0] * r[1] - ap[:, 1] * r[0]) / denom
    ok = (np.abs(denom) > _EPS) & (t >= 0) & (t <= 1) & (u >= 0) & (u < 1)
    return int(ok.sum())


def signed_distance_past_line(
    tip: np.ndarray, entry: np.ndarray, polyline: np.ndarray, reach: float | None = None
) -> float:
    """Signed distance from ``tip`` to ``polyline``: + on the ``entry`` side, − once crossed.

    The magnitude is the distance to the drawn polyline. The sign comes from
    whether the straight path entry → tip crosses the polyline an odd number of
    times; the polyline's end segments are extended beyond the drawn ends so
    that a tip that has gone past the line beside its drawn end still counts as
    crossed — by ``reach`` (same units as the points), or farther than anything
    in the scene when ``None``. A bounded reach keeps a line of another level or
    side from "being crossed" far beyond where it was drawn.
    """
    tip = np.asarray(tip, float)
    entry = np.asarray(entry, float)
    line = as_points(polyline)
    d = float(distance_to_polyline(tip[None], line)[0])
    if len(line) < 2:
        return d
    if reach is None:  # farther than anything in the scene
        reach = 10.0 * (np.ptp(np.vstack([line, tip[None], entry[None]]), axis=0).max() + 1.0)
    ext = line.copy()
    for end, nxt in ((0, 1), (-1, -2)):
        direction = line[end] - line[nxt]
        n = np.hypot(*direction)
        if n > _EPS:
            ext[end] = line[end] + direction / n * reach
    crossed = _segment_crossings(entry, tip, ext[:-1], ext[1:]) % 2 == 1
    return -d if crossed else d


class Outline:
    """A polyline (or, ``closed``, a polygon) on Python floats, for one point at a time.

    :meth:`distance` is :func:`distance_to_polyline` and :meth:`contains`
    :func:`points_in_polygon` of a single point — the same floating-point
    operations in the same order, so the same bits — without NumPy: a tip is
    measured against lines and outlines of a few to a few dozen vertices, where
    NumPy's cost per call on such tiny arrays, not the arithmetic, was the time.
    """

    __slots__ = ("_closed", "_edges", "_points")

    def __init__(self, points: np.ndarray, closed: bool = False) -> None:
        self._points = as_points(points)
        self._closed = closed
        pts = self._points.tolist()
        ends = pts[1:] + pts[:1] if closed else pts[1:]
        # per edge (y, x, y2, dy, dx, inv), as _segment_sq_distances and
        # points_in_polygon derive them
        self._edges = []
        for (y, x), (y2, x2) in zip(pts[: len(ends)], ends, strict=True):
            dy, dx = y2 - y, x2 - x
            self._edges.append((y, x, y2, dy, dx, 1.0 / max(dy * dy + dx * dx, _EPS)))

    def distance(self, point: tuple[float, float]) -> float:
        """Distance from ``point`` to the polyline (:func:`distance_to_polyline`)."""
        if len(self._points) < 2:  # a lone point (or none): NumPy's answer
            return float(distance_to_polyline(np.array([point]), self._points, self._closed)[0])
        py, px = point
        best = math.inf
        for y, x, _, dy, dx, inv in self._edges:
            ry, rx = py - y, px - x
            t = min(max((ry * dy + rx * dx) * inv, 0.0), 1.0)  # np.clip of a finite t
            ey = ry - t * dy
            ex = rx - t * dx
            best = min(best, ey * ey + ex * ex)
        return math.sqrt(best)

    def contains(self, point: tuple[float, float]) -> bool:
        """Whether ``point`` is inside the closed polygon, even–odd (:func:`points_in_polygon`)."""
        py, px = point
        inside = False
        for y, x, y2, dy, dx, _ in self._edges:
            # x_cross only where the edge straddles the row (NumPy's other values are unused)
            if (y > py) != (y2 > py) and px < x + (py - y) * dx / dy:
                inside = not inside
        return inside


class Boundary:
    """A safety boundary (contrast line, VILL) prepared for :func:`signed_distance_past_line`.

    :meth:`signed_distance` gives the bits of ``signed_distance_past_line(tip, entry,
    polyline, reach)`` on Python floats (see :class:`Outline`).
    """

    __slots__ = ("_extended", "_line")

    def __init__(self, polyline: np.ndarray, reach: float) -> None:
        self._line = Outline(polyline)
        line = self._line._points.tolist()
        # the end segments extended by reach (signed_distance_past_line's ``ext``)
        ext = list(line)
        if len(line) >= 2:
            for end, nxt in ((0, 1), (-1, -2)):
                d0, d1 = line[end][0] - line[nxt][0], line[end][1] - line[nxt][1]
                n = float(np.hypot(d0, d1))  # NumPy's hypot: the bits of the array code
                if n > _EPS:
                    ext[end] = [line[end][0] + d0 / n * reach, line[end][1] + d1 / n * reach]
        self._extended = [
            (ay, ax, by - ay, bx - ax) for (ay, ax), (by, bx) in zip(ext[:-1], ext[1:], strict=True)
        ]

    def signed_distance(self, tip: tuple[float, float], entry: tuple[float, float]) -> float:
        """:func:`signed_distance_past_line` ``(tip, entry, polyline, reach)``."""
        d = self._line.distance(tip)
        if not self._extended:  # a lone point: nothing to cross
            return d
        return -d if self._crossings(entry, tip) % 2 == 1 else d

    def _crossings(self, p: tuple[float, float], q: tuple[float, float]) -> int:
        """:func:`_segment_crossings` of ``p–q`` with the extended segments."""
        r0, r1 = q[0] - p[0], q[1] - p[1]
        count = 0
        for ay, ax, s0, s1 in self._extended:
            denom = r0 * s1 - r1 * s0
            if not abs(denom) > _EPS:  # parallel: never a proper crossing
                continue
            ap0, ap1 = ay - p[0], ax - p[1]
            t = (ap0 * s1 - ap1 * s0) / denom
            u = (ap0 * r1 - ap1 * r0) / denom
            if 0 <= t <= 1 and 0 <= u < 1:
                count += 1
        return count


def polygon_boundary_distance(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Distance from each point (K, 2) to the closed polygon's boundary: shape (K,)."""
    return distance_to_polyline(points, polygon, closed=True)


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean (K,): which points are inside the polygon (even–odd rule)."""
    pts = np.atleast_2d(np.asarray(points, float))
    poly = as_points(polygon)
    if len(pts) * len(poly) > BLOCK_PAIRS:
        return np.concatenate(
            [points_in_polygon(pts[blk], poly) for blk in _blocks(len(pts), len(poly))]
        )
    y, x = poly[:, 0], poly[:, 1]
    y2, x2 = _next(y), _next(x)
    py, px = pts[:, 0:1], pts[:, 1:2]
    straddles = (y > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x + (py - y) * (x2 - x) / (y2 - y)
    return ((straddles & (px < x_cross)).sum(axis=1) % 2) == 1


def _edge_arrays(polygons: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(y, x, y2, dy, dx, inv)`` of closed polygons ``(..., n, 2)``: per edge, its start,
    the end's row, end − start and ``1 / max(|end − start|², eps)`` (the values
    :func:`_segment_sq_distances` and :func:`points_in_polygon` derive)."""
    nxt = np.concatenate([polygons[..., 1:, :], polygons[..., :1, :]], axis=-2)
    y = np.ascontiguousarray(polygons[..., 0])
    x = np.ascontiguousarray(polygons[..., 1])
    y2 = np.ascontiguousarray(nxt[..., 0])
    dy = nxt[..., 0] - y
    dx = nxt[..., 1] - x
    inv = 1.0 / np.maximum(dy * dy + dx * dx, _EPS)
    return y, x, y2, dy, dx, inv


def _edge_kernel(
    py: np.ndarray, px: np.ndarray, arrays: tuple[np.ndarray, ...], inside: bool, distance: bool
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Boundary distance and even–odd inside test of the points ``(py, px)`` against the
    edges ``arrays``, whose first axis runs over the edges: (E, 1) against points (K,),
    or (E, 1, K) against points (C, K) (column ``k`` against the edges of column ``k``).

    Operation for operation :func:`_segment_sq_distances` (+ ``min`` and ``sqrt``)
    and :func:`points_in_polygon`, so the results are the same bits. The edges are
    the first axis so that NumPy's inner loops run along the many points, not along
    the few edges of a small polygon.
    """
    y, x, y2, dy, dx, inv = arrays
    ry = py - y  # (E, ...); also the (py - y) of the even-odd test
    ins = d = None
    if inside:
        straddles = (y > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = ry * dx
            x_cross /= dy
            x_cross += x
        straddles &= px < x_cross
        ins = (straddles.sum(axis=0) % 2) == 1
    if distance:
        d = np.sqrt(_sq_distances(ry, px, x, dy, dx, inv).min(axis=0))
    return d, ins


def _sq_distances(
    ry: np.ndarray, px: np.ndarray, x: np.ndarray, dy: np.ndarray, dx: np.ndarray, inv: np.ndarray
) -> np.ndarray:
    """Squared point-to-edge distances from ``ry = py - y`` (overwritten and returned):
    the operations of :func:`_segment_sq_distances`, in place."""
    rx = px - x
    t = ry * dy
    t += rx * dx
    t *= inv
    np.clip(t, 0.0, 1.0, out=t)
    ry -= t * dy
    rx -= t * dx
    ry *= ry
    rx *= rx
    ry += rx
    return ry


class Edges:
    """A closed polygon's edges, prepared once for many point queries.

    :meth:`distance` is :func:`polygon_boundary_distance` and :meth:`contains`
    :func:`points_in_polygon` — the same floating-point operations on the same
    values, so the same bits — without re-deriving the edges on every call;
    :meth:`distance_inside` answers both in one pass. Made for the small polygons
    measured many times over (a band's ridge search), where the per-call work,
    not the arithmetic, was the cost.
    """

    __slots__ = ("arrays", "n")

    def __init__(self, polygon: np.ndarray) -> None:
        poly = as_points(polygon)
        self.arrays = tuple(a[:, None] for a in _edge_arrays(poly))  # (E, 1): edges first
        self.n = len(poly)

    def distance(self, points: np.ndarray) -> np.ndarray:
        """Distance from each point (K, 2) to the boundary: :func:`polygon_boundary_distance`."""
        return self._run(points, inside=False)[0]

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean (K,): which points are inside (even–odd): :func:`points_in_polygon`."""
        return self._run(points, inside=True, distance=False)[1]

    def distance_inside(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`distance` and :meth:`contains` of the same points, in one pass."""
        return self._run(points, inside=True)

    def _run(
        self, points: np.ndarray, inside: bool, distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        pts = np.atleast_2d(np.asarray(points, float))
        k = len(pts)
        d = np.zeros(k)
        ins = np.zeros(k, bool)
        py, px = np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1])
        for blk in _blocks(k, self.n) if k * self.n > BLOCK_PAIRS else [slice(None)]:
            got_d, got_in = _edge_kernel(py[blk], px[blk], self.arrays, inside, distance)
            if got_d is not None:
                d[blk] = got_d
            if got_in is not None:
                ins[blk] = got_in
        return d, ins


class EdgeSet:
    """The edges of several closed polygons, for queries of points each against its own.

    ``distance_inside(points, owner)`` gives for point ``i`` what
    ``Edges(polygons[owner[i]]).distance_inside`` gives — the same bits — in a few
    NumPy calls for all polygons at once (polygons with the same vertex count are
    stacked together, edges first: arrays (n, polygons)).
    """

    def __init__(self, polygons: list[np.ndarray]) -> None:
        polys = [as_points(p) for p in polygons]
        self.group = np.zeros(len(polys), np.intp)
        self.row = np.zeros(len(polys), np.intp)
        by_n: dict[int, list[int]] = {}
        for i, p in enumerate(polys):
            by_n.setdefault(len(p), []).append(i)
        self.groups: list[tuple[int, tuple[np.ndarray, ...]]] = []
        for gi, (n, members) in enumerate(by_n.items()):
            arrays = _edge_arrays(np.stack([polys[i] for i in members]))
            self.groups.append((n, tuple(np.ascontiguousarray(a.T) for a in arrays)))
            self.group[members] = gi
            self.row[members] = np.arange(len(members))

    def distance_inside(
        self, points: np.ndarray, owner: np.ndarray, inside: bool = True, distance: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Distance to its polygon's boundary and inside or not, for each point
        (zeros / ``False`` where not asked).

        ``points`` is (K, 2), point ``k`` in polygon ``owner[k]``, or (K, C, 2): the C
        points of row ``k`` (a search pattern around one point) all in polygon
        ``owner[k]``; the results are (K,) or (K, C).
        """
        pts = np.asarray(points, float)
        flat = pts.ndim == 2
        if flat:
            pts = pts[:, None, :]
        owner = np.asarray(owner, np.intp)
        d = np.zeros(pts.shape[:2])
        ins = np.zeros(pts.shape[:2], bool)
        # only the edge arrays the kernel reads are gathered (y2 is the inside test's)
        need = [True, True, inside, True, True, distance]
        gid = self.group[owner]
        for gi, (n, arrays) in enumerate(self.groups):
            sel = np.flatnonzero(gid == gi)
            if sel.size == 0:
                continue
            rows = self.row[owner[sel]]
            for blk in _blocks(len(sel), n * pts.shape[1], KERNEL_PAIRS):
                s = sel[blk]
                # (n, 1, B): one row's edges broadcast against its C points (C, B)
                got = tuple(
                    _gather(a, rows[blk])[:, None, :] if use else a[:0]
                    for a, use in zip(arrays, need, strict=True)
                )
                py, px = _columns(pts[s])
                got_d, got_in = _edge_kernel(py, px, got, inside, distance)
                if got_d is not None:
                    d[s] = got_d.T
                if got_in is not None:
                    ins[s] = got_in.T
        return (d[:, 0], ins[:, 0]) if flat else (d, ins)


def _gather(edges: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Columns ``rows`` of an (n, polygons) edge array, C-contiguous (n, B).

    Indexing ``edges[:, rows]`` would give a column-major copy, and every pass of the
    kernel, and its reduction over the edges, would then stride across memory.
    """
    return edges.take(rows, axis=1)


def _columns(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and cols of points (K, C, 2) as two contiguous (C, K) arrays."""
    return np.ascontiguousarray(pts[..., 0].T), np.ascontiguousarray(pts[..., 1].T)


def area_moments_axis(polygon: np.ndarray) -> np.ndarray:
    """Unit direction of the principal (long) axis of a polygon's area, from its exact moments."""
    poly = as_points(polygon)
    y, x = poly[:, 0], poly[:, 1]
    y2, x2 = _next(y), _next(x)
    cross = x * y2 - x2 * y
    a = cross.sum() / 2
    if abs(a) < _EPS:
        return np.array([0.0, 1.0])
    cx = ((x + x2) * cross).sum() / (6 * a)
    cy = ((y + y2) * cross).sum() / (6 * a)
    sxx = ((x * x + x * x2 + x2 * x2) * cross).sum() / (12 * a) - cx * cx
    syy = ((y * y + y * y2 + y2 * y2) * cross).sum() / (12 * a) - cy * cy
    sxy = ((x * y2 + 2 * x * y + 2 * x2 * y2 + x2 * y) * cross).sum() / (24 * a) - cx * cy
    cov = np.array([[syy, sxy], [sxy, sxx]])  # [row, col] order
    w, v = np.linalg.eigh(cov)
    return v[:, int(np.argmax(w))]


def chords(polygon_uv: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cross-sections of a polygon along the lines ``u = t`` for each ``t`` in ``ts``.

    ``polygon_uv`` has columns ``(u, v)``. Each line is intersected with the
    polygon's edges and the inside intervals (even–odd rule) are summed.

    Returns
    -------
    lengths, v_lo, v_hi
        The chord length per line and the ``v`` of its two outer ends (NaN where
        the line misses the polygon).

    Notes
    -----
    A line meets only the edges whose ``u`` span holds its ``t``. With ``ts``
    ascending those pairs are found by bisection, and a line that meets the
    polygon twice (nearly every line) gets its chord from those two crossings
    alone: the same bits as the evaluation against every edge
    (:func:`_chords_dense`), which the other lines still get.
    """
    poly = as_points(polygon_uv)
    ts = np.asarray(ts, float)
    if (
        ts.ndim != 1
        or not np.isfinite(poly).all()
        or not np.isfinite(ts).all()
        or np.any(ts[1:] < ts[:-1])
    ):
        return _chords_dense(poly, ts)
    u, v = poly[:, 0], poly[:, 1]
    u2, v2 = _next(u), _next(v)
    # edge e crosses u = t when exactly one end is <= t: min(u, u2) <= t < max(u, u2)
    first = np.searchsorted(ts, np.minimum(u, u2), "left")
    counts = np.searchsorted(ts, np.maximum(u, u2), "left") - first
    edge = np.repeat(np.arange(len(poly)), counts)
    line = np.arange(counts.sum()) + np.repeat(first - (np.cumsum(counts) - counts), counts)
    # the dense formula on the crossing pairs only (u2 != u there)
    dv, du = v2 - v, u2 - u
    vv = v[edge] + (ts[line] - u[edge]) * dv[edge] / du[edge]
    vv = vv[np.argsort(line, kind="stable")]  # grouped by line
    k = np.bincount(line, minlength=len(ts))
    lengths = np.zeros(len(ts))
    v_lo = np.full(len(ts), np.nan)
    v_hi = np.full(len(ts), np.nan)
    two = np.flatnonzero(k == 2)
    end = np.cumsum(k)[two]
    a, b = np.minimum(vv[end - 2], vv[end - 1]), np.maximum(vv[end - 2], vv[end - 1])
    # -a + b is the dense row sum exactly (its other terms are zeros), unless a == b:
    # the sign of a zero chord depends on the order of the sum, so the dense code decides
    ok = a != b
    lengths[two[ok]] = b[ok] - a[ok]
    v_lo[two[ok]] = a[ok]
    v_hi[two[ok]] = b[ok]
    redo = k != 0
    redo[two[ok]] = False
    if redo.any():
        lengths[redo], v_lo[redo], v_hi[redo] = _chords_dense(poly, ts[redo])
    return lengths, v_lo, v_hi


def _chords_dense(poly: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`chords` evaluated against every edge (any ``ts``)."""
    poly = as_points(poly)
    ts = np.asarray(ts, float)
    if len(ts) * len(poly) > BLOCK_PAIRS:
        parts = [_chords_dense(poly, ts[blk]) for blk in _blocks(len(ts), len(poly))]
        return tuple(np.concatenate(x) for x in zip(*parts, strict=True))  # type: ignore[return-value]
    u, v = poly[:, 0], poly[:, 1]
    u2, v2 = _next(u), _next(v)
    t = ts[:, None]
    crosses = (u <= t) != (u2 <= t)  # half-open: each vertex counted once
    with np.errstate(divide="ignore", invalid="ignore"):
        vv = v + (t - u) * (v2 - v) / (u2 - u)
    vs = np.sort(np.where(crosses, vv, np.inf), axis=1)
    n = crosses.sum(axis=1)
    finite = np.where(np.isfinite(vs), vs, 0.0)
    sign = np.where(np.arange(vs.shape[1]) % 2 == 0, -1.0, 1.0)
    lengths = (finite * sign).sum(axis=1)
    hit = n >= 2
    lengths[~hit] = 0.0
    rows = np.arange(len(t))
    v_lo = np.where(hit, vs[:, 0], np.nan)
    v_hi = np.where(hit, vs[rows, np.maximum(n - 1, 0)], np.nan)
    return lengths, v_lo, v_hi


def boundary_reach(polyline: np.ndarray) -> float:
    """How far a safety boundary counts beyond its drawn ends: half its length + 5 units.

    A contrast line or VILL is drawn over part of what the image shows; a tip that
    passes within this reach of its end still crosses it, one beside another
    level's line does not.
    """
    return 0.5 * polyline_length(as_points(polyline)) + 5.0
