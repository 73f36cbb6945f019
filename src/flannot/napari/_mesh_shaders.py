"""Keep vispy from recompiling a mesh's shader each time its data change.

vispy's ``MeshVisual._update_data`` (0.14–0.17) builds a *new* ``color_transform``
shader function on every data update (``_build_color_transform``); a new function object
changes the program's source, so the shader is regenerated and relinked. napari updates
the meshes of every visible Shapes layer on each slice — each frame of a cine — which
made a cine step ~1.6× plain napari (issue 14). For RGBA colours (napari's Shapes) that
function is always the same pass-through: this patch gives each mesh one cached copy, so
vispy sees the same object and keeps the compiled program. Colour-mapped meshes (one
value per vertex, with limits that may change) still build theirs every time.

The patch is per visual (the meshes of the viewer's layers), not on vispy's class.
"""

from __future__ import annotations

from typing import Any

from flannot.napari.viewer_api import layer_visual

_MARK = "_flannot_cached_color_transform"


def cache_color_transform(mesh: Any) -> bool:
    """Make ``mesh`` (a vispy ``MeshVisual``) reuse its pass-through colour transform.

    Returns ``True`` when the mesh was patched now (``False``: already, or not a mesh).
    """
    from vispy.visuals import MeshVisual

    if not isinstance(mesh, MeshVisual) or getattr(mesh, _MARK, False):
        return False
    build = mesh._build_color_transform
    cached: list[Any] = []

    def build_cached(colors: Any) -> Any:
        if colors.ndim == 2 and colors.shape[1] == 1:  # colour-mapped values: not cached
            return build(colors)
        if not cached:
            cached.append(build(colors))
        return cached[0]

    # vispy visuals are "frozen" (no new attributes through setattr): set them directly
    object.__setattr__(mesh, "_build_color_transform", build_cached)
    object.__setattr__(mesh, _MARK, True)
    return True


def _subvisuals(node: Any) -> list[Any]:
    out, todo = [], [node]
    while todo:
        visual = todo.pop()
        out.append(visual)
        todo.extend(getattr(visual, "_subvisuals", ()))
    return out


def cache_layer_shaders(viewer: Any, layer: Any) -> int:
    """Patch the meshes of ``layer``'s visual in ``viewer``; the number patched now."""
    vispy_layer = layer_visual(viewer, layer)
    node = getattr(vispy_layer, "node", None)
    if node is None:
        return 0
    return sum(cache_color_transform(v) for v in _subvisuals(node))


def cache_viewer_shaders(viewer: Any) -> int:
    """Patch the meshes of every layer's visual in ``viewer``; the number patched now."""
    return sum(cache_layer_shaders(viewer, layer) for layer in list(viewer.layers))
