"""Render ``quiz_dock.png`` and ``quiz_side_by_side.png``: the Quiz dock after Check.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/images/make_quiz_screenshot.py

A trainee ("alice") marks the vertebral bodies L1–L5 of the synthetic lateral phantom but
counts from the wrong end (every body named one level too low, S1 left out) and outlines
the L4-L5 canal a little off; Check lists the errors and overlays the reference
(``reference: …`` layers: paler outlines, "ref" labels); then "Side by side" shows attempt
and reference in two views with one camera. The sample set is copied to a temporary folder,
so the attempt file and the autosave never touch ``sample_dicoms/``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "quiz_dock.png"
SIDE = OUT.with_name("quiz_side_by_side.png")

# [row, col] of the lateral phantom's L1 … L5 bodies (512 × 512); the trainee's labels
BODIES = ([61, 255], [137, 248], [213, 245], [289, 243], [362, 242])
LABELS = ("L2", "L3", "L4", "L5", "S1")
CANAL = np.array([[292.0, 281.0], [360.0, 281.0], [360.0, 305.0], [292.0, 305.0]])


def main() -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    from flannot.napari._qt.quiz_dock import QuizDock
    from flannot.napari._sample_data import sample_set_dir
    from flannot.napari.layers import default_features
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
        session.load_case(session.teaching_set.case("lateral"))
        dock = QuizDock(viewer)
        viewer.window.add_dock_widget(dock, name="Quiz", area="right")
        dock.trainee.setText("alice")
        dock.start_quiz()
        points = session.annotation_layer("vertebra", "point")
        for rc, level in zip(BODIES, LABELS, strict=True):
            points.feature_defaults = {**default_features("vertebra"), "level": level}
            points.add([rc])
        canal = session.annotation_layer("spinal_canal")
        canal.feature_defaults = {**default_features("spinal_canal"), "level": "L4-L5"}
        canal.add_polygons([CANAL])
        dock.check()
        viewer.reset_view()
        for _ in range(5):
            QApplication.processEvents()
        viewer.screenshot(str(OUT), canvas_only=False)
        print(f"wrote {OUT}")
        dock.side_by_side.setChecked(True)
        viewer.reset_view()
        for _ in range(5):
            QApplication.processEvents()
        viewer.screenshot(str(SIDE), canvas_only=False)
        print(f"wrote {SIDE}")
        for png in (OUT, SIDE):
            shrink(png)
        dock.end_quiz()
        viewer.close()
        os.chdir(Path(__file__).resolve().parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
