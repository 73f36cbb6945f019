"""Teaching-set folders: creating, adding de-identified cases, saving, validating."""

from __future__ import annotations

import json
import shutil

import pydicom
import pytest
from identified import IDENTIFIERS, make_xa, write

from flannot import FlannotError
from flannot.cli import main
from flannot.protocols import get_protocol
from flannot.teach.teaching_set import SECRET_FILE, SET_FILE, TeachingSet


def test_new_set_file(tmp_path):
    ts = TeachingSet.new(tmp_path / "s", "Lumbar MILD", description="demo")
    data = json.loads((tmp_path / "s" / SET_FILE).read_text())
    assert data["flannot_set_version"] == 1
    assert (data["name"], data["description"], data["protocol"]) == ("Lumbar MILD", "demo", "mild")
    assert data["tolerances"] == get_protocol("mild").tolerances
    assert data["cases"] == []
    assert SECRET_FILE in (tmp_path / "s" / ".gitignore").read_text().split()
    assert ts.validate() == []
    with pytest.raises(FlannotError, match="not empty"):
        TeachingSet.new(tmp_path / "s")


def test_add_two_cases_deidentified(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "T")
    reports = ts.add_dicom(dicoms)
    ts.save()
    assert [r["case_id"] for r in reports] == ["case-001", "case-002"]
    assert all(r["burned_in_risk"] == "unknown" and r["burned_in_flagged"] for r in reports)
    assert reports[0]["emptied"] > 0 and reports[0]["private_removed"] > 0

    ts = TeachingSet.open(tmp_path / "s")
    assert ts.case_ids == ["case-001", "case-002"]
    for cid in ts.case_ids:
        folder = tmp_path / "s" / "cases" / cid
        image = folder / "image.dcm"
        raw = image.read_bytes()
        assert [s for s in IDENTIFIERS if s.encode() in raw] == []
        case = ts.case(cid)
        assert case.case_id == cid and case.annotations == []
        ds = pydicom.dcmread(image)
        assert case.image.sop_instance_uid == ds.SOPInstanceUID
        assert case.image.frames == 4 and (case.image.rows, case.image.columns) == (64, 64)
        assert case.image_path == image
    # provenance without identifiers: not the file name, not the path, no values
    text = (tmp_path / "s" / SET_FILE).read_text()
    assert "DOE_JOHN" not in text and "MRN99887766" not in text and str(tmp_path) not in text
    prov = ts.entry("case-001")["provenance"]
    assert prov["deidentified"] is True and prov["method_codes"] == ["113100"]
    assert prov["burned_in_risk"] == "unknown" and prov["flannot_version"]
    assert ts.validate() == []


def test_later_additions_map_uids_the_same_way(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0]])
    ts.save()
    assert (tmp_path / "s" / SECRET_FILE).exists()
    ts = TeachingSet.open(tmp_path / "s")  # a later session
    ts.add_dicom([dicoms[1]], case_id="later")
    ts.save()
    a = pydicom.dcmread(tmp_path / "s" / "cases" / "case-001" / "image.dcm")
    b = pydicom.dcmread(tmp_path / "s" / "cases" / "later" / "image.dcm")
    assert a.StudyInstanceUID == b.StudyInstanceUID
    assert a.ReferencedImageSequence[0].ReferencedSOPInstanceUID == b.SOPInstanceUID


def test_series_folder_becomes_one_case(tmp_path):
    for i in range(3):
        write(make_xa(i, n_frames=1), tmp_path / "series" / f"DOE_{i}.dcm")
    (tmp_path / "series" / "README.txt").write_text("not dicom")
    ts = TeachingSet.new(tmp_path / "s", "T")
    (report,) = ts.add_dicom([tmp_path / "series"], case_id="cine")
    ts.save()
    files = sorted((tmp_path / "s" / "cases" / "cine" / "image").iterdir())
    assert [f.name for f in files] == ["0001.dcm", "0002.dcm", "0003.dcm"]
    assert report["files"] == 3
    assert ts.case("cine").image.path == "image"
    assert ts.validate() == []


