"""Render the README's napari pictures (run under Xvfb) and say what each one shows.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \
        docs/images/make_workspace_screenshots.py [SET_DIR]

Writes, next to this script:

``workspace.png``
    The whole workspace with every dock open (Quiz, PACS and the forms in tabs) on a
    1600×1000 screen, on the contralateral-oblique sample case ``clo-left``: its own
    reference annotations (ligamentum flavum and epidural contrast line at L3-L4 and L4-L5,
    the redaction box) plus, drawn with the Annotate dock for illustration, vertebra
    centres L1–L5 (the level advances after each click) and a portal to L4-L5.
``annotate_cine.png``
    Frame 16 of the cine sample case with that frame's reference annotations.
``measure_dock.png``
    The Measure dock on frame 18 of the cine ("Current frame only"), reference annotations.
``teach_dock.png``
    The Teaching set dock on the lateral sample case, after "Add DICOM…" added a copy of a
    sample image with patient identifiers put back (a throw-away copy of the set is used).
``CAPTIONS.md``
    The same, for whoever uses the pictures: which annotations are the sample case's
    reference and which were drawn for the picture. Only this script's section (between
    its ``begin``/``end`` markers) is rewritten; the PACS and C-arm captions stay.

The sample set is copied to a temporary folder first, so drawing, adding a case and the
autosave never touch ``sample_dicoms/``; every input is fixed, so the pictures are the
same from run to run (up to font rendering).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from flannot.cli.demo import ALL_DOCKS, run_demo

OUT = Path(__file__).resolve().parent

# image pixel coordinates [row, col] read off the clo-left phantom image (512 × 512)
VERTEBRA_CENTRES = ([42, 240], [122, 238], [197, 236], [272, 234], [347, 232])  # L1 … L5
# a portal from a caudal paramedian entry, its tip just dorsal to the L4-L5 ligamentum
PORTAL = np.array([[430.0, 470.0], [312.0, 283.0]])

BEGIN = "<!-- make_workspace_screenshots.py: begin -->"
END = "<!-- make_workspace_screenshots.py: end -->"
CAPTIONS = """\
# What the napari pictures show

Made by `docs/images/make_workspace_screenshots.py` from the synthetic sample teaching set
(`sample_dicoms/`, no patient data).

- **workspace.png** — the whole workspace with every dock open on a 1600×1000 screen
  (Teaching set with Quiz and PACS in tabs, Annotate with the three forms in tabs, the
  Measure table at the bottom) on the contralateral-oblique case `clo-left`. The
  ligamentum flavum and epidural contrast line (L3-L4, L4-L5, left) and the redaction
  box are the case's **reference annotations**. The vertebra centres L1–L5 and the
  L4-L5 left portal are **illustrations drawn for the picture** with the Annotate dock
  (they are not in the sample case, hence the unsaved-changes marker).
- **annotate_cine.png** — frame 16 of the `cine` case: the case's reference ligamentum
  flavum, contrast line and portal of that frame (each frame keeps its own annotations).
- **measure_dock.png** — the Measure dock on frame 18 of the `cine` case, "Current frame
  only": ligamentum flavum thickness and the portal tip's distance to the contrast line,
  from the case's reference annotations; the header states the calibration.
- **quiz_dock.png**, **quiz_side_by_side.png** — made by `make_quiz_screenshot.py`: the
  Quiz dock after Check, the reference overlaid (paler outlines, "ref" labels), then side
  by side with the attempt in two views sharing one camera.
- **teach_dock.png** — the Teaching set dock on the `lateral` case (reference vertebra
  corners, spinal canal, calibration sphere line) after "Add DICOM…" added a copy of a
  sample image with patient identifiers put back: the summary lists what
  de-identification removed and warns about burned-in text.
