"""The PACS dock against the test Orthanc: search, pull into the open set with a progress
bar, push results, and a one-line error in the dock when the server is down (Xvfb)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from identified import SECRET
from pacs_studies import identified_study
from pacs_support import free_port, new_set, tree_digest

pytestmark = pytest.mark.gui


@pytest.fixture
def dock(make_napari_viewer, qtbot, orthanc):
    from flannot.napari._qt.pacs_dock import PacsDock
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    get_session(viewer).ask_restore = lambda path: False
    widget = PacsDock(viewer)
    qtbot.addWidget(widget)
    widget.url_edit.setText(orthanc.url)
    return widget


def _run(qtbot, dock, action) -> None:
    """Start the dock's pull or push and wait until it has shown the outcome."""
    with qtbot.waitSignal(dock.job_done, timeout=30000):
        assert action() is not None


def test_search_pull_and_push(dock, orthanc, qtbot, tmp_path: Path) -> None:
    from flannot.teach.teaching_set import TeachingSet

    s = identified_study(singles=0, cine_runs=1, frames=3)
    orthanc.upload(s.datasets)
    assert "teacher" in dock.cred_label.text() and "s3cret" not in dock.cred_label.text()

    # pulling with no set open: said in the dock, nothing happens
    assert dock.pull() is None and "Open a teaching set" in dock.status_label.text()

    dock.patient_edit.setText("MRN99887766")
    dock.modality_box.setCurrentText("XA")
    assert dock.search()
    uids = [st.study_uid for st in dock.browser.studies]
    row = uids.index(s.study_uid)
    assert dock.table.item(row, 1).text() == "DOE JOHN Q"
    assert dock.table.item(row, 4).text() == "1"
    dock.table.selectRow(row)

    folder = new_set(tmp_path / "set", SECRET)
    dock.session.teaching_set = TeachingSet.open(folder)
    seen: list[tuple[int, int]] = []
    dock.progressed.connect(lambda d, t: seen.append((d, t)))
    busy: list[bool] = []
    dock.progressed.connect(lambda d, t: busy.append(not dock.pull_btn.isEnabled()))
    _run(qtbot, dock, dock.pull)
    assert busy and all(busy) and dock.pull_btn.isEnabled()
    assert seen[-1] == (1, 1) and dock.progress.maximum() == 1 and dock.progress.value() == 1
    assert "Pulled 1 image(s)" in dock.status_label.text(), dock.status_label.text()
    assert dock.session.teaching_set.case_ids == ["case-001"]
    assert dock.session.case is not None and dock.session.case.case_id == "case-001"

    # annotate the pulled case on disk, push: the dock reports what the PACS accepted
    doc = json.loads((folder / "cases/case-001/annotations.json").read_text("utf-8"))
    stamp = "2026-12-04T10:00:00Z"
    doc["annotations"] = [
        {
            "id": "il", "type": "interlaminar_space", "level": "L4-L5", "frame": 0,
            "geometry": {"kind": "polygon", "points": [[10, 10], [10, 30], [30, 30], [30, 10]]},
            "note": "", "author": "educator", "created": stamp, "modified": stamp,
        }
    ]  # fmt: skip
    (folder / "cases/case-001/annotations.json").write_text(json.dumps(doc), "utf-8")
    _run(qtbot, dock, dock.push)
    # a multi-frame run without a Frame of Reference gets an SR but no SEG (SPEC §9)
    assert dock.status_label.text() == "1 file(s) accepted by the PACS."


def test_server_down_is_one_line_in_the_dock(dock, qtbot, tmp_path: Path) -> None:
    from flannot.teach.teaching_set import TeachingSet

    dock.url_edit.setText(f"http://127.0.0.1:{free_port()}/dicom-web")
    assert not dock.search()
    assert "connection refused" in dock.status_label.text()
    assert "\n" not in dock.status_label.text()
    # a pull of a study that vanished: the error arrives from the worker, the set unchanged
    folder = new_set(tmp_path / "set", SECRET)
    dock.session.teaching_set = TeachingSet.open(folder)
    before = tree_digest(folder)
    from flannot.pacs.find import Study

    dock.browser.studies = [Study("1.2.3.4")]
    dock.table.setRowCount(1)
    dock.table.selectRow(0)
    _run(qtbot, dock, dock.pull)
    assert "connection refused" in dock.status_label.text()
    assert tree_digest(folder) == before
