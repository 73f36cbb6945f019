"""One annotation session per napari viewer: what the flannot docks share.

The docks (Annotate, Measure, Teaching set, Quiz) never talk to each other; they
all hold the viewer's :class:`Session` (``get_session(viewer)``) and listen to its
``events``:

``case_changed()``
    a new case (or image) was loaded; the annotation layers were replaced.
``annotations_changed()``
    any edit of an annotation layer (shapes added, moved, removed, attributes
    changed). Emitted often: listeners that do real work should debounce.
``calibration_changed()``
    the image's spacing/calibration changed (user calibration line).
``dirty_changed(bool)``
    the case has (``True``) or no longer has (``False``) unsaved edits.

The layers are the truth while the user edits; :meth:`Session.current_case`
rebuilds the :class:`~flannot.model.case.Case` from them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from contextlib import nullcontext as _nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from psygnal import Signal, SignalGroup

from flannot.errors import FlannotError
from flannot.napari.viewer_api import camera_of, dims_update_once, scale_bar_of

if TYPE_CHECKING:  # pragma: no cover
    import napari
    from napari.layers import Layer

    from flannot.io.image import FluoroImage
    from flannot.model.case import Case
    from flannot.teach.teaching_set import TeachingSet

__all__ = ["Session", "SessionEvents", "get_session"]

LABELS_DEBOUNCE_MS = 150  # labels re-arranged once zooming or editing pauses this long


class SessionEvents(SignalGroup):
    """The signals every dock may connect to."""

    case_changed = Signal()
    annotations_changed = Signal()
    calibration_changed = Signal()
    dirty_changed = Signal(bool)


class Session:
    """What the flannot docks of one viewer share: image, case, teaching set, layers.

    Parameters
    ----------
    viewer
        The napari viewer (held weakly so that closing it frees the session).

    Attributes
    ----------
    image : FluoroImage or None
        The image being annotated.
    image_layer : napari.layers.Image or None
        Its layer.
    case : Case or None
        The case as last loaded or saved (use :meth:`current_case` for the edits).
    case_path : Path or None
        Where the case was loaded from / will be saved to (``annotations.json``).
    teaching_set : TeachingSet or None
        The teaching set the case belongs to, when opened from one.
    events : SessionEvents
        ``case_changed``, ``annotations_changed``, ``calibration_changed``,
        ``dirty_changed(bool)``.
    """

    def __init__(self, viewer: napari.Viewer) -> None:
        self._viewer_ref = weakref.ref(viewer)
        self.events = SessionEvents()
        self.image: FluoroImage | None = None
        self.image_layer: Any = None
        self.case: Case | None = None
        self.case_path: Path | None = None
        self.teaching_set: TeachingSet | None = None
        self._dirty = False
        self._layers: dict[str, Layer] = {}  # layer key (see flannot.napari.layers) -> layer
        self._passthrough: list = []  # annotations no layer shows (e.g. masks), kept for saving
        self._loading = False
        from flannot.napari.undo import UndoStack

        self.undo = UndoStack(self)
        # answer to "restore the recovery file?" — None asks the user (Qt dialog);
        # tests and scripts may set a callable(case_path) -> True (restore), False
        # (discard it) or None (not now: open the saved case, keep the recovery file)
        self.ask_restore: Callable[[Path], bool | None] | None = None
        self._autosave = None  # flannot.napari.autosave.Autosave, created on demand
        self._pending: set[str] = set()  # layer keys a reader returned, not yet inserted
        self._restored = False
        self._from_reader = False  # layers handed to napari as data tuples (reader, sample)
        self._release_activation: Any = None  # napari's activation held while it inserts them
        self._scale_bar_shown = False
        viewer.layers.events.inserted.connect(self._on_layer_inserted)
        # after napari's own handler (which makes the layer's visual): cached mesh shaders
        viewer.layers.events.inserted.connect(self._cache_shaders, position="last")
        viewer.layers.selection.events.active.connect(self._on_active_layer)
        self._labels_timer: Any = None
        # labels are laid out for a zoom (text keeps its size on screen) and for the shapes
        self.events.annotations_changed.connect(self.schedule_labels)
        camera_of(viewer).events.zoom.connect(self.schedule_labels)
        camera_of(viewer).events.center.connect(self.schedule_labels)  # labels kept in view

    # ------------------------------------------------------------------ basics
    @property
    def viewer(self) -> napari.Viewer:
        """The viewer this session belongs to."""
        viewer = self._viewer_ref()
        if viewer is None:
            raise RuntimeError("the napari viewer of this flannot session was closed")
        return viewer

    @property
    def dirty(self) -> bool:
        """Whether the layers hold edits not saved to :attr:`case_path`."""
        return self._dirty

    @dirty.setter
    def dirty(self, value: bool) -> None:
        value = bool(value)
        if value != self._dirty:
            self._dirty = value
            self.events.dirty_changed.emit(value)

    @property
    def protocol(self):
        """The case's protocol (MILD when no case is open)."""
        from flannot.protocols import get_protocol

        return get_protocol(self.case.protocol if self.case is not None else "mild")

    @property
    def ndim(self) -> int:
        """Dimensions of the annotation layers: 3 (frame, row, col) for a cine, else 2."""
        from flannot.napari.layers import layer_ndim

        return layer_ndim(self.image)

    def annotation_layers(self) -> dict[str, Layer]:
        """The live annotation layers, by layer key (the annotation type, or
        ``"<type> (shapes)"`` / ``"<type> (points)"`` for a type's second geometry family)."""
        viewer = self._viewer_ref()
        if viewer is None:  # viewer gone: keep what we had rather than report "no layers"
            return dict(self._layers)
        live = {}
        for key, layer in list(self._layers.items()):
            if layer in viewer.layers:
                live[key] = layer
            else:  # the user deleted the layer
                self._layers.pop(key, None)
        return live

    def annotation_layer(self, type_name: str, kind: str | None = None, create: bool = True):
        """The layer that holds annotations of ``type_name`` drawn as ``kind``.

        Creates it (empty, with the protocol's colour) when ``create`` and missing, and
        with ``create`` an empty point layer kept from a single frame under a cine is built
        again with the cine's dimensions (about to be drawn on).
        """
        from flannot.napari import layers as L

        key = L.layer_key(self.protocol, type_name, kind)
        layer = self.annotation_layers().get(key)
        if create and layer is not None and layer.ndim != self.ndim and not len(layer.data):
            layer = self._rebuild_layer(key, layer)  # an empty one kept from a single frame
        if layer is None and create:
            layer = L.make_layer(self, type_name, kind, [])
            self._adopt_layer(key, layer)
        return layer

    def _rebuild_layer(self, key: str, old: Any) -> Any:
        """An empty layer of the session's ndim in place of ``old`` (same list position).

        A case switch keeps an empty point layer of a single frame under a cine rather
        than build it again (napari's Points cannot change their number of dimensions);
        it is built here, when it is about to be drawn on.
        """
        from flannot.napari import layers as L

        viewer = self.viewer
        type_name = L.key_type(key)
        kind = "point" if not hasattr(old, "shape_type") else None
        new = L.make_layer(self, type_name, kind, [])
        new.visible = old.visible
        index = viewer.layers.index(old) if old in viewer.layers else len(viewer.layers)
        self._drop_layer(old)
        self._layers[key] = new
        viewer.layers.insert(index, new)
        new.metadata["flannot_key"] = key
        new.events.data.connect(self._on_layer_data)
        self.undo.track(new)
        return new

    # ------------------------------------------------------------------ model <-> layers
    def current_case(self) -> Case:
        """The case as the layers show it now (coordinates, attributes, frames)."""
        from flannot.napari.layers import layers_to_case

        if self.case is None:
            raise FlannotError("no flannot case is open in this viewer")
        return layers_to_case(self)

    def load_image(self, image: FluoroImage, name: str | None = None) -> Any:
        """Show ``image`` (replacing the previous flannot image) with a fresh empty case."""
        from flannot.model.case import Case

        case = Case.from_image(image, case_id=name or Path(image.path).stem)
        self.load_case(case, image=image)
        self.case_path = None
        return self.image_layer

    def load_case(
        self,
        path_or_case: str | Path | Case,
        image: FluoroImage | None = None,
        add_layers: bool = True,
    ) -> list[tuple]:
        """Open a case (file, case folder or :class:`Case`): replace image and annotation layers.

        Offers to restore a newer recovery file (autosave) when there is one.
        Emits ``case_changed`` once the layers are in the viewer.

        Parameters
        ----------
        path_or_case
            ``annotations.json``, a case folder, or a loaded case.
        image
            The case's image when already read (else ``case.load_image()``).
        add_layers
            Add the layers to the viewer now (``True``), or return them as napari
            layer-data tuples for a reader / sample-data function to hand to napari;
            the session adopts them as napari inserts them.

        Returns
        -------
        list of tuple
            The layer-data tuples (empty when ``add_layers``).
        """
        from flannot.model.case import Case
        from flannot.napari import layers as L

        if isinstance(path_or_case, Case):
            case = path_or_case
            case_path = getattr(case, "path", None)
        else:
            path = Path(path_or_case)
            case = Case.load(path)
            case_path = getattr(case, "path", None) or (
                path / "annotations.json" if path.is_dir() else path
            )
        case_path = Path(case_path) if case_path is not None else None
        if image is None:
            image = case.load_image()
        if self.dirty and self.case is not None:
            try:
                self.autosave_now()  # never lose edits to a replaced case
            except FlannotError:
                pass

        restored = self._maybe_restore(case_path)
        if restored is not None:
            case = restored
        image = _with_case_calibration(case, image)

        self._loading = True
        try:
            self.image = image
            self.case = case
            self.case_path = case_path
            image_layer = L.make_image_layer(image)
            reuse = self.annotation_layers() if add_layers else None
            batch = (
                dims_update_once(self.viewer, [self.image_layer, *reuse.values()])
                if reuse
                else _nullcontext()
            )
            visibility: dict[Any, bool] = {}
            with batch:  # the live layers refilled with one dims update in all
                layers, passthrough = L.case_to_layers(
                    self, case, reuse=reuse, visibility=visibility
                )
                self._passthrough = passthrough
                self.undo.clear()
                if add_layers:
                    self._replace_layers(image_layer, layers)
            # shown or hidden once the dims fit the new case: napari redraws on each change
            for layer, visible in visibility.items():
                if layer.visible != visible:
                    layer.visible = visible
            if not add_layers:
                viewer = self.viewer
                ours = [*self._layers.values(), self.image_layer]
                # a batched update ends in napari's scene clean-up and a gc.collect()
                # (~0.2 s): only worth it when there are layers to remove
                if any(layer is not None and layer in viewer.layers for layer in ours):
                    with viewer.layers.batched_update():
                        self._clear_layers()
                else:
                    self._clear_layers()
                self._pending = {"image", *layers}
                self._hold_activation()
            self._from_reader = not add_layers
        finally:
            self._loading = False
        self._restored = restored is not None
        if add_layers:
            self._finish_load()
            return []
        return [image_layer.as_layer_data_tuple()] + [
            layer.as_layer_data_tuple() for layer in layers.values()
        ]

    def _hold_activation(self) -> None:
        """napari inserts the reader's layers one by one, each made active (its controls
        built and shown) in turn: hold that until they are all in (~0.2 s an open)."""
        from flannot.napari.viewer_api import hold_activation

        self._end_activation_hold()  # an open whose layers never all arrived
        self._release_activation = hold_activation(self.viewer)
        from qtpy.QtCore import QCoreApplication, QTimer

        if QCoreApplication.instance() is not None:  # napari inserts them before this fires
            QTimer.singleShot(0, self._end_activation_hold)

    def _end_activation_hold(self) -> None:
        release, self._release_activation = self._release_activation, None
        if release is not None:
            release()

    def _finish_load(self) -> None:
        self._pending = set()
        if not self._pending_select_later():  # else napari is inserting the last layer:
            self._end_activation_hold()  # released by the timer once the insert is done
        self.dirty = self._restored
        if self._autosave is None and self.case_path is not None:
            from qtpy.QtCore import QCoreApplication

            if QCoreApplication.instance() is not None:  # a GUI: protect edits from now on
                self.start_autosave()
        viewer = self.viewer
        if not self._scale_bar_shown:  # once: a user who hides it keeps it hidden
            self._scale_bar_shown = True
            # the layers' units are mm when calibrated: the bar reads "10 mm", else pixels
            bar = scale_bar_of(viewer)
            bar.visible = True
            bar.box = True
        self._select_image()
        if self._pending_select_later():
            from qtpy.QtCore import QTimer

            # napari makes the layer a reader returned last (the redaction box) active
            # after this insert event: select the image again once it is done
            QTimer.singleShot(0, self._select_image)
        viewer.reset_view()
        self.arrange_labels()
        self.events.case_changed.emit()
        self.events.calibration_changed.emit()

    def _select_image(self) -> None:
        """Make the image the active layer: no accidental edits on open."""
        viewer = self._viewer_ref()
        if (
            viewer is not None
            and self.image_layer is not None
            and self.image_layer in viewer.layers
        ):
            viewer.layers.selection.active = self.image_layer

    def _pending_select_later(self) -> bool:
        from qtpy.QtCore import QCoreApplication

        return self._from_reader and QCoreApplication.instance() is not None

    def _cache_shaders(self, event) -> None:
        """Keep vispy from recompiling the new layer's mesh shaders on each slice (and
        from re-parsing shader sources it has seen: :mod:`flannot.napari._shader_cache`),
        and give a flannot layer's labels their halo."""
        from flannot.napari._mesh_shaders import cache_layer_shaders
        from flannot.napari._shader_cache import cache_shader_parsing
        from flannot.napari._text_halo import add_layer_halo

        viewer = self._viewer_ref()
        if viewer is not None:
            cache_shader_parsing()  # once; before the new layer's first draw builds programs
            cache_layer_shaders(viewer, event.value)
            add_layer_halo(viewer, event.value)

    def _on_layer_inserted(self, event) -> None:
        """Adopt the layers a reader/sample function returned as data tuples."""
        if not self._pending:
            return
        layer = event.value
        meta = getattr(layer, "metadata", {}) or {}
        if meta.get("flannot_image") and "image" in self._pending:
            self.image_layer = layer
            self._pending.discard("image")
        elif meta.get("flannot_key") in self._pending:
            self._loading = True
            try:
                self._adopt_layer(meta["flannot_key"], layer)
            finally:
                self._loading = False
            self._pending.discard(meta["flannot_key"])
        if not self._pending:
            self._finish_load()

    def save(self, path: str | Path | None = None, force: bool = False) -> Path:
        """Write the case (as the layers show it) to ``path`` or :attr:`case_path`.

        Raises
        ------
        flannot.model.case.ConcurrentChangeError
            The file changed on disk since it was loaded (and ``force`` is false).
        FlannotError
            No case open, or no path known.
        """
        case = self.current_case()
        target = Path(path) if path is not None else self.case_path
        if target is None:
            raise FlannotError("no file to save to: use Save as")
        if target.is_dir():
            target = target / "annotations.json"
        # a case saved somewhere new keeps pointing at its image (relative paths re-based)
        written = Path(case.save(target, force=force) or target)
        old_path = self.case_path
        self.case = case
        self.case_path = written
        try:
            from flannot.model import recovery

            if old_path is not None:
                recovery.discard_recovery(old_path)
            recovery.discard_recovery(written)
        except ImportError:  # pragma: no cover - recovery module missing
            pass
        self.dirty = False
        return written

    # ------------------------------------------------------------------ selection
    def select_annotation(self, annotation_id: str) -> None:
        """Select the shape/point ``annotation_id`` in its layer and jump to its frame."""
        from flannot.napari.layers import find_annotation

        found = find_annotation(self, annotation_id)
        if found is None:
            raise KeyError(annotation_id)
        layer, index, frame = found
        viewer = self.viewer
        if frame is not None and self.ndim == 3:
            viewer.dims.set_current_step(0, int(frame))
        viewer.layers.selection.active = layer
        layer.selected_data = {index}
        if hasattr(layer, "refresh"):
            layer.refresh()

    # ------------------------------------------------------------------ labels
    def arrange_labels(self) -> None:
        """Place the canvas labels so that none collide (:func:`layers.arrange_labels`)."""
        from flannot.napari.layers import arrange_labels

        if self._viewer_ref() is not None and not self._pending:
            arrange_labels(self)

    def schedule_labels(self, *args: Any) -> None:
        """Arrange the labels once edits or zooming pause (a Qt timer; at once without Qt)."""
        from qtpy.QtCore import QCoreApplication, QTimer

        if QCoreApplication.instance() is None:
            self.arrange_labels()
            return
        if self._labels_timer is None:
            self._labels_timer = QTimer()
            self._labels_timer.setSingleShot(True)
            self._labels_timer.setInterval(LABELS_DEBOUNCE_MS)
            self._labels_timer.timeout.connect(self.arrange_labels)
        self._labels_timer.start()

    # ------------------------------------------------------------------ calibration
    def set_user_calibration(self, spacing_mm: tuple[float, float]) -> None:
        """Calibrate the image from a line of known length (``user`` calibration)."""
        from flannot.napari import layers as L

        if self.image is None:
            raise FlannotError("no image is open")
        self.image = self.image.with_user_calibration(tuple(float(s) for s in spacing_mm))
        L.apply_image_calibration(self)
        self.mark_changed()
        self.events.calibration_changed.emit()

    # ------------------------------------------------------------------ change tracking
    def mark_changed(self, layer: Layer | None = None) -> None:
        """Record an edit: undo snapshot, dirty flag, ``annotations_changed``."""
        if self._loading:
            return
        if layer is not None:
            self.undo.record(layer)
        self.dirty = True
        self.events.annotations_changed.emit()

    def _on_active_layer(self, event) -> None:
        """An annotation layer chosen in the layer list is shown (empty ones start hidden)."""
        from flannot.napari.layers import show_when_used

        layer = event.value
        if self._loading or self._pending:  # napari makes each added layer active
            return
        if layer is not None and layer in self._layers.values():
            if layer.ndim != self.ndim and not len(layer.data):
                from qtpy.QtCore import QTimer

                # a point layer kept from a single frame, chosen under a cine: 3-D it is
                # (not inside napari's selection event: once it is done)
                QTimer.singleShot(0, lambda lay=layer: self._activate_rebuilt(lay))
                return
            show_when_used(layer, active=True)

    def _activate_rebuilt(self, layer: Any) -> None:
        key = next((k for k, v in self._layers.items() if v is layer), None)
        if key is None or self._viewer_ref() is None:
            return
        new = self._rebuild_layer(key, layer)
        self.viewer.layers.selection.active = new

    def _on_layer_data(self, event) -> None:
        action = str(getattr(event, "action", "changed")).lower()
        if action.endswith("ing"):  # "adding"/"changing"/"removing": not done yet
            return
        if not self._loading:
            from flannot.napari.layers import show_when_used

            show_when_used(event.source)
        if not self._loading and not self.undo._applying:
            from flannot.napari.layers import ensure_ids

            ensure_ids(self, event.source)  # new shapes get an id before the undo snapshot
        self.mark_changed(event.source)

    def _adopt_layer(self, key: str, layer: Layer) -> None:
        self._layers[key] = layer
        if layer not in self.viewer.layers:
            self.viewer.add_layer(layer)
        layer.metadata["flannot_key"] = key
        layer.events.data.connect(self._on_layer_data)
        self.undo.track(layer)

    def _replace_layers(self, image_layer: Layer, layers: dict[str, Layer]) -> None:
        """Show a new case: refill the layers already in the viewer, add/remove the rest.

        Refilling keeps napari's visuals and controls (switching cases took seconds when
        every layer was removed and added again).
        """
        from flannot.napari import layers as L

        viewer = self.viewer
        old = self.annotation_layers()
        keep_image = self.image_layer is not None and self.image_layer in viewer.layers
        if keep_image and not L.refill_image_layer(self.image_layer, image_layer):
            keep_image = False
        refilled = {
            k
            for k, new in layers.items()
            if k in old and (new is old[k] or L.refill_layer(old[k], new))
        }
        stale = [layer for k, layer in old.items() if k not in refilled]
        if not keep_image and self.image_layer is not None:
            stale.append(self.image_layer)
        # one batched update for removals: napari collects garbage per removed layer otherwise
        with viewer.layers.batched_update() if stale else _nullcontext():
            for layer in stale:
                self._drop_layer(layer)
            self._layers = {k: old[k] for k in refilled}
            if not keep_image:
                self.image_layer = image_layer
                viewer.layers.insert(0, image_layer)  # under the annotations
            for key, layer in layers.items():
                if key in refilled:
                    self.undo.track(self._layers[key])
                else:
                    self._adopt_layer(key, layer)
        # the layer list in the protocol's order (the image at the bottom); each move
        # redraws the scene in napari, so none when ours are in order already (other
        # layers, e.g. a quiz's, may sit between them)
        order = [self.image_layer, *(self._layers[k] for k in layers)]
        ours = set(map(id, order))
        if [layer for layer in viewer.layers if id(layer) in ours] != order:
            for target, layer in enumerate(order):
                index = viewer.layers.index(layer)
                if index != target:
                    viewer.layers.move(index, target)

    def _drop_layer(self, layer: Any) -> None:
        """Stop following ``layer`` and take it out of the viewer."""
        try:
            layer.events.data.disconnect(self._on_layer_data)
        except (TypeError, ValueError, RuntimeError):
            pass
        if layer in self.viewer.layers:
            self.viewer.layers.remove(layer)

    def _clear_layers(self) -> None:
        viewer = self.viewer
        for layer in list(self._layers.values()):
            self._drop_layer(layer)
        self._layers.clear()
        if self.image_layer is not None and self.image_layer in viewer.layers:
            viewer.layers.remove(self.image_layer)
        self.image_layer = None

    # ------------------------------------------------------------------ recovery
    def _maybe_restore(self, case_path: Path | None) -> Case | None:
        if case_path is None:
            return None
        try:
            from flannot.model import recovery
        except ImportError:  # pragma: no cover
            return None
        try:
            found = recovery.find_recovery(case_path)
        except Exception:  # a broken recovery file must not block opening the case
            return None
        if found is None:
            return None
        ask = self.ask_restore or _ask_restore_dialog
        answer = ask(case_path)
        if answer:
            return found
        if answer is not None:  # "no" discards; None means "not now" (keep the file)
            recovery.discard_recovery(case_path)
        return None

    def start_autosave(self, interval_s: float = 30.0, debounce_s: float = 2.0):
        """Start the autosave timers (once per session; the Annotate dock does this)."""
        if self._autosave is None:
            from flannot.napari.autosave import Autosave

            self._autosave = Autosave(self, interval_s, debounce_s)
        return self._autosave

    def autosave_now(self) -> Path | None:
        """Write the recovery file for the current edits (no-op when clean)."""
        if self.case is None or not self.dirty or self.case_path is None:
            return None  # nothing to protect, or no case file to put the recovery file beside
        if self._viewer_ref() is None or self._pending:
            return None  # closing or half-loaded: the layers are not the user's work
        from flannot.model import recovery

        return recovery.write_recovery(self.current_case())


def _ask_restore_dialog(case_path: Path) -> bool:
    from qtpy.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        None,
        "flannot: restore unsaved work?",
        f"{case_path} has unsaved annotations from an earlier session "
        "(autosave recovery file). Restore them?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.Yes,
    )
    return answer == QMessageBox.StandardButton.Yes


_SESSIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def get_session(viewer: napari.Viewer) -> Session:
    """The :class:`Session` of ``viewer``, created on first use."""
    session = _SESSIONS.get(viewer)
    if session is None:
        session = Session(viewer)
        _SESSIONS[viewer] = session
    return session


def _with_case_calibration(case: Case, image: FluoroImage) -> FluoroImage:
    """The image as the case measures it: a calibration line in the case wins (``user``).

    Keeps the layer scale, the scale bar and the Measure table on the same millimetres
    when a saved case already holds a calibration line.
    """
    from flannot.measure import resolve_units

    units = resolve_units(case, image)
    if units.calibration == "user" and image.calibration != "user":
        return image.with_user_calibration(tuple(float(s) for s in units.spacing))
    return image
