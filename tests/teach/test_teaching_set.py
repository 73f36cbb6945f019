"""Teaching-set folders: creating, adding de-identified cases, saving, validating."""

from __future__ import annotations

import json
import shutil
import warnings

import pydicom
import pytest
from identified import IDENTIFIERS, XA_CLASS, make_xa, write

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
    ignored = (tmp_path / "s" / ".gitignore").read_text().split()
    assert SECRET_FILE in ignored and ".*.lock" in ignored  # save locks stay out of git
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


def test_add_of_an_unreadable_spacing_names_the_input_not_the_staging_copy(tmp_path, capsys):
    # campaign (issue 16): the lazily read spacing failed outside the reader's guard and the
    # error named cases/.case-001.<random>.tmp/image.dcm, a folder already removed
    ds = make_xa(0)
    ds.ImagerPixelSpacing = [1e-7, 1e-7]
    src = write(ds, tmp_path / "src" / "tiny-spacing.dcm")
    main(["set", "new", str(tmp_path / "s")])
    capsys.readouterr()
    assert main(["set", "add", str(tmp_path / "s"), str(src)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flannot: error: {src}: ") and err.count("\n") == 1, err
    assert "Imager Pixel Spacing" in err and ".tmp" not in err
    assert list((tmp_path / "s" / "cases").iterdir()) == []  # the add was taken back


def test_add_of_malformed_values_prints_no_warning(tmp_path, capsys):
    # campaign (issue 16): `set add` printed pydicom's UserWarnings (an invalid UI in the
    # data set's SOP Class UID, an unknown Specific Character Set) read by the burned-in
    # risk check and the SOP look-up, outside any quiet block
    ds = make_xa(0)
    ds.SpecificCharacterSet = "-1"
    src = write(ds, tmp_path / "src" / "odd.dcm")
    data = src.read_bytes()
    at = data.index(XA_CLASS.encode(), data.index(XA_CLASS.encode()) + 1)  # the data set's
    src.write_bytes(data[:at] + b"1.2\xf9" + data[at + 4 :])
    ts = TeachingSet.new(tmp_path / "s", "T")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ts.add_dicom([src])
        ts.save()
    assert [str(w.message) for w in seen] == []
    assert main(["set", "add", str(tmp_path / "s"), str(src)]) == 2  # the same image again
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already in the set" in err, err


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
    ts.add_dicom(dicoms)
    ts.add_dicom([dicoms[1]], deidentify=False, case_id="raw")  # original UIDs: no clash
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


def test_add_is_all_or_nothing(tmp_path, dicoms, monkeypatch):
    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([write(make_xa(9), tmp_path / "other.dcm")], case_id="kept")
    ts.save()
    before = (tmp_path / "s" / SET_FILE).read_bytes()
    # a bad input anywhere in the list: refused before anything is written
    (tmp_path / "notes.txt").write_text("DOE^JOHN^Q")
    args = ["set", "add", str(tmp_path / "s"), *map(str, dicoms), str(tmp_path / "notes.txt")]
    assert main(args) == 2
    assert sorted(p.name for p in (tmp_path / "s" / "cases").iterdir()) == ["kept"]
    assert (tmp_path / "s" / SET_FILE).read_bytes() == before

    # a failure while copying the second case takes back the first one as well
    import flannot.deid.engine as engine

    real, calls = engine.deidentify_file, []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "deidentify_file", failing)
    ts = TeachingSet.open(tmp_path / "s")
    with pytest.raises(OSError):
        ts.add_dicom(dicoms)
    assert len(calls) == 2
    assert ts.case_ids == ["kept"]
    assert sorted(p.name for p in (tmp_path / "s" / "cases").iterdir()) == ["kept"]
    assert (tmp_path / "s" / SET_FILE).read_bytes() == before


def test_cli_non_dicom_is_one_line_exit_2(tmp_path, capsys):
    assert main(["set", "new", str(tmp_path / "s")]) == 0
    (tmp_path / "scan.dcm").write_bytes(b"\x89PNG\r\n" + bytes(200))
    capsys.readouterr()
    assert main(["set", "add", str(tmp_path / "s"), str(tmp_path / "scan.dcm")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("flannot: error: ")
    assert "scan.dcm" in err and "not a DICOM file" in err
    assert list((tmp_path / "s" / "cases").iterdir()) == []


def test_folder_mixing_series_is_refused(tmp_path):
    write(make_xa(0, n_frames=1), tmp_path / "mixed" / "a.dcm")
    other = make_xa(1, n_frames=1)
    other.SeriesInstanceUID = "1.2.826.0.1.3680043.8.498.777"
    write(other, tmp_path / "mixed" / "b.dcm")
    ts = TeachingSet.new(tmp_path / "s", "T")
    with pytest.raises(FlannotError, match="mixes 2 series"):
        ts.add_dicom([tmp_path / "mixed"])
    (tmp_path / "empty").mkdir()
    write(make_xa(2, n_frames=1), tmp_path / "empty" / "deeper" / "c.dcm")
    with pytest.raises(FlannotError, match="no DICOM images"):
        ts.add_dicom([tmp_path / "empty"])
    assert list((tmp_path / "s" / "cases").iterdir()) == []


def test_secret_is_private_and_reused(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "T")
    assert not (tmp_path / "s" / SECRET_FILE).exists()  # made on the first addition
    ts.add_dicom([dicoms[0]])
    ts.save()
    secret = tmp_path / "s" / SECRET_FILE
    assert secret.stat().st_mode & 0o777 == 0o600
    text = secret.read_text()
    assert len(bytes.fromhex(text.strip())) == 32
    TeachingSet.open(tmp_path / "s").add_dicom([dicoms[1]])
    assert secret.read_text() == text  # never replaced
    # no stray temporary files next to it
    assert sorted(p.name for p in (tmp_path / "s").iterdir() if p.name.startswith(".")) == [
        ".flannot-secret",
        ".gitignore",
    ]


def test_case_folders_follow_the_umask(tmp_path, dicoms):
    import os

    old = os.umask(0o022)
    try:
        ts = TeachingSet.new(tmp_path / "s", "T")
        ts.add_dicom([dicoms[0]], case_id="c")
    finally:
        os.umask(old)
    assert (tmp_path / "s" / "cases" / "c").stat().st_mode & 0o777 == 0o755


def test_cli_two_additions_share_uids_and_date_shift(tmp_path, capsys):
    import datetime as dt

    a, b = make_xa(0, referenced=1), make_xa(1)
    b.StudyDate = "20240320"  # three days after a's
    write(a, tmp_path / "a.dcm")
    write(b, tmp_path / "b.dcm")
    root = tmp_path / "s"
    assert main(["set", "new", str(root), "--name", "Longitudinal"]) == 0
    for name in ("a", "b"):
        cmd = ["set", "add", str(root), str(tmp_path / f"{name}.dcm"), "--case-id", name]
        assert main([*cmd, "--retain", "modified-dates"]) == 0
    oa = pydicom.dcmread(root / "cases" / "a" / "image.dcm")
    ob = pydicom.dcmread(root / "cases" / "b" / "image.dcm")
    assert oa.StudyInstanceUID == ob.StudyInstanceUID != a.StudyInstanceUID
    assert oa.ReferencedImageSequence[0].ReferencedSOPInstanceUID == ob.SOPInstanceUID

    def day(s: str) -> dt.date:
        return dt.datetime.strptime(s, "%Y%m%d").date()

    assert (day(ob.StudyDate) - day(oa.StudyDate)).days == 3  # the same shift for both
    assert day(oa.StudyDate) < day(a.StudyDate)
    for ds in (oa, ob):
        assert ds.LongitudinalTemporalInformationModified == "MODIFIED"
        codes = [c.CodeValue for c in ds.DeidentificationMethodCodeSequence]
        assert codes == ["113100", "113107"]


def test_image_path_outside_the_set_is_refused(tmp_path, dicoms):
    outside = write(make_xa(5), tmp_path / "elsewhere" / "x.dcm")
    original = outside.read_bytes()
    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0]], case_id="c")
    ts.save()
    case_file = tmp_path / "s" / "cases" / "c" / "annotations.json"
    data = json.loads(case_file.read_text())
    data["image"]["path"] = "../../../elsewhere/x.dcm"
    data["annotations"].append(
        {
            "id": "r1",
            "type": "redaction",
            "frame": 0,
            "geometry": {"kind": "rectangle", "points": [[0.0, 0.0], [5.0, 5.0]]},
        }
    )
    case_file.write_text(json.dumps(data))
    ts = TeachingSet.open(tmp_path / "s")
    assert any("leaves the set folder" in p.message for p in ts.validate())
    assert ts.redacted_files() == {}
    ts.apply_redactions()
    assert outside.read_bytes() == original


