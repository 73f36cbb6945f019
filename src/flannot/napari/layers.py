"""Case ↔ napari layers: one layer per annotation type, attributes in ``layer.features``.

Layout
------
* The image: an Image layer whose ``scale`` is the pixel spacing in mm (only when
  calibrated; 1 pixel otherwise) with matching ``units``, so napari's scale bar is
  right. A cine is 3-D ``(frame, row, col)``; a single frame is 2-D (no slider).
* Annotations: one layer per type, named ``"flannot: <type>"``. Types drawn as
  lines/paths/polygons/rectangles use a Shapes layer; point types a Points layer.
  A type allowing both families (the vertebra: centre point or 4-corner polygon)
  gets its second family in ``"flannot: <type> (shapes)"`` / ``"... (points)"``.
* Data stay in pixel coordinates ``[row, col]`` (the case file's order); for a
  cine each vertex is ``[frame, row, col]`` so scrubbing shows that frame's
  annotations. Layer scales equal the image's so shapes line up in mm space.
* ``layer.features`` columns: ``id level side part instrument length_mm note author
  created modified extra geometry_extra label`` — ``extra``/``geometry_extra``
  are the annotation's and its geometry's unknown keys as JSON (kept for round
  trips), ``label`` the text drawn next to the shape.
* Rectangles: napari keeps 4 vertices; a rectangle stored with 2 corners is
  written back with 2 corners while it stays axis-aligned.
* Masks have no shapes equivalent: they are kept aside unchanged ("pass-through")
  and written back on save.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    import napari

    from flannot.io.image import FluoroImage
    from flannot.model.annotation import Annotation
    from flannot.model.case import Case
    from flannot.napari.session import Session
    from flannot.protocols import Protocol

LAYER_PREFIX = "flannot: "
LABEL_FORMAT = "{label}"
MEASURE_METADATA = "flannot_measure"  # {id: "4.1 mm"}: the Measure dock's label values
FEATURE_COLUMNS = (
    "id",
    "level",
    "side",
    "part",  # superior / inferior articular process: a declared, type-specific attribute
    "instrument",
    "length_mm",
    "note",
    "author",
    "created",
    "modified",
    "extra",
    "geometry_extra",
    "label",
)
SHAPE_KINDS = {"line": "line", "path": "path", "polygon": "polygon", "rectangle": "rectangle"}


# ---------------------------------------------------------------------------- naming
def family(kind: str) -> str | None:
    """``"points"``, ``"shapes"`` or ``None`` (masks: not shown as a layer)."""
    if kind == "point":
        return "points"
    if kind in SHAPE_KINDS:
        return "shapes"
    return None


def primary_kind(protocol: Protocol, type_name: str) -> str:
    """The geometry kind the dock draws first for ``type_name``."""
    try:
        return protocol.type(type_name).geometries[0]
    except KeyError:
        return "polygon"


def layer_key(protocol: Protocol, type_name: str, kind: str | None = None) -> str:
    """Key of the layer holding ``type_name`` annotations of geometry ``kind``.

    The type's first geometry family gets the bare type name; the other family
    gets ``"<type> (shapes)"`` or ``"<type> (points)"``.
    """
    main = family(primary_kind(protocol, type_name)) or "shapes"
    fam = family(kind or primary_kind(protocol, type_name)) or "shapes"
    return type_name if fam == main else f"{type_name} ({fam})"


def key_type(key: str) -> str:
    """The annotation type of a layer key."""
    return key.split(" (", 1)[0]


def layer_name(key: str) -> str:
    return f"{LAYER_PREFIX}{key}"


def structure_name(atype: Any) -> str:
    """The structure's name in a canvas label, from the protocol's ``title`` and ``short``.

    An abbreviation the title spells out wins (``"... (VILL)"`` → ``VILL``); a two-word
    title with a two-letter short id reads as the initials clinicians use (``LF``,
    ``SC``); a one-letter short id (the vertebra, the cannula) gets no name, its level or
    instrument says what it is; otherwise the title without a trailing "line".
    """
    if atype is None:
        return ""
    title = str(getattr(atype, "title", "") or "")
    short = str(getattr(atype, "short", "") or "")
    spelled = re.search(r"\(([A-Z]{2,6})\)", title)
    if spelled:
        return spelled.group(1)
    if len(short) == 1:
        return ""
    if len(short) == 2 and len(title.split()) == 2:
        return short.upper()
    return title.removesuffix(" line") if " " in title else title


def label_for(type_name: str, row: dict[str, Any], name: str = "") -> str:
    """Text drawn next to an annotation, e.g. ``"LF L4-L5 left"`` or ``"10 mm (calibration)"``.

    ``name`` is the structure's :func:`structure_name`. A ``part`` qualifies an
    abbreviation the way clinicians write it: the superior and inferior articular
    processes read ``SAP`` and ``IAP`` (a bare ``AP`` would read as the AP view).
    """
    part = str(_clean(row.get("part")) or "")
    if part and name.isupper():
        name = part[0].upper() + name
    parts = [name] + [str(_clean(row.get(k)) or "") for k in ("level", "side", "instrument")]
    text = " ".join(p.replace("_", " ") for p in parts if p)
    length = _clean(row.get("length_mm"))
    if length not in (None, ""):  # only a calibration line carries a known length
        text = f"{float(length):g} mm (calibration)"
    return text


# ---------------------------------------------------------------------------- image
def layer_ndim(image: FluoroImage | None) -> int:
    """2 for a single frame, 3 (frame, row, col) for a cine."""
    return 3 if image is not None and image.n_frames > 1 else 2


def image_scale(image: FluoroImage) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Layer ``scale`` and ``units``: mm whenever the image has a spacing, else pixels.

    The scale bar then agrees with the Measure table, which shows mm for every
    calibration but ``uncalibrated``. Where those mm are not patient-plane mm
    (``detector_plane``, ``pixel_spacing``) the layer name, the dock and every
    measurement carry the calibration and its warning (SPEC §2).
    """
    if image.spacing_mm is not None and image.calibration != "uncalibrated":
        scale: tuple[float, ...] = (float(image.spacing_mm[0]), float(image.spacing_mm[1]))
        units: tuple[str, ...] = ("mm", "mm")
    else:
        scale, units = (1.0, 1.0), ("pixel", "pixel")
    if layer_ndim(image) == 3:
        scale, units = (1.0, *scale), ("pixel", *units)
    return scale, units


