"""The Quiz dock's rubric section: the educator ticks items and chooses the ratings (SPEC §6).

Wiring only: the checklist, the scales and the automatic checks come from
:mod:`flannot.teach.rubric` and the case's protocol.
"""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QVBoxLayout,
)

from flannot.napari._qt.session_dock import button
from flannot.teach.attempts import default_trainee

NOT_RATED = "—"


class RubricPanel(QGroupBox):
    """Checklist boxes, global rating, entrustment (Zwisch) and the educator's name."""

    def __init__(self, on_save: Any) -> None:
        super().__init__("Assessment (educator)")
        self.setToolTip(
            "Automatic items are ticked from the attempt after Check; tick the others, "
            "choose the ratings and save them with the attempt."
        )
        self.educator = QLineEdit(default_trainee())
        self.rating = QComboBox()
        self.entrustment = QComboBox()
        self.boxes: dict[str, QCheckBox] = {}
        self.auto: dict[str, tuple[bool, str]] = {}
        self._items = QVBoxLayout()
        form = QFormLayout()
        form.addRow("Educator:", self.educator)
        form.addRow("Global rating:", self.rating)
        form.addRow("Entrustment:", self.entrustment)
        self.save_btn = button("Save assessment", "Store the assessment in the attempt", on_save)
        layout = QVBoxLayout(self)
        layout.addLayout(self._items)
        layout.addLayout(form)
        layout.addWidget(self.save_btn)

    def set_protocol(self, protocol: Any) -> None:
        """One box per rubric item; the protocol's scales in the combo boxes."""
        for box in self.boxes.values():
            self._items.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for item in protocol.rubric:
            box = QCheckBox(item.text)
            box.setToolTip("checked automatically after Check" if item.check else "")
            self._items.addWidget(box)
            self.boxes[item.key] = box
        self.rating.clear()
        self.rating.addItems([NOT_RATED, *protocol.global_rating])
        self.entrustment.clear()
        self.entrustment.addItems([NOT_RATED, *protocol.entrustment])
        self.auto = {}

    def show_auto(self, auto: dict[str, tuple[bool, str]]) -> None:
        """Tick the automatically checked items and say why in their tooltips."""
        self.auto = dict(auto)
        for key, (done, why) in auto.items():
            box = self.boxes.get(key)
            if box is not None:
                box.setChecked(done)
                box.setToolTip(f"automatic: {why}")

    def values(self) -> dict[str, Any]:
        """The educator's input as keywords of :func:`flannot.teach.rubric.assess`."""
        ticks: dict[str, bool | None] = {}
        for key, box in self.boxes.items():
            checked = box.isChecked()
            if key in self.auto and self.auto[key][0] == checked:
                ticks[key] = None  # left as the automatic check made it
            else:
                ticks[key] = checked
        r = self.rating.currentIndex()
        e = self.entrustment.currentText()
        return {
            "educator": self.educator.text(),
            "ticks": ticks,
            "global_rating": r if r > 0 else None,
            "entrustment": None if e == NOT_RATED else e,
        }