def test_add_with_save_takes_back_when_the_set_changed_on_disk(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "T")
    other = TeachingSet.open(tmp_path / "s")
    other.data["description"] = "edited in napari meanwhile"
    other.save()
    with pytest.raises(FlannotError, match="changed on disk"):
        ts.add_dicom([dicoms[0]], save=True)
    assert list((tmp_path / "s" / "cases").iterdir()) == []  # no orphan case folder
    assert ts.case_ids == []
    again = TeachingSet.open(tmp_path / "s")
    assert again.add_dicom([dicoms[0]], save=True)[0]["case_id"] == "case-001"
    assert TeachingSet.open(tmp_path / "s").case_ids == ["case-001"]


def test_validate_names_identifiers_left_after_removal(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0]], case_id="c")
    ts.save()
    assert ts.validate() == []
    image = tmp_path / "s" / "cases" / "c" / "image.dcm"
    ds = pydicom.dcmread(image)
    ds.PatientBirthDate = "19530412"  # say a later tool copied it back
    ds.PatientID = "TEACH-0001"  # a pseudonym: allowed, but worth a look
    other = pydicom.Dataset()
    other.PatientID = "ALT-ID-55511"
    ds.OtherPatientIDsSequence = [other]
    ds.save_as(image)
    found = {(p.severity, p.message) for p in TeachingSet.open(tmp_path / "s").validate()}
    assert found == {
        ("error", "identifier left: Patient's Birth Date is not empty"),
        ("error", "identifier left: Other Patient IDs Sequence is not empty"),
        ("warning", "Patient ID is not empty; check it is a pseudonym"),
    }