def axis_labels(ndim: int) -> tuple[str, ...]:
    """Names of the layer axes, so the cine slider says "frame" (napari's default is "-3")."""
    return ("frame", "row", "col")[-ndim:]


def image_layer_name(image: FluoroImage) -> str:
    stem = Path(str(image.path)).name or "image"
    spacing = (
        f"{image.spacing_mm[1]:.3g} mm/px {image.calibration}"
        if image.spacing_mm is not None
        else "uncalibrated, pixels"
    )
    return f"{stem} [{image.view}, {spacing}]"


def image_metadata(image: FluoroImage) -> dict[str, Any]:
    return {
        "flannot_image": True,
        "calibration": image.calibration,
        "calibration_note": image.calibration_note,
        "spacing_mm": None if image.spacing_mm is None else tuple(image.spacing_mm),
        "view": image.view,
        "path": str(image.path),
    }


def _frame_data(image: FluoroImage) -> Any:
    """A 2-D frame for single-frame images, else a lazy dask array (one chunk per frame)
    and the :class:`~flannot.napari.cine.ReadAhead` under it."""
    frames = image.frames
    if image.n_frames == 1:
        return np.asarray(frames[0])
    import dask.array as da

    from flannot.napari.cine import ReadAhead

    chunks = (1, *tuple(frames.shape[1:]))
    reader = ReadAhead(frames)  # decodes ahead while the cine plays (napari/cine.py)
    data = da.from_array(reader, chunks=chunks, asarray=True, fancy=False, lock=False)
    return data, reader


def contrast_limits(image: FluoroImage, first_frame: np.ndarray | None = None) -> list[float]:
    """Centre ± width/2 of the first window preset, else the frame's 0.5–99.5 percentiles."""
    windows = list(getattr(image, "windows", None) or [])
    if windows:
        w = windows[0]
        lo, hi = float(w.center) - float(w.width) / 2, float(w.center) + float(w.width) / 2
        if hi > lo:
            return [lo, hi]
    frame = np.asarray(image.frames[0]) if first_frame is None else first_frame
    lo, hi = (float(v) for v in np.percentile(frame, [0.5, 99.5]))
    return [lo, hi if hi > lo else lo + 1.0]


def make_image_layer(image: FluoroImage) -> Any:
    """The Image layer for ``image`` (scale, units, window, calibration metadata), not added."""
    from napari.layers import Image

    data = _frame_data(image)
    reader = None
    if isinstance(data, tuple):
        data, reader = data
    scale, units = image_scale(image)
    kwargs: dict[str, Any] = {}
    if image.is_rgb:
        kwargs["rgb"] = True
    else:
        first = data if image.n_frames == 1 else None
        kwargs["contrast_limits"] = contrast_limits(image, first)
        kwargs["colormap"] = "gray"
    return Image(
        data,
        name=image_layer_name(image),
        scale=scale,
        units=units,
        axis_labels=axis_labels(layer_ndim(image)),
        metadata={**image_metadata(image), "flannot_frames": reader},
        **kwargs,
    )


def add_image_layer(viewer: napari.Viewer, image: FluoroImage) -> Any:
    """Add ``image`` as an Image layer to ``viewer`` and return the layer."""
    return viewer.add_layer(make_image_layer(image))


def apply_image_calibration(session: Session) -> None:
    """Push the session image's spacing to the image layer and every annotation layer."""
    image = session.image
    scale, units = image_scale(image)
    layers = [session.image_layer, *session.annotation_layers().values()]
    for layer in layers:
        if layer is None:
            continue
        layer.scale = scale
        layer.units = units
    if session.image_layer is not None:
        session.image_layer.name = image_layer_name(image)
        session.image_layer.metadata.update(image_metadata(image))
    session.viewer.reset_view()


def refill_image_layer(layer: Any, new: Any) -> bool:
    """Give the live image ``layer`` the content of the unadded ``new``; ``False`` if it cannot.

    Reusing the layer (and its vispy visual) instead of replacing it is what keeps
    switching cases fast: a new layer costs shader compiles, Qt controls and a
    ``gc.collect()`` in napari for the removed one. A cine after a single frame (or the
    reverse) keeps the layer too: napari re-derives its dimensions from the data.
    """
    if type(layer) is not type(new) or layer.rgb != new.rgb:
        return False
    old_reader = layer.metadata.get("flannot_frames")
    layer.data = new.data  # napari re-derives the dimensions: a cine after a frame is fine
    _set_scale(layer, tuple(new.scale), tuple(new.units))
    if tuple(layer.axis_labels) != tuple(new.axis_labels):
        layer.axis_labels = new.axis_labels
    if old_reader is not None and old_reader is not new.metadata.get("flannot_frames"):
        old_reader.close()  # the last cine's read-ahead thread
    if not new.rgb:
        layer.contrast_limits_range = new.contrast_limits_range
        layer.contrast_limits = new.contrast_limits
    layer.metadata.clear()
    layer.metadata.update(new.metadata)
    layer.name = new.name
    return True


