"""The base of every flannot dock: a QWidget bound to its viewer's session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QSize, Qt
from qtpy.QtWidgets import QFrame, QHBoxLayout, QPushButton, QScrollArea, QVBoxLayout, QWidget


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
        self.scroll_area: QScrollArea | None = None

    def minimumSizeHint(self) -> QSize:
        """As wide as the contents (never cut off at the side), as short as a few lines."""
        hint = super().minimumSizeHint()
        area = self.scroll_area
        if area is not None and area.widget() is not None:
            width = area.widget().minimumSizeHint().width()
            width += area.verticalScrollBar().sizeHint().width()
            hint.setWidth(max(hint.width(), width, self.minimumWidth()))
        return hint

    def scroll_layout(self) -> QVBoxLayout:
        """The layout to put the dock's contents in, inside a vertical scroll area.

        A dock's minimum height is then a few lines, not the height of everything in
        it: with every flannot dock open the window still fits a 1600×1000 screen
        (SPEC §13), and a short dock scrolls instead of pushing the window taller.
        """
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        area.setWidget(body)
        outer.addWidget(area)
        self.scroll_area = area
        return QVBoxLayout(body)


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
