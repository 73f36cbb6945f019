"""The root conftest.py runs the GUI tests under PySide6 unless the user chose a binding."""

from __future__ import annotations

import importlib.util
import runpy
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def choose() -> Callable[[dict[str, str]], None]:
    return runpy.run_path(str(ROOT / "conftest.py"))["_choose_qt_api"]


def test_default_is_pyside6_when_installed(choose: Callable[[dict[str, str]], None]) -> None:
    env: dict[str, str] = {}
    choose(env)
    if importlib.util.find_spec("PySide6") is None:
        assert env == {}  # qtpy and pytest-qt keep their own choice
    else:
        assert env == {"QT_API": "pyside6", "PYTEST_QT_API": "pyside6"}


@pytest.mark.parametrize("binding", ["pyqt6", "PyQt5 ", "pyside6"])
def test_qt_api_switches_both(choose: Callable[[dict[str, str]], None], binding: str) -> None:
    env = {"QT_API": binding}
    choose(env)
    want = binding.strip().lower()
    assert env == {"QT_API": want, "PYTEST_QT_API": want}


def test_pytest_qt_api_alone_is_followed_by_qtpy(choose: Callable[[dict[str, str]], None]) -> None:
    env = {"PYTEST_QT_API": "pyqt6"}
    choose(env)
    assert env == {"QT_API": "pyqt6", "PYTEST_QT_API": "pyqt6"}


def test_a_binding_pytest_qt_does_not_know_is_left_to_qtpy(
    choose: Callable[[dict[str, str]], None],
) -> None:
    env = {"QT_API": "pyside2"}
    choose(env)
    assert env == {"QT_API": "pyside2"}
