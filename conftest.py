"""Root pytest configuration: the Qt binding the GUI tests run under.

flannot's ``[test]`` and ``[all]`` extras install PySide6 (LGPL-3.0) rather than PyQt6
(GPL-3.0). A development environment may still hold PyQt6 (an older install, or a
deliberate choice), and qtpy would then pick PyQt6 first. So, unless the user chose a
binding (``QT_API`` for qtpy/napari, ``PYTEST_QT_API`` for pytest-qt), both are set to
``pyside6`` when PySide6 is installed; ``QT_API=pyqt6 pytest ...`` switches back, and
pytest-qt follows whichever binding qtpy was told to use. This runs before pytest-qt's
``pytest_configure`` and before any test imports qtpy.
"""

from __future__ import annotations

import importlib.util
import os

# the bindings pytest-qt knows (qtpy knows more, e.g. pyside2)
_PYTEST_QT_APIS = ("pyside6", "pyqt6", "pyqt5")


def _choose_qt_api(environ: os._Environ[str] | dict[str, str]) -> None:
    """Set ``QT_API`` and ``PYTEST_QT_API`` in ``environ`` when the user set neither."""
    qt_api = environ.get("QT_API", "").strip().lower()
    pytest_qt_api = environ.get("PYTEST_QT_API", "").strip().lower()
    if not qt_api and not pytest_qt_api:
        if importlib.util.find_spec("PySide6") is None:
            return  # no PySide6: leave qtpy's and pytest-qt's own choice
        qt_api = pytest_qt_api = "pyside6"
    elif not qt_api:
        qt_api = pytest_qt_api
    elif not pytest_qt_api and qt_api in _PYTEST_QT_APIS:
        pytest_qt_api = qt_api
    environ["QT_API"] = qt_api
    if pytest_qt_api:
        environ["PYTEST_QT_API"] = pytest_qt_api


_choose_qt_api(os.environ)