def refill_layer(layer: Any, new: Any) -> bool:
    """Give the live annotation ``layer`` the content of the unadded ``new`` (same layer key).

    Returns ``False`` (nothing changed) when ``layer`` cannot take it: another layer type or
    another number of dimensions (a cine's layers are 3-D). See :func:`refill_image_layer`.
    """
    if type(layer) is not type(new) or layer.ndim != new.ndim:
        return False
    layer.selected_data = set()
    layer.scale = new.scale
    layer.units = new.units
    if hasattr(new, "shape_type"):
        layer.current_edge_width = new.current_edge_width
        layer.data = list(zip(new.data, new.shape_type, strict=True))
        if len(new.data):
            layer.edge_width = list(new.edge_width)
            layer.edge_color = new.edge_color
            layer.face_color = new.face_color
    else:
        layer.current_size = float(np.asarray(new.size).ravel()[0]) if len(new.data) else 1.0
        layer.data = new.data
        if len(new.data):
            layer.size = new.size
            layer.face_color = new.face_color
    layer.features = new.features
    layer.feature_defaults = new.feature_defaults
    layer.metadata.clear()
    layer.metadata.update(new.metadata)
    layer.text = new.text.model_dump()  # plain "{label}": the Measure dock adds values again
    layer.refresh_text()
    layer.visible = new.visible
    return True


def fill_layer(
    session: Session,
    layer: Any,
    type_name: str,
    kind: str,
    annotations: list[Annotation],
    visibility: dict[Any, bool] | None = None,
) -> bool:
    """Put ``annotations`` into the live ``layer`` directly (no throwaway layer).

    The fast path of a case switch: building a napari layer costs tens of milliseconds
    (and a vispy visual with its shaders), and most of a protocol's layers are empty in
    one case and the next, when only the features table and metadata change. A Shapes
    layer of another number of dimensions (a single frame after a cine, or the reverse)
    is reshaped in place: napari re-derives its dimensions from its first shape. Returns
    ``False`` (nothing changed) when the layer cannot hold them: another family, or a
    Points layer of another number of dimensions (napari fixes those at creation).

    With ``visibility`` the layer's new visibility (shown when it holds annotations, see
    :func:`show_when_used`) is put there for the caller to apply once every layer is
    filled, else it is applied at once: each change redraws the scene in napari.
    """
    ndim = layer_ndim(session.image)
    points = family(kind) == "points"
    if points == hasattr(layer, "shape_type"):
        return False
    reshape = layer.ndim != ndim
    # napari's Points keep the ndim they were made with: an empty single-frame point layer
    # stays as it is under a cine (hidden, it shows nothing; Session.annotation_layer makes
    # it 3-D the moment it is used), any other has to be built again
    lower = reshape and points and not annotations and not len(layer.data) and layer.ndim < ndim
    if reshape and points and not lower:
        return False
    if lower:
        reshape, ndim = False, layer.ndim
    protocol = session.protocol
    atype = protocol.find_type(type_name)
    color = atype.color if atype is not None else "#ffff00"
    scale, units = image_scale(session.image)
    scale, units = scale[-ndim:], units[-ndim:]  # a kept lower point layer: its own axes
    name = structure_name(protocol.find_type(type_name))
    rows = [_features_row(type_name, a, name) for a in annotations]
    style = _style(session)
    if layer.selected_data:
        layer.selected_data = set()
    if visibility is None and annotations and not layer.visible:
        layer.visible = True  # shown first: then the data set below re-slice it
    if not reshape:
        _set_scale(layer, scale, units)
    ours = MEASURE_METADATA in layer.metadata  # the Measure dock's strings, one per row
    empty_stays_empty = not annotations and not len(layer.data) and not reshape
    plain = getattr(layer.text.string, "format", None) == LABEL_FORMAT
    text_anchor = "center" if points else None
    if reshape or (not plain and not (ours and empty_stays_empty)):
        # before the rows change: the dock's strings are one per old row; plain "{label}"
        # until the Measure dock adds the values again
        # (no offset while reshaping: napari reads it per axis, of the old or new count)
        offset = None if reshape else _label_offset(atype, kind, ndim, style)
        layer.text = _text(atype, color, offset, anchor=text_anchor)
    if not empty_stays_empty:
        if points:
            layer.current_size = style["point_size"]
            layer.data = np.array([_coords(a, ndim)[0] for a in annotations], dtype=float).reshape(
                -1, ndim
            )
            if annotations:
                layer.size = style["point_size"]
                layer.face_color = color
        else:
            layer.current_edge_width = style["edge_width"]
            if reshape and not annotations:
                # an empty Shapes layer keeps its dimensions: give it one shape of the new
                # ones first (napari takes a Shapes layer's ndim from its first shape)
                layer.data = [(np.zeros((2, ndim)), "line")]
            layer.data = [(_coords(a, ndim), SHAPE_KINDS[a.geometry.kind]) for a in annotations]
            if annotations:
                filled = 0.18 if kind in ("polygon", "rectangle") else 0.0
                layer.edge_width = style["edge_width"]
                layer.edge_color = color
                layer.face_color = _transparent(color, filled)
        if reshape:
            _set_scale(layer, scale, units)
            layer.axis_labels = axis_labels(ndim)
            layer.text = _text(
                atype, color, _label_offset(atype, kind, ndim, style), anchor=text_anchor
            )
        layer.features = _features_frame(rows)
        layer.refresh_text()
    elif len(layer.features):
        layer.features = _features_frame(rows)
    defaults = default_features(type_name)
    current = layer.feature_defaults
    if len(current) != 1 or any(
        _clean(current[c].iloc[0]) != v for c, v in defaults.items() if c in current
    ):
        layer.feature_defaults = defaults
    key = layer_key(protocol, type_name, kind)
    layer.metadata.clear()
    layer.metadata.update(
        {"flannot_key": key, "flannot_type": type_name, "flannot_structure": name}
    )
    if ours and empty_stays_empty and not plain:
        layer.metadata[MEASURE_METADATA] = {}  # no rows either way: the dock's text stays valid
    if visibility is not None:
        visibility[layer] = bool(annotations)  # see show_when_used
    elif not annotations and layer.visible:
        layer.visible = False  # see show_when_used
    return True


