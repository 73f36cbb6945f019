"""What every per-type measure needs: units, neighbours in the frame, cached rasters."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flannot.measure import geometry as g
from flannot.measure import kernels, regions
from flannot.measure.units import Units
from flannot.model import rle
from flannot.model.levels import normalize_level

REGION_KINDS = ("polygon", "rectangle", "mask")


def norm_level(level: Any) -> str | None:
    """Canonical level name (``L4/L5`` → ``L4-L5``); unknown spellings are kept as given."""
    if level is None or level == "":
        return None
    return _canonical_level(str(level))


@functools.lru_cache(maxsize=1024)
def _canonical_level(text: str) -> str:
    # a set's few level spellings come back thousands of times; the regexes ran each time
    try:
        return normalize_level(text)
    except ValueError:
        return text


@dataclass
class Region:
    """A polygon or mask annotation ready to measure.

    ``polygon`` is the exact outline for polygons (``None`` for masks);
    ``outline`` is the polygon or, for masks, the traced and simplified outline.
    The supersampled raster and its distance map are built on first use only
    (canals and interlaminar spaces are measured on the outline alone).
    """

    polygon: np.ndarray | None
    outline: np.ndarray
    mask: np.ndarray | None
    spacing: tuple[float, float]
    _raster: regions.Raster | None = None
    _dist: np.ndarray | None = None

    @property
    def raster(self) -> regions.Raster:
        if self._raster is None:
            if self.polygon is not None:
                self._raster = regions.rasterize_polygon(self.polygon, self.spacing)
            else:
                assert self.mask is not None  # a Region has a polygon or a mask
                self._raster = regions.rasterize_mask(self.mask, self.spacing)
        assert self._raster is not None
        return self._raster

    @property
    def dist(self) -> np.ndarray:
        """Distance map (mm) of the raster's inside cells.

        A polygon only needs it to find the ridge (the values are then replaced
        by distances to its exact edges), so the plain EDT does; a mask gets the
        half-cell bias correction.
        """
        if self._dist is None:
            if self.polygon is not None:
                r = self.raster
                self._dist = kernels.distance_transform_edt(r.mask, sampling=r.cell_mm)
            else:
                self._dist = regions.boundary_distance(self.raster)
        return self._dist


def rasterize_together(todo: list[Region]) -> None:
    """Build the rasters of many polygon regions at once, as each would on first use.

    :func:`flannot.measure.regions.rasterize_polygons`: the same rasters as
    ``region.raster`` builds one by one, for a set's hundreds of small bands.
    """
    new = [r for r in todo if r._raster is None and r.polygon is not None]
    if not new:
        return
    built = regions.rasterize_polygons(
        [r.polygon for r in new if r.polygon is not None], [r.spacing for r in new]
    )
    for region, raster in zip(new, built, strict=True):
        region._raster = raster


@dataclass
class Context:
    """The annotations of one image of a case being measured.

    Attributes
    ----------
    case_id
        The case.
    units
        Spacing and calibration of this image.
    annotations
        Every annotation on this image.
    protocol
        The case's protocol (``None`` for a bare context: then only what the
        caller asks is measured).
    planning
        ``True`` when the image is an axial CT/MR planning slice: only there do
        ``planning_only`` criteria apply (SPEC §4).
    """

    case_id: str
    units: Units
    annotations: list[Any]
    protocol: Any = None
    planning: bool = False
    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    _regions: dict[int, Region | None] = field(default_factory=dict)
    #: ``(max, mean)`` thickness of band annotations measured ahead, together (by ``id``)
    bands: dict[int, tuple[float, float]] = field(default_factory=dict)
    _masks: dict[int, np.ndarray | None] = field(default_factory=dict)
    _polygons: dict[int, np.ndarray | None] = field(default_factory=dict)
    _index: dict[tuple[int, str], list[tuple[str | None, Any]]] | None = None
    #: what a measurement kind derives from one annotation and reuses (a cannula's ends,
    #: a boundary prepared for its tips), by ``(what, id(annotation))``
    memo: dict[tuple[str, int], Any] = field(default_factory=dict)

    @property
    def spacing(self) -> tuple[float, float]:
        return self.units.spacing

    def find(
        self, frame: int, type_: str, level: str | None = None, side: Any = ..., *, any_level=False
    ) -> list[Any]:
        """Annotations of ``type_`` in ``frame`` with the same level (and side unless ``...``)."""
        if self._index is None:  # (frame, type) -> [(level, annotation)], built once
            self._index = {}
            for a in self.annotations:
                key = (int(a.frame or 0), a.type)
                self._index.setdefault(key, []).append((norm_level(a.level), a))
        out = []
        for lvl, a in self._index.get((int(frame or 0), type_), ()):
            if not any_level and lvl != level:
                continue
            if side is not ... and getattr(a, "side", None) != side:
                continue
            out.append(a)
        return out

    def value(self, ann: Any, name: str | None) -> Any:
        """A value already measured for ``ann`` (``None`` when it was not)."""
        return None if name is None else self.values.get((str(ann.id), name))

    def targets(self, ann: Any, type_: str | None, match: str = "level_side") -> list[Any]:
        """Annotations of ``type_`` in ``ann``'s frame that a measurement relates to it.

        ``match`` is ``"any"`` (any level or side), ``"level"`` (the same level; for
        an interspace ``L4-L5`` also the vertebrae ``L4`` and ``L5``) or
        ``"level_side"`` (same level and side).
        """
        if not type_:
            return []
        frame = int(ann.frame or 0)
        if match == "any":
            return self.find(frame, type_, any_level=True)
        level = norm_level(ann.level)
        if match == "level":
            levels = [level]
            if level and "-" in level:
                levels += level.split("-", 1)
            out: list[Any] = []
            for lvl in levels:
                out += [a for a in self.find(frame, type_, lvl) if a not in out]
            return out
        return self.find(frame, type_, level, ann.side)

    def mask(self, ann: Any) -> np.ndarray | None:
        """The decoded full-image mask of a ``mask`` annotation (``None`` if empty)."""
        key = id(ann)
        if key not in self._masks:
            rle_dict = ann.geometry.mask
            m = rle.decode(rle_dict) if rle_dict else None
            self._masks[key] = m if m is not None and m.any() else None
        return self._masks[key]

    def polygon(self, ann: Any) -> np.ndarray | None:
        """Polygon vertices (pixels) of a polygon/rectangle annotation, ``None`` otherwise.

        Cached: a region is asked for by every tip measured against it.
        """
        key = id(ann)
        if key not in self._polygons:
            self._polygons[key] = self._polygon(ann)
        return self._polygons[key]

    @staticmethod
    def _polygon(ann: Any) -> np.ndarray | None:
        geom = ann.geometry
        if geom.kind not in ("polygon", "rectangle"):
            return None
        pts = g.as_points(geom.points)
        if geom.kind == "rectangle" and len(pts) == 2:  # two opposite corners
            (r0, c0), (r1, c1) = pts
            pts = np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]], float)
        if len(pts) < 3 or not np.isfinite(pts).all() or g.polygon_area(pts) <= 0:
            return None
        return pts

    def region(self, ann: Any) -> Region | None:
        """The :class:`Region` of a polygon/rectangle/mask annotation (cached)."""
        key = id(ann)
        if key in self._regions:
            return self._regions[key]
        region = None
        if ann.geometry.kind == "mask":
            m = self.mask(ann)
            if m is not None:
                from skimage.measure import approximate_polygon  # heavy: only for masks

                contour = regions.mask_contour(m)
                if contour is not None:
                    # the traced staircase, simplified to within half a pixel
                    outline = approximate_polygon(contour, tolerance=0.5)
                    region = Region(None, outline, m, self.spacing)
        else:
            poly = self.polygon(ann)
            if poly is not None:
                region = Region(poly, poly, None, self.spacing)
        self._regions[key] = region
        return region

    def area(self, region: Region) -> float:
        """Area in mm² (px² uncalibrated): exact for polygons, pixel count for masks."""
        sr, sc = self.spacing
        if region.polygon is not None:
            return g.polygon_area(region.polygon) * sr * sc
        assert region.mask is not None  # a Region has a polygon or a mask
        return float(np.count_nonzero(region.mask)) * sr * sc

    def cells_inside(self, ann: Any, raster: regions.Raster) -> np.ndarray | None:
        """Which cells of ``raster``'s grid lie inside annotation ``ann``'s region."""
        if ann.geometry.kind == "mask":
            m = self.mask(ann)
            if m is None:
                return None
            ii = np.rint(raster.origin[0] + np.arange(raster.mask.shape[0]) * raster.step[0])
            jj = np.rint(raster.origin[1] + np.arange(raster.mask.shape[1]) * raster.step[1])
            ok_i = (ii >= 0) & (ii < m.shape[0])
            ok_j = (jj >= 0) & (jj < m.shape[1])
            out = np.zeros(raster.mask.shape, bool)
            sub = m[np.ix_(ii[ok_i].astype(int), jj[ok_j].astype(int))]
            out[np.ix_(ok_i, ok_j)] = sub
            return out
        poly = self.polygon(ann)
        return None if poly is None else regions.draw_polygon(raster, poly)

    def contains(self, ann: Any, point_px: np.ndarray) -> bool | None:
        """Whether ``point_px`` lies inside the region of ``ann`` (``None``: no region)."""
        if ann.geometry.kind == "mask":
            m = self.mask(ann)
            if m is None:
                return None
            r, c = np.rint(point_px).astype(int)
            return bool(0 <= r < m.shape[0] and 0 <= c < m.shape[1] and m[r, c])
        poly = self.polygon(ann)
        if poly is None:
            return None
        return bool(g.points_in_polygon(np.asarray(point_px, float)[None], poly)[0])
