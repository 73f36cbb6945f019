"""The base of every flannot dock: a QWidget bound to its viewer's session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtWidgets import QHBoxLayout, QPushButton, QWidget


class SessionDock(QWidget):
    """A dock that works on its viewer's :class:`~flannot.napari.session.Session`.

    Parameters
    ----------
    napari_viewer
        The viewer; the docks share its session (the open case, set and image).
    """

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__()
        from flannot.napari.session import get_session

        self.viewer = napari_viewer
        self.session = get_session(napari_viewer)


def button(text: str, tip: str, slot: Callable[[], Any]) -> QPushButton:
    """A push button with a tooltip that calls ``slot()`` (the click's bool is dropped)."""
    btn = QPushButton(text)
    btn.setToolTip(tip)
    btn.clicked.connect(lambda *_: slot())
    return btn


def hbox(*items: QWidget | tuple[QWidget, int]) -> QHBoxLayout:
    """A row of widgets; ``(widget, stretch)`` gives one a stretch factor."""
    row = QHBoxLayout()
    for item in items:
        widget, stretch = item if isinstance(item, tuple) else (item, 0)
        row.addWidget(widget, stretch)
    return row
