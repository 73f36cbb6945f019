"""Render ``quiz_decision.png``: a trainee's "do not proceed" decision, checked in the Quiz dock.

    xvfb-run -a -s "-screen 0 1600x1000x24" \
        .venv/bin/python docs/images/make_quiz_decision_screenshot.py

A trainee ("alice") opens the course case ``p4-clo-left-no-shelf`` (a contralateral
oblique on which the lamina gives the portal no shelf to dock on), chooses *do not
proceed: no laminar shelf* in the Decision drop-down and presses Check: the decision is
the first item of the feedback list, before any measurement. The sample set is copied to
a temporary folder, so the attempt file and the autosave never touch ``sample_dicoms/``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "quiz_decision.png"
CASE = "p4-clo-left-no-shelf"


def main() -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    from flannot.napari._qt.quiz_dock import QuizDock
    from flannot.napari._sample_data import sample_set_dir
    from flannot.napari.session import get_session
    from flannot.teach.teaching_set import TeachingSet

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_workspace_screenshots import shrink

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        work = Path(tmp) / "MILD-sample-set"
        shutil.copytree(sample_set_dir(), work)
        viewer = napari.Viewer(title="flannot — Quiz", show=True)
        viewer.window._qt_window.resize(1600, 1000)
        session = get_session(viewer)
        session.ask_restore = lambda _p: False
        session.teaching_set = TeachingSet.open(work)
        session.load_case(session.teaching_set.case(CASE))
        dock = QuizDock(viewer)
        viewer.window.add_dock_widget(dock, name="Quiz", area="right")
        dock.trainee.setText("alice")
        dock.start_quiz()
        combo = dock.decision.combo
        labels = [combo.itemText(i) for i in range(combo.count())]
        wanted = next(i for i, t in enumerate(labels) if "no laminar shelf" in t)
        combo.setCurrentIndex(wanted)
        result = dock.check()
        if result is None or not result.items:
            raise SystemExit("Check gave no feedback")
        first = dock._items[0]
        if first.metric != "decision":
            raise SystemExit(f"the decision is not listed first: {first.message}")
        print(f"first item: {first.message}")
        viewer.reset_view()
        for _ in range(5):
            QApplication.processEvents()
        viewer.screenshot(str(OUT), canvas_only=False)
        shrink(OUT)
        print(f"wrote {OUT}")
        dock.end_quiz()
        viewer.close()
        os.chdir(Path(__file__).resolve().parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
