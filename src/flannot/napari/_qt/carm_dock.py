"""The **C-arm** dock: turn the virtual C-arm, preview, shoot, read the view feedback.

Wiring only, over :class:`flannot.sim.training.TrainingSession` (SPEC §15 training mode):
sliders and keys for the rotation (the detector turned from the AP toward the patient's
left or right: the Positioner Primary Angle, shown in DICOM terms) and the tilt
(cranial/caudal: the Secondary Angle),
table pan, collimation, magnification and mAs; a live 256² preview layer re-rendered
while turning — coalesced, so at most one render runs and the newest position wins, with
its latency shown; a 128² draft while the controls keep moving, 256² when they rest —;
"Shoot" adds the full shot as the next frame of the ``C-arm shots``
layer (the attempt's acquisition, written to ``attempts/<trainee>/<case>-shots/`` when
the case belongs to a teaching set); the shot counter, budget and estimated DAP; "Check
views" lists the per-view items of :func:`flannot.sim.view_score.score_views`.

Keys (with the dock focused): ←/→ move the detector toward that side of the screen, ↑/↓
tilt cranial/caudal (Shift: 5°), Return shoots. Alt-drag on the preview does the same.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QSlider,
    QTextBrowser,
    QVBoxLayout,
)

from flannot.errors import FlannotError
from flannot.napari._qt.session_dock import SessionDock, button, hbox

PREVIEW_LAYER = "C-arm preview"
SHOTS_LAYER = "C-arm shots"
PREVIEW_SIZE = 256
#: while the controls keep moving (a render ended less than DRAFT_WINDOW_S ago) the
#: preview is drawn at DRAFT_SIZE², a quarter of the rays, and redrawn at 256² once they
#: rest for REFINE_MS: the picture keeps up with the hand on a loaded machine
DRAFT_SIZE = 128
DRAFT_WINDOW_S = 0.25
REFINE_MS = 250
STEP, BIG_STEP = 1.0, 5.0  # degrees per key press (Shift: big)
KEYS = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1),
        Qt.Key.Key_Down: (0, -1)}  # fmt: skip


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


class CArmDock(SessionDock):
    """Acquire the protocol's views on a CT-backed case (module notes)."""

    def __init__(self, napari_viewer: Any) -> None:
        super().__init__(napari_viewer)
        self.training: Any = None
        self.case_folder: Path | None = None
        self.latencies: list[float] = []  # s, control change → preview shown
        self.sizes: list[int] = []  # the preview size of each of those
        self._last_render = -1e9
        self._changed_at: float | None = None
        self._syncing = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(10)
        self._timer.timeout.connect(self._render_preview)
        self._refine = QTimer(self)
        self._refine.setSingleShot(True)
        self._refine.setInterval(REFINE_MS)
        self._refine.timeout.connect(lambda: self._render_preview(PREVIEW_SIZE))

        self.title = QLabel("No CT-backed case: open one (a case folder with sim.json).")
        self.title.setWordWrap(True)
        # the rotation slider is centred on the AP (primary ±180 prone, 0 supine)
        self.primary, self.secondary = _slider(-100, 100, 0), _slider(-45, 45, 0)
        self.pan_head, self.pan_left = _slider(-150, 150, 0), _slider(-150, 150, 0)
        self.collimation = _slider(20, 100, 100)
        self.zoom = QComboBox()
        self.zoom.addItems(["1×", "1.5×", "2×"])
        self.mas = QDoubleSpinBox()
        self.mas.setRange(0.1, 20.0)
        self.mas.setSingleStep(0.5)
        self.mas.setSuffix(" mAs")
        self.angles = QLabel()
        self.counter = QLabel()
        self.latency = QLabel()
        self.feedback = QTextBrowser()
        self.feedback.setMinimumHeight(160)

        form = QFormLayout()
        form.addRow("detector → pt's left (°)", self.primary)
        form.addRow("cranial / caudal", self.secondary)
        form.addRow("table → head (mm)", self.pan_head)
        form.addRow("table → left (mm)", self.pan_left)
        form.addRow("collimation (%)", self.collimation)
        form.addRow("magnification", self.zoom)
        form.addRow("technique", self.mas)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(hbox(button("Open CT case…", "A case folder with sim.json", self._pick)))
        layout.addLayout(form)
        layout.addWidget(self.angles)
        self.shoot_btn = button("Shoot", "Take a full shot (Return)", self.shoot)
        check = button("Check views", "Score the views obtained so far", self.check)
        annotate = button(
            "Annotate shots", "Open the shots as the attempt's image, to annotate", self.annotate
        )
        layout.addLayout(hbox(self.shoot_btn, check, annotate))
        layout.addWidget(self.counter)
        layout.addWidget(self.latency)
        layout.addWidget(self.feedback, 1)
        for w in (self.primary, self.secondary, self.pan_head, self.pan_left, self.collimation):
            w.valueChanged.connect(self._controls_changed)
        self.zoom.currentIndexChanged.connect(self._controls_changed)
        self.mas.valueChanged.connect(self._controls_changed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._enable(False)
        self.session.events.case_changed.connect(self._maybe_open_session_case)
        self._maybe_open_session_case()

    # ------------------------------------------------------------------ opening
    def _enable(self, on: bool) -> None:
        for w in (self.primary, self.secondary, self.pan_head, self.pan_left,
                  self.collimation, self.zoom, self.mas, self.shoot_btn):  # fmt: skip
            w.setEnabled(on)

    def _pick(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "CT-backed case folder")
        if folder:
            self.open_case(folder)

    def _maybe_open_session_case(self) -> None:
        from flannot.teach.ct_case import is_ct_case

        path = self.session.case_path
        if path is not None and is_ct_case(Path(path).parent) and self.training is None:
            self.open_case(Path(path).parent)

    def open_case(self, folder: str | Path, shots: str | Path | None = None, **kw: Any) -> None:
        self.case_folder = Path(folder).resolve()
        """Start (or resume) training on a CT-backed case; shots go to ``shots``, default
        the teaching set's ``attempts/<trainee>/<case-id>-shots/`` when there is one."""
        from flannot.teach.attempts import default_trainee
        from flannot.teach.ct_case import open_training
        from flannot.teach.teaching_set import SET_FILE

        folder = Path(folder).resolve()
        root = folder.parent.parent  # SET/cases/<case-id>: the shots go into the set
        if shots is None and folder.parent.name == "cases" and (root / SET_FILE).is_file():
            shots = root / "attempts" / default_trainee() / f"{folder.name}-shots"
        try:
            self.training = open_training(folder, shots, **kw)
        except FlannotError as exc:
            self.title.setText(f"Cannot open: {exc}")
            return
        t = self.training.task
        side = f", {t.side} approach" if t.side else ""
        self.title.setText(f"<b>{folder.name}</b>: obtain {', '.join(t.views)} at "
                           f"<b>{t.target}</b>{side}")  # fmt: skip
        self._sync_controls()
        self._enable(True)
        self._shots_layer()
        self._controls_changed()

    # ------------------------------------------------------------------ controls
    def _sync_controls(self) -> None:
        st, self._syncing = self.training.state, True
        self.primary.setValue(round(self.training.rotation_left_deg))
        self.secondary.setValue(round(st.secondary_deg))
        self.pan_head.setValue(round(st.pan_head_mm))
        self.pan_left.setValue(round(st.pan_left_mm))
        self.collimation.setValue(round(100 * st.collimation))
        self.zoom.setCurrentIndex({1.0: 0, 1.5: 1, 2.0: 2}.get(st.zoom, 0))
        self.mas.setValue(self.training.task.mas)
        self._syncing = False

    def _controls_changed(self, *_: Any) -> None:
        if self.training is None or self._syncing:
            return
        tr = self.training
        tr.set_angles(tr.state.primary_deg, self.secondary.value())
        if round(tr.rotation_left_deg) != self.primary.value():  # keep sub-degree turns
            tr.set_rotation_left(self.primary.value())
        st = tr.state
        st.pan_head_mm, st.pan_left_mm = float(self.pan_head.value()), float(self.pan_left.value())
        tr.set_collimation(self.collimation.value() / 100.0)
        tr.set_zoom((1.0, 1.5, 2.0)[self.zoom.currentIndex()])
        tr.set_mas(self.mas.value())
        if self._changed_at is None:
            self._changed_at = time.perf_counter()
        self._show_state()
        if not self._timer.isActive():
            self._timer.start()

    def keyPressEvent(self, event: Any) -> None:
        if self.training is not None and event.key() in KEYS:
            big = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            dx, ds = KEYS[event.key()]
            self.turn(dx * (BIG_STEP if big else STEP), ds * (BIG_STEP if big else STEP))
        elif self.training is not None and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.shoot()
        else:
            super().keyPressEvent(event)

    def turn(self, screen_right: float, cranial: float) -> None:
        """Move the detector ``screen_right`` degrees toward the screen's right and tilt it
        ``cranial`` degrees (keys, mouse drag). The prone AP shows the patient's right on
        the screen's right, the supine AP the left (``docs/carm.md``, image axes)."""
        tr = self.training
        left = -screen_right if tr.task.position == "prone" else screen_right
        tr.set_rotation_left(tr.rotation_left_deg + left)
        tr.rotate(0.0, cranial)
        self._sync_controls()
        self._controls_changed()

    def _drag(self, layer: Any, event: Any):  # napari mouse-drag generator
        if "Alt" not in event.modifiers or self.training is None:
            return
        last = np.asarray(event.position[-2:])
        yield
        while event.type == "mouse_move":
            now = np.asarray(event.position[-2:])
            d = (now - last) * 0.25
            self.turn(float(d[1]), float(-d[0]))
            last = now
            yield

    # ------------------------------------------------------------------ pictures
    def _render_preview(self, size: int | None = None) -> None:
        tr = self.training
        if tr is None:
            return
        if size is None:  # from a control change: a draft while the hand keeps moving
            moving = time.perf_counter() - self._last_render < DRAFT_WINDOW_S
            size = DRAFT_SIZE if moving else PREVIEW_SIZE
        if size != PREVIEW_SIZE:
            self._refine.start()
        img = tr.preview(size)
        scale = (tr.detector / size,) * 2
        translate = ((scale[0] - 1) / 2,) * 2
        if PREVIEW_LAYER in self.viewer.layers:
            layer = self.viewer.layers[PREVIEW_LAYER]
            if tuple(layer.scale) != scale:  # each assignment refreshes the layer
                layer.scale, layer.translate = scale, translate
            layer.data = img
            if not layer.visible:  # setting it, even unchanged, refreshes the layer
                layer.visible = True
        else:
            layer = self.viewer.add_image(
                img, name=PREVIEW_LAYER, scale=scale, contrast_limits=(0, 255),
                translate=translate,
            )  # fmt: skip
            layer.mouse_drag_callbacks.append(self._drag)
        self._last_render = time.perf_counter()
        if self._changed_at is not None:
            self.latencies.append(self._last_render - self._changed_at)
            self.sizes.append(size)
            self._changed_at = None
            self.latency.setText(f"preview {1000 * self.latencies[-1]:.0f} ms ({size}²)")

    def _shots_layer(self) -> Any:
        tr = self.training
        n = tr.detector
        if SHOTS_LAYER in self.viewer.layers:
            layer = self.viewer.layers[SHOTS_LAYER]
            if layer.data.shape[-1] != n:
                self.viewer.layers.remove(layer)
        if SHOTS_LAYER not in self.viewer.layers:
            empty = np.zeros((1, n, n), np.uint16)
            layer = self.viewer.add_image(empty, name=SHOTS_LAYER, contrast_limits=(0, 4095))
            layer.metadata["shots"] = 0
        self._show_state()
        return self.viewer.layers[SHOTS_LAYER]

    def shoot(self) -> None:
        """Take a full shot; it becomes the next frame of the shots layer."""
        if self.training is None:
            return
        self._timer.stop()
        self._refine.stop()
        _, pixels = self.training.shoot()
        layer = self._shots_layer()
        frames = layer.data if layer.metadata.get("shots") else layer.data[:0]
        layer.data = np.concatenate([frames, pixels[None]], axis=0)
        layer.metadata["shots"] = len(layer.data)
        self.viewer.dims.set_current_step(0, len(layer.data) - 1)
        if PREVIEW_LAYER in self.viewer.layers:  # last image hold: the shot, until turning
            self.viewer.layers[PREVIEW_LAYER].visible = False
        self._show_state()

    def annotate(self) -> Path | None:
        """Open the attempt — its image the shots, a frame per shot — in the viewer, so the
        trainee marks landmarks on any shot (scored against that shot's projection:
        :func:`flannot.teach.ct_case.reference_on_shots`)."""
        from flannot.teach.attempts import default_trainee
        from flannot.teach.ct_case import write_attempt_case

        tr = self.training
        if tr is None or tr.out_dir is None or not tr.shots:
            self.feedback.setPlainText("Take a shot first (in a teaching set, or with a folder).")
            return None
        attempt = tr.out_dir.with_name(tr.out_dir.name[: -len("-shots")] + ".json")
        write_attempt_case(self.case_folder / "annotations.json", attempt, default_trainee())
        self.session.load_case(attempt)
        return attempt

    # ------------------------------------------------------------------ read-outs
    def _show_state(self) -> None:
        if self.training is not None:
            position, counter = self.training.status()
            self.angles.setText(position)
            self.counter.setText(f"<b>{counter}</b>")

    def check(self) -> list[Any]:
        """Score the views obtained so far and list them, failed first."""
        from flannot.teach.feedback import format_item_value, sort_items

        if self.training is None:
            return []
        tol = self.session.teaching_set.tolerances if self.session.teaching_set else None
        items = self.training.score(tol)
        rows = []
        for it in sort_items(items):
            mark = "✓" if it.passed else "✗"
            colour = "#2ca02c" if it.passed else "#d62728"
            rows.append(
                f"<p style='margin:2px'><b style='color:{colour}'>{mark}</b> "
                f"<b>{it.metric}</b> {format_item_value(it)} — {it.message}</p>"
            )
        self.feedback.setHtml("".join(rows))
        return items