def _set_scale(layer: Any, scale: tuple[float, ...], units: tuple[str, ...]) -> None:
    """Set ``layer``'s scale and units when they differ (each set re-slices the layer)."""
    if tuple(layer.scale) != tuple(scale):
        layer.scale = scale
    if tuple(str(u) for u in layer.units) != tuple(str(u) for u in units):
        layer.units = units


def _features_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS)) if rows else empty_features()
    return frame.astype(object)


def show_when_used(layer: Any, active: bool = False) -> None:
    """Show an annotation layer once it holds data or is the active layer.

    Empty annotation layers start hidden: napari slices and redraws every visible
    layer on each cine step, and an empty Shapes layer costs as much as a full one
    (vispy rebuilds its mesh shaders), which made stepping a cine 3-5x slower than
    plain napari (issue 14). A hidden layer shows nothing either way.
    """
    if not layer.visible and (active or len(layer.data)):
        layer.visible = True


# ---------------------------------------------------------------------------- annotations
def _style(session: Session) -> dict[str, float]:
    image = session.image
    size = max(image.rows, image.cols) if image is not None else 512
    return {"edge_width": max(1.5, size / 220), "point_size": max(6.0, size / 50)}


def empty_features(n: int = 0) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in FEATURE_COLUMNS})


def default_features(type_name: str) -> dict[str, Any]:
    return {
        c: ("" if c in ("id", "note", "label", "extra", "geometry_extra") else None)
        for c in FEATURE_COLUMNS
    }


def _label_offset(atype: Any, kind: str, ndim: int, style: dict[str, float]) -> Any:
    """Where a label is moved from its anchor (one entry per layer dimension), or ``None``.

    Point labels sit left of the marker; otherwise the protocol's ``label_offset``
    (in marker sizes, negative to the left) keeps labels of overlapping structures
    apart — a contrast line's label left of the line, the LF's on its right.
    """
    lead = (0.0,) * (ndim - 2)
    if family(kind) == "points":
        return (*lead, 0.0, -3.5 * style["point_size"])
    offset = getattr(atype, "label_offset", None)
    if offset is None:
        return None
    return (*lead, 0.0, float(offset) * style["point_size"])


def _text(
    atype: Any,
    color: str,
    offset: tuple[float, ...] | None = None,
    anchor: str | None = None,
) -> dict[str, Any]:
    text = {
        "string": LABEL_FORMAT,
        "color": color,
        "size": 12,
        "anchor": anchor or getattr(atype, "label_anchor", None) or "upper_left",
        "blending": "translucent",
    }
    if offset is not None:  # beside the marker / line (see _label_offset), not on it
        text["translation"] = offset
    return text


def make_layer(
    session: Session,
    type_name: str,
    kind: str | None,
    annotations: list[Annotation],
) -> Any:
    """Build the (not yet added) layer for ``type_name``/``kind`` holding ``annotations``."""
    from napari.layers import Points, Shapes

    protocol = session.protocol
    kind = kind or primary_kind(protocol, type_name)
    key = layer_key(protocol, type_name, kind)
    atype = protocol.find_type(type_name)
    color = atype.color if atype is not None else "#ffff00"
    ndim = layer_ndim(session.image)
    scale, units = image_scale(session.image) if session.image is not None else (None, None)
    style = _style(session)
    name = structure_name(protocol.find_type(type_name))
    rows = [_features_row(type_name, a, name) for a in annotations]
    features = pd.DataFrame(rows, columns=list(FEATURE_COLUMNS)) if rows else empty_features()
    features = features.astype(object)
    common = {
        "name": layer_name(key),
        "ndim": ndim,
        "scale": scale,
        "units": units,
        "axis_labels": axis_labels(ndim),
        "features": features,
        "text": _text(
            atype,
            color,
            _label_offset(atype, kind, ndim, style),
            anchor="center" if family(kind) == "points" else None,
        ),
        "metadata": {"flannot_key": key, "flannot_type": type_name, "flannot_structure": name},
        "visible": bool(annotations),  # see show_when_used
    }
    if family(kind) == "points":
        data = np.array([_coords(a, ndim)[0] for a in annotations], dtype=float).reshape(-1, ndim)
        layer = Points(
            data,
            size=style["point_size"],
            face_color=color,
            border_color="black",
            border_width=0.1,
            symbol="disc",
            **common,
        )
    else:
        shapes = [_coords(a, ndim) for a in annotations]
        types = [SHAPE_KINDS[a.geometry.kind] for a in annotations]
        layer = Shapes(
            shapes if shapes else None,
            shape_type=types if types else "polygon",
            edge_color=color,
            face_color=_transparent(color, 0.18 if kind in ("polygon", "rectangle") else 0.0),
            edge_width=style["edge_width"],
            **common,
        )
        layer.current_edge_color = color
        layer.current_face_color = _transparent(color, 0.18)
        layer.current_edge_width = style["edge_width"]
    layer.feature_defaults = default_features(type_name)
    return layer


def _transparent(color: str, alpha: float) -> np.ndarray:
    from napari.utils.colormaps.standardize_color import transform_color

    rgba = transform_color(color)[0].copy()
    rgba[3] = alpha
    return rgba


def _coords(a: Annotation, ndim: int) -> np.ndarray:
    pts = np.asarray(a.geometry.points, dtype=float).reshape(-1, 2)
    if a.geometry.kind == "rectangle" and len(pts) == 2:  # napari wants the 4 corners
        (r0, c0), (r1, c1) = pts
        pts = np.array([[r0, c0], [r0, c1], [r1, c1], [r1, c0]])
    if ndim == 3:
        pts = np.column_stack([np.full(len(pts), float(a.frame or 0)), pts])
    return pts


