"""Pairing attempt annotations with reference annotations.

Annotations are grouped by a key (frame for vertebrae; type, frame, level and
side for the rest) and, inside a group, paired by position with the Hungarian
algorithm (:func:`scipy.optimize.linear_sum_assignment`) on the distance in mm
between their centres. Pairs farther apart than a gate stay unmatched: they are
a missed reference annotation and an extra attempt annotation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from flannot.model import rle


def centre(ann: Any) -> np.ndarray | None:
    """Centre ``[row, col]`` (pixels) of an annotation, ``None`` when it has no position.

    The point itself, the mean of the vertices of a line, path or polygon (a
    vertebra's four corners), the centre of a rectangle, or the centroid of a mask.
    """
    geom = ann.geometry
    if geom.kind == "mask":
        m = rle.decode(geom.mask) if geom.mask else None
        if m is None or not m.any():
            return None
        return np.argwhere(m).mean(axis=0).astype(float)
    pts = np.asarray(geom.points, float)
    if pts.ndim != 2 or len(pts) == 0 or not np.isfinite(pts).all():
        return None
    return pts.mean(axis=0)


@dataclass
class Matching:
    """Result of :func:`match`: index pairs into the two input lists and the leftovers."""

    pairs: list[tuple[int, int]] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)  # reference annotations without a partner
    extra: list[int] = field(default_factory=list)  # attempt annotations without a partner


def assign(
    ref_pos: list[np.ndarray | None],
    att_pos: list[np.ndarray | None],
    spacing: tuple[float, float],
    gate: float = math.inf,
) -> Matching:
    """Minimum-total-distance pairing of two sets of positions (pixels), distances in mm.

    Positions that are ``None`` never pair. A pair farther apart than ``gate``
    (same unit as the spacing) is dropped.
    """
    out = Matching()
    ri = [i for i, p in enumerate(ref_pos) if p is not None]
    ai = [j for j, p in enumerate(att_pos) if p is not None]
    if ri and ai:
        sp = np.asarray(spacing, float)
        r = np.array([ref_pos[i] for i in ri]) * sp
        a = np.array([att_pos[j] for j in ai]) * sp
        cost = np.hypot(*(r[:, None, :] - a[None, :, :]).transpose(2, 0, 1))
        # a finite stand-in for "never": keeps the assignment solvable
        big = 1e6 + 10 * float(cost.max())
        rows, cols = linear_sum_assignment(np.where(cost <= gate, cost, big))
        for k, m in zip(rows, cols, strict=True):
            if cost[k, m] <= gate:
                out.pairs.append((ri[k], ai[m]))
    paired_r = {i for i, _ in out.pairs}
    paired_a = {j for _, j in out.pairs}
    out.missed = [i for i in range(len(ref_pos)) if i not in paired_r]
    out.extra = [j for j in range(len(att_pos)) if j not in paired_a]
    return out


def group(items: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, list[Any]]:
    """Items by ``key`` (any hashable value), in input order."""
    out: dict[Any, list[Any]] = {}
    for it in items:
        out.setdefault(key(it), []).append(it)
    return out


def vertebra_gate(ref_pos: list[np.ndarray | None], spacing: tuple[float, float]) -> float:
    """Largest distance at which an attempt vertebra still counts as marking a reference one.

    Half the median distance between neighbouring reference vertebrae of the
    frame (a mark nearer to another vertebra than halfway marks that one); no
    limit when the frame has a single reference vertebra.
    """
    pts = [p for p in ref_pos if p is not None]
    if len(pts) < 2:
        return math.inf
    mm = np.array(pts) * np.asarray(spacing, float)
    d = np.hypot(*(mm[:, None, :] - mm[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    nearest = d.min(axis=1)
    return 0.5 * float(np.median(nearest))
