"""One annotation and its geometry (SPEC §3).

Points are ``(N, 2)`` float64 NumPy arrays of ``[row, col]`` inside flannot and
JSON lists outside; floats are written with ``repr`` precision so a load/save
round trip is exact. Keys this version does not know (``x_…`` extensions, or
fields from a newer minor version) are kept in ``extra`` and written back.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from flannot.enums import StrEnum
from flannot.model import rle
from flannot.model.levels import normalize_level

__all__ = ["GEOMETRY_KINDS", "Annotation", "Geometry", "GeometryKind", "utc_now"]


#: Geometry kinds of the case format.
class GeometryKind(StrEnum):
    """How an annotation is drawn (SPEC §3)."""

    POINT = "point"
    LINE = "line"
    PATH = "path"
    POLYGON = "polygon"
    RECTANGLE = "rectangle"
    MASK = "mask"


GEOMETRY_KINDS: tuple[str, ...] = tuple(k.value for k in GeometryKind)


def utc_now() -> str:
    """The current time as ISO 8601 UTC with a ``Z`` suffix, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _points_array(points: ArrayLike | None) -> NDArray[np.float64]:
    if points is None:
        return np.zeros((0, 2), dtype=np.float64)
    arr = np.array(points, dtype=np.float64)  # a copy: callers keep their array
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if arr.ndim == 1 and arr.shape[0] == 2:
        arr = arr.reshape(1, 2)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"points must be an (N, 2) array of [row, col], not shape {arr.shape}")
    return arr


@dataclass(eq=False)
class Geometry:
    """Where an annotation is.

    Attributes
    ----------
    kind
        One of :data:`GEOMETRY_KINDS`.
    points
        ``(N, 2)`` float64 ``[row, col]`` pixel coordinates (origin at the centre of
        the top-left pixel). Empty for ``mask``.
    mask
        COCO RLE dict ``{"size": [rows, cols], "counts": str | list[int]}`` for
        kind ``mask``; ``None`` otherwise.
    extra
        Unknown geometry keys, preserved on save.
    """

    kind: str
    points: NDArray[np.float64] = field(default_factory=lambda: np.zeros((0, 2)))
    mask: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.points = _points_array(self.points)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Geometry):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.points.shape == other.points.shape
            and bool(np.array_equal(self.points, other.points, equal_nan=True))
            and self.mask == other.mask
            and self.extra == other.extra
        )

    # constructors -----------------------------------------------------------------
    @classmethod
    def from_mask(cls, mask: ArrayLike, **extra: Any) -> Geometry:
        """A ``mask`` geometry from a 2-D boolean array (stored as compressed COCO RLE)."""
        return cls("mask", mask=rle.encode(mask), extra=dict(extra))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Geometry:
        """Build from JSON: ``{"kind": …, "points": […]}`` or ``{"kind": "mask", "mask": {…}}``."""
        mask = data.get("mask")
        return cls(
            kind=str(data["kind"]),
            # a list: __post_init__ makes it an array (converting here too was a second copy)
            points=data.get("points"),  # type: ignore[arg-type]
            # (is None first: isinstance of an ABC costs ~0.3 µs, a load makes thousands)
            mask=dict(mask) if mask is not None and isinstance(mask, Mapping) else None,
            extra=_unknown(data, _GEOMETRY_KEYS),
        )

    # views --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form; points as lists of Python floats (exact ``repr`` round trip)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind != "mask" or len(self.points):
            out["points"] = self.points.tolist()
        if self.mask is not None:
            out["mask"] = dict(self.mask)
        out.update(self.extra)
        return out

    def to_mask(self) -> NDArray[np.bool_]:
        """The decoded boolean mask of a ``mask`` geometry.

        Raises
        ------
        ValueError
            Not a mask, or malformed RLE.
        """
        if self.mask is None:
            raise ValueError(f"a {self.kind} geometry has no mask")
        return rle.decode(self.mask)

    def centre(self) -> NDArray[np.float64] | None:
        """``[row, col]`` of the point, the mean of the vertices, or the mask centroid."""
        if self.kind == "mask" and self.mask is not None:
            m = self.to_mask()
            rr, cc = np.nonzero(m)
            if rr.size == 0:
                return None
            return np.array([rr.mean(), cc.mean()])
        if len(self.points) == 0:
            return None
        return self.points.mean(axis=0)

    def copy(self) -> Geometry:
        return Geometry(
            self.kind,
            self.points.copy(),
            None if self.mask is None else dict(self.mask),
            dict(self.extra),
        )


