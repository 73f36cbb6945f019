"""The Teaching set dock: browse cases, notes, next/previous, save, add DICOM (Xvfb)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

pytest.importorskip("napari")
pytest.importorskip("pytestqt")

from qtpy.QtWidgets import QMessageBox

from flannot.napari._qt.teach_dock import (
    TeachingSetDock,
    deid_summary,
    thumbnail_array,
)

pytestmark = pytest.mark.gui

SAMPLES = Path(__file__).resolve().parents[2] / "sample_dicoms"


@pytest.fixture(scope="session")
def sample_source(tmp_path_factory) -> Path:
    """The repository's sample set; generated once (phantom, seed 0) when it is not there."""
    if (SAMPLES / "flannot-set.json").is_file():
        return SAMPLES
    from flannot.phantom import write_sample_set

    return Path(write_sample_set(tmp_path_factory.mktemp("samples") / "set", seed=0))


@pytest.fixture
def sample_set(sample_source, tmp_path) -> Path:
    """A private copy of the sample teaching set (tests save into it)."""
    dst = tmp_path / "set"
    shutil.copytree(sample_source, dst)
    return dst


@pytest.fixture
def dock(make_napari_viewer, qtbot):
    from flannot.napari.session import get_session

    viewer = make_napari_viewer()
    get_session(viewer).ask_restore = lambda path: False
    widget = TeachingSetDock(viewer)
    qtbot.addWidget(widget)
    return widget


def _set_case_ids(path: Path) -> list[str]:
    data = json.loads((path / "flannot-set.json").read_text())
    return [c["case_id"] for c in data["cases"]]


def test_constructs_without_a_set_then_creates_one(dock, tmp_path) -> None:
    assert dock.case_list.count() == 0
    assert "No teaching set" in dock.set_label.text()
    assert not dock.notes_edit.isEnabled()
    dock.next_case()  # nothing to do, nothing breaks
    assert dock.add_dicom([]) is None
    assert "teaching set" in dock.status_label.text().lower()
    # a new, empty set; its name is shown as text, never run as HTML
    assert dock.new_set(tmp_path / "new-set", name="Spine <i>101</i>")
    assert (tmp_path / "new-set" / "flannot-set.json").is_file()
    assert dock.session.teaching_set is dock.teaching_set
    assert "Spine &lt;i&gt;101&lt;/i&gt;" in dock.set_label.text()
    assert "0 cases" in dock.set_label.text()
    assert not dock.status_label.isVisibleTo(dock)  # "No teaching set: …" is stale now
    assert not dock.new_set(tmp_path / "new-set")  # not empty any more: refused, said why
    assert "not empty" in dock.status_label.text()


def test_list_shows_the_sample_cases_with_thumbnails(dock, sample_set, qtbot) -> None:
    assert dock.open_set(sample_set)
    ids = _set_case_ids(sample_set)
    assert dock.case_ids() == ids
    assert dock.case_list.count() == len(ids)
    entries = json.loads((sample_set / "flannot-set.json").read_text())["cases"]
    for row, entry in enumerate(entries):
        text = dock.case_list.item(row).text()
        assert (entry.get("title") or entry["case_id"]) in text
        assert entry["case_id"] in text
        if entry.get("view"):
            assert entry["view"] in text
    # opening a set shows its first case
    assert dock.session.case is not None and dock.session.case.case_id == ids[0]
    assert dock.case_list.currentRow() == 0
    qtbot.waitUntil(dock.thumbnails_ready, timeout=20000)
    icon = dock.case_list.item(0).icon()
    assert not icon.isNull()

    # another set with the same case ids: its own first case is loaded, not taken for ours
    other = sample_set.parent / "other-set"
    shutil.copytree(sample_set, other)
    assert dock.open_set(other)
    assert dock.session.case.case_id == ids[0]
    assert Path(dock.session.case_path).resolve().parent == (other / "cases" / ids[0]).resolve()
    assert dock.case_list.currentRow() == 0


def test_thumbnail_is_a_small_windowed_8bit_preview(sample_set) -> None:
    image = sample_set / "cases" / _set_case_ids(sample_set)[0] / "image.dcm"
    if not image.exists():  # a series folder
        image = image.parent / "image"
    thumb = thumbnail_array(image, size=64)
    assert thumb.dtype == np.uint8
    assert max(thumb.shape[:2]) == 64
    assert thumb.max() - thumb.min() > 100  # windowed: uses most of the grey range
    assert thumbnail_array(image, size=64) is thumb  # cached