"""


def update_captions(text: str, section: str = CAPTIONS) -> str:
    """``text`` (CAPTIONS.md) with this script's section replaced by ``section``.

    The section lies between the :data:`BEGIN` and :data:`END` markers; a file without
    them (older ones) has its first heading's section replaced, up to the next caption
    block of another script (a line starting "Made by" naming another script, or
    another top-level heading); the rest of the file is kept as it is.
    """
    block = f"{BEGIN}\n{section.rstrip()}\n{END}\n"
    if BEGIN in text and END in text.split(BEGIN, 1)[1]:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + block + ("\n" + tail if tail else "")
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.startswith("# What the napari")), None)
    if start is None:
        return block + ("\n" + text if text.strip() else "")
    end = len(lines)
    for i in range(start + 1, len(lines)):
        ln = lines[i]
        other = ln.startswith("Made by `docs/images/") and "make_workspace_screenshots" not in ln
        if other or ln.startswith("# "):
            end = i
            break
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + block + ("\n" + tail if tail else "")


def shrink(png: Path, limit: int = 400_000) -> Path:
    """Re-save ``png`` with a 256-colour palette when it is over ``limit`` bytes (README)."""
    from PIL import Image

    if png.stat().st_size > limit:
        with Image.open(png) as im:
            small = im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
        small.save(png, optimize=True)
    return png


def _illustrate(viewer, docks) -> None:
    dock = docks["Annotate"]
    points = dock.select_structure("vertebra", "point")
    dock.level.setCurrentText("L1")
    for rc in VERTEBRA_CENTRES:
        points.add([rc])  # L1 … L5: the level advances after each click
    portal = dock.select_structure("cannula")
    dock.level.setCurrentText("L4-L5")
    dock.side.setCurrentText("left")
    dock.instrument.setCurrentText("portal")
    portal.add_lines([PORTAL])
    portal.mode = "pan_zoom"
    docks["Measure"].refresh()  # the debounce timer would fire after the screenshot


def _cine(frame: int, measure: bool = False):
    def prepare(viewer, docks) -> None:
        viewer.dims.set_current_step(0, frame)
        if measure:
            dock = docks["Measure"]
            dock.frame_only.setChecked(True)
            dock.refresh()
            names = list(dock.dataframe["name"])
            dock.select_row(names.index("max_thickness"))  # highlights the ligamentum
            viewer.layers.selection.active = dock.session.annotation_layer("ligamentum_flavum")
            viewer.layers.selection.active.mode = "pan_zoom"
        else:
            layer = docks["Annotate"].session.annotation_layer("cannula")
            viewer.layers.selection.active = layer
            layer.mode = "pan_zoom"
            docks["Measure"].refresh()

    return prepare


def _identified_copy(set_dir: Path, out: Path) -> Path:
    """A sample image with patient identity, a date and a private tag put back (a clinic's)."""
    import pydicom

    ds = pydicom.dcmread(set_dir / "cases" / "ap" / "image.dcm")
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-123456"
    ds.PatientBirthDate = "19500101"
    ds.InstitutionName = "General Hospital"
    ds.add_new(0x00090010, "LO", "ACME")
    ds.add_new(0x00091001, "LO", "scanner serial 42")
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    ds.save_as(out)
    return out


def _teach(set_dir: Path, incoming: Path):
    def prepare(viewer, docks) -> None:
        dock = docks["Teaching set"]
        dock.add_dicom([_identified_copy(set_dir, incoming)])
        dock.load_case("lateral")
        dock.case_list.scrollToTop()

    return prepare


def main(set_dir: str | None = None) -> int:
    from flannot.napari._sample_data import sample_set_dir

    source = Path(set_dir).resolve() if set_dir else sample_set_dir()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the docks show paths relative to here: the same on every run
        work = Path(tmp) / "MILD-sample-set"
        shutil.copytree(source, work)
        run_demo(
            OUT / "workspace.png",
            set_dir=work,
            case_id="clo-left",
            prepare=_illustrate,
            docks=ALL_DOCKS,
        )
        run_demo(OUT / "annotate_cine.png", set_dir=work, case_id="cine", prepare=_cine(16))
        run_demo(
            OUT / "measure_dock.png",
            set_dir=work,
            case_id="cine",
            prepare=_cine(18, measure=True),
            size=(1600, 1000),
            docks=(("Measure", "right"),),
        )
        run_demo(
            OUT / "teach_dock.png",
            set_dir=work,
            case_id="lateral",
            prepare=_teach(work, Path(tmp) / "clinic.dcm"),
            size=(1600, 1000),
            docks=(("Teaching set", "right"),),
        )
        os.chdir(OUT)
    for name in ("workspace", "annotate_cine", "measure_dock", "teach_dock"):
        shrink(OUT / f"{name}.png")
    captions = OUT / "CAPTIONS.md"
    old = captions.read_text(encoding="utf-8") if captions.exists() else ""
    captions.write_text(update_captions(old), encoding="utf-8")
    print(f"wrote {OUT / 'CAPTIONS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