_GEOMETRY_KEYS = frozenset({"kind", "points", "mask"})


def _unknown(data: Mapping[str, Any], known: frozenset[str]) -> dict[str, Any]:
    """The items of ``data`` whose key is not ``known``, in order."""
    if data.keys() <= known:  # the common case, tested in C
        return {}
    return {k: v for k, v in data.items() if k not in known}


# keys of an annotation object that map onto Annotation fields, in writing order
_ANNOTATION_KEYS = (
    "id",
    "type",
    "level",
    "side",
    "instrument",
    "part",
    "length_mm",
    "image",
    "frame",
    "geometry",
    "note",
    "author",
    "created",
    "modified",
)
_ANNOTATION_KEY_SET = frozenset(_ANNOTATION_KEYS)


@dataclass
class Annotation:
    """One annotated structure (SPEC §3).

    Attributes
    ----------
    id
        Stable identifier, unique within the case.
    type
        Annotation type of the case's protocol (``vertebra``, ``ligamentum_flavum`` …).
    geometry
        Where it is.
    frame
        0-based frame of a multi-frame (cine) image.
    level
        Canonical level (``L4``, ``L4-L5``); an unrecognised spelling is kept as
        written so that validation can report it.
    side, instrument, part, length_mm
        Protocol attributes (``left``/``right``; cannula instrument; ``superior`` /
        ``inferior`` articular process; calibration length).
    image
        ``None`` for the case's image; ``"planning"`` for its axial CT/MR planning
        slice (SPEC §3), where published MR/CT criteria apply.
    note, author, created, modified
        Free text and provenance (ISO 8601 UTC strings).
    extra
        Unknown keys, preserved on save.
    """

    id: str
    type: str
    geometry: Geometry
    frame: int = 0
    level: str | None = None
    side: str | None = None
    instrument: str | None = None
    length_mm: float | None = None
    note: str = ""
    part: str | None = None
    image: str | None = None
    author: str | None = None
    created: str | None = None
    modified: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.level is not None:
            self.level = _normalise_level_lenient(self.level)
        if isinstance(self.side, str):
            self.side = self.side.strip().lower()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Annotation:
        """Build from the JSON form (schema-valid data; see :mod:`flannot.model.validate`)."""
        length = data.get("length_mm")
        return cls(
            id=str(data["id"]),
            type=str(data["type"]),
            geometry=Geometry.from_dict(data["geometry"]),
            frame=int(data.get("frame", 0)),
            level=data.get("level"),
            side=data.get("side"),
            instrument=data.get("instrument"),
            length_mm=None if length is None else float(length),
            note=data.get("note") or "",
            part=data.get("part"),
            image=data.get("image"),
            author=data.get("author"),
            created=data.get("created"),
            modified=data.get("modified"),
            extra=_unknown(data, _ANNOTATION_KEY_SET),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; unset optional fields are left out, unknown keys come last."""
        values = {
            "id": self.id,
            "type": self.type,
            "level": self.level,
            "side": self.side,
            "instrument": self.instrument,
            "part": self.part,
            "length_mm": self.length_mm,
            "image": self.image,
            "frame": int(self.frame),
            "geometry": self.geometry.to_dict(),
            "note": self.note or None,
            "author": self.author,
            "created": self.created,
            "modified": self.modified,
        }
        out = {k: v for k, v in values.items() if v is not None}
        out.update(self.extra)
        return out

    def touch(self, author: str | None = None) -> None:
        """Mark as changed now (sets ``modified``, and ``author`` when given)."""
        self.modified = utc_now()
        if self.created is None:
            self.created = self.modified
        if author is not None:
            self.author = author

    @property
    def label(self) -> str:
        """Short human label such as ``L4-L5 left`` (used for napari text and reports)."""
        parts = [p for p in (self.level, self.side, self.part, self.instrument) if p]
        if self.length_mm is not None and math.isfinite(self.length_mm):
            parts.append(f"{self.length_mm:g} mm")
        return " ".join(parts) or self.type


def _normalise_level_lenient(level: Any) -> Any:
    """Canonical spelling when recognised, else the value as written (validation reports it)."""
    if type(level) is str:  # a case spells a dozen levels a few times each
        return _normalise_spelling(level)
    try:
        return normalize_level(level)
    except ValueError:
        return level


@functools.lru_cache(maxsize=512)
def _normalise_spelling(level: str) -> str:
    try:
        return normalize_level(level)
    except ValueError:
        return level
