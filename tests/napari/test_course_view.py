"""The Teaching set dock's course view: the report's tables and learning curves (SPEC §16)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_course_view_shows_the_sets_trainees_cases_and_curves(make_napari_viewer, tmp_path):
    from flannot.napari._qt.teach_dock import TeachingSetDock
    from flannot.teach.course_demo import Trainee, build_course

    root = build_course(
        tmp_path / "set", [Trainee("ana", "improves"), Trainee("ben", "level_high")], n_cases=2,
        second_keys=0,
    )  # fmt: skip
    viewer = make_napari_viewer()
    dock = TeachingSetDock(viewer)
    viewer.window.add_dock_widget(dock, name="Teaching set")
    assert dock.open_set(root, load_first=False)
    view = dock.show_course()
    assert view is not None and dock.show_course() is view  # one view per set
    t = view.trainees
    rows = {t.item(r, 0).text(): r for r in range(t.rowCount())}
    assert set(rows) == {"ana", "ben"}
    header = [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]
    wrong = header.index("Wrong level")
    assert t.item(rows["ben"], wrong).text() == "6"  # one per Check: 2 cases × 3
    assert t.item(rows["ana"], wrong).text() == "0"
    assert view.cases.rowCount() == 2
    assert not view.curve.pixmap().isNull() and view.curve.pixmap().width() > 300