def _features_row(type_name: str, a: Annotation, name: str = "") -> dict[str, Any]:
    row = {
        "id": a.id,
        "level": a.level,
        "side": a.side,
        "part": a.part,
        "instrument": a.instrument,
        "length_mm": a.length_mm,
        "note": a.note or "",
        "author": a.author,
        "created": a.created,
        "modified": a.modified,
        "extra": json.dumps(a.extra) if a.extra else "",
        "geometry_extra": json.dumps(a.geometry.extra) if a.geometry.extra else "",
    }
    row["label"] = label_for(type_name, row, name)
    return row


def case_to_layers(
    session: Session,
    case: Case,
    reuse: dict[str, Any] | None = None,
    include_empty: bool = True,
    visibility: dict[Any, bool] | None = None,
) -> tuple[dict[str, Any], list[Annotation]]:
    """Layers for ``case``'s annotations (by layer key) and the pass-through ones (masks,
    annotations drawn on the planning slice rather than on the case's image).

    Every type of the protocol gets a layer (empty ones too), so the Annotate
    dock and the user find them all in the layer list. Layers of ``reuse`` (live
    layers by key) are refilled in place when they can be (:func:`fill_layer`);
    the result then holds those same objects. ``include_empty=False`` builds only
    the layers that hold annotations (overlays). ``visibility`` collects the refilled
    layers' new visibility for the caller to apply (see :func:`fill_layer`).
    """
    protocol = session.protocol
    groups: dict[tuple[str, str], list[Annotation]] = {}
    passthrough: list[Annotation] = []
    for a in case.annotations:
        fam = family(a.geometry.kind)
        # drawn on another image (the planning slice's grid, not this one's): kept, not shown
        if fam is None or a.image is not None:
            passthrough.append(a)
            continue
        kind = "point" if fam == "points" else a.geometry.kind
        key = layer_key(protocol, a.type, kind)
        groups.setdefault((key, a.type), []).append(a)
    for t in protocol.types if include_empty else ():
        key = layer_key(protocol, t.name, t.geometries[0])
        if family(t.geometries[0]) is not None:
            groups.setdefault((key, t.name), [])
    order = {t.name: i for i, t in enumerate(protocol.types)}
    layers: dict[str, Any] = {}
    for (key, type_name), anns in sorted(
        groups.items(), key=lambda kv: (order.get(kv[0][1], len(order)), kv[0][0])
    ):
        kind = "point" if key.endswith("(points)") else None
        if kind is None and anns:
            kind = "point" if family(anns[0].geometry.kind) == "points" else anns[0].geometry.kind
        if kind is None:
            kind = primary_kind(protocol, type_name)
        old = (reuse or {}).get(key)
        if old is not None and fill_layer(session, old, type_name, kind, anns, visibility):
            layers[key] = old
        else:
            layers[key] = make_layer(session, type_name, kind, anns)
    # a second-family layer ("vertebra (shapes)") the new case does not use: kept, emptied
    # and hidden rather than removed, so the next case that uses it need not build it again
    for key, old in (reuse or {}).items():
        if key in layers:
            continue
        type_name = key_type(key)
        atype = protocol.find_type(type_name)
        wanted = "points" if key.endswith("(points)") else "shapes"
        kinds = [g for g in (atype.geometries if atype else ()) if family(g) == wanted]
        if kinds and fill_layer(session, old, type_name, kinds[0], [], visibility):
            layers[key] = old
    # in the protocol's order, a kept second-family layer next to its type's first: the
    # layer list then needs no moves (each move redraws the scene in napari)
    rank = {key: (order.get(key_type(key), len(order)), key) for key in layers}
    layers = dict(sorted(layers.items(), key=lambda kv: rank[kv[0]]))
    return layers, passthrough


# ---------------------------------------------------------------------------- reference
REFERENCE_PREFIX = "reference: "
REFERENCE_OPACITY = 0.9


def lighter(color: Any, amount: float = 0.5) -> np.ndarray:
    """``color`` mixed with white: the reference's colour family, one step paler."""
    from napari.utils.colormaps.standardize_color import transform_color

    rgba = transform_color(color)[0].copy()
    rgba[:3] = rgba[:3] + (1.0 - rgba[:3]) * amount
    rgba[3] = 1.0
    return rgba


