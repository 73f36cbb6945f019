"""The **Annotate** dock: protocol-driven structure / level / side / instrument picking.

A thin Qt layer over :mod:`flannot.napari.layers` and the viewer's
:class:`~flannot.napari.session.Session`: picking a structure selects (or creates)
its layer in the protocol's colour and puts napari in the right drawing mode;
new shapes get the current attributes through ``layer.feature_defaults``.
Also: vertebra level auto-advance, the calibration line tool, notes, undo/redo,
save / save as (with the concurrent-change refusal turned into a save-as offer),
autosave and a shortcut cheat sheet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flannot.errors import FlannotError
from flannot.model.levels import caudal_neighbours
from flannot.napari import layers as L
from flannot.napari._qt.decision_panel import DecisionPanel
from flannot.napari._qt.session_dock import SessionDock
from flannot.napari.shortcuts import bind_shortcuts, cheat_sheet
from flannot.protocols import Role

__all__ = ["AnnotateDock"]

_MODES = {
    "point": "add",
    "polygon": "add_polygon",
    "path": "add_path",
    "line": "add_line",
    "rectangle": "add_rectangle",
}
_DEFAULT_LEVEL = {"vertebra": "L1", "interspace": "L4-L5"}
CALIBRATION_DEFAULT_MM = 10.0  # the calibration length a new case starts with
#: the transitional sixth lumbar vertebra: auto-advance skips it (L5 → S1); pick it by hand
_TRANSITIONAL = "L6"


class AnnotateDock(SessionDock):
    """Pick what to annotate; draw it in napari; save the case.

    Parameters
    ----------
    napari_viewer
        The viewer (npe2 passes it).

    Attributes
    ----------
    ask_conflict : callable or None
        ``f(message) -> "save_as" | "overwrite" | "cancel"`` when a save is refused
        because the file changed on disk; ``None`` shows a dialog.
    ask_save_path : callable or None
        ``f() -> path or None`` for Save as; ``None`` shows a file dialog.
    """

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__(napari_viewer)
        self.ask_conflict: Callable[[str], str] | None = None
        self.ask_save_path: Callable[[], str | Path | None] | None = None
        self._connected: list[Any] = []
        from flannot.napari.cine import CinePlayer

        self.player = CinePlayer(napari_viewer, self.session, on_change=self._show_playing)
        self._build()
        self.play_button.clicked.connect(lambda *_: self.player.toggle())
        self.loop_box.toggled.connect(lambda on: setattr(self.player, "loop", bool(on)))
        self.session.events.case_changed.connect(self._on_case_changed)
        self.session.events.dirty_changed.connect(self._update_header)
        self.session.events.calibration_changed.connect(self._update_calibration)
        self.session.events.annotations_changed.connect(self._update_undo_buttons)
        # live level-order check (SPEC §3), debounced: edits come in bursts
        self._order_timer = QTimer(self)
        self._order_timer.setSingleShot(True)
        self._order_timer.setInterval(300)
        self._order_timer.timeout.connect(self.check_vertebra_order)
        self._order_timer.timeout.connect(self._update_calibration)
        self.session.events.annotations_changed.connect(self._schedule_order_check)
        self.session.events.case_changed.connect(self._schedule_order_check)
        self.session.start_autosave()
        bind_shortcuts(napari_viewer, self)
        self._on_case_changed()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = self.scroll_layout()
        outer.setContentsMargins(6, 6, 6, 6)
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        outer.addWidget(self.header)

        form = QFormLayout()
        self.structure = QComboBox()
        self.structure.setToolTip("What to annotate (Alt+1 … Alt+8)")
        self.geometry = QComboBox()
        self.geometry.setToolTip("How to draw it")
        self.level = QComboBox()
        self.level.setToolTip("Level (Alt+Left / Alt+Right)")
        self.side = QComboBox()
        self.side.setToolTip("Side (Alt+L / Alt+R)")
        self.instrument = QComboBox()
        self.part = QComboBox()  # the type's declared parts (superior / inferior process)
        self.part.setToolTip("Which part of the structure (its declared values)")
        self.auto_advance = QCheckBox("advance vertebra level after each click")
        self.auto_advance.setChecked(True)
        self.auto_advance.setToolTip(
            "After each vertebra you place, the level moves one down (L4 → L5 → S1). "
            "For a transitional sixth lumbar vertebra pick L6 by hand."
        )
        form.addRow("Structure", self.structure)
        form.addRow("Draw as", self.geometry)
        form.addRow("Level", self.level)
        form.addRow("Side", self.side)
        form.addRow("Part", self.part)
        form.addRow("Instrument", self.instrument)
        form.addRow("", self.auto_advance)
        outer.addLayout(form)
        self.teaches = QLabel()
        self.teaches.setWordWrap(True)
        self.teaches.setStyleSheet("color: #aaaaaa; font-style: italic;")
        outer.addWidget(self.teaches)

        row = QHBoxLayout()
        self.draw_button = QPushButton("Draw")
        self.draw_button.setToolTip("Select the structure's layer and its drawing tool")
        self.apply_button = QPushButton("Apply to selected")
        self.apply_button.setToolTip("Set level/side/part/instrument of the selected shapes")
        row.addWidget(self.draw_button)
        row.addWidget(self.apply_button)
        outer.addLayout(row)

        note_row = QHBoxLayout()
        self.note = QLineEdit()
        self.note.setPlaceholderText("note for the selected annotation")
        self.note_button = QPushButton("Set note")
        note_row.addWidget(self.note)
        note_row.addWidget(self.note_button)
        outer.addLayout(note_row)
        self.decision = DecisionPanel(self.session)  # proceed / do not proceed and why
        outer.addWidget(self.decision)

        # cine playback (shown for a cine only): play/pause at the file's frame rate, loop
        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip("Play the cine at its recorded frame rate (Frame Time)")
        self.loop_box = QCheckBox("loop")
        self.loop_box.setChecked(True)
        self.rate_label = QLabel("")
        self.cine_row = QWidget()
        cine = QHBoxLayout(self.cine_row)
        cine.setContentsMargins(0, 0, 0, 0)
        cine.addWidget(self.play_button)
        cine.addWidget(self.rate_label, 1)
        cine.addWidget(self.loop_box)
        outer.addWidget(self.cine_row)

        calib = QGroupBox("Calibration")
        cl = QVBoxLayout(calib)
        self.calibration_label = QLabel()
        self.calibration_label.setWordWrap(True)
        cl.addWidget(self.calibration_label)
        crow = QHBoxLayout()
        self.calib_line_button = QPushButton("Draw line")
        self.calib_line_button.setToolTip("Draw a line over an object of known length (Alt+K)")
        self.calib_length = QDoubleSpinBox()
        self.calib_length.setRange(0.01, 10000.0)
        self.calib_length.setDecimals(2)
        self.calib_length.setValue(CALIBRATION_DEFAULT_MM)
        self.calib_length.setSuffix(" mm")
        self.calib_button = QPushButton("Calibrate")
        crow.addWidget(self.calib_line_button)
        crow.addWidget(self.calib_length)
        crow.addWidget(self.calib_button)
        cl.addLayout(crow)
        outer.addWidget(calib)

        erow = QHBoxLayout()
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.save_button = QPushButton("Save")
        self.save_as_button = QPushButton("Save as…")
        for b in (self.undo_button, self.redo_button, self.save_button, self.save_as_button):
            erow.addWidget(b)
        outer.addLayout(erow)

        self.order_warning = QLabel()
        self.order_warning.setWordWrap(True)
        self.order_warning.setStyleSheet("color: #ff9f43;")
        self.order_warning.setVisible(False)
        outer.addWidget(self.order_warning)
        self.status = QLabel()
        self.status.setWordWrap(True)
        outer.addWidget(self.status)

        keys = QGroupBox("Shortcuts")
        kl = QVBoxLayout(keys)
        self.cheat_sheet = QLabel(cheat_sheet())
        self.cheat_sheet.setTextFormat(Qt.TextFormat.RichText)
        self.cheat_sheet.setStyleSheet("font-size: 10px;")
        kl.addWidget(self.cheat_sheet)
        outer.addWidget(keys)
        outer.addStretch(1)

        self.structure.currentIndexChanged.connect(self._on_structure_changed)
        self.geometry.currentIndexChanged.connect(lambda _i: self.activate())
        for combo in (self.level, self.side, self.part, self.instrument):
            combo.currentIndexChanged.connect(lambda _i: self._update_defaults())
        self.draw_button.clicked.connect(lambda: self.activate())
        self.apply_button.clicked.connect(lambda: self.apply_to_selected())
        self.note_button.clicked.connect(lambda: self.set_note())
        self.note.returnPressed.connect(lambda: self.set_note())
        self.calib_line_button.clicked.connect(lambda: self.start_calibration())
        self.calib_button.clicked.connect(lambda: self.calibrate())
        self.undo_button.clicked.connect(lambda: self.undo())
        self.redo_button.clicked.connect(lambda: self.redo())
        self.save_button.clicked.connect(lambda: self.save())
        self.save_as_button.clicked.connect(lambda: self.save_as())

    # ------------------------------------------------------------------ state
    @property
    def protocol(self):
        return self.session.protocol

    @property
    def type_name(self) -> str:
        return self.structure.currentData() or self.protocol.types[0].name

    @property
    def kind(self) -> str:
        return self.geometry.currentData() or L.primary_kind(self.protocol, self.type_name)

    def attributes(self) -> dict[str, Any]:
        """The attributes new annotations get (``level``, ``side``, ``part``, ``instrument``)."""
        t = self.protocol.type(self.type_name)
        out: dict[str, Any] = {"level": None, "side": None, "part": None, "instrument": None}
        if t.level_kind and self.level.currentText():
            out["level"] = self.level.currentText()
        if "side" in t.attributes and self.side.currentText():
            out["side"] = self.side.currentText()
        if "part" in t.attributes and self.part.currentText():
            out["part"] = self.part.currentText()
        if "instrument" in t.attributes and self.instrument.currentText():
            out["instrument"] = self.instrument.currentText()
        return out

    def current_layer(self, create: bool = True):
        """The layer for the chosen structure and geometry."""
        if self.session.case is None:
            return None
        return self.session.annotation_layer(self.type_name, self.kind, create=create)

    # ------------------------------------------------------------------ structure picking
    def _on_case_changed(self) -> None:
        proto = self.protocol
        current = self.structure.currentData()
        self.structure.blockSignals(True)
        self.structure.clear()
        for i, t in enumerate(proto.types, start=1):
            self.structure.addItem(f"{i}  {t.title}", t.name)
            self.structure.setItemData(i - 1, t.teaches, Qt.ItemDataRole.ToolTipRole)
        idx = max(0, self.structure.findData(current)) if current else 0
        self.structure.setCurrentIndex(idx)
        self.structure.blockSignals(False)
        self.side.blockSignals(True)
        self.side.clear()
        self.side.addItems(["", *proto.sides])
        self.side.blockSignals(False)
        self.instrument.blockSignals(True)
        self.instrument.clear()
        self.instrument.addItems(["", *proto.instruments])
        self.instrument.blockSignals(False)
        self._connect_layers()
        self.player.pause()
        image = self.session.image
        self.cine_row.setVisible(image is not None and image.n_frames > 1)
        if image is not None and image.n_frames > 1:
            self.rate_label.setText(f"{self.player.fps:.3g} fps, {image.n_frames} frames")
        # per-case state: a message or a length typed for the previous case is not this one's
        self.status.setText("")
        self.note.clear()
        self.calib_length.setValue(CALIBRATION_DEFAULT_MM)
        self._on_structure_changed(activate=False)
        self._update_header()
        self._update_calibration()
        self._update_undo_buttons()

    def _on_structure_changed(self, _index: int = 0, activate: bool = True) -> None:
        t = self.protocol.type(self.type_name)
        self.teaches.setText(t.teaches)
        self.geometry.blockSignals(True)
        self.geometry.clear()
        for g in t.geometries:
            if g in _MODES:
                self.geometry.addItem(g, g)
        self.geometry.setEnabled(self.geometry.count() > 1)
        self.geometry.blockSignals(False)
        levels = self._levels_for(t.level_kind)
        prev = self.level.currentText()
        self.level.blockSignals(True)
        self.level.clear()
        self.level.addItems(levels)
        if prev in levels:
            self.level.setCurrentText(prev)
        elif t.level_kind in _DEFAULT_LEVEL and _DEFAULT_LEVEL[t.level_kind] in levels:
            self.level.setCurrentText(_DEFAULT_LEVEL[t.level_kind])
        self.level.setEnabled(bool(levels))
        self.level.blockSignals(False)
        self.side.setEnabled("side" in t.attributes)
        parts = list(t.allowed("part") or ()) if "part" in t.attributes else []
        prev_part = self.part.currentText()
        self.part.blockSignals(True)
        self.part.clear()
        self.part.addItems(["", *parts] if parts else [])
        if prev_part in parts:
            self.part.setCurrentText(prev_part)
        self.part.setEnabled(bool(parts))
        self.part.blockSignals(False)
        self.instrument.setEnabled("instrument" in t.attributes)
        self.auto_advance.setEnabled(t.level_kind == "vertebra")
        if activate:
            self.activate()

    def _levels_for(self, level_kind: str | None) -> list[str]:
        if level_kind == "vertebra":
            return list(self.protocol.vertebra_levels)
        if level_kind == "interspace":
            return list(self.protocol.interspace_levels)
        return []

    def select_structure(self, type_name: str, kind: str | None = None) -> Any:
        """Choose ``type_name`` (and optionally its geometry) and start drawing it."""
        idx = self.structure.findData(type_name)
        if idx < 0:
            raise KeyError(type_name)
        self.structure.setCurrentIndex(idx)  # fills levels/geometries
        if kind is not None:
            gi = self.geometry.findData(kind)
            if gi < 0:
                raise KeyError(f"{type_name} cannot be drawn as {kind}")
            self.geometry.blockSignals(True)
            self.geometry.setCurrentIndex(gi)
            self.geometry.blockSignals(False)
        return self.activate()

    def select_structure_index(self, index: int) -> None:
        if 0 <= index < self.structure.count():
            self.structure.setCurrentIndex(index)

    def activate(self) -> Any:
        """Select the structure's layer (creating it) and napari's drawing tool for it."""
        layer = self.current_layer()
        if layer is None:
            self.status.setText("Open a DICOM image, case or teaching set first.")
            return None
        layer.visible = True
        self.viewer.layers.selection.active = layer
        self._update_defaults()
        try:
            layer.mode = _MODES[self.kind]
        except (KeyError, ValueError):
            pass
        return layer

    def _update_defaults(self) -> None:
        layer = self.current_layer(create=False) if self.session.case is not None else None
        if layer is None:
            return
        defaults = L.default_features(self.type_name)
        defaults.update(self.attributes())
        name = L.structure_name(self.protocol.find_type(self.type_name))
        defaults["label"] = L.label_for(self.type_name, defaults, name)
        layer.feature_defaults = defaults

    # ------------------------------------------------------------------ levels, sides
    def next_level(self) -> None:
        i = self.level.currentIndex()
        if self.level.isEnabled() and i + 1 < self.level.count():
            self.level.setCurrentIndex(i + 1)

    def advance_level(self) -> str | None:
        """After a vertebra click: the next vertebra caudally (``L4`` → ``L5``).

        ``L5`` is followed by ``S1``: most spines have five lumbar vertebrae, so the
        transitional ``L6`` is only used when the user picks it (then ``L6`` → ``S1``).
        Returns the new level, ``None`` when there is none (``S1``) or levels are off.
        """
        if not self.level.isEnabled():
            return None
        following = caudal_neighbours(self.level.currentText())
        usual = [lv for lv in following if lv != _TRANSITIONAL] or list(following)
        for level in usual:
            if self.level.findText(level) >= 0:
                self.level.setCurrentText(level)
                return level
        return None

    def previous_level(self) -> None:
        i = self.level.currentIndex()
        if self.level.isEnabled() and i > 0:
            self.level.setCurrentIndex(i - 1)

    def set_side(self, side: str) -> None:
        if self.side.isEnabled():
            self.side.setCurrentText(side)

    def _connect_layers(self) -> None:
        for layer in self._connected:
            try:
                layer.events.data.disconnect(self._on_layer_data)
            except (TypeError, ValueError, RuntimeError):
                pass
        self._connected = []
        for layer in self.session.annotation_layers().values():
            self._watch(layer)

    def _watch(self, layer: Any) -> None:
        if layer in self._connected:
            return
        layer.events.data.connect(self._on_layer_data)
        selection = getattr(getattr(layer, "selected_data", None), "events", None)
        if selection is not None:
            selection.items_changed.connect(self._on_selection)
        self._connected.append(layer)

    def _on_layer_data(self, event: Any) -> None:
        action = str(getattr(event, "action", "")).lower()
        layer = event.source
        if action.endswith("adding") and layer is self.current_layer(create=False):
            # napari copies a selected shape's features into the defaults: re-apply ours
            self._update_defaults()
            return
        vertebrae = self.protocol.names_with_role(Role.VERTEBRA)
        if action.endswith("added") and layer.metadata.get("flannot_type") in vertebrae:
            if self.auto_advance.isChecked() and self.type_name in vertebrae:
                self.advance_level()
        self._update_undo_buttons()

    # ------------------------------------------------------------------ attributes, notes
    def _active_selection(self) -> tuple[Any, list[int]]:
        layer = self.viewer.layers.selection.active
        if layer is None or "flannot_key" not in layer.metadata:
            return None, []
        if layer not in self.session.annotation_layers().values():
            return None, []
        return layer, sorted(int(i) for i in layer.selected_data)

    def apply_to_selected(self) -> int:
        """Give the selected shapes of the active flannot layer the chosen attributes."""
        layer, idx = self._active_selection()
        if not idx:
            self.status.setText("Select shapes in a flannot layer first.")
            return 0
        L.set_attributes(self.session, layer, idx, **self.attributes())
        self.status.setText(f"Updated {len(idx)} annotation(s).")
        return len(idx)

    def set_note(self, text: str | None = None) -> int:
        """Set the note of the selected annotation(s)."""
        layer, idx = self._active_selection()
        if not idx:
            self.status.setText("Select an annotation to attach the note to.")
            return 0
        L.set_attributes(self.session, layer, idx, note=self.note.text() if text is None else text)
        self.status.setText("Note saved in the case (remember to Save).")
        return len(idx)

    def _on_selection(self, *_args: Any) -> None:
        """One annotation selected: show its note and, in its structure, its attributes."""
        layer, idx = self._active_selection()
        if len(idx) != 1 or idx[0] >= len(layer.features):
            return
        row = layer.features.iloc[idx[0]]
        note = L._clean(row.get("note"))
        self.note.setText("" if note is None else str(note))
        if layer is not self.current_layer(create=False) or str(layer.mode).startswith("add"):
            return  # while drawing, napari selects the new shape: keep the chosen (advanced) level
        for combo, column in (
            (self.level, "level"),
            (self.side, "side"),
            (self.part, "part"),
            (self.instrument, "instrument"),
        ):
            value = L._clean(row.get(column))
            if combo.isEnabled() and value and combo.findText(str(value)) >= 0:
                combo.blockSignals(True)  # napari already made these the defaults
                combo.setCurrentText(str(value))
                combo.blockSignals(False)

    def _schedule_order_check(self) -> None:
        self._order_timer.start()

    def check_vertebra_order(self) -> list[str]:
        """Show vertebra labels that are out of cranio-caudal order or skip a level."""
        messages: list[str] = []
        if self.session.case is not None:
            try:
                problems = self.session.current_case().vertebra_order_problems()
            except Exception as exc:  # feedback must never break annotating
                problems = []
                messages = [f"level check unavailable: {exc}"]
            messages += [plain_words(p.message, self.session.current_case()) for p in problems]
        self.order_warning.setText("⚠ " + "<br>⚠ ".join(messages) if messages else "")
        self.order_warning.setVisible(bool(messages))
        return messages

    # ------------------------------------------------------------------ calibration
    def _calibration_type(self) -> str:
        """The protocol's calibration-line type (``Role.CALIBRATION``)."""
        names = self.protocol.names_with_role(Role.CALIBRATION)
        return names[0] if names else "calibration"

    def start_calibration(self) -> Any:
        """Select the calibration line tool."""
        layer = self.select_structure(self._calibration_type())
        self.status.setText("Draw a line over an object of known length, enter it, Calibrate.")
        return layer

    def calibrate(self, length_mm: float | None = None) -> tuple[float, float] | None:
        """``user`` calibration from the selected (else the last) calibration line.

        The line's length in mm sets the pixel spacing; a known pixel aspect ratio
        (anisotropic spacing from the header) is kept.
        """
        if self.session.case is None:
            return None
        layer = self.session.annotation_layer(self._calibration_type(), "line", create=False)
        if layer is None or len(layer.data) == 0:
            self.status.setText("Draw a calibration line first.")
            return None
        length = float(self.calib_length.value() if length_mm is None else length_mm)
        if not length > 0:
            self.status.setText("Enter the line's real length in mm.")
            return None
        selected = sorted(layer.selected_data)
        index = int(selected[-1]) if selected else len(layer.data) - 1
        pts = np.asarray(layer.data[index], dtype=float)[:, -2:]
        d_row, d_col = pts[-1] - pts[0]
        image = self.session.image
        aspect = 1.0
        if image.spacing_mm is not None:
            aspect = float(image.spacing_mm[0]) / float(image.spacing_mm[1])
        px = float(np.hypot(d_row * aspect, d_col))
        if px <= 0:
            self.status.setText("The calibration line has no length.")
            return None
        col_mm = length / px
        spacing = (col_mm * aspect, col_mm)
        from flannot.model.limits import SPACING_RANGE

        lo, hi = SPACING_RANGE
        if not all(lo <= s <= hi for s in spacing):  # what a case file may record
            self.status.setText(
                f"{spacing[1]:.4g} mm/pixel is outside {lo:g}–{hi:g} mm: check the length."
            )
            return None
        L.set_attributes(self.session, layer, [index], length_mm=length)
        self.session.set_user_calibration(spacing)
        self.status.setText(f"Calibrated: {spacing[1]:.4g} mm/pixel (user).")
        return spacing

    # ------------------------------------------------------------------ undo, save
    def undo(self) -> bool:
        done = self.session.undo.undo()
        self.status.setText("Undone." if done else "Nothing to undo.")
        self._update_undo_buttons()
        return done

    def redo(self) -> bool:
        done = self.session.undo.redo()
        self.status.setText("Redone." if done else "Nothing to redo.")
        self._update_undo_buttons()
        return done

    def save(self) -> Path | None:
        """Save the case; a refused save (changed on disk) offers save-as/overwrite."""
        from flannot.model.case import ConcurrentChangeError

        if self.session.case is None:
            self.status.setText("Nothing to save.")
            return None
        if self.session.case_path is None:
            return self.save_as()
        try:
            path = self.session.save()
        except ConcurrentChangeError as exc:
            choice = (self.ask_conflict or _ask_conflict_dialog)(str(exc))
            self.status.setText(f"Not saved: {exc.reason}")
            if choice == "save_as":
                return self.save_as()
            if choice == "overwrite":
                path = self.session.save(force=True)
            else:
                return None
        except FlannotError as exc:
            self.status.setText(f"Not saved: {exc}")
            return None
        self.status.setText(f"Saved {path}")
        return path

    def save_as(self, path: str | Path | None = None) -> Path | None:
        """Save the case under a new name (the file dialog already confirmed overwriting)."""
        if self.session.case is None:
            return None
        if path is None:
            path = (self.ask_save_path or self._save_dialog)()
        if not path:
            self.status.setText("Not saved.")
            return None
        try:
            written = self.session.save(path, force=True)
        except FlannotError as exc:
            self.status.setText(f"Not saved: {exc}")
            return None
        self.status.setText(f"Saved {written}")
        self._update_header()
        return written

    def _save_dialog(self) -> str | None:
        start = str(self.session.case_path or Path.cwd() / "annotations.json")
        path, _ = QFileDialog.getSaveFileName(
            self, "Save flannot case", start, "flannot case (*.json)"
        )
        return path or None

    # ------------------------------------------------------------------ display
    def _update_header(self, *_args: Any) -> None:
        case = self.session.case
        if case is None:
            self.header.setText("<b>No case open</b> — open a DICOM file, case or teaching set.")
            return
        star = " *" if self.session.dirty else ""
        where = _short_path(self.session.case_path) if self.session.case_path else "not saved yet"
        self.header.setText(f"<b>{case.case_id}{star}</b><br><small>{where}</small>")
        dock = self.parent()
        if dock is not None and hasattr(dock, "setWindowTitle"):
            dock.setWindowTitle(f"Annotate{star}")

    def _update_calibration(self, *_args: Any) -> None:
        """The spacing the measurements use: a calibration line with a length wins (SPEC §2)."""
        from flannot.measure.units import resolve_units

        image = self.session.image
        if image is None:
            self.calibration_label.setText("")
            return
        units = None
        if self.session.case is not None:
            try:
                units = resolve_units(self.session.current_case(), image)
            except Exception:  # feedback must never break annotating
                units = None
        if units is not None and units.calibration == "user" and image.calibration != "user":
            row_mm, col_mm = units.spacing
            text = (
                f"<b>{row_mm:.4g} × {col_mm:.4g} mm/pixel</b> (user: your calibration line)"
                f"<br><small>Measurements use the calibration line; the header says "
                f"{image.calibration}.</small>"
            )
        elif image.spacing_mm is None or image.calibration == "uncalibrated":
            text = "<b>uncalibrated</b>: pixels only — draw a line of known length to calibrate."
        else:
            text = (
                f"<b>{image.spacing_mm[0]:.4g} × {image.spacing_mm[1]:.4g} mm/pixel</b> "
                f"({image.calibration})<br><small>{image.calibration_note}</small>"
            )
        self.calibration_label.setText(text)

    def _show_playing(self, playing: bool) -> None:
        self.play_button.setText("⏸ Pause" if playing else "▶ Play")

    def _update_undo_buttons(self, *_args: Any) -> None:
        self.undo_button.setEnabled(self.session.undo.can_undo)
        self.redo_button.setEnabled(self.session.undo.can_redo)
        for layer in self.session.annotation_layers().values():
            self._watch(layer)


_JSON_PATH = re.compile(r"\$\.annotations\[(\d+)\](?:\.[\w.\[\]]+)?")


def plain_words(message: str, case: Any) -> str:
    """A validation message without JSON paths: ``$.annotations[2]`` becomes the
    annotation's id (``"v3"``); ``flannot validate`` keeps the paths."""
    annotations = list(getattr(case, "annotations", []) or [])

    def name(match: re.Match[str]) -> str:
        i = int(match.group(1))
        return f"annotation {annotations[i].id}" if i < len(annotations) else "another annotation"

    return _JSON_PATH.sub(name, message)


def _ask_conflict_dialog(message: str) -> str:
    box = QMessageBox()
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("flannot: case changed on disk")
    box.setText("The case file was changed by someone else since you opened it.")
    box.setInformativeText(message)
    save_as = box.addButton("Save as…", QMessageBox.ButtonRole.AcceptRole)
    overwrite = box.addButton("Overwrite", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(save_as)
    box.exec()
    clicked = box.clickedButton()
    if clicked is save_as:
        return "save_as"
    if clicked is overwrite:
        return "overwrite"
    return "cancel"


def _short_path(path: Path) -> str:
    """``path`` relative to the working folder when it lies inside it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel.startswith("..") else rel
