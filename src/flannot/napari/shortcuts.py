"""flannot's keyboard shortcuts and the cheat sheet the Annotate dock shows.

napari's layer tools use single keys (P, L, R, E, T, S, Z, 1–7 …) and the app
uses Ctrl/Alt combinations (Ctrl+S save layers, Alt+S/Alt+C screenshots, Alt+T
trace, Alt+Up/Down axes). flannot uses Alt+digit, Alt+arrows Left/Right,
Alt+L/R/K and Ctrl+Z / Ctrl+Shift+Z / Ctrl+Shift+S, none of which napari binds
(``tests/napari/test_napari_workspace.py`` checks this against napari's registries).
The one overlap is intended: a Labels layer binds Ctrl+Z / Ctrl+Shift+Z to its own
paint history, so with a Labels layer active they keep napari's meaning (flannot
creates no Labels layers; its annotation layers are Shapes and Points).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SHORTCUTS", "Shortcut", "bind_shortcuts", "cheat_sheet", "napari_bound_keys"]


@dataclass(frozen=True)
class Shortcut:
    key: str  # napari/app-model spelling, e.g. "Alt-1", "Control-Shift-Z"
    action: str  # name of the Annotate dock method it calls
    help: str
    arg: Any = None


SHORTCUTS: tuple[Shortcut, ...] = (
    *(
        Shortcut(f"Alt-{i}", "select_structure_index", f"structure {i} of the protocol list", i - 1)
        for i in range(1, 9)
    ),
    Shortcut("Alt-Right", "next_level", "next level (L4 → L5)"),
    Shortcut("Alt-Left", "previous_level", "previous level"),
    Shortcut("Alt-L", "set_side", "side: left", "left"),
    Shortcut("Alt-R", "set_side", "side: right", "right"),
    Shortcut("Alt-K", "start_calibration", "calibration line tool"),
    Shortcut("Control-Z", "undo", "undo the last annotation edit"),
    Shortcut("Control-Shift-Z", "redo", "redo"),
    Shortcut("Control-Shift-S", "save", "save the case (annotations.json)"),
)


def _pretty(key: str) -> str:
    return key.replace("Control", "Ctrl").replace("-", "+")


def cheat_sheet() -> str:
    """The shortcut list as HTML for a QLabel (flannot keys, then napari's drawing keys)."""
    rows = [
        ("Alt+1 … Alt+8", "pick structure (list order)"),
        *[(_pretty(s.key), s.help) for s in SHORTCUTS if not s.key[-1].isdigit()],
        ("napari: P / T / L / R", "polygon / path / line / rectangle"),
        ("napari: Enter / Esc", "finish polygon / path"),
        ("napari: S, Delete", "select, delete selected"),
    ]
    body = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{h}</td></tr>" for k, h in rows)
    return f"<table>{body}</table>"


def napari_bound_keys() -> set[str]:
    """Every key napari binds (layer actions, viewer and app menus), normalised."""
    from app_model.types import KeyBinding
    from napari._app_model import get_app_model
    from napari.utils.action_manager import action_manager

    keys: set[str] = set()
    for bindings in action_manager._shortcuts.values():
        keys.update(str(kb) for kb in bindings)
    for kb in get_app_model().keybindings:
        keys.add(str(KeyBinding.validate(kb.keybinding)))
    return keys


def normalise(key: str) -> str:
    """A key in app-model's canonical spelling (``"Control-Shift-Z"`` → ``"Ctrl+Shift+Z"``)."""
    from app_model.types import KeyBinding

    return str(KeyBinding.from_str(_pretty(key)))


def bind_shortcuts(viewer: Any, target: Any) -> list[str]:
    """Bind :data:`SHORTCUTS` on ``viewer`` to methods of ``target`` (the Annotate dock).

    ``target`` is held weakly: the keys do nothing once the dock is gone.
    """
    import weakref

    ref = weakref.ref(target)

    def make(shortcut: Shortcut) -> Callable[[Any], None]:
        def handler(_viewer: Any) -> None:
            dock = ref()
            if dock is None:
                return
            method = getattr(dock, shortcut.action)
            method() if shortcut.arg is None else method(shortcut.arg)

        handler.__name__ = f"flannot_{shortcut.action}"
        handler.__doc__ = shortcut.help
        return handler

    bound = []
    for s in SHORTCUTS:
        viewer.bind_key(s.key, make(s), overwrite=True)
        bound.append(s.key)
    return bound