def test_next_and_previous_change_the_loaded_case(dock, sample_set) -> None:
    dock.open_set(sample_set)
    ids = dock.case_ids()
    assert len(ids) >= 2
    assert not dock.prev_btn.isEnabled() and dock.next_btn.isEnabled()
    dock.next_case()
    assert dock.session.case.case_id == ids[1]
    assert dock.position_label.text() == f"2 / {len(ids)}"
    # the notes editor follows the loaded case; filling it is not an edit
    on_disk = json.loads((sample_set / "cases" / ids[1] / "annotations.json").read_text())
    assert dock.notes_edit.toPlainText() == on_disk.get("notes", "")
    assert not dock.session.dirty
    dock.previous_case()
    assert dock.session.case.case_id == ids[0]
    assert dock.case_list.currentRow() == 0
    assert not dock.prev_btn.isEnabled()


def test_switching_cases_refills_the_layers_with_exactly_each_case(dock, sample_set) -> None:
    from flannot.model.case import Case

    dock.open_set(sample_set)
    session, viewer = dock.session, dock.viewer
    ids = dock.case_ids()
    flat = [i for i in ids if i != "cine"]
    seen_layers = None
    for case_id in [*flat, "cine", flat[0]]:
        dock.load_case(case_id)
        on_disk = Case.load(sample_set / "cases" / case_id)
        shown = session.current_case()
        assert [a.to_dict() for a in shown.annotations] == [
            a.to_dict() for a in on_disk.annotations
        ]
        assert not session.dirty and not session.undo.can_undo
        # one layer per shown key, the image at the bottom, nothing left from the last case
        flannot_layers = [layer for layer in viewer.layers if "flannot_key" in layer.metadata]
        assert len(flannot_layers) == len(session.annotation_layers())
        assert viewer.layers[0] is session.image_layer
        assert len(viewer.layers) == len(flannot_layers) + 1
        if case_id == flat[0] and seen_layers is None:
            seen_layers = dict(session.annotation_layers())
            seen_image = session.image_layer
        elif case_id == flat[1]:  # 2-D to 2-D: the same napari layers, refilled (fast)
            for key in ("ligamentum_flavum", "cannula", "vertebra"):
                assert session.annotation_layers()[key] is seen_layers[key]
        if case_id in (flat[1], "cine"):
            # to and from the cine too: the image and Shapes layers reshaped in place
            ndim = 3 if case_id == "cine" else 2
            assert session.image_layer is seen_image and session.image_layer.ndim == ndim
            assert viewer.dims.ndim == ndim
            for key in ("ligamentum_flavum", "cannula", "interlaminar_space"):
                layer = session.annotation_layers()[key]
                assert layer is seen_layers[key] and layer.ndim == ndim
                assert tuple(layer.scale) == tuple(session.image_layer.scale)
                assert tuple(layer.axis_labels) == ("frame", "row", "col")[-ndim:]
    # a refilled layer is edited like a new one: ids, attributes, undo
    lf = session.annotation_layers()["ligamentum_flavum"]
    n = len(lf.data)
    lf.add_polygons([np.array([[10.0, 10.0], [10.0, 20.0], [20.0, 20.0]])])
    assert session.dirty and session.undo.can_undo
    added = [a for a in session.current_case().annotations if a.type == "ligamentum_flavum"]
    assert len(added) == n + 1 and added[-1].id and added[-1].id not in {a.id for a in added[:-1]}


def test_notes_edit_marks_dirty_and_saves_into_the_case_file(dock, sample_set, monkeypatch) -> None:
    dock.open_set(sample_set)
    case_id = dock.session.case.case_id
    assert not dock.session.dirty
    assert dock.dirty_label.text() == "saved"
    text = "# Level count\n\nCount up from **S1**; the portal goes to L4-L5."
    dock.notes_edit.setPlainText(text)
    assert dock.session.dirty
    assert "unsaved" in dock.dirty_label.text()
    dock._render_notes()
    assert "Level count" in dock.notes_view.toPlainText()
    assert "**" not in dock.notes_view.toPlainText()  # rendered, not raw Markdown
    written = dock.save()
    assert written is not None and written.name == "annotations.json"
    assert written.parent == (sample_set / "cases" / case_id).resolve() or (
        written.parent == sample_set / "cases" / case_id
    )
    assert json.loads(written.read_text())["notes"] == text
    assert not dock.session.dirty
    assert dock.dirty_label.text() == "saved"

    # someone else saves the case meanwhile: overwrite only when the user says so
    theirs = json.loads(written.read_text())
    theirs["notes"] = "their version"
    written.write_text(json.dumps(theirs))
    dock.notes_edit.setPlainText(text + "\n\nMine.")
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: next(answers)))
    assert dock.save() is None
    assert json.loads(written.read_text())["notes"] == "their version"
    assert dock.session.dirty
    assert dock.save() == written
    assert json.loads(written.read_text())["notes"].endswith("Mine.")
    assert not dock.session.dirty


