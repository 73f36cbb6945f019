"""Render the README's workspace pictures (run under Xvfb).

    xvfb-run -a -s "-screen 0 1600x1300x24" .venv/bin/python \
        docs/images/make_workspace_screenshots.py [SET_DIR]

``workspace.png``: the contralateral-oblique sample case (``clo-left``) with its
reference annotations (ligamentum flavum, epidural contrast line, redaction) plus,
drawn with the Annotate dock for illustration, one annotation of every other
type (vertebra centres L1–L5 with level auto-advance, interlaminar space, spinal
canal, a portal to L4-L5 and a calibration line). ``annotate_cine.png``: frame 16
of the cine case, the portal advancing toward L4-L5 with that frame's annotations.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from flannot.cli.demo import run_demo

OUT = Path(__file__).resolve().parent


def _illustrate(viewer, docks) -> None:
    dock = docks["Annotate"]

    def pick(type_name, kind=None, level=None, side=None, instrument=None):
        layer = dock.select_structure(type_name, kind)
        if level:
            dock.level.setCurrentText(level)
        if side:
            dock.side.setCurrentText(side)
        if instrument:
            dock.instrument.setCurrentText(instrument)
        return layer

    # image pixel coordinates [row, col] read off the clo-left phantom image
    points = pick("vertebra", "point", level="L1")
    for rc in ([42, 240], [122, 238], [197, 236], [272, 234], [347, 232]):
        points.add([rc])  # L1 … L5: the level advances after each click
    pick("interlaminar_space", level="L2-L3").add_polygons(
        [np.array([[128, 300], [128, 336], [160, 340], [162, 302]], dtype=float)]
    )
    pick("spinal_canal", level="L1-L2").add_polygons(
        [np.array([[78, 255], [78, 272], [108, 272], [108, 255]], dtype=float)]
    )
    pick("cannula", level="L4-L5", side="left", instrument="portal").add_lines(
        [np.array([[230, 470], [306, 284]], dtype=float)]
    )
    pick("calibration").add_lines([np.array([[245, 190], [300, 190]], dtype=float)])
    viewer.layers.selection.active = dock.session.annotation_layer("cannula")
    dock.session.annotation_layer("cannula").mode = "pan_zoom"


def _cine(viewer, docks) -> None:
    viewer.dims.set_current_step(0, 16)
    layer = docks["Annotate"].select_structure("cannula")
    layer.mode = "pan_zoom"


def main(set_dir: str | None = None) -> int:
    run_demo(OUT / "workspace.png", set_dir=set_dir, case_id="clo-left", prepare=_illustrate)
    run_demo(OUT / "annotate_cine.png", set_dir=set_dir, case_id="cine", prepare=_cine)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
