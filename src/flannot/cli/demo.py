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
from typing import Any

import typer

from flannot.errors import FlannotError

__all__ = ["has_display", "register", "run_demo"]

#: (plugin widget display name, where napari puts it); docks of one area after the first
#: are tabbed with the previous one when the name starts with "+" (see :func:`arrange_docks`)
DOCKS = (("Teaching set", "right"), ("Annotate", "right"), ("Measure", "bottom"))
ALL_DOCKS = (
    ("Teaching set", "right"),
    ("+Quiz", "right"),
    ("+PACS", "right"),
    ("Annotate", "right"),
    ("+Export teaching set", "right"),
    ("+De-identify DICOM", "right"),
    ("+New teaching set", "right"),
    ("Measure", "bottom"),
)
SCREEN = (1600, 1000)  # the README's and the Makefile's Xvfb screen
XVFB_HINT = (
    f"xvfb-run -a -s '-screen 0 {SCREEN[0]}x{SCREEN[1]}x24' flannot demo --screenshot out.png"
)
RIGHT_WIDTH = 420  # pixels for the right column
BOTTOM_SHARE = 0.32  # of the window height for the Measure table: about six rows


def has_display() -> bool:
    """Whether Qt can open a window here (X11/Wayland on Linux; always on macOS/Windows)."""
    if not sys.platform.startswith("linux"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal", "vnc")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_workspace(
    set_dir: Path | None = None,
    case_id: str | None = None,
    docks: tuple[tuple[str, str], ...] = DOCKS,
    size: tuple[int, int] = SCREEN,
    unattended: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """A napari viewer with the flannot docks and a case of a teaching set open.

    Parameters
    ----------
    set_dir
        Teaching set to open (default: the sample set).
    case_id
        Case of the set to open (default: its first).
    docks
        ``(dock name, "right" | "bottom")``; a name starting with ``"+"`` is tabbed
        with the dock before it.
    size
        Window size in pixels.
    unattended
        No dialogs and no recovery files (screenshots, benchmarks).

    Returns
    -------
    tuple
        The viewer and the dock widgets by name.
    """
    import napari
    from qtpy.QtWidgets import QApplication

    from flannot.napari._reader import classify
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
    session = get_session(viewer)
    if unattended:
        session.ask_restore = lambda _path: None
    widgets = arrange_docks(viewer, docks)
    QApplication.processEvents()  # lay the window out before sizing the docks
    size_docks(qt_window, widgets, size)
    teach = widgets.get("Teaching set")
    if teach is not None:
        teach.open_set(folder, load_first=False)
        teach.load_case(case_id or ids[0])
    else:
        from flannot.napari._reader import open_teaching_set

        for data, meta, kind in open_teaching_set(folder, session, case_id=case_id):
            viewer._add_layer_from_data(data, meta, kind)
    if unattended and session._autosave is not None:
        session._autosave.stop()
    return viewer, widgets


def arrange_docks(viewer: Any, docks: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """Add the flannot docks: side docks stacked or tabbed, the Measure table under the
    canvas only (the side columns run the full height)."""
    from qtpy.QtCore import Qt

    qt_window = viewer.window._qt_window
    qt_window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
    qt_window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
    areas = {
        "right": Qt.DockWidgetArea.RightDockWidgetArea,
        "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
    }
    widgets: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    for entry, area in docks:
        name = entry.lstrip("+")
        try:
            dock_widget, widget = viewer.window.add_plugin_dock_widget("flannot", name)
        except Exception as exc:  # a dock that fails must not take the demo down
            print(f"flannot: warning: the {name} dock is unavailable: {exc}", file=sys.stderr)
            continue
        widgets[name] = widget
        qt_window.addDockWidget(areas[area], dock_widget)
        if entry.startswith("+") and area in previous:
            qt_window.tabifyDockWidget(previous[area], dock_widget)
        else:
            previous[area] = dock_widget
    for entry, _area in docks:  # the first dock of each tab group in front
        name = entry.lstrip("+")
        if not entry.startswith("+") and name in widgets:
            widgets[name].parent().raise_()
    return widgets


def run_demo(
    screenshot: Path | None = None,
    set_dir: Path | None = None,
    case_id: str | None = None,
    size: tuple[int, int] = SCREEN,
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
    from qtpy.QtWidgets import QApplication

    viewer, widgets = open_workspace(
        set_dir, case_id, docks=docks, size=size, unattended=screenshot is not None
    )
    if prepare is not None:
        prepare(viewer, widgets)
    if screenshot is None:
        napari.run()
        return 0
    for _ in range(3):  # let Qt lay the docks out and vispy draw
        QApplication.processEvents()
    size_docks(viewer.window._qt_window, widgets, size)
    for _ in range(3):
        QApplication.processEvents()
    screenshot = Path(screenshot)
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(screenshot), canvas_only=False, flash=False)
    viewer.close()
    print(f"wrote {screenshot}")
    return 0


def size_docks(qt_window: Any, widgets: dict[str, Any], size: tuple[int, int]) -> None:
    """The Measure table about six rows high; the right column shared between the set
    (with the Quiz and PACS tabs) on top and the Annotate dock below."""
    from qtpy.QtCore import Qt

    side = [widgets[n].parent() for n in ("Teaching set", "Annotate") if n in widgets]
    if side:  # the right column wide enough for two buttons side by side and the notes
        qt_window.resizeDocks(side[:1], [RIGHT_WIDTH], Qt.Orientation.Horizontal)
    measure = widgets.get("Measure")
    if measure is not None:
        qt_window.resizeDocks(
            [measure.parent()], [int(size[1] * BOTTOM_SHARE)], Qt.Orientation.Vertical
        )
    annotate, teach = widgets.get("Annotate"), widgets.get("Teaching set")
    if annotate is not None and teach is not None:
        top = int(size[1] * 0.42)
        qt_window.resizeDocks(
            [teach.parent(), annotate.parent()], [top, size[1] - top], Qt.Orientation.Vertical
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
