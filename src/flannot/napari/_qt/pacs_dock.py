"""The PACS dock: find studies on a DICOMweb PACS, pull one into the open teaching set
with a progress bar, push the set's SEG/SR results (SPEC §17).

Wiring only: the rules live in :class:`flannot.pacs.browser.PacsBrowser`. Network work
runs in a worker thread so the viewer stays responsive.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import napari
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from flannot.napari._qt.session_dock import SessionDock, button, hbox
from flannot.pacs.browser import COLUMNS, PacsBrowser, describe, pull_summary, push_summary

log = logging.getLogger(__name__)
ERROR_STYLE = "color: #ff6b6b;"


class PacsDock(SessionDock):
    """Search a PACS and pull studies into the open teaching set (SPEC §17)."""

    progressed = Signal(int, int)  # (done, total), emitted from the worker thread
    _ended = Signal(str, object, object)  # (kind, result, error), from the worker thread
    job_done = Signal(str)  # "pull" or "push", once the dock has shown the outcome

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__(napari_viewer)
        self.browser = PacsBrowser()
        self.worker: Any = None
        self.last_result: Any = None

        self.url_edit = QLineEdit(self.browser.url)
        self.url_edit.setPlaceholderText("http://pacs.example:8042/dicom-web")
        self.cred_label = QLabel(self.browser.credentials_text())
        self.cred_label.setWordWrap(True)
        self.cred_label.setToolTip(
            "Credentials come from the environment only: FLANNOT_PACS_TOKEN, or "
            "FLANNOT_PACS_USER and FLANNOT_PACS_PASSWORD"
        )
        self.patient_edit = QLineEdit()
        self.patient_edit.setPlaceholderText("name or patient ID")
        self.date_edit = QLineEdit()
        self.date_edit.setPlaceholderText("20240101-20241231")
        self.modality_box = QComboBox()
        self.modality_box.addItems(["any", "XA", "RF", "DX", "CR"])
        self.search_btn = QPushButton("Search")
        self.search_btn.clicked.connect(lambda: self.search())
        self.patient_edit.returnPressed.connect(lambda: self.search())

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

        self.pull_btn = button(
            "Pull into set", "Retrieve the selected study, de-identified, as new cases", self.pull
        )
        self.push_btn = button(
            "Push results", "Store the set's DICOM SEG + SR export on the PACS", self.push
        )
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)

        form = QFormLayout()
        form.addRow("URL", self.url_edit)
        form.addRow("Credentials", self.cred_label)
        form.addRow("Patient", self.patient_edit)
        form.addRow("Study date", self.date_edit)
        form.addRow("Modality", self.modality_box)
        actions = hbox(self.pull_btn, self.push_btn)
        layout = self.scroll_layout()
        layout.addLayout(form)
        layout.addWidget(self.search_btn)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        self.setMinimumWidth(340)
        # both connect bound methods of this (GUI-thread) widget: Qt queues the worker
        # thread's emissions to the GUI thread, where the viewer may be touched
        self.progressed.connect(self._show_progress)
        self._ended.connect(self._on_ended)

    # ------------------------------------------------------------------ actions
    def search(self) -> bool:
        """Search with the filters; fill the table. Returns whether it worked."""
        self.browser.url = self.url_edit.text()
        self.cred_label.setText(self.browser.credentials_text())
        modality = self.modality_box.currentText()
        try:
            self.browser.search(
                self.patient_edit.text(),
                self.date_edit.text(),
                "" if modality == "any" else modality,
            )
        except Exception as exc:
            self._say(describe(exc), error=True)
            return False
        rows = self.browser.rows()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        if rows:
            self.table.selectRow(0)
        self._say(f"{len(rows)} stud{'y' if len(rows) == 1 else 'ies'} found.")
        return True

    def pull(self) -> threading.Thread | None:
        """Pull the selected study into the open set in a worker thread (returned);
        :attr:`job_done` is emitted when the dock has shown the outcome."""
        root = self._set_root()
        if root is None:
            return None
        row = self.table.currentRow()
        self.progress.setRange(0, 0)  # busy until the instances are counted
        return self._start(lambda: self.browser.pull(row, root, self.progressed.emit), "pull")

    def push(self) -> threading.Thread | None:
        """Push the open set's SEG/SR export in a worker thread (returned)."""
        root = self._set_root()
        if root is None:
            return None
        self.progress.setRange(0, 0)
        return self._start(lambda: self.browser.push(root, self.progressed.emit), "push")

    # ------------------------------------------------------------------ plumbing
    def _set_root(self) -> Any:
        ts = getattr(self.session, "teaching_set", None)
        if ts is None:
            self._say("Open a teaching set first (Teaching set dock).", error=True)
            return None
        self.browser.url = self.url_edit.text()
        return ts.root

    def _start(self, job: Any, kind: str) -> threading.Thread:
        self._busy(True)
        self._say(f"{kind.capitalize()}ing…")

        def run() -> None:
            try:
                result, error = job(), None
            except Exception as exc:  # shown in the dock, one line
                result, error = None, exc
            self._ended.emit(kind, result, error)

        self.worker = threading.Thread(target=run, name=f"flannot-pacs-{kind}", daemon=True)
        self.worker.start()
        return self.worker

    def _on_ended(self, kind: str, result: Any, error: Any) -> None:
        try:
            if error is not None:
                self._say(describe(error), error=True)
            else:
                self._done(kind, result)
        except Exception as exc:  # e.g. the new case cannot be opened
            self._say(describe(exc), error=True)
        finally:
            self._busy(False)
            self.job_done.emit(kind)

    def _done(self, kind: str, result: Any) -> None:
        self.last_result = result
        if kind == "push":
            self._say(push_summary(result), error=bool(result.rejected))
            return
        self._say(pull_summary(result))
        from flannot.teach.teaching_set import TeachingSet

        # the set on disk has new cases: hand the docks a fresh view of it, and open the
        # first new case unless that would drop unsaved edits
        ts = TeachingSet.open(result.set_dir)
        self.session.teaching_set = ts
        if result.cases and not self.session.dirty:
            self.session.load_case(ts.case(str(result.cases[0]["case_id"])))

    def _busy(self, busy: bool) -> None:
        for w in (self.search_btn, self.pull_btn, self.push_btn):
            w.setEnabled(not busy)
        self.progress.setVisible(busy)

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _say(self, text: str, error: bool = False) -> None:
        if error:
            log.warning("PACS: %s", text)
        self.status_label.setText(text)
        self.status_label.setStyleSheet(ERROR_STYLE if error else "")