def make_reference_layers(session: Session, case: Case, skip: set[str] | None = None) -> list:
    """Read-only overlay layers ``"reference: <type>"`` of ``case`` (types in ``skip`` left out).

    Distinct from the attempt drawn over the same image: outlines only, in a paler
    tint of the structure's colour and thinner; points as rings; labels prefixed
    ``ref`` and set below their anchor, where the attempt's labels are not.
    """
    built, _masks = case_to_layers(session, case, include_empty=False)
    style = _style(session)
    out = []
    for key, layer in built.items():
        type_name = key_type(key)
        if not len(layer.data) or type_name in (skip or set()):
            continue
        atype = session.protocol.find_type(type_name)
        pale = lighter(atype.color if atype is not None else "#ffff00")
        layer.name = f"{REFERENCE_PREFIX}{key}"
        # not a flannot annotation layer: the session must never adopt or save it
        down = 1.6 * style["point_size"]
        layer.metadata = {
            "flannot_reference": True,
            "flannot_type": type_name,
            # where its labels go when free: below their anchor, the attempt's go above
            "flannot_label_offset": (down, 0.0),
        }
        if hasattr(layer, "shape_type"):
            layer.face_color = [0.0, 0.0, 0.0, 0.0]
            layer.edge_color = pale
            layer.edge_width = max(1.0, 0.6 * style["edge_width"])
        else:
            layer.face_color = [0.0, 0.0, 0.0, 0.0]
            layer.border_color = pale
            layer.border_width = 0.25
            layer.symbol = "ring"
        text = layer.text.model_dump()
        lead = (0.0,) * (layer.ndim - 2)
        text.update(
            string="ref {label}",
            color=pale,
            anchor="upper_left",
            translation=(*lead, down, 0.0),
        )
        layer.text = text
        layer.opacity = REFERENCE_OPACITY
        layer.blending = "translucent"
        layer.editable = False
        out.append(layer)
    return out


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def layer_annotations(session: Session, layer: Any) -> list[Annotation]:
    """The annotations a flannot layer shows, in layer order."""
    from flannot.model.annotation import Annotation, Geometry

    key = layer.metadata.get("flannot_key") or layer.name.removeprefix(LAYER_PREFIX)
    type_name = layer.metadata.get("flannot_type") or key_type(key)
    features = layer.features
    ndim = layer.ndim
    is_points = not hasattr(layer, "shape_type")
    if is_points:
        items = [(np.asarray(p, dtype=float).reshape(1, -1), "point") for p in layer.data]
    else:
        items = [
            (np.asarray(d, dtype=float), st)
            for d, st in zip(layer.data, layer.shape_type, strict=True)
        ]
    # the columns as plain lists once: a pandas lookup per cell cost ~2 ms an annotation
    columns = {c: features[c].tolist() if c in features else None for c in FEATURE_COLUMNS}
    out = []
    for i, (coords, shape_type) in enumerate(items):
        row = {c: None if values is None else _clean(values[i]) for c, values in columns.items()}
        frame = 0
        if ndim == 3:
            frame = int(round(float(coords[0, 0])))
            coords = coords[:, 1:]
        kind = "point" if is_points else shape_type
        extra = json.loads(row["extra"]) if row.get("extra") else {}
        gextra = json.loads(row["geometry_extra"]) if row.get("geometry_extra") else {}
        length = row.get("length_mm")
        out.append(
            Annotation(
                id=str(row["id"]),
                type=type_name,
                geometry=Geometry(
                    kind=kind, points=np.array(coords[:, -2:], dtype=float), extra=gextra
                ),
                frame=frame,
                level=row.get("level") or None,
                side=row.get("side") or None,
                part=row.get("part") or None,
                instrument=row.get("instrument") or None,
                length_mm=None if length in (None, "") else float(length),
                note=row.get("note") or "",
                author=row.get("author"),
                created=row.get("created"),
                modified=row.get("modified"),
                extra=extra,
            )
        )
    return out


def _geometry_equal(a: Annotation, b: Annotation) -> bool:
    pa, pb = np.asarray(a.geometry.points), np.asarray(b.geometry.points)
    return a.geometry.kind == b.geometry.kind and pa.shape == pb.shape and np.allclose(pa, pb)


def _rectangle_as_stored(a: Annotation, old: Annotation | None) -> Annotation:
    """napari gives 4 rectangle vertices; keep a 2-corner rectangle as 2 corners."""
    pts = a.geometry.points
    if a.geometry.kind != "rectangle" or len(pts) != 4:
        return a
    if old is None or old.geometry.kind != "rectangle" or len(old.geometry.points) != 2:
        return a
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    axis_aligned = all(np.isclose(p[0], lo[0]) or np.isclose(p[0], hi[0]) for p in pts) and all(
        np.isclose(p[1], lo[1]) or np.isclose(p[1], hi[1]) for p in pts
    )
    if not axis_aligned:
        return a
    o = old.geometry.points
    if np.allclose(np.sort(o, axis=0), np.array([lo, hi])):
        corners = o.copy()  # same box: the stored corners, in their order
    else:
        corners = np.array([lo, hi])
    geometry = replace(a.geometry, points=corners)
    return replace(a, geometry=geometry)


def _same(a: Annotation, b: Annotation) -> bool:
    fields = ("type", "frame", "level", "side", "part", "instrument", "length_mm", "note", "extra")
    return _geometry_equal(a, b) and all(getattr(a, f) == getattr(b, f) for f in fields)


def layers_to_case(session: Session) -> Case:
    """The session's case rebuilt from its layers (unchanged annotations kept as loaded).

    An annotation whose geometry or attributes changed gets a new ``modified``
    time; the case keeps its image record (with the session's calibration).
    """
    base = session.case
    before = {a.id: a for a in base.annotations}
    anns: list[Annotation] = []
    for layer in session.annotation_layers().values():
        ensure_ids(session, layer)
        for a in layer_annotations(session, layer):
            old = before.get(a.id)
            a = _rectangle_as_stored(a, old)
            if old is not None and _same(old, a):
                anns.append(old)
            else:
                if a.modified is None or old is not None:
                    a = replace(a, modified=_now())
                if a.created is None:
                    a = replace(a, created=a.modified)
                anns.append(a)
    anns.extend(session._passthrough)
    # keep the case file's order for annotations that were there; new ones at the end
    order = {a.id: i for i, a in enumerate(base.annotations)}
    anns.sort(key=lambda a: order.get(a.id, len(order)))
    case = replace(base, annotations=anns)
    image = session.image
    if image is not None and base.image is not None:
        spacing = None if image.spacing_mm is None else [float(s) for s in image.spacing_mm]
        if list(base.image.spacing_mm or []) != list(spacing or []) or (
            base.image.calibration != image.calibration
        ):
            case = replace(
                case,
                image=replace(base.image, spacing_mm=spacing, calibration=image.calibration),
            )
    # dataclasses.replace drops the init=False file binding the save conflict check needs
    for attr in ("_file", "_stamp"):
        if hasattr(base, attr):
            setattr(case, attr, getattr(base, attr))
    return case


# ---------------------------------------------------------------------------- ids, labels
def all_ids(session: Session) -> set[str]:
    ids = {a.id for a in session._passthrough}
    for layer in session.annotation_layers().values():
        if "id" in layer.features:
            ids.update(str(v) for v in layer.features["id"] if _clean(v))
    return ids


def new_id(type_name: str, taken: set[str], protocol: str = "mild") -> str:
    """A short id not in ``taken`` (``lf1``, ``lf2``, ``v1`` …), as :meth:`Case.new_id` makes
    them; ``taken`` holds the ids of every layer (not only the loaded case's)."""
    from flannot.model.case import new_annotation_id

    return new_annotation_id(protocol, type_name, taken)


