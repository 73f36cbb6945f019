"""``flannot demo [--screenshot PNG] [--set DIR] [--case ID]``: the napari workspace.

Opens napari with the sample teaching set (or ``--set DIR``) and the flannot
docks. With ``--screenshot`` it renders the whole window to a PNG and exits
(this is how the README's pictures are made). Without a display it says how to
use ``xvfb-run`` instead of crashing inside Qt.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from flannot.errors import FlannotError

__all__ = ["has_display", "register", "run_demo"]

#: (plugin widget display name, where napari puts it)
DOCKS = (("Annotate", "right"), ("Teaching set", "right"), ("Measure", "bottom"))
XVFB_HINT = "xvfb-run -a flannot demo --screenshot out.png"
BOTTOM_SHARE = 0.3  # of the window height for the Measure table: about eight rows


def has_display() -> bool:
    """Whether Qt can open a window here (X11/Wayland on Linux; always on macOS/Windows)."""
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal", "vnc")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_demo(
    screenshot: Path | None = None,
    set_dir: Path | None = None,
    case_id: str | None = None,
    size: tuple[int, int] = (1600, 1300),
    prepare=None,
    docks: tuple[tuple[str, str], ...] = DOCKS,
) -> int:
    """Open the workspace; with ``screenshot`` save the window to it and return.

    Parameters
    ----------
    screenshot
        PNG to write (the whole window, docks included); ``None`` runs napari.
    set_dir
        Teaching set to open (default: the sample set).
    case_id
        Case of the set to open (default: its first).
    size
        Window size in pixels.
    prepare
        Optional ``f(viewer, docks)`` called before the screenshot (scripts, tests).
    docks
        ``(dock name, "right" | "bottom")`` of the flannot docks to show.

    Returns
    -------
    int
        Exit status.
    """
    import napari
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication

    from flannot.napari._reader import classify, open_teaching_set
    from flannot.napari._sample_data import sample_set_dir
    from flannot.napari.session import get_session
    from flannot.teach.teaching_set import TeachingSet

    folder = Path(set_dir) if set_dir is not None else sample_set_dir()
    if classify(folder) != "set":
        raise FlannotError("not a flannot teaching set (no flannot-set.json)", folder)
    ids = [str(entry["case_id"]) for entry in TeachingSet.open(folder).cases]
    if case_id is not None and case_id not in ids:  # fail before any window opens
        raise FlannotError(f"no case {case_id!r} in the set (cases: {', '.join(ids)})", folder)
    viewer = napari.Viewer(title="flannot — MILD teaching workspace", show=True)
    qt_window = viewer.window._qt_window
    qt_window.resize(*size)
    widgets = {}
    bottom: list = []
    # the side docks run the full height; the Measure table sits under the canvas only
    qt_window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    qt_window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
    for name, area in docks:
        try:
            _, widget = viewer.window.add_plugin_dock_widget("flannot", name, tabify=False)
        except Exception as exc:  # a dock that fails must not take the demo down
            print(f"flannot: warning: the {name} dock is unavailable: {exc}", file=sys.stderr)
            continue
        widgets[name] = widget
        if area == "bottom":  # the Measure table wants width, not height
            dock_widget = widget.parent()
            qt_window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock_widget)
            bottom.append(dock_widget)
    QApplication.processEvents()  # lay the window out before sizing the docks
    _size_docks(qt_window, widgets, bottom, size)
    session = get_session(viewer)
    if screenshot is not None:  # unattended: no dialogs, no recovery files from illustrations
        session.ask_restore = lambda _path: None
        if session._autosave is not None:
            session._autosave.stop()
    for data, meta, kind in open_teaching_set(folder, session, case_id=case_id):
        viewer._add_layer_from_data(data, meta, kind)
    if prepare is not None:
        prepare(viewer, widgets)
    if screenshot is None:
        napari.run()
        return 0
    for _ in range(3):  # let Qt lay the docks out and vispy draw
        QApplication.processEvents()
    _size_docks(qt_window, widgets, bottom, size)
    for _ in range(3):
        QApplication.processEvents()
    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(screenshot), canvas_only=False, flash=False)
    viewer.close()
    print(f"wrote {screenshot}")
    return 0


def _size_docks(qt_window, widgets: dict, bottom: list, size: tuple[int, int]) -> None:
    """The Measure table about eight rows high; the Annotate dock its full height (the
    shortcut sheet uncut), the Teaching set dock the rest of the right column."""
    from qtpy.QtCore import Qt

    if bottom:
        qt_window.resizeDocks(bottom, [int(size[1] * BOTTOM_SHARE)], Qt.Orientation.Vertical)
    annotate, teach = widgets.get("Annotate"), widgets.get("Teaching set")
    if annotate is not None and teach is not None:
        wanted = annotate.sizeHint().height() + 70  # + the dock's title bar
        qt_window.resizeDocks(
            [annotate.parent(), teach.parent()],
            [wanted, max(200, size[1] - wanted)],
            Qt.Orientation.Vertical,
        )


def register(app: typer.Typer) -> None:
    """Add ``flannot demo`` to the CLI."""

    @app.command("demo")
    def demo(
        screenshot: Path | None = typer.Option(
            None, "--screenshot", help="Render the workspace to this PNG and exit."
        ),
        set_dir: Path | None = typer.Option(
            None, "--set", help="Teaching set folder to open (default: the sample set)."
        ),
        case: str | None = typer.Option(None, "--case", help="Case id to open first."),
    ) -> None:
        """Open napari with the sample teaching set and the flannot docks."""
        if not has_display():
            print(
                f"flannot: error: no display (DISPLAY is not set); run: {XVFB_HINT}",
                file=sys.stderr,
            )
            raise typer.Exit(2)
        code = run_demo(screenshot=screenshot, set_dir=set_dir, case_id=case)
        raise typer.Exit(code)
