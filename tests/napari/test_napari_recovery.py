"""Autosave / recovery, the refused concurrent save, the npe2 writer and manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

LF = {
    "id": "lf1",
    "type": "ligamentum_flavum",
    "level": "L4-L5",
    "side": "left",
    "geometry": {"kind": "polygon", "points": [[10.0, 10.0], [10.0, 20.0], [18.0, 15.0]]},
}


def test_manifest_validates() -> None:
    npe2 = Path(sys.executable).with_name("npe2")
    res = subprocess.run(
        [str(npe2), "validate", "flannot"], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "valid" in res.stdout


@pytest.mark.gui
def test_autosave_then_restore_on_reopen(make_napari_viewer, case_folder, qtbot) -> None:
    from flannot.model.recovery import recovery_path
    from flannot.napari._qt.annotate_dock import AnnotateDock
    from flannot.napari.session import get_session

    folder = case_folder("rec", annotations=[LF])
    case_file = folder / "annotations.json"
    viewer = make_napari_viewer()
    viewer.open(str(folder), plugin="flannot")
    session = get_session(viewer)
    AnnotateDock(viewer)  # starts the autosave timers
    lf = session.annotation_layer("ligamentum_flavum")
    lf.add_polygons([np.array([[30.0, 30.0], [30.0, 40.0], [38.0, 35.0]])])
    assert session.dirty
    # the debounced autosave fires after the burst of edits
    session._autosave._debounce.setInterval(50)
    session._autosave._restart_debounce()
    rec = recovery_path(case_file)
    qtbot.waitUntil(rec.exists, timeout=5000)
    assert session._autosave.last_error is None and session._autosave.writes == 1
    assert json.loads(case_file.read_text())["annotations"] == [LF]  # case file untouched
    viewer.close()  # a "crash": the edits were never saved

    # reopening offers the recovered edits; declining keeps the file's version ...
    asked = []
    viewer2 = make_napari_viewer()
    s2 = get_session(viewer2)
    s2.ask_restore = lambda path: asked.append(path) or False
    viewer2.open(str(folder), plugin="flannot")
    assert asked == [case_file]
    assert len(s2.current_case().annotations) == 1 and not s2.dirty
    assert not rec.exists()  # declined: the recovery file is discarded

    # ... and accepting restores them (dirty until saved; saving removes the recovery file)
    s2.annotation_layer("ligamentum_flavum").add_polygons(
        [np.array([[40.0, 40.0], [40.0, 50.0], [48.0, 45.0]])]
    )
    assert s2.autosave_now() == rec
    s2.ask_restore = lambda path: True
    viewer2.open(str(folder), plugin="flannot")  # reopen the case
    assert len(s2.current_case().annotations) == 2 and s2.dirty
    assert len(s2.annotation_layer("ligamentum_flavum").data) == 2
    s2.save()
    assert not rec.exists() and not s2.dirty
    assert len(json.loads(case_file.read_text())["annotations"]) == 2


@pytest.mark.gui
def test_concurrent_change_is_refused_and_offers_save_as(
    viewer, case_folder, tmp_path: Path
) -> None:
    from flannot.napari._qt.annotate_dock import AnnotateDock
    from flannot.napari.session import get_session

    folder = case_folder("conc", annotations=[LF])
    case_file = folder / "annotations.json"
    viewer.open(str(folder), plugin="flannot")
    session = get_session(viewer)
    dock = AnnotateDock(viewer)
    session.annotation_layer("cannula").add_lines([np.array([[1.0, 1.0], [9.0, 9.0]])])
    # someone else saves the case meanwhile
    other = json.loads(case_file.read_text())
    other["notes"] = "edited by a colleague"
    case_file.write_text(json.dumps(other))

    messages = []
    dock.ask_conflict = lambda message: messages.append(message) or "cancel"
    assert dock.save() is None
    assert "changed on disk" in messages[0]
    assert "Not saved" in dock.status.text()
    assert json.loads(case_file.read_text())["notes"] == "edited by a colleague"
    assert session.dirty

    copy = tmp_path / "mine" / "annotations.json"
    dock.ask_conflict = lambda message: "save_as"
    dock.ask_save_path = lambda: copy
    assert dock.save() == copy
    saved = json.loads(copy.read_text())
    assert [a["type"] for a in saved["annotations"]] == ["ligamentum_flavum", "cannula"]
    assert json.loads(case_file.read_text())["notes"] == "edited by a colleague"
    assert session.case_path == copy and not session.dirty
    # the saved copy still finds its image
    assert Path(saved["image"]["path"]).is_absolute()


@pytest.mark.gui
def test_npe2_writer_saves_the_case(viewer, case_folder, tmp_path: Path) -> None:
    from flannot.napari.session import get_session

    viewer.open(str(case_folder("w", annotations=[LF])), plugin="flannot")
    session = get_session(viewer)
    session.annotation_layer("vertebra").add([[12.0, 13.0]])
    out = tmp_path / "written.json"
    viewer.layers.selection.clear()
    viewer.layers.selection.update(session.annotation_layers().values())
    written = viewer.layers.save(str(out), selected=True, plugin="flannot")
    assert [Path(p) for p in written] == [out]
    data = json.loads(out.read_text())
    assert data["flannot_version"] == 1
    assert sorted(a["type"] for a in data["annotations"]) == ["ligamentum_flavum", "vertebra"]


@pytest.mark.gui
def test_duplicate_ids_refused_but_a_recovery_file_with_them_restores(
    make_napari_viewer, case_folder
) -> None:
    """A case file repeating an id is refused with one line; recovered edits that repeat
    one are not lost: they open and the save gives the repeat a fresh id."""
    from flannot import FlannotError
    from flannot.model import Case
    from flannot.model.recovery import recovery_path
    from flannot.napari.session import get_session

    bad = case_folder("dup", annotations=[LF, LF])
    viewer = make_napari_viewer()
    session = get_session(viewer)
    with pytest.raises(FlannotError, match=f"duplicate id {LF['id']!r}") as err:
        session.load_case(bad, add_layers=False)
    assert "\n" not in str(err.value) and str(bad / "annotations.json") in str(err.value)

    folder = case_folder("rec", annotations=[LF])
    case_file = folder / "annotations.json"
    rec = recovery_path(case_file)
    data = json.loads(case_file.read_text())
    data["annotations"] = [LF, LF]
    rec.write_text(json.dumps(data))
    os.utime(rec, ns=(case_file.stat().st_mtime_ns + 10**9,) * 2)
    session.ask_restore = lambda path: True
    viewer.open(str(folder), plugin="flannot")
    assert len(session.current_case().annotations) == 2
    session.save()
    ids = [a.id for a in Case.load(case_file).annotations]
    assert len(ids) == 2 and len(set(ids)) == 2