def ensure_ids(session: Session, layer: Any) -> bool:
    """Give every new shape/point in ``layer`` an id, creation time and label; True if any."""
    features = layer.features
    if len(features) == 0 or "id" not in features:
        return False
    # new shapes have no id; pasted/duplicated ones repeat one: both get a fresh id
    seen: set[str] = set()
    missing = []
    for i, v in enumerate(features["id"]):
        v = _clean(v)
        if not v or v in seen:
            missing.append(i)
        else:
            seen.add(v)
    if not missing:
        return False
    type_name = layer.metadata.get("flannot_type") or key_type(layer.metadata["flannot_key"])
    taken = all_ids(session)
    features = features.copy()
    now = _now()
    for i in missing:
        ident = new_id(type_name, taken, session.protocol.name)
        taken.add(ident)
        features.iat[i, features.columns.get_loc("id")] = ident
        if "created" in features and not _clean(features["created"].iloc[i]):
            features.iat[i, features.columns.get_loc("created")] = now
            features.iat[i, features.columns.get_loc("modified")] = now
    _set_features(layer, type_name, features)
    return True


def _set_features(layer: Any, type_name: str, features: pd.DataFrame) -> None:
    features = features.astype(object)
    name = layer.metadata.get("flannot_structure", "")
    features["label"] = [label_for(type_name, r, name) for r in features.to_dict("records")]
    defaults = layer.feature_defaults.iloc[0].to_dict() if len(layer.feature_defaults) else None
    layer.features = features
    if defaults is not None:  # setting features resets the defaults new shapes get
        layer.feature_defaults = defaults
    layer.refresh_text()


def set_attributes(session: Session, layer: Any, indices: list[int], **values: Any) -> None:
    """Set feature columns (level, side, note …) of some shapes and refresh their labels."""
    type_name = layer.metadata.get("flannot_type") or key_type(layer.metadata["flannot_key"])
    features = layer.features.copy().astype(object)
    for col, value in values.items():
        for i in indices:
            features.iat[i, features.columns.get_loc(col)] = value
    _set_features(layer, type_name, features)
    session.mark_changed(layer)


def find_annotation(session: Session, annotation_id: str) -> tuple[Any, int, int | None] | None:
    """``(layer, index, frame)`` of an annotation shown in a layer, or ``None``."""
    for layer in session.annotation_layers().values():
        ids = [_clean(v) for v in layer.features["id"]] if "id" in layer.features else []
        if annotation_id in ids:
            i = ids.index(annotation_id)
            frame = None
            if layer.ndim == 3:
                coords = layer.data[i] if hasattr(layer, "shape_type") else layer.data[i : i + 1]
                frame = int(round(float(np.asarray(coords)[0, 0])))
            return layer, i, frame
    return None


# ---------------------------------------------------------------------------- label layout
TEXT_CHAR_EM = 0.7  # a label character's mean width, in font sizes (DejaVu Sans, measured)
TEXT_LINE_EM = 1.3  # a label line's height, in font sizes
PT_TO_PX = 96 / 72  # napari text sizes are points


def _anchor_point(anchor: str, rows: np.ndarray, cols: np.ndarray) -> tuple[float, float]:
    """The point of the bounding box napari anchors a label at (see ``ANCHOR_ALIGN``)."""
    r0, r1, c0, c1 = rows.min(), rows.max(), cols.min(), cols.max()
    if anchor == "center":
        return float((r0 + r1) / 2), float((c0 + c1) / 2)
    row = r0 if anchor.startswith("upper") else r1
    col = c0 if anchor.endswith("left") else c1
    return float(row), float(col)


def _text_px(layer: Any, session: Session) -> tuple[float, float]:
    """A label character's width and line height in image pixels at the current zoom."""
    size = float(getattr(layer.text, "size", 12)) * PT_TO_PX
    from flannot.napari.viewer_api import camera_of

    zoom = float(camera_of(session.viewer).zoom) or 1.0
    pixel = float(np.asarray(layer.scale)[-1]) or 1.0  # world units (mm) per image pixel
    per_screen_px = 1.0 / (zoom * pixel)
    return TEXT_CHAR_EM * size * per_screen_px, TEXT_LINE_EM * size * per_screen_px


def labelled_layers(session: Session) -> dict[str, Any]:
    """The layers whose canvas labels are laid out together, by key: the annotation
    layers, then a Quiz's reference overlay (``reference: <type>`` layers) when shown —
    not the side-by-side view's image copy, which has no labels."""
    out: dict[str, Any] = dict(session.annotation_layers())
    viewer = session._viewer_ref()
    if viewer is not None:
        for layer in viewer.layers:
            if (layer.metadata or {}).get("flannot_reference") and hasattr(layer, "text"):
                out[layer.name] = layer
    return out


