"""A scripted course (built once per session: scoring 60 Checks takes a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five scripted trainees (one per pattern) × 4 cases × 3 attempts, rubric filled in,
    a second answer key for 3 cases (:mod:`flannot.teach.course_demo`)."""
    from flannot.teach.course_demo import build_course

    return build_course(tmp_path_factory.mktemp("course") / "set")


@pytest.fixture(scope="session")
def report(course: Path):
    from flannot.teach.report import course_report

    return course_report(course)
