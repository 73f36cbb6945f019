"""The MILD course sequence: declared consistently with the protocol and documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flannot.protocols import get_protocol
from flannot.protocols.mild_course import COURSE, SOURCES, course_markdown, step, step_notes

MILD = get_protocol("mild")
DOC = Path(__file__).resolve().parents[2] / "docs" / "mild-course.md"


def test_the_sequence_is_the_one_a_proceduralist_works_through():
    assert [s.key for s in COURSE] == [
        "ap", "lateral", "clo_epidurogram", "dock", "laminotomy", "sculpt",
    ]  # fmt: skip
    # the portal docks on the lamina before the rongeur, and only then is LF removed
    assert [s.instrument for s in COURSE[2:]] == [
        "needle", "portal", "bone_rongeur", "tissue_sculpter",
    ]  # fmt: skip
    assert "dorsal surface of the lamina" in step("dock").look_for


def test_every_step_names_protocol_views_instruments_reasons_and_sources():
    views = {v.name for v in MILD.views}
    reasons = [r.key for r in MILD.decision_reasons]
    judged = [k for s in COURSE for k in s.stop_if]
    assert sorted(judged) == sorted(reasons)  # each criterion is judged on exactly one image
    for s in COURSE:
        assert s.view in views, s.key
        assert s.instrument is None or s.instrument in MILD.instruments, s.key
        assert s.sources and all(k in SOURCES for k in s.sources), s.key


def test_step_notes_teach_the_stop_and_what_to_do_instead():
    text = step_notes("dock", stop_reason="no_laminar_shelf")
    assert "Stop here if: no laminar shelf at the target level." in text
    assert "The right answer here is do not proceed" in text
    assert "Deer TR" in text  # the sources are in the notes
    assert "do not proceed" not in step_notes("laminotomy")
    with pytest.raises(KeyError):
        step_notes("dock", stop_reason="too_old")
    with pytest.raises(KeyError):
        step("rongeur")


def test_docs_follow_the_declared_course():
    doc = DOC.read_text(encoding="utf-8")
    numbered = re.findall(r"^\d+\. \*\*(.+?)\*\*", doc, flags=re.M)
    assert numbered == [s.title for s in COURSE]
    for r in MILD.decision_reasons:
        assert f"| `{r.key}` | {r.label} |" in doc
    assert "MRI or CT" in doc and "never on fluoroscopy" in doc
    md = course_markdown()
    assert md.count("do not proceed (`") == len(MILD.decision_reasons)