def label_layout_input(
    session: Session,
) -> tuple[list, dict[str, tuple[float, float]], list, float, float]:
    """What :func:`flannot.model.label_layout.arrange` needs from the shown layers.

    Returns the labels (every frame's, one group per layer), each group's preferred
    offset (the protocol's ``label_offset``), the obstacles (the filled rectangles of
    redaction boxes: labels must not hide under them) and a character's width and a
    line's height in image pixels at the current zoom.
    """
    from flannot.model.label_layout import Label

    labels: list[Label] = []
    preferred: dict[str, tuple[float, float]] = {}
    obstacles: list[tuple[int | None, tuple[float, float, float, float]]] = []
    char_px, line_px = 8.0, 16.0
    style = _style(session)
    for key, layer in labelled_layers(session).items():
        n = len(layer.data)
        if not n or not layer.visible:
            continue
        is_points = not hasattr(layer, "shape_type")
        shapes = [
            np.asarray(layer.data[i : i + 1] if is_points else layer.data[i]) for i in range(n)
        ]
        if not is_points:
            for verts, kind in zip(shapes, layer.shape_type, strict=True):
                if kind == "rectangle":
                    frame = int(round(float(verts[0, 0]))) if layer.ndim == 3 else None
                    r, c = verts[:, -2], verts[:, -1]
                    obstacles.append((frame, (r.min(), c.min(), r.max(), c.max())))
        if not layer.text.visible:
            continue
        anchor = str(getattr(layer.text.anchor, "value", layer.text.anchor))
        strings = [str(s) for s in layer.text.view_text(np.arange(n))]
        own = layer.metadata.get("flannot_label_offset") if layer.metadata else None
        if own is not None:  # a reference overlay layer: its own place, below the anchor
            preferred[key] = (float(own[0]), float(own[1]))
        else:
            atype = session.protocol.find_type(key_type(key))
            kind = "point" if is_points else primary_kind(session.protocol, key_type(key))
            offset = _label_offset(atype, kind, layer.ndim, style)
            preferred[key] = (
                (0.0, 0.0) if offset is None else (float(offset[-2]), float(offset[-1]))
            )
        char_px, line_px = _text_px(layer, session)
        for index, (verts, text) in enumerate(zip(shapes, strings, strict=True)):
            if not text:
                continue
            frame = int(round(float(verts[0, 0]))) if layer.ndim == 3 else 0
            row, col = _anchor_point(anchor, verts[:, -2], verts[:, -1])
            labels.append(Label(key, text, row, col, anchor, frame, index))
    return labels, preferred, obstacles, char_px, line_px


def _share_crowded_labels(session: Session, labels: list, char_px: float, line_px: float) -> bool:
    """One label for two sides of one level whose labels overlap ("Pedicle L3").

    Labels of one layer move together, so a left and a right label of one level that
    overlap (the pedicles of an AP at a low zoom) cannot be moved apart: the first
    names the level without its side, the second shows none. Returns whether a
    label changed.
    """
    from flannot.model.label_layout import crowded_pairs

    layers = labelled_layers(session)
    changed = False
    for i, j in crowded_pairs(labels, char_px, line_px):
        layer = layers[labels[i].group]
        if (layer.metadata or {}).get("flannot_reference"):
            continue  # the reference overlay is read-only: its labels stay as written
        features = layer.features
        if "level" not in features or "side" not in features or "label" not in features:
            continue
        a, b = labels[i].index, labels[j].index
        if features["level"].iloc[a] != features["level"].iloc[b]:
            continue
        if features["side"].iloc[a] == features["side"].iloc[b]:
            continue
        if "part" in features and features["part"].iloc[a] != features["part"].iloc[b]:
            continue  # a superior and an inferior articular process are two structures
        row = {**features.iloc[a].to_dict(), "side": ""}
        name = layer.metadata.get("flannot_structure", "")
        shared = label_for(key_type(labels[i].group), row, name)
        column = features.columns.get_loc("label")
        if features.iat[a, column] != shared or features.iat[b, column] != "":
            features.iat[a, column] = shared
            features.iat[b, column] = ""
            changed = True
        if changed:
            layer.refresh_text()
    return changed


def _label_bounds(session: Session) -> tuple[float, float, float, float] | None:
    """Where labels can be read, in image pixels: the image, clipped to the part of it
    the canvas shows (a label past the canvas edge is cut off)."""
    from flannot.napari.viewer_api import camera_of, canvas_size_of, grid_of

    layer = session.image_layer
    if layer is None:
        return None
    shape = np.shape(layer.data)
    rows, cols = shape[-3:-1] if getattr(layer, "rgb", False) else shape[-2:]
    box = [-0.5, -0.5, rows - 0.5, cols - 0.5]  # pixel centres sit on integer coordinates
    viewer = session._viewer_ref()
    if viewer is None or grid_of(viewer).enabled:  # grid views: each shows its own part
        return (box[0], box[1], box[2], box[3])
    camera = camera_of(viewer)
    zoom = float(camera.zoom) or 1.0
    scale = np.asarray(layer.scale, dtype=float)[-2:]
    translate = np.asarray(layer.translate, dtype=float)[-2:]
    centre = (np.asarray(camera.center, dtype=float)[-2:] - translate) / scale
    half = np.asarray(canvas_size_of(viewer), dtype=float) / (2 * zoom * scale)
    low, high = centre - half, centre + half
    box = [max(box[0], low[0]), max(box[1], low[1]), min(box[2], high[0]), min(box[3], high[1])]
    if box[0] >= box[2] or box[1] >= box[3]:  # the image is out of view
        return None
    return (box[0], box[1], box[2], box[3])


def arrange_labels(session: Session) -> dict[str, tuple[float, float]]:
    """Move the labels of each shown annotation layer so that no two collide.

    Labels of one layer move together (napari has one text offset per layer); the
    layers are placed in the protocol's order, each at its protocol offset when that
    is free, else at the nearest free one (:func:`flannot.model.label_layout.arrange`),
    on every frame of a cine at once. Only changed offsets are set (each set redraws).
    Returns the offsets chosen, by layer key.
    """
    from flannot.model.label_layout import arrange

    labels, preferred, obstacles, char_px, line_px = label_layout_input(session)
    if _share_crowded_labels(session, labels, char_px, line_px):
        labels, preferred, obstacles, char_px, line_px = label_layout_input(session)
    if not labels:
        return {}
    chosen = arrange(labels, preferred, char_px, line_px, obstacles, _label_bounds(session))
    layers = labelled_layers(session)
    for key, (d_row, d_col) in chosen.items():
        layer = layers[key]
        lead = (0.0,) * (layer.ndim - 2)
        wanted = np.array([*lead, d_row, d_col])
        current = np.broadcast_to(np.asarray(layer.text.translation, dtype=float), wanted.shape)
        if not np.allclose(current, wanted):
            layer.text.translation = wanted
    return chosen
