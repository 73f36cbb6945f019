"""Viewer overlays through napari's public API, old and new.

napari 0.9 moved the grid and the scale bar under ``viewer.canvas`` and deprecated
``viewer.grid`` / ``viewer.scale_bar``; these accessors take the new place when it
exists so the workspace raises no deprecation warnings on 0.9 and still runs on 0.5+.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any


def unwrapped(viewer: Any) -> Any:
    """The viewer itself, not napari's ``PublicOnlyProxy`` of it.

    napari hands plugin docks a proxy that warns on private attribute access (and will
    refuse it from 0.10); the two internals flannot relies on (:func:`dims_update_once`,
    :func:`layer_visual`) are reached on the viewer itself, here and nowhere else.
    """
    return getattr(viewer, "__wrapped__", viewer)


def grid_of(viewer: Any) -> Any:
    """The viewer's grid model (``viewer.canvas.grid`` from napari 0.9)."""
    canvas = getattr(viewer, "canvas", None)
    return canvas.grid if canvas is not None and hasattr(canvas, "grid") else viewer.grid


def scale_bar_of(viewer: Any) -> Any:
    """The viewer's scale-bar overlay (``viewer.canvas.overlays.scale_bar`` from 0.9)."""
    overlays = getattr(getattr(viewer, "canvas", None), "overlays", None)
    bar = getattr(overlays, "scale_bar", None)
    return bar if bar is not None else viewer.scale_bar


def canvas_size_of(viewer: Any) -> tuple[int, int]:
    """The canvas's (height, width) in screen pixels (``viewer.canvas.size`` from 0.9)."""
    size = getattr(getattr(viewer, "canvas", None), "size", None)
    if size is None:
        size = getattr(viewer, "_canvas_size", (600, 800))
    return int(size[0]), int(size[1])


# the layer events napari's viewer recomputes its dimensions on; see dims_update_once
_VIEWER_HOOKS = ("data", "scale", "units", "axis_labels")


@contextmanager
def dims_update_once(viewer: Any, layers: Iterable[Any]) -> Iterator[None]:
    """Refill ``layers`` in place with one update of the viewer's dimensions in all.

    Each data/scale/units change of a layer makes the viewer recompute its dimensions
    from every layer; a case switch makes ~40 such changes over ~15 layers. Inside this
    block the viewer's ``_on_layers_change`` (a napari internal, 0.5–0.9: there is no
    public batch API for property changes — ``LayerList.batched_update`` only batches the
    scene graph of adds and removes) is disconnected from those layers' events; on exit
    it is connected again and called once. Without that hook the block runs unbatched.

    The layers' own re-slicing is not held back: napari's text and vispy visuals read the
    slice while data change, and a held slice is stale (an index out of range).
    """
    layers = [layer for layer in layers if layer is not None]
    hook = getattr(unwrapped(viewer), "_on_layers_change", None)
    detached: list[tuple[Any, Any]] = []
    if hook is not None:
        for layer in layers:
            for name in _VIEWER_HOOKS:
                emitter = getattr(layer.events, name, None)
                if emitter is None:
                    continue
                before = len(emitter.callbacks)
                emitter.disconnect(hook)
                if len(emitter.callbacks) < before:  # it was connected: put it back later
                    detached.append((layer, emitter))
    try:
        yield
    finally:
        for layer, emitter in detached:
            if layer in viewer.layers:  # not one the block removed
                emitter.connect(hook)
        if detached:
            hook()


def layer_visual(viewer: Any, layer: Any) -> Any:
    """The vispy layer (``VispyBaseLayer``, its ``node`` the visual) of ``layer``, or ``None``.

    napari has no public route to a layer's visual: ``Window.qt_viewer`` is deprecated
    (a FutureWarning on 0.5–0.9) and returns the same private ``_qt_viewer``. The one
    private access of flannot to napari's Qt side is here; headless viewers (no window)
    have no visuals and get ``None``.
    """
    window = getattr(unwrapped(viewer), "window", None)
    qt_viewer = getattr(window, "_qt_viewer", None) if window is not None else None
    visuals = getattr(qt_viewer, "layer_to_visual", None)
    if visuals is None:
        canvas = getattr(qt_viewer, "canvas", None)
        visuals = getattr(canvas, "layer_to_visual", None)
    return visuals.get(layer) if visuals is not None else None


def camera_of(viewer: Any) -> Any:
    """The viewer's camera (``viewer.scene.camera`` from napari 0.9, else ``viewer.camera``)."""
    scene = getattr(viewer, "scene", None)
    camera = getattr(scene, "camera", None)
    return camera if camera is not None else viewer.camera


def hold_activation(viewer: Any) -> Callable[[], None]:
    """Stop napari making each inserted layer the active one; returns the release.

    For layers napari inserts itself (a reader's layer-data tuples, one activation —
    controls shown, the previous ones hidden — per layer otherwise); the same napari
    internal flag as :func:`add_layers_quietly`. Releasing twice is harmless.
    """
    layer_list = unwrapped(viewer).layers
    flag = getattr(layer_list, "_activate_on_insert", None)
    if flag is None:
        return lambda: None
    layer_list._activate_on_insert = False

    def release() -> None:
        layer_list._activate_on_insert = flag

    return release


def add_layers_quietly(viewer: Any, layers: Iterable[Any]) -> None:
    """Append ``layers``, none of them made the active layer.

    napari makes each inserted layer the active one (its controls shown, the previous
    ones hidden) through the ``LayerList``'s ``_activate_on_insert`` flag (a napari
    internal, 0.5–0.9); an overlay of several layers paid that per layer. The flag is
    restored on exit; without it the layers are added as ``add_layer`` would. No
    ``batched_update``: its end runs napari's scene clean-up with a ``gc.collect()``.
    """
    layer_list = unwrapped(viewer).layers
    flag = getattr(layer_list, "_activate_on_insert", None)
    if flag is not None:
        layer_list._activate_on_insert = False
    try:
        for layer in layers:
            layer_list.append(layer)
    finally:
        if flag is not None:
            layer_list._activate_on_insert = flag
