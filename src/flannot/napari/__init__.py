"""The napari side of flannot: reader, writer, sample data and dock widgets.

The only package of flannot that imports napari or Qt (through qtpy). The docks
share one :class:`~flannot.napari.session.Session` per viewer
(:func:`~flannot.napari.session.get_session`).
"""

from __future__ import annotations

__all__ = ["get_session"]


def __getattr__(name: str):
    if name == "get_session":
        from flannot.napari.session import get_session

        return get_session
    raise AttributeError(f"module 'flannot.napari' has no attribute {name!r}")
