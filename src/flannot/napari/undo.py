"""Undo/redo for shapes and points layers (napari has history only for labels).

Snapshot based: after each finished edit the layer's data, shape types and
features are copied; undo puts the previous snapshot back. One stack per
session, so Ctrl-Z undoes the last edit whichever annotation layer it was in.
Annotation layers hold tens of shapes, so full snapshots are cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from flannot.napari.session import Session

__all__ = ["Snapshot", "UndoStack", "restore", "snapshot"]

MAX_DEPTH = 200


@dataclass(frozen=True)
class Snapshot:
    """Everything needed to put a shapes/points layer back as it was."""

    data: Any  # list of arrays (shapes) or one array (points)
    shape_types: tuple[str, ...] | None
    features: pd.DataFrame

    def same_as(self, other: Snapshot) -> bool:
        if self.shape_types != other.shape_types:
            return False
        if isinstance(self.data, list):
            if not isinstance(other.data, list) or len(self.data) != len(other.data):
                return False
            if any(
                a.shape != b.shape or not np.array_equal(a, b)
                for a, b in zip(self.data, other.data, strict=True)
            ):
                return False
        elif isinstance(other.data, list) or not np.array_equal(self.data, other.data):
            return False
        return self.features.equals(other.features)


def snapshot(layer: Any) -> Snapshot:
    """Copy ``layer``'s data, shape types and features."""
    if hasattr(layer, "shape_type"):  # Shapes
        data: Any = [np.array(d, copy=True) for d in layer.data]
        types: tuple[str, ...] | None = tuple(layer.shape_type)
    else:  # Points
        data = np.array(layer.data, copy=True)
        types = None
    return Snapshot(data, types, layer.features.copy(deep=True))


def restore(layer: Any, snap: Snapshot) -> None:
    """Put ``snap`` back into ``layer`` (features included)."""
    if snap.shape_types is not None:
        layer.selected_data = set()
        if snap.data:
            layer.data = list(snap.data)
            layer.shape_type = list(snap.shape_types)
        else:
            layer.data = []
    else:
        layer.selected_data = set()
        layer.data = snap.data
    layer.features = snap.features.copy(deep=True)
    if hasattr(layer, "text"):
        layer.refresh_text() if hasattr(layer, "refresh_text") else layer.refresh()


@dataclass
class _Entry:
    layer: Any
    before: Snapshot
    after: Snapshot


class UndoStack:
    """Session-wide undo/redo over the tracked annotation layers."""

    def __init__(self, session: Session | None = None, max_depth: int = MAX_DEPTH) -> None:
        self.max_depth = max_depth
        self._undo: list[_Entry] = []
        self._redo: list[_Entry] = []
        self._current: dict[int, Snapshot] = {}
        self._applying = False
        self._session = session

    def clear(self) -> None:
        """Forget all history (a new case was loaded)."""
        self._undo.clear()
        self._redo.clear()
        self._current.clear()

    def track(self, layer: Any) -> None:
        """Start tracking ``layer``: its present state is the base of its history."""
        self._current[id(layer)] = snapshot(layer)

    def record(self, layer: Any) -> bool:
        """Record ``layer``'s new state after an edit; returns whether anything changed."""
        if self._applying:
            return False
        new = snapshot(layer)
        old = self._current.get(id(layer))
        self._current[id(layer)] = new
        if old is None or old.same_as(new):
            return False
        self._undo.append(_Entry(layer, old, new))
        del self._undo[: max(0, len(self._undo) - self.max_depth)]
        self._redo.clear()
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> bool:
        """Undo the last edit; returns ``False`` when there is nothing to undo."""
        if not self._undo:
            return False
        entry = self._undo.pop()
        self._apply(entry.layer, entry.before)
        self._redo.append(entry)
        return True

    def redo(self) -> bool:
        """Redo the last undone edit; returns ``False`` when there is nothing to redo."""
        if not self._redo:
            return False
        entry = self._redo.pop()
        self._apply(entry.layer, entry.after)
        self._undo.append(entry)
        return True

    def _apply(self, layer: Any, snap: Snapshot) -> None:
        self._applying = True
        try:
            restore(layer, snap)
        finally:
            self._applying = False
        self._current[id(layer)] = snapshot(layer)
        if self._session is not None:
            self._session.dirty = True
            self._session.events.annotations_changed.emit()
