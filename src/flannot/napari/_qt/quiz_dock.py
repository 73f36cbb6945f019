"""The **Quiz** dock: trainee mode with the reference hidden, Check, feedback overlay (SPEC §3, §6).

"Start quiz" takes the open case as the answer key (kept in memory, edits included), and
opens an *empty attempt* of the same image and case id in its place. The attempt lives in
its own file — ``attempts/<trainee>/<case-id>.json`` of the teaching set, or a file the
trainee picks — so saving and autosave (its recovery file sits beside the attempt) never
touch the reference ``annotations.json``. An attempt file that already exists is resumed.

"Check" scores the attempt with :func:`flannot.teach.score.score_case` (the set's
tolerances), lists the items failed-first in the trainee's words, and overlays the
reference as read-only, semi-transparent layers named ``reference: <type>``. Every Check
is appended to the attempt's history (:mod:`flannot.teach.history`), never overwritten.
After a Check the educator fills in the protocol's rubric, global rating and
entrustment (:class:`~flannot.napari._qt.rubric_panel.RubricPanel`; automatic items are
ticked from the attempt) and saves it in the attempt file (:mod:`flannot.teach.rubric`).
"End quiz" saves the attempt and reopens the reference.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import Qt, QTimer
from qtpy.QtGui import QBrush, QColor, QFont
from qtpy.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from flannot.errors import FlannotError
from flannot.napari._qt.decision_panel import DecisionPanel
from flannot.napari._qt.rubric_panel import RubricPanel
from flannot.napari._qt.session_dock import SessionDock, button
from flannot.napari._qt.table_model import connect_while_alive
from flannot.napari.layers import REFERENCE_OPACITY, REFERENCE_PREFIX  # noqa: F401
from flannot.protocols import Role
from flannot.teach.attempts import (
    attempt_path_in_set,
    check_trainee,
    default_trainee,
    empty_attempt,
)
from flannot.teach.feedback import (
    format_item_value,
    is_safety_violation,
    sort_items,
    summary_text,
)

if TYPE_CHECKING:  # pragma: no cover
    import napari

    from flannot.model.case import Case
    from flannot.teach.score import CaseScore, ScoreItem

# not part of the answer (not scored): de-identification boxes and calibration lines
PASS_COLOR = "#2ca02c"
FAIL_COLOR = "#d62728"
SAFETY_COLOR = "#ff3b30"  # a crossed contrast line: not just wrong, dangerous (bold, on top)
SAFETY_BACKGROUND = "#4a0d0d"
ITEM_ROLE = Qt.ItemDataRole.UserRole


class QuizDock(SessionDock):
    """Quiz a trainee on the open case: reference hidden, Check, feedback overlay."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__(napari_viewer)
        self.reference: Case | None = None  # the answer key, in memory while the quiz runs
        self.reference_path: Path | None = None
        self.reference_dirty = False
        self.attempt_path: Path | None = None
        self.result: CaseScore | None = None
        self.reference_layers: list[Any] = []
        # the overlay's layers built at Start (not added: nothing of the answer key shows
        # before Check) and what they were built for; see _prepare_reference
        self._prepared: tuple[Any, list[Any]] | None = None
        self._shown_for: tuple[Any, ...] | None = None  # what the live overlay was made from
        self.check_number: int | None = None  # the last Check's number in the history
        self._switching = False  # the dock itself is replacing the case

        self.trainee = QLineEdit(default_trainee())
        self.trainee.setToolTip("Your name: your attempts are saved under attempts/<name>/")
        self.start_btn = QPushButton("Start quiz")
        self.start_btn.setToolTip(
            "Hide the annotations of the open case and annotate it yourself from scratch"
        )
        self.start_btn.clicked.connect(lambda: self.start_quiz())
        self.check_btn = button("Check", "Compare your annotations with the reference", self.check)
        self.reference_btn = QPushButton("Show reference")
        self.reference_btn.setToolTip("Overlay the reference annotations (read-only)")
        self.reference_btn.clicked.connect(self.toggle_reference)
        self.side_by_side = QCheckBox("Side by side")
        self.side_by_side.setToolTip(
            "Reference and attempt in two views with one camera (napari grid mode), "
            "instead of the reference drawn over the attempt"
        )
        self.side_by_side.toggled.connect(self._arrange_reference)
        self._image_copy: Any = None
        self.end_btn = button(
            "End quiz", "Save your attempt and reopen the reference case", self.end_quiz
        )

        self.status = QLabel("Open a case, then Start quiz.")
        self.status.setWordWrap(True)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        font = QFont(self.summary.font())
        font.setBold(True)
        self.summary.setFont(font)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["", "Feedback", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_row_selected)
        # whole messages, wrapped, and every row shown: the table is as tall as its rows
        # (the dock scrolls), re-fitted when the dock's width changes
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        header.sectionResized.connect(lambda *_: self._fit_table())
        self.setMinimumWidth(340)

        name_row = QHBoxLayout()
        name_row.addWidget(QLabel("Trainee:"))
        name_row.addWidget(self.trainee, 1)
        buttons1 = QHBoxLayout()
        buttons1.addWidget(self.start_btn)
        buttons1.addWidget(self.end_btn)
        buttons2 = QHBoxLayout()
        buttons2.addWidget(self.check_btn)
        buttons2.addWidget(self.reference_btn)
        buttons2.addWidget(self.side_by_side)
        layout = self.scroll_layout()
        layout.addLayout(name_row)
        layout.addLayout(buttons1)
        layout.addWidget(self.status)
        layout.addLayout(buttons2)
        self.decision = DecisionPanel(self.session)  # the trainee's: proceed or not, and why
        layout.addWidget(self.decision)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        self.rubric = RubricPanel(self.save_assessment)
        layout.addWidget(self.rubric)
        layout.addStretch(1)

        self._items: list[ScoreItem] = []
        connect_while_alive(
            self,
            [
                (self.session.events.case_changed, self._on_case_changed),
                (self.session.events.annotations_changed, self._on_annotations_changed),
            ],
        )
        self._update_buttons()
        # Check's modules (scoring imports scipy.optimize: ~0.1 s) once the workspace is
        # idle, not in the trainee's first Start or Check
        QTimer.singleShot(0, _import_check_modules)

    # ------------------------------------------------------------------ state
    @property
    def active(self) -> bool:
        """Whether a quiz is running (the reference is held back)."""
        return self.reference is not None

    def _update_buttons(self) -> None:
        self.start_btn.setEnabled(not self.active)
        self.trainee.setEnabled(not self.active)
        self.check_btn.setEnabled(self.active)
        self.end_btn.setEnabled(self.active)
        self.reference_btn.setEnabled(self.active and self.result is not None)
        self.reference_btn.setText("Hide reference" if self.reference_layers else "Show reference")
        self.rubric.setVisible(self.active)
        self.rubric.setEnabled(self.active and self.result is not None)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._fit_table)  # after the columns re-fit

    def _fit_table(self) -> None:
        """Rows as tall as their wrapped text, the table as tall as its rows."""
        table = self.table
        table.resizeRowsToContents()
        rows = sum(table.rowHeight(r) for r in range(table.rowCount()))
        chrome = table.horizontalHeader().height() + 2 * table.frameWidth()
        table.setFixedHeight(chrome + max(rows, table.verticalHeader().defaultSectionSize()))

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _load(self, case_or_path: Any, image: Any, ask: bool = True) -> None:
        """``session.load_case``; ``ask=False`` keeps a recovery file without asking."""
        session = self.session
        saved_ask = session.ask_restore
        if not ask:  # the in-memory reference is newer than its recovery file: keep, don't ask
            session.ask_restore = lambda _p: None
        self._switching = True
        try:
            session.load_case(case_or_path, image=image)
        finally:
            session.ask_restore = saved_ask
            self._switching = False

    # ------------------------------------------------------------------ start
    def start_quiz(self, attempt_path: str | os.PathLike[str] | None = None) -> bool:
        """Hide the open case's annotations and open an empty attempt in their place.

        Parameters
        ----------
        attempt_path
            Where the attempt is saved. Default: ``attempts/<trainee>/<case-id>.json`` of
            the session's teaching set, else ``attempts/<trainee>/<case-id>.json`` beside the
            case file (or the working folder). An existing attempt is resumed.

        Returns
        -------
        bool
            Whether the quiz started.
        """
        session = self.session
        if self.active:
            return True
        if session.case is None or session.image is None:
            self._say("Open a case first: the quiz hides its annotations and you draw your own.")
            return False
        try:
            trainee = check_trainee(self.trainee.text())
            reference = session.current_case()
        except FlannotError as exc:
            self._say(str(exc))
            return False
        ref_path = session.case_path
        target = self._attempt_target(attempt_path, trainee, reference, ref_path)
        if target is None:
            self._say("Quiz not started: no file to save your attempt to.")
            return False
        if ref_path is not None and _same_file(target, ref_path):
            self._say("Your attempt cannot be saved over the reference case file.")
            return False
        try:
            if not target.exists():
                empty_attempt(reference, trainee).save(target)  # binds the attempt to its file
            image = session.image
            self.reference = reference
            self.reference_path = ref_path
            self.reference_dirty = session.dirty
            self.attempt_path = target
            self._load(target, image)
        except FlannotError as exc:
            self._say(f"Quiz not started: {exc}")
            self._drop_quiz()
            return False
        if session.case.case_id != reference.case_id:
            self._say(
                f"{target} is an attempt at case {session.case.case_id!r}, not "
                f"{reference.case_id!r}: choose another file"
            )
            self.end_quiz(save=False)
            return False
        self.result = None
        self.check_number = None
        self._prepare_reference()
        self.rubric.set_protocol(session.protocol)
        self._show_items([])
        self.summary.setText("")
        resumed = len(session.case.annotations)
        self._say(
            f"Quiz on {reference.case_id}: the reference is hidden. "
            + (f"Resumed your attempt ({resumed} annotations). " if resumed else "")
            + "Annotate, then press Check. Your attempt is saved to "
            f"{_short(target)}."
        )
        self._update_buttons()
        return True

    def _prepare_reference(self) -> None:
        """Build the reference overlay's layers now, for the first Check to only add them.

        The answer key does not change during a quiz, so its layers are built at Start and
        kept out of the viewer (the trainee sees nothing of them) until Check. Check builds
        them again when the image changed meanwhile (a calibration gives a new image, its
        scale). Issue 14: Check ≤ 0.5 s.
        """
        from flannot.napari import layers as L

        _import_check_modules()  # if the dock has not been idle yet
        self._prepared = None
        if self.reference is None:
            return
        session = self.session
        built = L.make_reference_layers(session, self.reference, self._reference_skip())
        self._prepared = (self._prepared_key(), built)

    def _prepared_key(self) -> tuple[Any, ...]:
        """What the overlay's layers are made from (compared by identity)."""
        session = self.session
        return (self.reference, session.image, session.protocol)

    def _reference_skip(self) -> set[str]:
        """The types the overlay leaves out: redaction boxes and calibration lines."""
        protocol = self.session.protocol
        return {
            *protocol.names_with_role(Role.REDACTION),
            *protocol.names_with_role(Role.CALIBRATION),
        }

    def _reference_layers_to_show(self) -> list[Any]:
        """The layers of the reference overlay: those built at Start if still right, else new."""
        from flannot.napari import layers as L

        prepared, self._prepared = self._prepared, None
        if prepared is not None and all(
            a is b for a, b in zip(prepared[0], self._prepared_key(), strict=True)
        ):
            return prepared[1]
        return L.make_reference_layers(self.session, self.reference, self._reference_skip())

    def _attempt_target(
        self,
        attempt_path: str | os.PathLike[str] | None,
        trainee: str,
        reference: Case,
        ref_path: Path | None,
    ) -> Path | None:
        if attempt_path is not None:
            p = Path(attempt_path)
            return p / f"{reference.case_id}.json" if p.is_dir() else p
        ts = self.session.teaching_set
        if ts is not None:
            return attempt_path_in_set(ts.root, trainee, reference.case_id)
        # outside a set: beside the case, no dialog (the status line says where it went)
        start = (ref_path.parent if ref_path is not None else Path.cwd()) / "attempts" / trainee
        return start / f"{reference.case_id}.json"

    # ------------------------------------------------------------------ check
    def check(self) -> CaseScore | None:
        """Save and score the attempt, list the feedback and overlay the reference."""
        from flannot.teach.score import score_case

        if not self.active:
            self._say("Start a quiz first.")
            return None
        session = self.session
        try:
            attempt = session.current_case()
            ts = session.teaching_set
            tolerances = dict(ts.tolerances) if ts is not None else None
            result = score_case(self.reference, attempt, tolerances)
        except FlannotError as exc:
            self._say(f"Cannot check: {exc}")
            return None
        self.result = result
        self._show_items(sort_items(result.items))
        color = PASS_COLOR if result.passed else FAIL_COLOR
        self.summary.setStyleSheet(f"color: {color};")
        self.summary.setText(summary_text(result))
        try:
            if session.dirty:
                session.save()
            saved = f"Your attempt is saved to {_short(self.attempt_path)}."
        except FlannotError as exc:
            saved = f"Your attempt was not saved: {exc}"
        saved += " " + self._record(attempt, result, tolerances)
        self.show_reference()
        self._update_buttons()
        self._say(
            f"The reference is overlaid (layers '{REFERENCE_PREFIX}…'). {saved} "
            "Select a row to find the annotation."
        )
        return result

    def _record(self, attempt: Case, result: CaseScore, tolerances: Any) -> str:
        """Append the Check to the history and tick the rubric's automatic items."""
        from flannot.teach.history import record
        from flannot.teach.rubric import auto_checks

        try:
            entry = record(self.attempt_path, result, trainee=self.trainee.text().strip())
            self.check_number = int(entry["attempt"])
            self.rubric.show_auto(auto_checks(self.reference, attempt, result, tolerances))
        except FlannotError as exc:
            return f"This Check was not recorded: {exc}"
        return f"Check {self.check_number} recorded."

    def save_assessment(self) -> bool:
        """Store the rubric, ratings, educator and time in the attempt file (SPEC §6)."""
        from flannot.teach.rubric import ASSESSMENT_KEY, assess

        if not self.active or self.result is None or self.session.case is None:
            self._say("Check the attempt first: the assessment belongs to a checked attempt.")
            return False
        session = self.session
        ts = session.teaching_set
        try:
            a = assess(
                self.reference,
                session.current_case(),
                result=self.result,
                tolerances=dict(ts.tolerances) if ts is not None else None,
                attempt_number=self.check_number,
                **self.rubric.values(),
            )
            session.case.extra[ASSESSMENT_KEY] = a.to_dict()
            session.save()
        except FlannotError as exc:
            self._say(f"Assessment not saved: {exc}")
            return False
        self._say(
            f"Assessment by {a.educator} saved with the attempt ({a.done} of "
            f"{len(a.rubric)} items done) in {_short(self.attempt_path)}."
        )
        return True

    def _show_items(self, items: list[ScoreItem]) -> None:
        table = self.table
        table.blockSignals(True)
        try:
            table.setRowCount(0)
            table.setRowCount(len(items))
            for row, it in enumerate(items):
                unsafe = is_safety_violation(it)
                color = QColor(SAFETY_COLOR if unsafe else PASS_COLOR if it.passed else FAIL_COLOR)
                mark = QTableWidgetItem("⚠" if unsafe else "✓" if it.passed else "✗")
                mark.setForeground(QBrush(color))
                mark.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                msg = QTableWidgetItem(it.message)
                msg.setToolTip(f"{it.metric}: {it.message}")
                value = QTableWidgetItem(format_item_value(it))
                value.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                for cell in (mark, msg, value):
                    cell.setData(ITEM_ROLE, row)
                    if not it.passed:
                        cell.setForeground(QBrush(color))
                    if unsafe:
                        f = cell.font()
                        f.setBold(True)
                        cell.setFont(f)
                        cell.setBackground(QBrush(QColor(SAFETY_BACKGROUND)))
                table.setItem(row, 0, mark)
                table.setItem(row, 1, msg)
                table.setItem(row, 2, value)
            self._items = items
            self._fit_table()
            QTimer.singleShot(0, self._fit_table)  # once the columns have their width
        finally:
            table.blockSignals(False)

    def _on_row_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if len(rows) == 1:
            self.select_item(rows.pop())

    def select_item(self, row: int) -> bool:
        """Find a feedback row's annotation: the attempt's for an extra one, else the reference's.

        Returns whether an annotation was selected.
        """
        items = self._items
        if not 0 <= row < len(items) or items[row].annotation_id is None:
            return False
        item = items[row]
        ann_id = str(item.annotation_id)
        # a matched or missed item names the reference annotation; an extra one the attempt's
        if not item.message.startswith("extra:") and self._select_reference(ann_id):
            return True
        if item.message.startswith("extra:") or not self.reference_layers:
            try:
                self.session.select_annotation(ann_id)
                return True
            except KeyError:
                pass
        return False

    # ------------------------------------------------------------------ reference overlay
    def show_reference(self) -> list[Any]:
        """Overlay the reference as read-only, semi-transparent ``reference: <type>`` layers."""
        from flannot.napari import layers as L
        from flannot.napari.viewer_api import add_layers_quietly

        if self.reference is None:
            self.hide_reference()
            return []
        layers = self.viewer.layers
        if self._overlay_is_current():  # a second Check: the answer key is on screen as is
            for layer in self.reference_layers:
                layer.selected_data = set()
                layer.editable = False
                layer.visible = True
            return self._overlay_shown()
        # a second Check after a new calibration refills the overlay's live layers in place:
        # removing a layer costs napari a gc.collect() and adding one its visual, shaders and
        # Qt controls
        live = {lay.name: lay for lay in self.reference_layers if lay in layers}
        added, new = [], []
        for layer in self._reference_layers_to_show():
            old = live.pop(layer.name, None)
            if old is not None and L.refill_layer(old, layer):
                old.editable = False
                added.append(old)
                continue
            # napari re-enables editing on some view changes: keep the answer key read-only
            layer.events.editable.connect(lambda _e, lay=layer: _keep_read_only(lay))
            new.append(layer)
            added.append(layer)
        if live:  # one batch: napari collects garbage per removed layer otherwise
            with layers.batched_update():
                for layer in live.values():
                    layers.remove(layer)
        add_layers_quietly(self.viewer, new)
        self.reference_layers = added
        self._shown_for = self._prepared_key()
        if new or live or not self.reference_layers:
            self._arrange_reference()
        return self._overlay_shown()

    def _overlay_is_current(self) -> bool:
        """Whether the live overlay shows this quiz's reference on this image, every layer."""
        shown, layers = self._shown_for, self.viewer.layers
        return (
            shown is not None
            and bool(self.reference_layers)
            and all(a is b for a, b in zip(shown, self._prepared_key(), strict=True))
            and all(layer in layers for layer in self.reference_layers)
        )

    def _overlay_shown(self) -> list[Any]:
        """Lay the labels out, make the image active and update the buttons."""
        session = self.session
        session.arrange_labels()  # the reference's labels and the attempt's, apart
        if session.image_layer is not None and session.image_layer in self.viewer.layers:
            self.viewer.layers.selection.active = session.image_layer  # no edits by accident
        self._update_buttons()
        return list(self.reference_layers)

    def _arrange_reference(self, *_args: Any) -> None:
        """Overlaid, or side by side when the box is ticked (and there is an overlay)."""
        from flannot.napari.compare import side_by_side, stacked

        stacked(self.viewer, self._image_copy)
        self._image_copy = None
        image = self.session.image_layer
        if self.side_by_side.isChecked() and self.reference_layers and image is not None:
            self._image_copy = side_by_side(self.viewer, image, self.reference_layers)
            self.viewer.layers.selection.active = image  # not the copy: no edits by accident

    def hide_reference(self) -> None:
        """Remove the reference overlay layers."""
        from flannot.napari.compare import stacked

        stacked(self.viewer, self._image_copy)
        self._image_copy = None
        layers = self.viewer.layers
        gone = [layer for layer in self.reference_layers if layer in layers]
        if gone:  # one batch: one scene-graph clean-up (and gc.collect) in all
            with layers.batched_update():
                for layer in gone:
                    layers.remove(layer)
            if self.session is not None:
                self.session.arrange_labels()  # the attempt's labels may go back now
        self.reference_layers = []
        self._shown_for = None
        self._update_buttons()

    def toggle_reference(self) -> None:
        if self.reference_layers:
            self.hide_reference()
        elif self.result is not None:
            self.show_reference()

    def _select_reference(self, ann_id: str) -> bool:
        for layer in self.reference_layers:
            if layer not in self.viewer.layers or "id" not in layer.features:
                continue
            ids = [str(v) for v in layer.features["id"]]
            if ann_id in ids:
                i = ids.index(ann_id)
                if layer.ndim == 3:
                    coords = (
                        layer.data[i] if hasattr(layer, "shape_type") else layer.data[i : i + 1]
                    )
                    frame = int(round(float(coords[0][0])))
                    self.viewer.dims.set_current_step(0, frame)
                self.viewer.layers.selection.active = layer
                layer.selected_data = {i}
                return True
        return False

    # ------------------------------------------------------------------ end
    def end_quiz(self, save: bool = True) -> bool:
        """Save the attempt (when edited) and reopen the reference case with its edits."""
        if not self.active:
            return False
        session = self.session
        note = ""
        if save and session.dirty and self._attempt_is_open():
            try:
                session.save()
                note = f" Your attempt is saved to {_short(self.attempt_path)}."
            except FlannotError as exc:  # keep the quiz: the trainee's work is not on disk
                self._say(f"Your attempt could not be saved, the quiz goes on: {exc}")
                return False
        reference, dirty, image = self.reference, self.reference_dirty, session.image
        self.hide_reference()
        if not self._attempt_is_open():
            image = None  # another case is open: read the reference's own image
        self._drop_quiz()
        try:
            self._load(reference, image, ask=False)
        except FlannotError as exc:
            self._say(f"Could not reopen the reference: {exc}")
            return False
        session.dirty = dirty  # unsaved educator edits stay unsaved, not lost
        self._say(f"Quiz ended: the reference case is open again.{note}")
        return True

    def _attempt_is_open(self) -> bool:
        path = self.session.case_path
        return (
            path is not None
            and self.attempt_path is not None
            and _same_file(path, self.attempt_path)
        )

    def _drop_quiz(self) -> None:
        self.reference = None
        self._prepared = None
        self._shown_for = None
        self.check_number = None
        self.reference_path = None
        self.attempt_path = None
        self.result = None
        self._show_items([])
        self.summary.setText("")
        self._update_buttons()

    # ------------------------------------------------------------------ session events
    def _on_case_changed(self, *args: Any) -> None:
        if self._switching or not self.active or self._attempt_is_open():
            return
        # another case was opened (Teaching set dock, File > Open): the quiz is over
        self.hide_reference()
        self._drop_quiz()
        self._say("Quiz ended: another case was opened. Your saved attempt is kept.")

    def _on_annotations_changed(self, *args: Any) -> None:
        if self.result is not None and self.summary.text() and "(edited" not in self.summary.text():
            self.summary.setText(self.summary.text() + " (edited since: Check again)")


def _import_check_modules() -> None:
    """Import what Check uses (scoring, history, rubric), so that Check does not."""
    from flannot.teach import history, rubric, score  # noqa: F401


def _keep_read_only(layer: Any) -> None:
    if layer.editable:
        layer.editable = False


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    return os.path.abspath(a) == os.path.abspath(b)


def _short(path: Path | None) -> str:
    if path is None:
        return "?"
    parts = Path(path).parts
    return str(Path(*parts[-3:])) if len(parts) > 3 else str(path)
