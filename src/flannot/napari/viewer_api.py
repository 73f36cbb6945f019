"""Viewer overlays through napari's public API, old and new.

napari 0.9 moved the grid and the scale bar under ``viewer.canvas`` and deprecated
``viewer.grid`` / ``viewer.scale_bar``; these accessors take the new place when it
exists so the workspace raises no deprecation warnings on 0.9 and still runs on 0.5+.
"""

from __future__ import annotations

from typing import Any


def grid_of(viewer: Any) -> Any:
    """The viewer's grid model (``viewer.canvas.grid`` from napari 0.9)."""
    canvas = getattr(viewer, "canvas", None)
    return canvas.grid if canvas is not None and hasattr(canvas, "grid") else viewer.grid


def scale_bar_of(viewer: Any) -> Any:
    """The viewer's scale-bar overlay (``viewer.canvas.overlays.scale_bar`` from 0.9)."""
    overlays = getattr(getattr(viewer, "canvas", None), "overlays", None)
    bar = getattr(overlays, "scale_bar", None)
    return bar if bar is not None else viewer.scale_bar
