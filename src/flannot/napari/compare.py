"""Attempt and reference side by side: napari's grid mode, one camera for both halves.

The layer list is bottom-to-top ``[image, attempt layers…, image copy, reference
layers…]``; with ``grid.stride`` equal to the size of the first group napari puts
each group in its own view box (SPEC §3, issue 14). napari's grid shares one
camera between the view boxes, so panning or zooming one half moves the other.
The image copy shares the image layer's data (no pixels are copied).
"""

from __future__ import annotations

from typing import Any

from flannot.napari.viewer_api import grid_of

COPY_NAME = "reference: image"

__all__ = ["COPY_NAME", "side_by_side", "stacked"]


def side_by_side(viewer: Any, image_layer: Any, right: list[Any]) -> Any:
    """Show ``right`` (the reference overlay) beside everything else, over a copy of the image.

    Returns the image copy (give it to :func:`stacked` to undo).
    """
    from napari.layers import Image

    layers = viewer.layers
    copy = Image(
        image_layer.data,
        name=COPY_NAME,
        scale=image_layer.scale,
        units=image_layer.units,
        contrast_limits=image_layer.contrast_limits,
        colormap=image_layer.colormap,
        rgb=image_layer.rgb,
        metadata={"flannot_reference": True},
    )
    layers.append(copy)
    for layer in right:  # the reference layers above the copy, at the end of the list
        layers.move(layers.index(layer), len(layers))
    left = len(layers) - len(right) - 1  # the attempt: at least every protocol type's layer
    grid_of(viewer).shape = (1, 2)
    grid_of(viewer).stride = left
    grid_of(viewer).enabled = True
    return copy


def stacked(viewer: Any, copy: Any | None) -> None:
    """Back to one view box; the image copy removed."""
    grid_of(viewer).enabled = False
    if copy is not None and copy in viewer.layers:
        viewer.layers.remove(copy)