def test_leaving_an_unsaved_case_asks(dock, sample_set, monkeypatch) -> None:
    dock.open_set(sample_set)
    ids = dock.case_ids()
    dock.notes_edit.setPlainText("draft")
    answers = iter([QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard])
    asked = []

    def fake_question(*args, **kwargs):
        asked.append(args[2] if len(args) > 2 else "")
        return next(answers)

    monkeypatch.setattr(QMessageBox, "question", staticmethod(fake_question))
    dock.next_case()  # Cancel: stay
    assert dock.session.case.case_id == ids[0]
    assert dock.case_list.currentRow() == 0
    dock.case_list.setCurrentRow(2)  # a click in the list; Discard: go
    assert dock.session.case.case_id == ids[2]
    assert dock.case_list.currentRow() == 2
    assert len(asked) == 2 and ids[0] in asked[0]
    saved = json.loads((sample_set / "cases" / ids[0] / "annotations.json").read_text())
    assert saved.get("notes", "") != "draft"


def _identified_dicom(sample_set: Path, tmp_path: Path) -> Path:
    """A sample image with patient identity and a private tag put back in (as a clinic's)."""
    src = sample_set / "cases" / _set_case_ids(sample_set)[0] / "image.dcm"
    ds = pydicom.dcmread(src)
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "MRN-123456"
    ds.PatientBirthDate = "19500101"
    ds.InstitutionName = "General Hospital"
    ds.add_new(0x00090010, "LO", "ACME")
    ds.add_new(0x00091001, "LO", "secret")
    if "BurnedInAnnotation" in ds:
        del ds.BurnedInAnnotation
    out = tmp_path / "incoming" / "clinic.dcm"
    out.parent.mkdir()
    ds.save_as(out)
    return out


def test_add_dicom_adds_a_deidentified_case_and_shows_the_summary(
    dock, sample_set, tmp_path
) -> None:
    dock.open_set(sample_set)
    n = dock.case_list.count()
    src = _identified_dicom(sample_set, tmp_path)
    report = dock.add_dicom([src])
    assert report is not None
    assert dock.case_list.count() == n + 1
    ids = _set_case_ids(sample_set)  # the set file on disk lists it too
    assert len(ids) == n + 1
    new_id = next(i for i in ids if i not in dock.case_ids()[:n])
    new_dir = sample_set / "cases" / new_id
    copied = [p for p in new_dir.rglob("*") if p.is_file() and p.name != "annotations.json"]
    ds = pydicom.dcmread(next(p for p in copied if p.suffix in (".dcm", "")))
    assert str(ds.get("PatientName", "")) != "Doe^Jane"
    assert ds.get("PatientID", "") != "MRN-123456"
    assert (0x0009, 0x1001) not in ds
    # the summary says what happened, with the burned-in warning for an XA/RF image
    assert dock.summary.isVisible() or not dock.isVisible()
    text = dock.summary.toPlainText()
    assert "De-identified 1 file" in text
    assert "removed" in text and "emptied" in text
    if ds.get("Modality") in ("XA", "RF"):
        assert "burned-in" in text.lower()


def test_deid_summary_totals_and_burned_in_warning() -> None:
    # the shape of TeachingSet.add_dicom's report
    report = [
        {
            "case_id": "case-001",
            "files": 1,
            "deidentified": True,
            "removed": 5,
            "emptied": 3,
            "replaced": 4,
            "private_removed": 2,
            "attributes": ["InstitutionName", "PatientAge"],
            "uid_remaps": 4,
            "burned_in_risk": "unknown",
            "burned_in_flagged": True,
        },
        {
            "case_id": "case-002",
            "files": 1,
            "deidentified": True,
            "removed": 1,
            "emptied": 2,
            "replaced": 0,
            "private_removed": 0,
            "attributes": [],
            "uid_remaps": 3,
            "burned_in_risk": "no",
            "burned_in_flagged": False,
        },
    ]
    text = deid_summary(report)
    assert "**De-identified 2 file(s)** into 2 case(s)" in text
    assert "6 attributes removed, 5 emptied, 4 replaced, 2 private tags removed" in text
    assert "**case-001**: 5 removed, 3 emptied" in text and "InstitutionName" in text
    warning = next(line for line in text.splitlines() if "Burned-in text risk" in line)
    assert "case-001" in warning and "case-002" not in warning
    assert "not stated for an XA/RF" in text
    # a redacted (not flagged) case is not warned about
    report[0]["burned_in_flagged"] = False
    assert "Burned-in" not in deid_summary(report)


