"""The **Measure** dock: a live table of the SPEC §4 measurements of the case on screen.

The dock is a thin view over :func:`flannot.measure.measure`: it rebuilds the case from the
layers (``session.current_case()``), measures it and shows the rows. Edits arrive as bursts of
layer events while a shape is dragged, so a single-shot timer debounces them into one
recomputation. The calibration behind the numbers is always on screen, in a warning colour
when the millimetres are not patient-plane millimetres.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from qtpy.QtCore import QItemSelectionModel, Qt, QTimer
from qtpy.QtGui import QAction, QKeySequence
from qtpy.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from flannot.io.calibration import MEANINGS
from flannot.io.calibration import WARNINGS as WARN_CALIBRATIONS
from flannot.napari._qt.session_dock import SessionDock, button
from flannot.napari._qt.table_model import (
    MEASURE_COLUMNS,
    DataFrameModel,
    connect_while_alive,
    disconnect_all,
    qt_alive,
)
from flannot.napari.layers import MEASURE_METADATA

if TYPE_CHECKING:  # pragma: no cover
    import napari

log = logging.getLogger(__name__)

DEBOUNCE_MS = 150

# what each calibration means for a millimetre on screen (SPEC §2 table, "meaning for the user")
CALIBRATION_MEANING = MEANINGS  # the one table, in flannot.io.calibration
WARN_STYLE = "color: #ff9f1c; font-weight: bold;"
OK_STYLE = "color: #8fd18f;"

STEP_THROTTLE_MS = 150  # the Measure table follows a playing cine at most ~7 times a second
LABEL_FORMAT = "{label}"  # the text the napari layers are made with
# the SPEC §4 columns, what the structure is and its value first
_LEADING = ("type", "level", "side", "name", "value", "unit")
_TRAILING = ("annotation_id", "frame", "calibration", "case_id")
DISPLAY_ORDER = _LEADING + _TRAILING
assert set(DISPLAY_ORDER) == set(MEASURE_COLUMNS)  # every SPEC §4 column, once
_ID_FEATURES = ("annotation_id", "id")


def calibration_text(calibration: str | None) -> str:
    """The header sentence for ``calibration`` (``None`` when no case is loaded)."""
    if not calibration:
        return "Calibration: — (no case loaded)"
    meaning = CALIBRATION_MEANING.get(calibration, "")
    return f"Calibration: {calibration}" + (f" — {meaning}" if meaning else "")


def label_measures(df: pd.DataFrame, protocol: Any = None) -> dict[str, str]:
    """The short measurement text per annotation id, e.g. ``{"lf1": "4.1 mm"}``.

    Only numeric rows with a unit are used, so a flag never becomes a label, and a millimetre
    value is dropped if its row says the image is uncalibrated (never mm without calibration).

    Parameters
    ----------
    df
        A SPEC §4 measurement table.
    protocol
        Whose types declare which measurement their label shows (``label_measure``,
        first one present wins); MILD when not given.

    Returns
    -------
    dict[str, str]
        ``annotation_id -> text``; annotations without a label measure are absent.
    """
    out: dict[str, str] = {}
    if df is None or df.empty:
        return out
    # one pass over the candidate rows, best name first per annotation
    if protocol is None:
        from flannot.protocols import get_protocol

        protocol = get_protocol()
    rank = {(t.name, n): k for t in protocol.types for k, n in enumerate(t.label_measure)}
    best: dict[str, tuple[int, str]] = {}
    for ann_id, ann_type, name, value, unit, cal in zip(
        df["annotation_id"],
        df["type"],
        df["name"],
        df["value"],
        df["unit"],
        df["calibration"],
        strict=True,
    ):
        k = rank.get((str(ann_type), str(name)))
        if k is None or not unit or isinstance(value, (bool, np.bool_)):
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if math.isnan(v) or ("mm" in str(unit) and cal == "uncalibrated"):
            continue
        key = str(ann_id)
        if key not in best or k < best[key][0]:
            best[key] = (k, _label_value(str(name), v, str(unit)))
    return {key: text for key, (_, text) in best.items()}


def empty_table_hint(case: Any) -> str:
    """Why the table is empty, and what to draw to fill it (issue 14)."""
    if case is None:
        return "Open a case to measure it."
    annotations = list(getattr(case, "annotations", []) or [])
    if not annotations:
        return "Nothing measured yet: draw structures with the Annotate dock."
    if any(a.type == "vertebra" and a.geometry.kind == "point" for a in annotations):
        return (
            "Vertebra centre points have no measurements: draw 4 corners "
            "(Draw as: polygon) to measure heights."
        )
    return (
        "These annotations have no measurements: widths and thicknesses need outlines, "
        "distances a cannula line."
    )


def _label_value(name: str, value: float, unit: str) -> str:
    """``"4.1 mm"``; the tip's distance says what it is from, and when the tip has crossed."""
    if name == "tip_to_contrast":  # signed: negative once the tip is past the contrast line
        where = "from" if value >= 0 else "PAST"
        return f"tip {abs(value):.1f} {unit} {where} contrast"
    return f"{value:.1f} {unit}"


