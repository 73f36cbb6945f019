"""find → pull → annotate → export → push against a real Orthanc (SPEC §17)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from identified import SECRET, write
from pacs_studies import NAMES, Study, identified_study
from pacs_support import new_set, run_cli, tree_digest

from flannot.pacs.client import PacsClient
from flannot.pacs.find import find_studies
from flannot.pacs.pull import pull_study
from flannot.teach.teaching_set import SECRET_FILE, TeachingSet


@pytest.fixture
def study(orthanc) -> Study:
    s = identified_study(singles=3, cine_runs=1)
    orthanc.upload(s.datasets)
    return s


def test_find_by_name_id_date_and_modality(orthanc, study: Study, capsys) -> None:
    pacs = PacsClient(orthanc.url)
    for patient in ("doe john", "DOE^JOHN", "MRN99887766"):
        assert study.study_uid in [s.study_uid for s in find_studies(pacs, patient=patient)]
    hit = next(s for s in find_studies(pacs, patient="Doe") if s.study_uid == study.study_uid)
    assert (hit.date, hit.patient_id, hit.modalities) == ("2024-03-17", "MRN99887766", ["XA"])
    assert (hit.series, hit.instances) == (2, 4)
    assert study.study_uid not in [s.study_uid for s in find_studies(pacs, patient="NOBODY")]
    assert study.study_uid not in [s.study_uid for s in find_studies(pacs, modality="CR")]
    assert study.study_uid not in [s.study_uid for s in find_studies(pacs, study_date="20250101-")]
    code, out, _ = run_cli(
        [
            "pacs", "find", orthanc.url, "--patient", "doe",
            "--study-date", "20240301-20240331", "--modality", "xa", "--json",
        ],
        capsys,
    )  # fmt: skip
    assert code == 0
    listed = {s["study_uid"]: s for s in json.loads(out)["studies"]}
    assert listed[study.study_uid]["patient_name"] == "DOE^JOHN^Q"
    code, out, _ = run_cli(["pacs", "find", orthanc.url, "--patient", "MRN99887766"], capsys)
    assert code == 0 and study.study_uid in out and "2 series, 4 instances" in out


@pytest.mark.parametrize("bad", ["2024", "20240101-2024", "yesterday", "-"])
def test_find_bad_date_is_one_line_exit_2(orthanc, bad: str, capsys) -> None:
    code, out, err = run_cli(["pacs", "find", orthanc.url, "--study-date", bad], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "--study-date" in err


def test_pull_deidentifies_exactly_as_set_add(orthanc, study: Study, tmp_path: Path) -> None:
    pulled = new_set(tmp_path / "pulled", SECRET)
    seen: list[tuple[int, int]] = []
    result = pull_study(
        PacsClient(orthanc.url),
        study.study_uid,
        pulled,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[0] == (0, 4) and seen[-1] == (4, 4) and len(seen) == 5
    assert result.instances == 4 and result.skipped == []
    assert [c["case_id"] for c in result.cases] == ["case-001", "case-002"]
    ts = TeachingSet.open(pulled)
    assert ts.case("case-001").image.path == "image"  # the single frames: one cine folder
    assert ts.case("case-002").image.path == "image.dcm"  # the multi-frame run
    assert ts.validate() == []

    # no identifier and no original UID anywhere in the set
    for f in sorted(p for p in pulled.rglob("*") if p.is_file() and p.name != SECRET_FILE):
        raw = f.read_bytes()
        assert [s for s in NAMES + study.uids if s.encode() in raw] == [], f

    # pixels equal, UIDs remapped with the set's secret
    files = sorted((pulled / "cases" / "case-001" / "image").glob("*.dcm")) + [
        pulled / "cases" / "case-002" / "image.dcm"
    ]
    for original, f in zip(study.datasets, files, strict=True):
        ds = pydicom.dcmread(f)
        assert ds.PatientIdentityRemoved == "YES"
        assert ds.SOPInstanceUID == ts.uid_map(str(original.SOPInstanceUID))
        assert ds.StudyInstanceUID == ts.uid_map(study.study_uid)
        assert np.array_equal(ds.pixel_array, original.pixel_array)

    # `flannot set add` of the same files into a set with the same secret: same bytes
    added = new_set(tmp_path / "added", SECRET)
    src = tmp_path / "src"
    for i, ds in enumerate(study.datasets[:3]):
        write(ds, src / "singles" / f"{i}.dcm")
    write(study.datasets[3], src / "run.dcm")
    TeachingSet.open(added).add_dicom([src / "singles", src / "run.dcm"], save=True)
    for f in files:
        twin = added / f.relative_to(pulled)
        assert f.read_bytes() == twin.read_bytes(), f


def test_pull_cli_and_a_second_pull_is_refused_unchanged(
    orthanc, study: Study, tmp_path: Path, capsys
) -> None:
    target = new_set(tmp_path / "set", SECRET)
    code, out, err = run_cli(
        ["pacs", "pull", orthanc.url, "--study", study.study_uid, "--into", str(target)], capsys
    )
    assert (code, err) == (0, "")
    assert "pulled 4 instance(s)" in out and "added case-001" in out and "added case-002" in out
    before = tree_digest(target)
    code, out, err = run_cli(
        ["pacs", "pull", orthanc.url, "--study", study.study_uid, "--into", str(target)], capsys
    )
    assert code == 2 and err.count("\n") == 1 and "already in the set" in err
    assert f"study {study.study_uid}" in err and "flannot-pacs-" not in err
    assert tree_digest(target) == before


def test_pull_one_series(orthanc, study: Study, tmp_path: Path) -> None:
    target = new_set(tmp_path / "set", SECRET)
    result = pull_study(
        PacsClient(orthanc.url), study.study_uid, target, series_uid=study.series_uids[1]
    )
    assert result.instances == 1 and [c["files"] for c in result.cases] == [1]


def _annotate(case_dir: Path) -> None:
    """A reference answer key on a pulled 64x64 image: two regions and a landmark."""
    doc = json.loads((case_dir / "annotations.json").read_text("utf-8"))
    stamp = "2026-12-04T10:00:00Z"

    def ann(aid: str, type_: str, kind: str, points: list, **extra) -> dict:
        return {
            "id": aid, "type": type_, "frame": 0, "geometry": {"kind": kind, "points": points},
            "note": "", "author": "educator", "created": stamp, "modified": stamp, **extra,
        }  # fmt: skip

    doc["annotations"] = [
        ann("lf", "ligamentum_flavum", "polygon", [[20, 20], [20, 40], [30, 40], [30, 20]],
            level="L4-L5", side="left"),
        ann("il", "interlaminar_space", "polygon", [[35, 10], [35, 50], [50, 50], [50, 10]],
            level="L4-L5"),
        ann("v", "vertebra", "point", [[10.0, 32.0]], level="L4"),
    ]  # fmt: skip
    (case_dir / "annotations.json").write_text(json.dumps(doc, indent=1), "utf-8")


def test_find_pull_annotate_push_and_read_back(orthanc, tmp_path: Path, capsys) -> None:
    s = identified_study(singles=1)
    orthanc.upload(s.datasets)
    target = new_set(tmp_path / "set", SECRET)
    code, out, _ = run_cli(["pacs", "find", orthanc.url, "--patient", "doe", "--json"], capsys)
    assert code == 0 and s.study_uid in [x["study_uid"] for x in json.loads(out)["studies"]]
    assert run_cli(["pacs", "pull", orthanc.url, "--study", s.study_uid, "--into", str(target)],
               capsys)[0] == 0  # fmt: skip
    _annotate(target / "cases" / "case-001")
    code, out, err = run_cli(["pacs", "push", str(target), orthanc.url, "--json"], capsys)
    assert (code, err) == (0, ""), err
    report = json.loads(out)
    assert [a["file"] for a in report["accepted"]] == [
        "dicom/case-001/seg.dcm", "dicom/case-001/sr.dcm"
    ]  # fmt: skip
    assert report["rejected"] == []

    # Orthanc holds them now, in the set's de-identified study
    ts = TeachingSet.open(target)
    study_uid = ts.uid_map(s.study_uid)
    stored = {
        pydicom.dcmread(io.BytesIO(b)).Modality: pydicom.dcmread(io.BytesIO(b))
        for b in orthanc.instances_of(study_uid)
    }
    assert set(stored) == {"SEG", "SR"}
    sops = {a["sop_instance_uid"] for a in report["accepted"]}
    assert {str(d.SOPInstanceUID) for d in stored.values()} == sops
    image = pydicom.dcmread(target / "cases" / "case-001" / "image.dcm")
    seg = stored["SEG"]
    assert seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0].ReferencedSOPInstanceUID \
        == image.SOPInstanceUID  # fmt: skip
    assert "DOE" not in str(seg.PatientName) and seg.PatientID != "MRN99887766"
    assert len(seg.SegmentSequence) == 2

    # pushing again: the server already holds the same instances — still accepted, exit 0
    code, out, _ = run_cli(["pacs", "push", str(target), orthanc.url], capsys)
    assert code == 0 and "2 accepted, 0 rejected" in out


def test_push_refuses_a_set_with_nothing_to_send(orthanc, tmp_path: Path, capsys) -> None:
    target = new_set(tmp_path / "set", SECRET)
    code, out, err = run_cli(["pacs", "push", str(target), orthanc.url], capsys)
    assert code == 2 and err.count("\n") == 1 and "nothing to push" in err
    code, out, err = run_cli(["pacs", "push", str(target), orthanc.url, "--format", "coco"], capsys)
    assert code == 2 and "--format dicom" in err
