"""The **Teaching set** dock: browse a set's cases, edit their teaching notes, add DICOM.

A thin view over :class:`flannot.teach.teaching_set.TeachingSet` and the viewer's
:class:`~flannot.napari.session.Session`: the case list shows a small windowed preview of
each case's first frame (computed lazily, one per event-loop turn, and cached), picking a case
loads it through ``session.load_case``, the notes editor writes ``case.notes`` and Save goes
through ``session.save()``. "Add DICOM…" runs the PS3.15 de-identification of
``TeachingSet.add_dicom`` and shows what it removed.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from qtpy.QtCore import QSize, Qt, QTimer
from qtpy.QtGui import QColor, QIcon, QImage, QPixmap
from qtpy.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QTextBrowser,
)

from flannot.deid.summary import deid_summary, report_files
from flannot.deid.summary import field as _get
from flannot.errors import FlannotError
from flannot.export.thumbnails import THUMB_PX, thumbnail_array
from flannot.napari._qt.session_dock import SessionDock, button, hbox
from flannot.napari._qt.table_model import connect_while_alive

if TYPE_CHECKING:  # pragma: no cover
    import napari

log = logging.getLogger(__name__)

DESC_CHARS = 110  # of the set description shown above the case list
CASE_ID_ROLE = Qt.ItemDataRole.UserRole
DIRTY_STYLE = "color: #ff9f1c; font-weight: bold;"
CLEAN_STYLE = "color: #8f8f8f;"


def _pixmap(arr: np.ndarray) -> QPixmap:
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    if arr.ndim == 3:
        qimg = QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        qimg = QImage(arr.data, w, h, w, QImage.Format.Format_Grayscale8)
    return QPixmap.fromImage(qimg.copy())  # copy: the array's buffer is not Qt's to keep


def _placeholder_icon() -> QIcon:
    pm = QPixmap(THUMB_PX, THUMB_PX)
    pm.fill(QColor("#262930"))
    return QIcon(pm)


class TeachingSetDock(SessionDock):
    """Browse a teaching set's cases, edit teaching notes, save, add DICOM (SPEC §3, §5)."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__(napari_viewer)
        self.teaching_set: Any = None
        self.last_report: Any = None
        self._thumb_queue: list[str] = []
        self._syncing = False

        # --- set controls
        self.open_btn = button(
            "Open set…", "Open a teaching-set folder (with flannot-set.json)", self.open_set
        )
        self.new_btn = button("New set…", "Create an empty teaching set in a folder", self.new_set)
        self.add_btn = QPushButton("Add DICOM…")
        self.add_btn.setToolTip(
            "Copy DICOM files into the set as new cases, de-identified (PS3.15 basic profile)"
        )
        self.add_btn.clicked.connect(lambda: self.add_dicom())
        self.set_label = QLabel("No teaching set open")
        self.set_label.setWordWrap(True)

        # --- case list
        self.case_list = QListWidget()
        self.case_list.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.case_list.setSpacing(2)
        self.case_list.setUniformItemSizes(True)
        # long titles are cut with "…" (full text on hover) rather than scrolled sideways
        self.case_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.case_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.case_list.setMinimumHeight(int(2.6 * (THUMB_PX + 6)))  # two and a half cases
        self.case_list.currentRowChanged.connect(self._on_row_changed)
        self.prev_btn = QPushButton("◀ Previous")
        self.prev_btn.clicked.connect(self.previous_case)
        self.next_btn = QPushButton("Next ▶")
        self.next_btn.clicked.connect(self.next_case)
        self.position_label = QLabel("")
        self.position_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        # --- titles: the set's name and the open case's title, edited in place
        self.set_title_edit = QLineEdit()
        self.set_title_edit.setPlaceholderText("name of the teaching set")
        self.set_title_edit.editingFinished.connect(
            lambda: self.set_title(self.set_title_edit.text())
        )
        self.case_title_edit = QLineEdit()
        self.case_title_edit.setPlaceholderText("title of the open case")
        self.case_title_edit.editingFinished.connect(self._on_case_title_edited)

        # --- notes
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText("Teaching notes for this case (Markdown)")
        self.notes_edit.textChanged.connect(self._on_notes_edited)
        self.notes_view = QTextBrowser()
        self.notes_view.setOpenExternalLinks(True)
        self.notes_tabs = QTabWidget()
        self.notes_tabs.addTab(self.notes_view, "Notes")
        self.notes_tabs.addTab(self.notes_edit, "Edit (Markdown)")
        self.notes_tabs.setMinimumHeight(120)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(200)
        self._preview_timer.timeout.connect(self._render_notes)

        self.dirty_label = QLabel("")
        self.save_btn = button(
            "Save", "Save the case's annotations and notes (annotations.json)", self.save
        )

        # --- de-identification summary (shown after Add DICOM)
        self.summary = QTextBrowser()
        self.summary.setVisible(False)
        self.summary.setMaximumHeight(160)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("color: #ff6b6b;")
        self.status_label.setVisible(False)

        row1 = QHBoxLayout()
        for b in (self.open_btn, self.new_btn, self.add_btn):
            row1.addWidget(b)
        nav = QHBoxLayout()
        nav.addWidget(self.prev_btn)
        nav.addWidget(self.position_label, 1)
        nav.addWidget(self.next_btn)
        self.course_btn = button(
            "Course…", "Trainees, cases and learning curves of this set", self.show_course
        )
        self.course_view: Any = None
        save_row = hbox((self.dirty_label, 1), self.course_btn, self.save_btn)
        layout = self.scroll_layout()
        layout.addLayout(row1)
        layout.addWidget(self.set_label)
        layout.addWidget(self.case_list, 3)
        layout.addLayout(nav)
        titles = QFormLayout()
        titles.addRow("Set title", self.set_title_edit)
        titles.addRow("Case title", self.case_title_edit)
        layout.addLayout(titles)
        layout.addWidget(self.notes_tabs, 2)
        layout.addLayout(save_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.summary)
        self.case_list.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        self.setMinimumWidth(340)  # titles, notes and the de-identification summary readable
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.setInterval(0)
        self._thumb_timer.timeout.connect(self._next_thumbnail)

        connect_while_alive(
            self,
            [
                (self.session.events.case_changed, self._on_case_changed),
                (self.session.events.dirty_changed, self._show_dirty),
            ],
        )

        self._on_case_changed()  # a set/case the reader opened before the dock existed
        self._show_dirty(self.session.dirty)

    # ------------------------------------------------------------------ the set
    def open_set(self, path: str | Path | None = None, load_first: bool = True) -> bool:
        """Open the teaching set in folder ``path`` (asks for one when ``None``).

        Loads its first case unless a case of this set is already open or ``load_first`` is
        false. Returns whether a set was opened.
        """
        if path is None:
            path = QFileDialog.getExistingDirectory(self, "Open teaching set")
            if not path:
                return False
        from flannot.teach.teaching_set import TeachingSet

        try:
            ts = TeachingSet.open(Path(path))
        except FlannotError as exc:
            self._error("Cannot open teaching set", str(exc))
            return False
        self.session.teaching_set = ts
        self._set_teaching_set(ts)
        if load_first and self.case_list.count() and self._current_case_row() is None:
            self.case_list.setCurrentRow(0)  # loads it
        return True

    def new_set(self, path: str | Path | None = None, name: str | None = None) -> bool:
        """Create an empty teaching set in folder ``path`` and open it."""
        if path is None:
            path = QFileDialog.getExistingDirectory(self, "Folder for the new teaching set")
            if not path:
                return False
        from flannot.teach.teaching_set import TeachingSet

        try:
            ts = TeachingSet.new(Path(path), name or Path(path).name)
        except FlannotError as exc:
            self._error("Cannot create teaching set", str(exc))
            return False
        self.session.teaching_set = ts
        self._set_teaching_set(ts)
        return True

    def _set_teaching_set(self, ts: Any) -> None:
        self.teaching_set = ts
        self.status_label.setVisible(False)  # "No teaching set: open or create…" is stale now
        self._populate()

    def set_title(self, text: str, case_id: str | None = None) -> bool:
        """Rename the set (``case_id=None``) or one of its cases, and save the set file."""
        ts = self.teaching_set
        if ts is None or not hasattr(ts, "set_title"):
            return False
        current = ts.name if case_id is None else str(_get(self._entry(case_id), "title") or "")
        if text.strip() == current:
            return False
        try:
            ts.set_title(text, case_id)
            ts.save()
        except FlannotError as exc:
            self._error("Cannot rename", str(exc))
            self._show_titles()
            return False
        self._populate()
        return True

    def _on_case_title_edited(self) -> None:
        case = self.session.case
        if case is not None and case.case_id in self.case_ids():
            self.set_title(self.case_title_edit.text(), case.case_id)

    def _show_titles(self) -> None:
        """The title fields show the set's name and the open case's title."""
        ts = self.teaching_set
        case = self.session.case
        in_set = ts is not None and case is not None and case.case_id in self.case_ids()
        self.set_title_edit.setText("" if ts is None else str(ts.name))
        self.set_title_edit.setEnabled(ts is not None)
        entry = self._entry(case.case_id) if in_set else None
        self.case_title_edit.setText(str(_get(entry, "title") or "") if entry is not None else "")
        self.case_title_edit.setEnabled(in_set)

    def _set_root(self) -> Path | None:
        ts = self.teaching_set
        for attr in ("root", "path", "dir", "folder"):
            value = getattr(ts, attr, None)
            if value is not None and not callable(value):
                p = Path(value)
                return p.parent if p.name == "flannot-set.json" else p
        return None

    def _entries(self) -> list[Any]:
        return list(getattr(self.teaching_set, "cases", None) or [])

    def _entry(self, case_id: str) -> Any:
        for e in self._entries():
            if str(_get(e, "case_id")) == case_id:
                return e
        raise KeyError(case_id)

    def case_ids(self) -> list[str]:
        """The set's case ids in list order."""
        return [str(_get(e, "case_id")) for e in self._entries()]

    def _case_dir(self, case_id: str) -> Path:
        if hasattr(self.teaching_set, "case_dir"):  # checks the path stays inside the set
            return Path(self.teaching_set.case_dir(case_id))
        entry = self._entry(case_id)
        rel = Path(str(_get(entry, "path") or f"cases/{case_id}"))
        root = self._set_root()
        return rel if rel.is_absolute() or root is None else root / rel

    def _populate(self) -> None:
        ts = self.teaching_set
        self._syncing = True
        try:
            self.case_list.clear()
            if ts is None:
                self.set_label.setText("No teaching set open")
                self._show_titles()
                return
            name = getattr(ts, "name", None) or (self._set_root() or Path("set")).name
            desc = getattr(ts, "description", "") or ""
            n = len(self._entries())
            # the set file may come from anyone: its text is shown, never interpreted as HTML
            # one line of description (the list and the notes need the room); all on hover
            short = str(desc).strip().split("\n")[0]
            if len(short) > DESC_CHARS:
                short = short[:DESC_CHARS].rsplit(" ", 1)[0] + " …"
            self.set_label.setText(
                f"<b>{html.escape(str(name))}</b> — {n} case{'s' if n != 1 else ''}"
                + (f"<br><small>{html.escape(short)}</small>" if desc else "")
            )
            self.set_label.setToolTip(str(desc))
            placeholder = _placeholder_icon()
            for e in self._entries():
                case_id = str(_get(e, "case_id"))
                title = _get(e, "title") or case_id
                view = _get(e, "view") or "unknown"
                item = QListWidgetItem(placeholder, f"{title}\n{view} · {case_id}")
                item.setData(CASE_ID_ROLE, case_id)
                item.setToolTip(f"{title}\ncase {case_id}, {view} view")
                self.case_list.addItem(item)
        finally:
            self._syncing = False
        self._show_titles()
        self._thumb_queue = self.case_ids()
        self._thumb_timer.start()
        self._select_current_case()

    def _next_thumbnail(self) -> None:
        """Compute one preview per event-loop turn so the list stays responsive."""
        if not self._thumb_queue:
            return
        case_id = self._thumb_queue.pop(0)
        try:
            icon = QIcon(_pixmap(thumbnail_array(self._image_path(case_id))))
        except Exception:
            log.debug("no thumbnail for %s", case_id, exc_info=True)
            icon = None
        if icon is not None:
            for row in range(self.case_list.count()):
                item = self.case_list.item(row)
                if item.data(CASE_ID_ROLE) == case_id:
                    item.setIcon(icon)
                    item.setData(Qt.ItemDataRole.UserRole + 1, True)  # has a real thumbnail
        if self._thumb_queue:
            self._thumb_timer.start()

    def _image_path(self, case_id: str) -> Path:
        case = self.teaching_set.case(case_id)
        path = getattr(case, "image_path", None)
        if path is not None:
            return Path(path)
        return self._case_dir(case_id) / str(case.image.path)

    def thumbnails_ready(self) -> bool:
        """Whether every case has its preview (tests wait on this)."""
        return not self._thumb_queue and all(
            self.case_list.item(r).data(Qt.ItemDataRole.UserRole + 1)
            for r in range(self.case_list.count())
        )

    # ------------------------------------------------------------------ navigation
    def _is_open(self, case_id: str) -> bool:
        """Whether the viewer shows this set's case ``case_id`` (same id *and* same folder:
        two sets may both have a case called ``lateral``)."""
        case, path = self.session.case, self.session.case_path
        if case is None or str(case.case_id) != case_id:
            return False
        if path is None:
            return False
        try:
            return Path(path).resolve().parent == self._case_dir(case_id).resolve()
        except (FlannotError, KeyError, OSError):
            return False

    def _current_case_row(self) -> int | None:
        if self.session.case is None or self.teaching_set is None:
            return None
        case_id = str(self.session.case.case_id)
        ids = self.case_ids()
        return ids.index(case_id) if case_id in ids and self._is_open(case_id) else None

    def _select_current_case(self) -> None:
        row = self._current_case_row()
        self._syncing = True
        try:
            self.case_list.setCurrentRow(-1 if row is None else row)
        finally:
            self._syncing = False
        self._update_nav()

    def _update_nav(self) -> None:
        n, row = self.case_list.count(), self.case_list.currentRow()
        self.prev_btn.setEnabled(n > 0 and row > 0)
        self.next_btn.setEnabled(n > 0 and row < n - 1)
        self.position_label.setText(f"{row + 1} / {n}" if n and row >= 0 else "")

    def _on_row_changed(self, row: int) -> None:
        if self._syncing or row < 0:
            return
        case_id = self.case_list.item(row).data(CASE_ID_ROLE)
        if not self.load_case(case_id):
            self._select_current_case()  # cancelled: back to the case on screen

    def load_case(self, case_id: str) -> bool:
        """Load case ``case_id`` of the open set into the viewer (asks about unsaved edits)."""
        if self._is_open(case_id):
            self._update_nav()
            return True
        if not self._confirm_discard():
            return False
        try:
            self.session.load_case(self._case_dir(case_id))  # refills the layers in place
        except (FlannotError, OSError, KeyError) as exc:
            self._error(f"Cannot open case {case_id}", str(exc))
            return False
        return True

    def next_case(self) -> None:
        """Load the next case of the set."""
        row = self.case_list.currentRow()
        if row < self.case_list.count() - 1:
            self.case_list.setCurrentRow(row + 1)

    def previous_case(self) -> None:
        """Load the previous case of the set."""
        row = self.case_list.currentRow()
        if row > 0:
            self.case_list.setCurrentRow(row - 1)

    def _confirm_discard(self) -> bool:
        """Before leaving a case with unsaved edits: save, discard or stay (False)."""
        if not self.session.dirty or self.session.case is None:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Case {self.session.case.case_id} has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save() is not None
        return answer == QMessageBox.StandardButton.Discard

    def _on_case_changed(self, *args: Any) -> None:
        ts = getattr(self.session, "teaching_set", None)
        if ts is not self.teaching_set:
            self._set_teaching_set(ts)  # the reader opened a (different) set
        else:
            self._select_current_case()
        case = self.session.case
        self.notes_edit.blockSignals(True)
        try:
            self.notes_edit.setPlainText("" if case is None else (case.notes or ""))
        finally:
            self.notes_edit.blockSignals(False)
        self.notes_edit.setEnabled(case is not None)
        self.save_btn.setEnabled(case is not None)
        self.status_label.setVisible(False)  # a message about the previous case
        self._show_titles()
        self._render_notes()

    # ------------------------------------------------------------------ notes & saving
    def _on_notes_edited(self) -> None:
        case = self.session.case
        if case is None:
            return
        text = self.notes_edit.toPlainText()
        if text == (case.notes or ""):
            return
        self._set_notes(text)
        self.session.dirty = True
        self._preview_timer.start()

    def _set_notes(self, text: str) -> None:
        """Store ``text`` as the case's notes (``current_case`` takes notes from here)."""
        case = self.session.case
        try:
            case.notes = text
        except (AttributeError, dataclasses.FrozenInstanceError):
            new = dataclasses.replace(case, notes=text)
            for attr, value in vars(case).items():  # load bookkeeping (path, mtime) too
                if not hasattr(new, attr):
                    object.__setattr__(new, attr, value)
            self.session.case = new

    def _render_notes(self) -> None:
        text = self.notes_edit.toPlainText()
        if text.strip():
            self.notes_view.setMarkdown(text)
        else:
            self.notes_view.setMarkdown("*No teaching notes yet — write them in the Edit tab.*")

    def _show_dirty(self, dirty: bool) -> None:
        self.dirty_label.setText("● unsaved changes" if dirty else "saved")
        self.dirty_label.setStyleSheet(DIRTY_STYLE if dirty else CLEAN_STYLE)
        self.save_btn.setText("Save*" if dirty else "Save")

    def save(self, force: bool = False, path: str | Path | None = None) -> Path | None:
        """Save the case (annotations and notes) through ``session.save``.

        A file changed on disk since it was loaded is not overwritten unless the user agrees
        (or ``force``). A case that has no file yet (an image opened on its own) asks where
        to save unless ``path`` is given. Returns the file written, ``None`` when nothing was
        saved.
        """
        if self.session.case is None:
            return None
        if path is None and self.session.case_path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Save case", "annotations.json", "flannot case (*.json)"
            )
            if not chosen:
                return None
            path = chosen
        try:
            written = self.session.save(path, force=force)
        except FlannotError as exc:
            from flannot.model.case import ConcurrentChangeError

            if force or not isinstance(exc, ConcurrentChangeError):
                self._error("Cannot save", str(exc))
                return None
            answer = QMessageBox.warning(
                self,
                "File changed on disk",
                f"{exc}\n\nOverwrite it with your version?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer == QMessageBox.StandardButton.Yes:
                return self.save(force=True, path=path)
            return None
        self.status_label.setVisible(False)
        return written

    # ------------------------------------------------------------------ adding cases
    def add_dicom(self, paths: list[str | Path] | None = None) -> Any:
        """De-identify DICOM files and add them to the set as cases; show what was removed.

        Parameters
        ----------
        paths
            DICOM files or series folders; asks with a file dialog when ``None``.

        Returns
        -------
        The ``TeachingSet.add_dicom`` report, or ``None`` when nothing was added.
        """
        if self.teaching_set is None:
            self._error("No teaching set", "Open or create a teaching set first.")
            return None
        if paths is None:
            chosen, _ = QFileDialog.getOpenFileNames(
                self, "Add DICOM to the teaching set", os.getcwd(), "DICOM (*.dcm *);;All (*)"
            )
            if not chosen:
                return None
            paths = chosen
        try:
            # save=True: when the set file cannot be written the new cases are taken back
            # (all or nothing, like `flannot set add`)
            report = self.teaching_set.add_dicom(
                [Path(p) for p in paths], deidentify=True, save=True
            )
        except FlannotError as exc:
            self._error("Cannot add DICOM", str(exc))
            return None
        self.last_report = report
        self.summary.setMarkdown(deid_summary(report))
        self.summary.setVisible(True)
        self.status_label.setVisible(False)
        self._populate()
        added = [str(_get(r, "case_id")) for r in report_files(report) if _get(r, "case_id")]
        if added and added[0] in self.case_ids():
            row = self.case_ids().index(added[0])
            self.case_list.setCurrentRow(row)  # loads it (asks first about unsaved edits)
        return report

    def show_course(self) -> Any:
        """Open the course view of the open set (a dock under the canvas)."""
        from flannot.napari._qt.course_view import CourseView

        root = self._set_root()
        if root is None:
            self._error("No teaching set", "Open a teaching set to see its course.")
            return None
        if self.course_view is None or self.course_view.set_root != root:
            self.course_view = CourseView(root)
            self.viewer.window.add_dock_widget(self.course_view, name="Course", area="bottom")
        self.course_view.refresh()
        return self.course_view

    def _error(self, title: str, text: str) -> None:
        """Show a problem in the dock (not a modal box: it must not stop a demo or a test)."""
        log.warning("%s: %s", title, text)
        self.status_label.setText(f"{title}: {text}")
        self.status_label.setVisible(True)