def _id_column(features: pd.DataFrame) -> str | None:
    for col in _ID_FEATURES:
        if col in features.columns:
            return col
    return None


def _text_of(label: Any, measure: str) -> str:
    label = "" if label is None or (isinstance(label, float) and math.isnan(label)) else label
    return " ".join(p for p in (str(label).strip(), measure) if p)


def update_measure_labels(session: Any, df: pd.DataFrame) -> int:
    """Show each annotation's key measurement in its layer's text label (``L4-L5 left 4.1 mm``).

    The text of every annotation layer becomes ``"<label> <measure>"`` — the layer's ``label``
    feature followed by the value :func:`label_measures` picks — and the per-annotation
    measure strings are kept in ``layer.metadata["flannot_measure"]`` (``{id: "4.1 mm"}``).

    The measure is not stored as a ``measure`` feature column: napari requires
    ``layer.feature_defaults`` to name every feature column, so an extra column would make the
    Annotate dock's defaults (the level/side of the next shape) fail. The text is therefore a
    manual string encoding, which napari extends and shrinks as shapes are added and removed;
    the dock rewrites it after every edit. Layers whose text someone else set to something
    other than ``{label}`` are left alone, and layers whose text already matches are not
    touched, so calling this again with the same table emits no events.

    Parameters
    ----------
    session
        The viewer's :class:`flannot.napari.session.Session`.
    df
        The SPEC §4 table of the session's case.

    Returns
    -------
    int
        The number of layers changed.
    """
    from napari.layers.utils.string_encoding import ManualStringEncoding

    texts = label_measures(df, session.protocol)
    changed = 0
    for layer in session.annotation_layers().values():
        features = getattr(layer, "features", None)
        if not isinstance(features, pd.DataFrame) or not hasattr(layer, "text"):
            continue
        id_col = _id_column(features)
        if id_col is None:
            continue
        encoding = layer.text.string
        ours = layer.metadata.get(MEASURE_METADATA) is not None and isinstance(
            encoding, ManualStringEncoding
        )
        if not ours and getattr(encoding, "format", None) != LABEL_FORMAT:
            continue  # a text someone else chose (e.g. a quiz hiding labels)
        ids = [str(i) for i in features[id_col]]
        labels = list(features["label"]) if "label" in features.columns else [""] * len(ids)
        strings = [_text_of(lab, texts.get(i, "")) for lab, i in zip(labels, ids, strict=True)]
        measures = {i: texts[i] for i in ids if i in texts}
        if ours and [str(t) for t in encoding.array] == strings:
            layer.metadata[MEASURE_METADATA] = measures
            continue
        layer.metadata[MEASURE_METADATA] = measures
        # keeps colour/size/anchor, unlike `layer.text = ...`
        layer.text.string = ManualStringEncoding(array=np.asarray(strings, dtype=str), default="")
        if hasattr(layer, "refresh_text"):
            layer.refresh_text()
        changed += 1
    if changed and hasattr(session, "arrange_labels"):
        session.arrange_labels()  # longer labels ("... 3.1 mm"): place them again
    return changed


def restore_labels(session: Any) -> None:
    """Give the annotation layers back their plain ``{label}`` text (the dock was closed)."""
    try:
        layers = session.annotation_layers().values()
    except Exception:  # the viewer is gone
        return
    for layer in layers:
        if layer.metadata.pop(MEASURE_METADATA, None) is not None:
            layer.text.string = LABEL_FORMAT
            if hasattr(layer, "refresh_text"):
                layer.refresh_text()