def test_an_image_flannot_cannot_read_is_refused(tmp_path, dicoms, capsys):
    broken = make_xa(7)
    broken.PixelData = broken.PixelData[:1000]  # truncated: 4 frames declared
    write(broken, tmp_path / "broken.dcm")
    root = tmp_path / "s"
    assert main(["set", "new", str(root)]) == 0
    capsys.readouterr()
    assert main(["set", "add", str(root), str(dicoms[0]), str(tmp_path / "broken.dcm")]) == 2
    err = capsys.readouterr().err
    assert "broken.dcm" in err and "cannot read this image" in err and err.count("\n") == 1
    assert list((root / "cases").iterdir()) == []  # the good one is taken back too
    assert TeachingSet.open(root).case_ids == []


def test_the_same_image_twice_is_refused(tmp_path, dicoms):
    for i in range(2):
        write(make_xa(20 + i, n_frames=1), tmp_path / "series" / f"{i}.dcm")
    ts = TeachingSet.new(tmp_path / "s", "T")
    ts.add_dicom([dicoms[0], tmp_path / "series"], save=True)
    # a later session; the same file under another name
    renamed = tmp_path / "renamed.dcm"
    renamed.write_bytes(dicoms[0].read_bytes())
    ts = TeachingSet.open(tmp_path / "s")
    with pytest.raises(FlannotError, match=r"already in the set \(case 'case-001'"):
        ts.add_dicom([dicoms[1], renamed])
    with pytest.raises(FlannotError, match="case 'case-002'"):
        ts.add_dicom([tmp_path / "series" / "1.dcm"])  # one frame of a series case
    with pytest.raises(FlannotError, match="already in the set"):
        ts.add_dicom([dicoms[1], dicoms[1]])  # twice in one call
    ts.add_dicom([dicoms[1]], save=True)
    assert TeachingSet.open(tmp_path / "s").case_ids == ["case-001", "case-002", "case-003"]
    assert TeachingSet.open(tmp_path / "s").validate() == []


def test_repr_names_the_set_and_its_case_count(tmp_path, dicoms):
    ts = TeachingSet.new(tmp_path / "s", "MILD 2027")
    assert repr(ts) == f"TeachingSet(name='MILD 2027', cases=0, root='{tmp_path / 's'}')"
    ts.add_dicom([dicoms[0]])
    assert "cases=1," in repr(ts)


def test_validate_flags_an_unknown_protocol(tmp_path):
    TeachingSet.new(tmp_path / "s", "T")
    data = json.loads((tmp_path / "s" / SET_FILE).read_text())
    data["protocol"] = "nope"
    (tmp_path / "s" / SET_FILE).write_text(json.dumps(data))
    problems = TeachingSet.open(tmp_path / "s").validate()
    assert [p.path for p in problems if "unknown protocol" in p.message] == ["$.protocol"]
    assert main(["validate", str(tmp_path / "s")]) == 1
