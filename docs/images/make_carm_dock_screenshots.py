"""Render ``carm_dock_turning.png`` and ``carm_dock_feedback.png``: the C-arm dock on a
CT-backed case made from the TotalSegmentator example CT (fetched into the test cache by
``tests/sim/reference_ct.py``).

    xvfb-run -a -s "-screen 0 1600x1000x24" \
        .venv/bin/python docs/images/make_carm_dock_screenshots.py

The task: a true AP and the contralateral oblique for a left approach at L4-L5, budget 6
shots. The trainee pans to the level and turns (first picture: the live preview while
turning), shoots a first AP without the cranial tilt L4-L5 needs, a second with the tilt but
at the nominal 180° (the patient's 4° of rotation not corrected), then the oblique 6°
too far, and presses "Check views" (second picture).
Shots are 384² (the same 30 cm field) to keep the script quick.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images"
sys.path.insert(0, str(ROOT))

TASK = {"target": "L4-L5", "side": "left", "views": ["ap", "clo-left"], "shot_budget": 6}


def left(primary: float) -> int:
    """The dock's rotation slider (detector toward the patient's left) for a prone
    patient's primary angle."""
    return round(((180.0 - primary) + 180.0) % 360.0 - 180.0)


def _save(viewer, name: str) -> None:
    from PIL import Image

    path = OUT / name
    viewer.screenshot(str(path), canvas_only=False)
    img = Image.open(path).convert("RGB")
    img = img.resize((img.width * 3 // 4, img.height * 3 // 4), Image.LANCZOS)
    img.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def main() -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    from flannot.napari._qt.carm_dock import CArmDock
    from flannot.sim.view_score import ideal_view
    from flannot.sim.views import resolve_view
    from flannot.teach.ct_case import add_ct_case
    from flannot.teach.teaching_set import TeachingSet
    from tests.sim.reference_ct import fetch

    def settle(dock) -> None:
        for _ in range(200):
            QApplication.processEvents()
            if dock._changed_at is None and not dock._timer.isActive():
                break
        for _ in range(5):
            QApplication.processEvents()

    ct, seg = fetch()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "carm-set"
        TeachingSet.new(root, "C-arm training")
        cid = add_ct_case(
            root, ct, seg, TASK, case_id="ts-example-l4l5", detector=384, pixel_mm=0.8
        )
        viewer = napari.Viewer(title="flannot — C-arm", show=True)
        viewer.window._qt_window.resize(1600, 1000)
        dock = CArmDock(viewer)
        viewer.window.add_dock_widget(dock, name="C-arm", area="right")
        dock.open_case(TeachingSet.open(root).case_dir(cid), Path(tmp) / "shots")
        tr = dock.training
        ap = ideal_view(resolve_view("ap"), tr.target)
        clo = ideal_view(resolve_view("clo-left"), tr.target)
        d = tr.target.point - tr.home
        dock.pan_head.setValue(round(float(d[2])))
        dock.pan_left.setValue(round(float(d[0])))
        dock.collimation.setValue(70)
        dock.primary.setValue(-8)  # turning toward the true AP (primary -172)
        dock.secondary.setValue(6)
        settle(dock)
        viewer.reset_view()
        settle(dock)
        _save(viewer, "carm_dock_turning.png")
        dock.primary.setValue(left(ap[0]))
        dock.secondary.setValue(0)  # no tilt yet: the L4-L5 disc is not open
        settle(dock)
        dock.shoot()
        dock.primary.setValue(0)  # tilted now, but the patient's rotation not corrected
        dock.secondary.setValue(round(ap[1]))
        settle(dock)
        dock.shoot()
        dock.primary.setValue(left(clo[0]) - 6)  # 6° too oblique (toward the lateral)
        dock.secondary.setValue(round(clo[1]))
        settle(dock)
        dock.shoot()
        dock.check()
        viewer.reset_view()
        settle(dock)
        _save(viewer, "carm_dock_feedback.png")
        viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