def test_dock_picks_up_a_set_opened_by_the_reader(make_napari_viewer, qtbot, sample_set) -> None:
    from flannot.napari.session import get_session
    from flannot.teach.teaching_set import TeachingSet

    viewer = make_napari_viewer()
    session = get_session(viewer)
    session.ask_restore = lambda path: False
    ts = TeachingSet.open(sample_set)
    session.teaching_set = ts
    second = _set_case_ids(sample_set)[1]
    session.load_case(sample_set / "cases" / second)
    dock = TeachingSetDock(viewer)
    qtbot.addWidget(dock)
    assert dock.case_list.count() == len(ts.cases)
    assert dock.case_list.currentRow() == 1
    assert session.case.case_id == second


def test_added_case_is_loaded_and_a_refused_set_save_takes_it_back(
    dock, sample_set, tmp_path
) -> None:
    dock.open_set(sample_set)
    n = dock.case_list.count()
    src = _identified_dicom(sample_set, tmp_path)
    report = dock.add_dicom([src])
    new_id = report[0]["case_id"]
    assert dock.session.case.case_id == new_id  # the new case is on screen
    assert dock.case_list.currentRow() == n
    # someone else changes the set file: the next add is refused and leaves nothing behind
    set_file = sample_set / "flannot-set.json"
    set_file.write_text(set_file.read_text().replace('"cases"', '"x_touched": 1, "cases"', 1))
    before = sorted(p.name for p in (sample_set / "cases").iterdir())
    other = tmp_path / "second.dcm"
    ds = pydicom.dcmread(src)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(other)  # another image (new SOP Instance UID), so only the set save can fail
    assert dock.add_dicom([other]) is None
    assert dock.status_label.isVisibleTo(dock) and "Cannot add DICOM" in dock.status_label.text()
    assert sorted(p.name for p in (sample_set / "cases").iterdir()) == before
    assert dock.case_list.count() == n + 1


def test_recovery_files_never_go_into_a_set_zip(sample_set, tmp_path) -> None:
    import zipfile

    from flannot.model import recovery
    from flannot.model.case import Case
    from flannot.teach.zipio import export_set

    case_file = sample_set / "cases" / "lateral" / "annotations.json"
    case = Case.load(case_file)
    case.notes = "unsaved edit"
    rec = recovery.write_recovery(case, case_file)
    assert rec.is_file()
    out = export_set(sample_set, tmp_path / "set.zip")
    names = zipfile.ZipFile(out).namelist()
    assert "cases/lateral/annotations.json" in names
    assert not [n for n in names if n.endswith(".recovery") or "/." in n]


def test_set_and_case_titles_are_edited_in_the_dock_and_the_cli(dock, sample_set, capsys) -> None:
    """Issue 14: a case added in the GUI was stuck with the title "case-001"."""
    from flannot.cli import main

    dock.open_set(sample_set)
    dock.load_case("lateral")
    assert dock.case_title_edit.isEnabled()
    assert dock.case_title_edit.text() == "Lateral lumbar spine T12–S1, calibration sphere"
    dock.case_title_edit.setText("Lateral, sphere for calibration")
    dock.case_title_edit.editingFinished.emit()
    dock.set_title_edit.setText("Spine course 2026")
    dock.set_title_edit.editingFinished.emit()
    data = json.loads((sample_set / "flannot-set.json").read_text())
    assert data["name"] == "Spine course 2026"
    titles = {c["case_id"]: c["title"] for c in data["cases"]}
    assert titles["lateral"] == "Lateral, sphere for calibration"
    assert "Spine course 2026" in dock.set_label.text()
    row = dock.case_ids().index("lateral")
    assert dock.case_list.item(row).text().startswith("Lateral, sphere for calibration")

    assert main(["set", "title", str(sample_set), "--case", "ap", "AP view"]) == 0
    assert main(["set", "title", str(sample_set), "Renamed"]) == 0
    data = json.loads((sample_set / "flannot-set.json").read_text())
    assert data["name"] == "Renamed"
    assert {c["case_id"]: c["title"] for c in data["cases"]}["ap"] == "AP view"
    assert main(["set", "title", str(sample_set), "--case", "nope", "X"]) == 2
    assert "nope" in capsys.readouterr().err