def test_add_refusals(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "T")
    with pytest.raises(FlannotError, match="exactly one"):
        ts.add_dicom(dicoms, case_id="x")
    with pytest.raises(FlannotError, match="bad case id"):
        ts.add_dicom([dicoms[0]], case_id="../evil")
    (tmp_path / "notdicom.dcm").write_text("hello")
    with pytest.raises(FlannotError, match="not a DICOM"):
        ts.add_dicom([tmp_path / "notdicom.dcm"])
    ts.add_dicom([dicoms[0]], case_id="c")
    with pytest.raises(FlannotError, match="already exists"):
        ts.add_dicom([dicoms[1]], case_id="c")
    # nothing half-written is left in cases/
    assert sorted(p.name for p in (tmp_path / "s" / "cases").iterdir()) == ["c"]


def test_save_refuses_a_set_changed_on_disk(tmp_path):
    ts = TeachingSet.new(tmp_path / "s", "T")
    other = TeachingSet.open(tmp_path / "s")
    other.data["description"] = "edited elsewhere"
    other.save()
    ts.data["name"] = "mine"
    with pytest.raises(FlannotError, match="changed on disk"):
        ts.save()
    assert json.loads((tmp_path / "s" / SET_FILE).read_text())["description"] == "edited elsewhere"
    ts.save(force=True)


def test_validate_finds_set_problems(tmp_path, dicoms):
    root = tmp_path / "s"
    ts = TeachingSet.new(root, "T")
    ts.add_dicom([dicoms[0], dicoms[0]])  # the same image twice: same SOP Instance UID
    ts.add_dicom([dicoms[1]], deidentify=False, case_id="raw")
    ts.save()
    shutil.copytree(root / "cases" / "case-001", root / "cases" / "orphan")
    shutil.rmtree(root / "cases" / "case-002")
    ts.data["cases"].append({"case_id": "ghost", "path": "cases/ghost"})
    ts.save()

    messages = [(p.severity, p.message) for p in TeachingSet.open(root).validate()]
    text = "\n".join(m for _, m in messages)
    assert "case folder 'cases/case-002' is missing" in text
    assert "case folder 'cases/ghost' is missing" in text
    assert ("warning", "case folder cases/orphan is not in the case list") in messages
    assert "Patient Identity Removed is not YES" in text
    assert "Patient's Name is not empty" in text
    assert "private attribute(s) present" in text

    # duplicate SOP Instance UID across listed cases
    ts = TeachingSet.open(root)
    ts.data["cases"].append({"case_id": "orphan", "path": "cases/orphan"})
    ts.save()
    assert any("same SOP Instance UID" in p.message for p in ts.validate())


def test_cli_set_new_add(tmp_path, dicoms, capsys):
    root = tmp_path / "s"
    assert main(["set", "new", str(root), "--name", "CLI set"]) == 0
    assert main(["set", "add", str(root), str(dicoms[0]), "--case-id", "lat"]) == 0
    out = capsys.readouterr().out
    assert "added lat" in out and "burned-in risk unknown" in out
    assert TeachingSet.open(root).case_ids == ["lat"]
    assert main(["set", "add", str(root), str(dicoms[1]), "--case-id", "lat"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("flannot: error:") and "already exists" in err and "\n" not in err
    assert main(["set", "add", str(tmp_path / "nope"), str(dicoms[1])]) == 2


def test_pseudonym_after_deidentification_is_a_warning(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0]], case_id="c")
    ts.save()
    image = tmp_path / "s" / "cases" / "c" / "image.dcm"
    ds = pydicom.dcmread(image)
    ds.PatientName = "TEACHING^CASE1"
    ds.save_as(image)
    found = [(p.severity, p.message) for p in TeachingSet.open(tmp_path / "s").validate()]
    assert found == [("warning", "Patient's Name is not empty; check it is a pseudonym")]
