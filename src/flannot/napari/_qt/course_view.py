"""The course view of the open teaching set: trainees, cases and learning curves (SPEC §16).

Wiring only: the tables are :func:`flannot.teach.report.course_report`'s, the plot is the
HTML report's learning-curve PNG (:mod:`flannot.teach.report_html`).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtGui import QPixmap
from qtpy.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flannot.errors import FlannotError
from flannot.napari._qt.session_dock import button

TRAINEE_COLUMNS = [
    ("trainee", "Trainee"), ("checks", "Checks"), ("pass_rate", "Passed %"),
    ("last_score", "Last score %"), ("trend_per_week", "Trend %/week"),
    ("safety_failures", "Safety failures"), ("wrong_level_procedures", "Wrong level"),
    ("too_high", "Too high"), ("too_low", "Too low"), ("mean_rating", "Rating"),
    ("entrustment", "Entrustment"),
]  # fmt: skip
CASE_COLUMNS = [
    ("case_id", "Case"), ("pass_rate", "Passed %"), ("first_pass_rate", "First attempt %"),
    ("median_failed", "Median failed"), ("common_errors", "Most common errors"),
]  # fmt: skip


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    if isinstance(v, float):
        return f"{v + 0.0:.1f}"
    return str(v)


def _fill(table: QTableWidget, df: Any, columns: list[tuple[str, str]]) -> None:
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels([h for _c, h in columns])
    records = df.to_dict("records")
    table.setRowCount(len(records))
    for r, rec in enumerate(records):
        for c, (col, _h) in enumerate(columns):
            item = QTableWidgetItem(_text(rec.get(col)))
            if not isinstance(rec.get(col), str):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


class CourseView(QWidget):
    """Trainee and case tables and the learning-curve plot of a set's course report."""

    def __init__(self, set_root: str | Path) -> None:
        super().__init__()
        self.set_root = Path(set_root)
        self.report: Any = None
        self.trainees = self._table()
        self.cases = self._table()
        self.curve = QLabel("")
        self.curve.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.curve)
        scroll.setWidgetResizable(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.trainees, "Trainees")
        self.tabs.addTab(self.cases, "Cases")
        self.tabs.addTab(scroll, "Learning curves")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(button("Refresh", "Read the attempts again", self.refresh))

    @staticmethod
    def _table() -> QTableWidget:
        t = QTableWidget(0, 0)
        t.verticalHeader().setVisible(False)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        return t

    def refresh(self) -> bool:
        """Read the set's attempts again and show the tables and the learning curves."""
        from flannot.teach.report import course_report
        from flannot.teach.report_html import write_plots

        try:
            rep = course_report(self.set_root)
        except FlannotError as exc:
            self.status.setText(f"No course report: {exc}")
            return False
        self.report = rep
        _fill(self.trainees, rep.trainees, TRAINEE_COLUMNS)
        _fill(self.cases, rep.cases, CASE_COLUMNS)
        with tempfile.TemporaryDirectory() as tmp:
            plots = write_plots(rep, tmp, only=("learning_curve",))
            png = plots.get("learning_curve")
            self.curve.setPixmap(QPixmap(str(Path(tmp) / png)) if png else QPixmap())
        self.status.setText(
            f"{len(rep.trainees)} trainees, {len(rep.checks)} checks of {rep.n_cases} cases. "
            "The full report with every table: flannot report SET --html DIR."
        )
        return True
