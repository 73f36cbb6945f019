"""DICOM export: SEG + SR per case pass dciodvfy, read back with highdicom and hold
the same regions and measurements as the annotations and ``flannot.measure``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from skimage.draw import polygon2mask

from flannot.protocols.mild import MILD
from flannot.sim.sample_ct import CT_CASES
from tests.export.export_helpers import case_json, small_set

SEG_TYPES = {"ligamentum_flavum", "spinal_canal", "interlaminar_space"}
SINGLE_FRAME = ["ap", "lateral", "clo-left", "clo-right-hypertrophic", "lateral-stenotic"]
UCUM = {"mm": "mm", "mm2": "mm2", "deg": "deg", "%": "%"}


@pytest.fixture(scope="module")
def out(exports) -> Path:
    return exports("dicom")


def _legend(out: Path) -> dict:
    return json.loads((out / "dicom.json").read_text("utf-8"))


def test_seg_and_sr_per_single_frame_case_and_only_sr_for_the_cine(out: Path) -> None:
    cases = {c["case_id"]: c for c in _legend(out)["cases"]}
    for cid in SINGLE_FRAME:
        assert (out / "dicom" / cid / "seg.dcm").is_file(), cid
        assert (out / "dicom" / cid / "sr.dcm").is_file(), cid
        assert cases[cid]["seg"] == f"dicom/{cid}/seg.dcm" and cases[cid]["notes"] == []
    assert not (out / "dicom" / "cine" / "seg.dcm").exists()
    assert (out / "dicom" / "cine" / "sr.dcm").is_file()
    assert cases["cine"]["seg"] is None and cases["cine"]["frames"] == 24
    assert any("Frame of Reference" in n for n in cases["cine"]["notes"])


def test_every_file_passes_dciodvfy_without_errors(out: Path) -> None:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (dicom3tools) must be installed: tools/system-deps.sh"
    files = sorted(out.rglob("*.dcm"))
    # v1: 5 SEG + 6 SR; v2 course: 6 SEG (not the cine) + 7 SR; CT cases: points only, none
    assert len(files) == 11 + 13
    for f in files:
        run = subprocess.run([tool, str(f)], capture_output=True, text=True, check=False)
        report = run.stdout + run.stderr
        errors = [ln for ln in report.splitlines() if ln.startswith("Error")]
        assert errors == [], (f, errors)
        iod = "Segmentation" if f.name == "seg.dcm" else "Comprehensive3DSR"
        assert iod in report.splitlines(), (f, report[:200])  # it recognised the IOD


def _expected_masks(raw: dict, shape: tuple[int, int]) -> dict[tuple, np.ndarray]:
    """Union of each (type, level, side) polygon, rasterised here from the raw case file."""
    out: dict[tuple, np.ndarray] = {}
    for a in raw["annotations"]:
        if a["type"] not in SEG_TYPES or a.get("frame", 0) != 0:
            continue
        assert a["geometry"]["kind"] in ("polygon", "rectangle")
        mask = polygon2mask(shape, np.asarray(a["geometry"]["points"], dtype=float))
        key = (a["type"], a.get("level"), a.get("side"))
        out[key] = out.get(key, np.zeros(shape, bool)) | mask
    return out


@pytest.mark.parametrize("case_id", SINGLE_FRAME)
def test_seg_reads_back_with_the_rasterised_regions(
    out: Path, sample_set: Path, case_id: str
) -> None:
    seg = hd.seg.segread(out / "dicom" / case_id / "seg.dcm")
    src = pydicom.dcmread(sample_set / "cases" / case_id / "image.dcm", stop_before_pixels=True)
    assert seg.SegmentationType == "BINARY"
    assert seg.PatientOrientation == src.PatientOrientation
    assert seg.StudyInstanceUID == src.StudyInstanceUID
    (ref,) = seg.get_source_image_uids()
    assert ref[2] == src.SOPInstanceUID
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[src.SOPInstanceUID], combine_segments=False
    )[0]
    raw = case_json(sample_set, case_id)
    expected = _expected_masks(raw, (int(src.Rows), int(src.Columns)))
    assert len(seg.segment_numbers) == len(expected) > 0
    for i, number in enumerate(seg.segment_numbers):
        desc = seg.get_segment_description(number)
        words = desc.segment_label.split(" ")
        key = (words[0], words[1] if len(words) > 1 else None, words[2] if len(words) > 2 else None)
        # the protocol's code: SNOMED CT where one exists, else the documented private one
        code = MILD.type(key[0]).code
        assert desc.segmented_property_type.value == code.value
        assert desc.segmented_property_type.scheme_designator == code.scheme
        if key[0] == "spinal_canal":
            assert (code.value, code.scheme) == ("61853006", "SCT")  # Vertebral canal
        got = pixels[..., i].astype(bool)
        assert np.array_equal(got, expected[key]), (case_id, key)


def _groups(path: Path) -> dict[str, object]:
    sr = hd.sr.srread(path)
    return {str(g.tracking_identifier): g for g in sr.content.get_planar_roi_measurement_groups()}


def _name_value(name: str, renamed: bool) -> str:
    """The SR concept value of a measurement name: a standard code where one exists."""
    from pydicom.sr.codedict import codes

    from flannot.export.dicom_sr import STANDARD_NAMES

    std = STANDARD_NAMES.get(name)
    if std is None or renamed:
        return name
    return getattr(getattr(codes, std[0]), std[1]).value


def test_sr_uses_standard_codes_where_they_exist(out: Path) -> None:
    sr = hd.sr.srread(out / "dicom" / "lateral" / "sr.dcm")
    groups = sr.content.get_planar_roi_measurement_groups()
    findings = {(g.finding_type.value, g.finding_type.scheme_designator) for g in groups}
    assert ("61853006", "SCT") in findings  # Vertebral canal
    assert ("51282000", "SCT") in findings  # Vertebra
    names = {(m.name.value, m.name.scheme_designator) for g in groups for m in g.get_measurements()}
    assert ("42798000", "SCT") in names  # Area
    assert not any(code == "99FLANNOT" and value == "area" for value, code in names)
    proc = sr.ContentSequence
    assert any(
        getattr(item, "ConceptCodeSequence", [None])[0] is not None
        and item.ConceptCodeSequence[0].CodeValue == "44491008"  # Fluoroscopy
        for item in proc
    )


@pytest.mark.parametrize("case_id", [*SINGLE_FRAME, "cine"])
def test_sr_measurements_are_flannot_measure_values(
    out: Path, sample_set: Path, case_id: str
) -> None:
    from flannot.measure import measure

    df = measure(sample_set / "cases" / case_id)
    raw = {a["id"]: a for a in case_json(sample_set, case_id)["annotations"]}
    groups = _groups(out / "dicom" / case_id / "sr.dcm")
    assert set(groups) == set(df["annotation_id"])
    checked = 0
    for row in df.itertuples(index=False):
        g = groups[row.annotation_id]
        if isinstance(row.value, (bool, np.bool_, str)):
            evals = {q.name.value: q.value for q in g.get_qualitative_evaluations()}
            value = evals[row.name]
            if isinstance(row.value, str):
                assert value.value == row.value
            else:
                assert value.meaning == ("Yes" if row.value else "No")
            continue
        want = _name_value(row.name, row.level != raw[row.annotation_id].get("level"))
        (m,) = [m for m in g.get_measurements() if m.name.value == want]
        if row.level and row.level != raw[row.annotation_id].get("level"):
            assert m.name.meaning.endswith(row.level)  # a disc height names its disc
        assert m.value == pytest.approx(float(row.value), rel=1e-12, abs=1e-12)
        assert m.unit.value == UCUM[row.unit] and m.unit.scheme_designator == "UCUM"
        cal = {q.name.value: q.value.value for q in g.get_qualitative_evaluations()}
        assert cal["calibration"] == row.calibration
        checked += 1
    assert checked > 0


def test_sr_geometry_references_the_image_and_the_cine_frames(out: Path, sample_set: Path) -> None:
    for case_id in ["lateral", "cine"]:
        raw = {a["id"]: a for a in case_json(sample_set, case_id)["annotations"]}
        src_uid = case_json(sample_set, case_id)["image"]["sop_instance_uid"]
        groups = _groups(out / "dicom" / case_id / "sr.dcm")
        for aid, g in groups.items():
            a = raw[aid]
            roi = g.roi
            pts = np.asarray(a["geometry"]["points"], dtype=float)[:, ::-1] + 0.5
            data = np.asarray(roi.value)
            if a["geometry"]["kind"] == "polygon":
                assert np.allclose(data[:-1], pts, atol=1e-4) and np.allclose(data[-1], data[0])
            else:
                assert np.allclose(data, pts, atol=1e-4)
            ref = roi.ContentSequence[0].ReferencedSOPSequence[0]
            assert ref.ReferencedSOPInstanceUID == src_uid
            if case_id == "cine":
                assert int(ref.ReferencedFrameNumber) == a.get("frame", 0) + 1
            else:
                assert "ReferencedFrameNumber" not in ref
    cine_frames = {a.get("frame", 0) for a in case_json(sample_set, "cine")["annotations"]}
    assert len(cine_frames) == 24


def test_calibration_and_spacing_in_the_sr_description(out: Path) -> None:
    entries = _legend(out)["cases"]
    # the CT-derived cases' answer key is points only: nothing to measure, no region
    without = [e for e in entries if e["sr"] is None]
    assert [e["case_id"] for e in without] == [c.case_id for c in CT_CASES]
    assert all("no SR: nothing measured" in e["notes"] and e["seg"] is None for e in without)
    for entry in entries:
        if entry["sr"] is None:
            continue
        sr = pydicom.dcmread(out / entry["sr"])
        assert entry["calibration"] in sr.SeriesDescription
        assert f"{entry['spacing_mm'][0]:.4g}" in sr.SeriesDescription


def test_one_and_two_workers_write_the_same_bytes(sample_set: Path, tmp_path: Path) -> None:
    from flannot.export import export_set

    src = small_set(sample_set, tmp_path / "set", ["clo-left", "cine"])
    one, two = tmp_path / "one", tmp_path / "two"
    export_set(src, "dicom", one)
    export_set(src, "dicom", two, workers=2)
    files = sorted(str(p.relative_to(one)) for p in one.rglob("*") if p.is_file())
    assert sorted(files) == [
        "dicom.json",
        "dicom/cine/sr.dcm",
        "dicom/clo-left/seg.dcm",
        "dicom/clo-left/sr.dcm",
    ]
    for f in files:
        assert (one / f).read_bytes() == (two / f).read_bytes(), f


def test_uncalibrated_case_reports_pixels_never_mm(sample_set: Path, tmp_path: Path) -> None:
    from flannot.export import export_set

    src = small_set(sample_set, tmp_path / "set", ["ap"])
    case_file = src / "cases" / "ap" / "annotations.json"
    data = json.loads(case_file.read_text("utf-8"))
    data["image"]["spacing_mm"] = None
    data["image"]["calibration"] = "uncalibrated"
    case_file.write_text(json.dumps(data), "utf-8")
    export_set(src, "dicom", tmp_path / "o")
    units = {
        m.unit.value
        for g in _groups(tmp_path / "o" / "dicom" / "ap" / "sr.dcm").values()
        for m in g.get_measurements()
    }
    assert units == {"{pixels}", "{pixels2}"}
    sr = pydicom.dcmread(tmp_path / "o" / "dicom" / "ap" / "sr.dcm")
    assert "uncalibrated" in sr.SeriesDescription and "mm" not in sr.SeriesDescription


def test_a_series_folder_case_gets_an_sr_referencing_each_frames_instance(
    sample_set: Path, tmp_path: Path
) -> None:
    # a cine stored as single-frame instances (what a PACS pull gives): the export used
    # to stop with "Is a directory"
    from flannot.export import export_set

    root = small_set(sample_set, tmp_path / "set", ["ap"])
    case_dir = root / "cases" / "ap"
    series = case_dir / "image"
    series.mkdir()
    uids = []
    for i in range(3):
        ds = pydicom.dcmread(case_dir / "image.dcm")
        new = pydicom.uid.generate_uid(entropy_srcs=[str(ds.SOPInstanceUID), str(i)])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = new
        ds.InstanceNumber = 3 - i  # written in reverse: the order comes from Instance Number
        ds.save_as(series / f"{i}.dcm")
        uids.insert(0, ds.SOPInstanceUID)
    (case_dir / "image.dcm").unlink()
    data = case_json(root, "ap")
    measured = [a for a in data["annotations"] if a["type"] == "interlaminar_space"][:3]
    data["annotations"] = [{**a, "frame": f} for f, a in enumerate(measured)]
    data["image"].update(path="image", frames=3)
    data["image"].pop("sop_instance_uid", None)
    (case_dir / "annotations.json").write_text(json.dumps(data), "utf-8")

    result = export_set(root, "dicom", tmp_path / "out")
    legend = json.loads((tmp_path / "out" / "dicom.json").read_text("utf-8"))
    (entry,) = legend["cases"]
    assert entry["seg"] is None and entry["frames"] == 3
    assert any("series of single-frame instances" in n for n in entry["notes"])
    sr_path = tmp_path / "out" / "dicom" / "ap" / "sr.dcm"
    assert "dicom/ap/sr.dcm" in result["files"]
    sr = hd.sr.srread(sr_path)
    groups = {str(g.tracking_identifier): g for g in sr.content.get_planar_roi_measurement_groups()}
    for f, a in enumerate(measured):
        region = groups[a["id"]].roi
        (item,) = region.ContentSequence  # SELECTED FROM: the source image
        assert item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == uids[f]
    tool = shutil.which("dciodvfy")
    run = subprocess.run([tool, str(sr_path)], capture_output=True, text=True, check=False)
    assert [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith("Error")] == []


# -- hostile but valid case files: every value written is legal DICOM ------------------
def _dciodvfy_errors(path: Path) -> list[str]:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (dicom3tools) must be installed: tools/system-deps.sh"
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False)
    return [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith("Error")]


def _mutated_export(sample_set: Path, tmp_path: Path, mutate) -> tuple[Path, dict]:
    from flannot.export import export_set

    root = small_set(sample_set, tmp_path / "set", ["clo-left"])
    case_file = root / "cases" / "clo-left" / "annotations.json"
    data = json.loads(case_file.read_text("utf-8"))
    mutate(data)
    case_file.write_text(json.dumps(data), "utf-8")
    export_set(root, "dicom", tmp_path / "out")
    return tmp_path / "out" / "dicom" / "clo-left", data


@pytest.mark.parametrize(
    "level",
    [
        "L4-L5 " + "é" * 58,  # 64 characters (the case-file limit), non-ASCII
        "L4\\L5\\" + "\\" * 40,  # backslashes: the DICOM value delimiter
        "L4\x1b[31m\tL5\r\n",  # control characters (an escape sequence, a tab, a newline)
    ],
    ids=["64-characters", "backslashes", "control-characters"],
)
def test_levels_any_case_file_allows_give_legal_seg_and_sr(
    sample_set: Path, tmp_path: Path, level: str
) -> None:
    def mutate(data: dict) -> None:
        for a in data["annotations"]:
            if a.get("side"):
                a["level"] = level
                a["side"] = "left\\" + "s" * 59  # 64 characters with a backslash
                a["part"] = "p" * 64

    out, _ = _mutated_export(sample_set, tmp_path, mutate)
    for name in ("seg.dcm", "sr.dcm"):
        assert _dciodvfy_errors(out / name) == [], name
    seg = pydicom.dcmread(out / "seg.dcm")
    labels = [str(s.SegmentLabel) for s in seg.SegmentSequence]
    assert labels and all(
        len(lab) <= 64 and "\\" not in lab and lab.isprintable() for lab in labels
    )
    assert all(lab.endswith("...") for lab in labels)  # cut where a reader sees it
    assert seg.SegmentSequence[0].SegmentLabel.startswith("ligamentum_flavum L4")


def test_a_full_mask_exports_to_seg_and_sr(sample_set: Path, tmp_path: Path) -> None:
    # a mask annotation covering the whole image (an RLE of one run): the SR used to
    # stop with highdicom's "referenced_region or referenced_segment" error
    def mutate(data: dict) -> None:
        rows, cols = data["image"]["rows"], data["image"]["columns"]
        lf = next(a for a in data["annotations"] if a["type"] == "ligamentum_flavum")
        lf["geometry"] = {
            "kind": "mask",
            "mask": {"size": [rows, cols], "counts": [0, rows * cols]},
        }
        lf["level"], lf["side"] = "L2-L3", "right"  # its own segment

    out, data = _mutated_export(sample_set, tmp_path, mutate)
    for name in ("seg.dcm", "sr.dcm"):
        assert _dciodvfy_errors(out / name) == [], name
    seg = hd.seg.segread(out / "seg.dcm")
    numbers = {seg.get_segment_description(n).segment_label: n for n in seg.segment_numbers}
    full = numbers["ligamentum_flavum L2-L3 right"]
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[seg.get_source_image_uids()[0][2]],
        segment_numbers=[full],
        combine_segments=False,
    )[0]
    assert pixels.shape[:2] == (data["image"]["rows"], data["image"]["columns"])
    assert pixels.all()  # every pixel
    sr = hd.sr.srread(out / "sr.dcm")
    lf_id = next(a["id"] for a in data["annotations"] if a.get("level") == "L2-L3")
    (group,) = [
        g for g in sr.content.get_image_measurement_groups() if g.tracking_identifier == lf_id
    ]
    area = [m for m in group.get_measurements() if m.name.value == "42798000"]  # SCT Area
    spacing = data["image"]["spacing_mm"]
    rows, cols = data["image"]["rows"], data["image"]["columns"]
    assert area and area[0].value == pytest.approx(rows * cols * spacing[0] * spacing[1], rel=1e-3)
    (source,) = group.source_images
    assert source.referenced_sop_instance_uid == seg.get_source_image_uids()[0][2]


def test_sr_code_meanings_past_64_characters_are_cut_legally() -> None:
    from flannot.export.dicom_seg import lo_text
    from flannot.export.dicom_sr import _code

    long = "disc_height " + "L4-" + "é" * 80
    concept = _code("disc_height", long)  # highdicom refuses a meaning over 64 characters
    assert len(concept.meaning) == 64 and concept.meaning.endswith("...")
    assert _code("a\\b").value == "a/b"
    assert lo_text("x" * 16, 16) == "x" * 16 and lo_text("x" * 17, 16) == "x" * 13 + "..."
    assert lo_text("a\tb\x00c\x9b") == "a b c"


def test_many_annotations_all_in_the_sr_with_the_image_as_evidence(
    sample_set: Path, tmp_path: Path
) -> None:
    """The SR is built around one group and gets the full content tree afterwards
    (highdicom deep-copied 4,500 groups): every group is there and the evidence too."""
    from flannot.export import export_set

    src = small_set(sample_set, tmp_path / "set", ["clo-left"])
    case_file = src / "cases" / "clo-left" / "annotations.json"
    data = json.loads(case_file.read_text("utf-8"))
    anns = data["annotations"]
    data["annotations"] = [dict(anns[i % len(anns)], id=f"r{i}") for i in range(300)]
    case_file.write_text(json.dumps(data), "utf-8")
    export_set(src, "dicom", tmp_path / "o")
    sr_file = tmp_path / "o" / "dicom" / "clo-left" / "sr.dcm"
    from flannot.measure import measure_rows
    from flannot.model import Case

    measured = {str(r.annotation_id) for r in measure_rows(Case.load(case_file))}
    assert len(measured) >= 100
    assert set(_groups(sr_file)) == measured
    sr = pydicom.dcmread(sr_file)
    refs = [
        s.ReferencedSOPInstanceUID
        for study in sr.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for s in series.ReferencedSOPSequence
    ]
    seg = pydicom.dcmread(tmp_path / "o" / "dicom" / "clo-left" / "seg.dcm")
    image = seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert refs == [image.ReferencedSOPInstanceUID]
