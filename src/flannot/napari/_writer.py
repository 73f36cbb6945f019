"""npe2 writer: the flannot annotation layers → a case file (``annotations.json``).

The case is rebuilt from the viewer's flannot session (all annotation layers,
not only the selected ones: a case file holds the whole case).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["write_case"]


def write_case(path: str, layer_data: list[tuple[Any, dict, str]]) -> list[str]:
    """npe2 multi-layer writer: save the current flannot case to ``path``.

    Returns
    -------
    list of str
        The written file.

    Raises
    ------
    FlannotError
        No flannot case is open in the current viewer, or none of the layers
        given is a flannot layer.
    """
    import napari

    from flannot.errors import FlannotError
    from flannot.napari.session import get_session

    flannot_layers = [
        meta for _, meta, _ in layer_data if (meta.get("metadata") or {}).get("flannot_key")
    ]
    viewer = napari.current_viewer()
    if viewer is None or not flannot_layers:
        raise FlannotError("no flannot annotation layers to save", path)
    session = get_session(viewer)
    if session.case is None:
        raise FlannotError("no flannot case is open", path)
    target = Path(path)
    if target.suffix.lower() != ".json" and not target.is_dir():
        target = target.with_suffix(".json")
    return [str(session.save(target))]