class MeasureDock(SessionDock):
    """Live measurement table for the case in the viewer (SPEC §3 "Measure", §4)."""

    def __init__(self, napari_viewer: napari.Viewer) -> None:
        super().__init__(napari_viewer)
        self._full = pd.DataFrame(columns=list(MEASURE_COLUMNS))
        self._layer_hooks: list[tuple[Any, Any]] = []
        self._writing_labels = False
        self._restoring_selection = False
        self.refresh_count = 0  # how many times the table was recomputed (tests, debugging)

        self.calibration_label = QLabel(calibration_text(None))
        self.calibration_label.setWordWrap(True)
        self.calibration_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)

        self.frame_only = QCheckBox("Current frame only")
        self.frame_only.setToolTip("Show only the measurements of the frame on screen")
        self.frame_only.toggled.connect(self._apply_filter)

        self.model = DataFrameModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # a translucent grey reads on napari's dark and light themes alike (the default
        # alternate colour is white, under napari's white text)
        self.table.setStyleSheet("QTableView { alternate-background-color: rgba(128,128,128,40); }")
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(60)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        copy_action = QAction("Copy", self.table)
        copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        copy_action.triggered.connect(self.copy_selected)
        self.table.addAction(copy_action)

        self.copy_sel_btn = QPushButton("Copy selected")
        self.copy_sel_btn.setToolTip("Copy the selected rows as tab-separated text (Ctrl+C)")
        self.copy_sel_btn.clicked.connect(self.copy_selected)
        self.copy_all_btn = QPushButton("Copy all")
        self.copy_all_btn.setToolTip("Copy every row shown as tab-separated text")
        self.copy_all_btn.clicked.connect(self.copy_all)
        self.export_btn = button(
            "Export CSV…", "Save the rows shown (with unit and calibration) as CSV", self.export_csv
        )

        top = QHBoxLayout()
        top.addWidget(self.frame_only)
        top.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_sel_btn)
        buttons.addWidget(self.copy_all_btn)
        buttons.addWidget(self.export_btn)
        self.setMinimumWidth(420)
        self.table.setMinimumHeight(60)  # a header and a row: the dock may be short, it scrolls
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.calibration_label)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.setInterval(STEP_THROTTLE_MS)
        self._step_timer.timeout.connect(self._apply_filter)

        events = self.session.events
        connect_while_alive(
            self,
            [
                (events.case_changed, self._on_case_changed),
                (events.annotations_changed, self.schedule_refresh),
                (events.calibration_changed, self.schedule_refresh),
                (self.viewer.layers.events.inserted, self._rewire_layers),
                (self.viewer.layers.events.removed, self._rewire_layers),
                (self.viewer.dims.events.current_step, self._on_step),
            ],
        )
        # not bound methods of self: Qt does not call those once self is being destroyed
        session, hooks = self.session, self._layer_hooks
        self.destroyed.connect(lambda *_: (disconnect_all(hooks), restore_labels(session)))

        self._follow_frames()
        self._rewire_layers()
        self.refresh()

    # --- wiring ------------------------------------------------------------------------------
    def _drop_layer_hooks(self, *args: Any) -> None:
        disconnect_all(self._layer_hooks)

    def _rewire_layers(self, event: Any = None) -> None:
        """Listen to the data and features of the current annotation layers (and only them)."""
        self._drop_layer_hooks()
        if not qt_alive(self):
            return
        try:
            layers = self.session.annotation_layers()
        except Exception:
            layers = {}
        for layer in layers.values():
            for name, callback in (
                ("data", self._on_layer_event),
                ("features", self._on_layer_event),
                ("highlight", self._on_shape_selected),
            ):
                emitter = getattr(layer.events, name, None)
                if emitter is not None:
                    emitter.connect(callback)
                    self._layer_hooks.append((emitter, callback))
        if event is not None and not _is_reference(getattr(event, "value", None)):
            # a Quiz reference overlay is not measured: no recomputation (nor label rewrite
            # and second canvas paint) when it comes or goes
            self.schedule_refresh()

    def _on_layer_event(self, event: Any = None) -> None:
        if not self._writing_labels:  # our own label write is not an edit
            self.schedule_refresh()

    def _on_shape_selected(self, event: Any = None) -> None:
        """Shapes selected on the canvas: select their rows (the reverse of a row click)."""
        layer = getattr(event, "source", None)
        if layer is None or not qt_alive(self) or self._restoring_selection:
            return
        features = getattr(layer, "features", None)
        id_col = _id_column(features) if isinstance(features, pd.DataFrame) else None
        if id_col is None:
            return
        ids = [str(features[id_col].iloc[i]) for i in sorted(layer.selected_data or ())]
        ids = [i for i in ids if i]
        if not ids or self._selected_ids() == set(ids):
            return
        df = self.model.dataframe
        self._select_rows([r for r, a in enumerate(df["annotation_id"]) if str(a) in ids])

    def _selected_ids(self) -> set[str]:
        df = self.model.dataframe
        return {str(df.iloc[r]["annotation_id"]) for r in self.selected_rows()}

    def _select_rows(self, rows: list[int]) -> None:
        """Select ``rows`` without jumping to their annotation (it is already selected)."""
        self._restoring_selection = True
        try:
            self.table.clearSelection()
            sel = self.table.selectionModel()
            for r in rows:
                sel.select(
                    self.model.index(r, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
            if rows:
                self.table.scrollTo(self.model.index(rows[0], 0))
        finally:
            self._restoring_selection = False

    def _follow_frames(self) -> None:
        """A cine shows the numbers of the frame on screen (a trainee scrubs the portal's
        advance); the box stays free to untick."""
        image = getattr(self.session, "image", None)
        self.frame_only.setChecked(image is not None and image.n_frames > 1)

    def _on_case_changed(self, *args: Any) -> None:
        self._follow_frames()
        self._rewire_layers()
        self.schedule_refresh()

    def _on_step(self, event: Any = None) -> None:
        # throttled: a playing or scrubbed cine refilters a few times a second, not per frame
        if qt_alive(self) and self.frame_only.isChecked() and not self._step_timer.isActive():
            self._step_timer.start()

    def schedule_refresh(self, *args: Any) -> None:
        """(Re)start the debounce timer: many edits in a row give one recomputation."""
        if qt_alive(self._timer):
            self._timer.start()

    # --- computing ---------------------------------------------------------------------------
    def _measure(self) -> tuple[pd.DataFrame, str | None]:
        """Measure the session's case; ``(table, calibration)``.

        The calibration is the one the measurements use (a calibration line with a length
        makes it ``user``), also when there is nothing to measure yet.
        """
        if getattr(self.session, "case", None) is None:
            return pd.DataFrame(columns=list(MEASURE_COLUMNS)), None
        from flannot.measure import measure, resolve_units

        case = self.session.current_case()
        image = getattr(self.session, "image", None)
        df = measure(case, image=image)
        return df, resolve_units(case, image).calibration

    def refresh(self) -> None:
        """Recompute the table now (the debounce timer calls this)."""
        self._timer.stop()
        self.refresh_count += 1
        self.status_label.setText("")
        try:
            df, calibration = self._measure()
        except Exception as exc:
            log.debug("measure failed", exc_info=True)
            self.status_label.setText(f"Could not measure: {exc}")
            return
        self._full = df.reset_index(drop=True)
        self._show_calibration(calibration)
        cine = getattr(self.session, "image", None) is not None and self.session.image.n_frames > 1
        self.frame_only.setEnabled(cine or self.frame_only.isChecked())
        if getattr(self.session, "case", None) is not None:
            self._writing_labels = True
            try:
                update_measure_labels(self.session, self._full)
            except Exception:
                log.debug("updating measure labels failed", exc_info=True)
            finally:
                self._writing_labels = False
        self._apply_filter()

    def _show_calibration(self, calibration: str | None) -> None:
        self.calibration_label.setText(calibration_text(calibration))
        warn = calibration in WARN_CALIBRATIONS
        self.calibration_label.setStyleSheet(WARN_STYLE if warn else OK_STYLE)
        self.calibration_label.setProperty("warning", bool(warn))
        try:
            from flannot.io.calibration import NOTES
        except ImportError:  # pragma: no cover - io not installed in this build
            NOTES = {}
        self.calibration_label.setToolTip(NOTES.get(calibration or "", ""))

    @property
    def calibration(self) -> str | None:
        """The calibration of the numbers shown (``None`` before a case is loaded)."""
        text = self.calibration_label.text()
        if not text.startswith("Calibration: ") or "no case loaded" in text:
            return None
        return text.removeprefix("Calibration: ").split(" — ")[0]

    def current_frame(self) -> int:
        """The frame on screen (0 for a single-frame image)."""
        dims = self.viewer.dims
        layer = getattr(self.session, "image_layer", None)
        # a cine is (frames, rows, cols[, rgb]): the frame is the first of the image's axes
        ndim_image = 2 if layer is None else layer.ndim
        if dims.ndim < 3 or ndim_image < 3:
            return 0
        return int(dims.current_step[dims.ndim - ndim_image])

    def _apply_filter(self, *args: Any) -> None:
        df = self._full
        if self.frame_only.isChecked() and not df.empty:
            df = df[df["frame"].astype(int) == self.current_frame()]
        keep = self._selected_keys()
        self.model.set_dataframe(df)
        self._restore_selection(keep)
        self._arrange_columns()
        n, total = len(self.model.dataframe), len(self._full)
        if not self.status_label.text().startswith(("Could not", "Cannot", "Copied", "Wrote")):
            if not total:
                text = empty_table_hint(self._edited_case())
            elif not n:
                text = (
                    f"No values in frame {self.current_frame()} "
                    f"({total} in the case: untick 'Current frame only')"
                )
            else:
                text = f"{n} values" if n == total else f"{n} of {total} values"
            self.status_label.setText(text)

    def _edited_case(self) -> Any:
        """The case as the layers show it now, or ``None``."""
        if getattr(self.session, "case", None) is None:
            return None
        try:
            return self.session.current_case()
        except Exception:  # a hint must never break the table
            return self.session.case

    def _arrange_columns(self) -> None:
        """Screen order reads like the labels ("ligamentum_flavum L4-L5 left max_thickness
        4.1 mm"); copies and exports keep the SPEC §4 column order."""
        cols = list(self.model.dataframe.columns)
        header = self.table.horizontalHeader()
        for visual, name in enumerate(c for c in DISPLAY_ORDER if c in cols):
            current = header.visualIndex(cols.index(name))
            if current != visual:
                header.moveSection(current, visual)
        # the case id is the same on every row: in copies and exports, not on screen
        if "case_id" in cols:
            self.table.setColumnHidden(cols.index("case_id"), True)
        self.table.resizeColumnsToContents()  # looks at the first rows only (precision)

    @property
    def dataframe(self) -> pd.DataFrame:
        """The rows shown now (after the frame filter)."""
        return self.model.dataframe

    @property
    def full_dataframe(self) -> pd.DataFrame:
        """All rows of the case."""
        return self._full

    # --- selection -----------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        """Indices of the selected table rows."""
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def _selected_keys(self) -> list[tuple[str, str]]:
        df = self.model.dataframe
        return [
            (str(df.iloc[r]["annotation_id"]), str(df.iloc[r]["name"]))
            for r in self.selected_rows()
        ]

    def _restore_selection(self, keys: list[tuple[str, str]]) -> None:
        """Re-select the rows selected before a recomputation, without re-jumping to them."""
        if not keys:
            return
        df = self.model.dataframe
        sel = self.table.selectionModel()
        self._restoring_selection = True
        try:
            for r, (ann, name) in enumerate(zip(df["annotation_id"], df["name"], strict=True)):
                if (str(ann), str(name)) in keys:
                    sel.select(
                        self.model.index(r, 0),
                        QItemSelectionModel.SelectionFlag.Select
                        | QItemSelectionModel.SelectionFlag.Rows,
                    )
        finally:
            self._restoring_selection = False

    def _on_selection(self, *args: Any) -> None:
        if self._restoring_selection:
            return
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        ann_id = self.model.row_dict(rows[0]).get("annotation_id")
        if ann_id is None or (isinstance(ann_id, float) and math.isnan(ann_id)):
            return
        try:
            self.session.select_annotation(str(ann_id))
        except Exception as exc:
            self.status_label.setText(f"Cannot select {ann_id}: {exc}")

    def select_row(self, row: int) -> None:
        """Select table row ``row`` (as a click would), highlighting its annotation."""
        self.table.selectRow(row)

    # --- copy / export -------------------------------------------------------------------------
    def copy_selected(self) -> str:
        """Copy the selected rows (header included) as TSV; returns the text."""
        rows = self.selected_rows()
        text = self.model.to_tsv(rows if rows else [])
        QApplication.clipboard().setText(text)
        self.status_label.setText(f"Copied {len(rows)} row(s)")
        return text

    def copy_all(self) -> str:
        """Copy every row shown as TSV; returns the text."""
        text = self.model.to_tsv()
        QApplication.clipboard().setText(text)
        self.status_label.setText(f"Copied {len(self.model.dataframe)} row(s)")
        return text

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        """Write the rows shown to a CSV file (atomically); asks for a file when ``path`` is None.

        Returns
        -------
        Path or None
            The file written, ``None`` when the dialog was cancelled.
        """
        if path is None:
            case = getattr(self.session, "case", None)
            default = f"{getattr(case, 'case_id', 'flannot')}_measurements.csv"
            start = getattr(self.session, "case_path", None)
            start = str(Path(start).parent / default) if start else default
            path, _ = QFileDialog.getSaveFileName(
                self, "Export measurements", start, "CSV files (*.csv);;All files (*)"
            )
            if not path:
                return None
        from flannot.atomic import atomic_write_text
        from flannot.measure.rows import to_csv  # the CLI's CSV form: flags as true/false

        out = atomic_write_text(Path(path), to_csv(self.model.dataframe))
        self.status_label.setText(f"Wrote {len(self.model.dataframe)} row(s) to {out}")
        return out


def _is_reference(layer: Any) -> bool:
    """Whether ``layer`` is a Quiz reference overlay layer (never an annotation layer)."""
    meta = getattr(layer, "metadata", None)
    return isinstance(meta, dict) and bool(meta.get("flannot_reference"))
