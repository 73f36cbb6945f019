"""The sample teaching set: reproducible bytes, valid DICOM, every view and variant."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEGLSLossless, RLELossless

from flannot.phantom import CASES, generate_case, sample_set_path
from flannot.phantom.dicom_writer import dataset_bytes
from flannot.protocols.mild import MILD
from flannot.sim.sample_ct import CT_CASES

SET_FILE = "flannot-set.json"
CT_FILES = ("image.dcm", "annotations.json", "truth.json")

REPO_SET = Path(__file__).resolve().parents[2] / "sample_dicoms"


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_default_seed_reproduces_repo_sample_dicoms_byte_for_byte(sample_dir: Path) -> None:
    # the phantom cases; the CT-derived ones (make sample: --with-ct) are the only extra
    # files, and tests/sim/test_sample_ct.py regenerates the whole folder with them
    generated, shipped = _files(sample_dir), _files(REPO_SET)
    extra = {n for n in shipped if n not in generated}
    assert extra == {"ATTRIBUTION.md"} | {
        f"cases/{c.case_id}/{f}" for c in CT_CASES for f in CT_FILES
    }
    assert all(n in shipped for n in generated)
    differing = [n for n in generated if n != SET_FILE and generated[n] != shipped[n]]
    assert differing == [], "regenerate with `make sample`"
    made, repo = (json.loads(d[SET_FILE]) for d in (generated, shipped))
    ct_ids = [c.case_id for c in CT_CASES]
    assert [e["case_id"] for e in repo["cases"]] == [e["case_id"] for e in made["cases"]] + ct_ids


def test_sample_set_path_finds_the_repository_set() -> None:
    assert sample_set_path() == REPO_SET


def test_same_seed_same_bytes_other_seed_other_pixels_same_truth() -> None:
    a, b, c = generate_case("ap", 0), generate_case("ap", 0), generate_case("ap", 7)
    assert dataset_bytes(a.dataset) == dataset_bytes(b.dataset)
    assert a.annotations == b.annotations
    assert not np.array_equal(a.stored, c.stored)
    assert a.dataset.SOPInstanceUID != c.dataset.SOPInstanceUID
    # the seed varies noise, gas and texture only: the answer key is the same anatomy
    assert a.truth["measurements"] == c.truth["measurements"]


def test_every_dicom_passes_dciodvfy_without_errors(sample_dir: Path) -> None:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (Debian dicom3tools) is required: run `make system-deps`"
    files = [sample_dir / "cases" / c.case_id / "image.dcm" for c in CASES]  # v1; v2: test_course
    for f in files:
        res = subprocess.run([tool, str(f)], capture_output=True, text=True, check=False)
        report = res.stdout + res.stderr
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert errors == [], f"{f.parent.name}: {errors}"
        # the one accepted warning: Patient ID is empty (Type 2, emptied as by PS3.15
        # de-identification, so `flannot validate` has no pseudonym to question); dciodvfy
        # notes that a DICOMDIR could not index it
        warnings = [
            line
            for line in report.splitlines()
            if line.startswith("Warning")
            and not line.endswith("needed to build DICOMDIR - Patient ID")
        ]
        assert warnings == [], f"{f.parent.name}: {report}"


def _header(sample_dir: Path, case_id: str) -> pydicom.Dataset:
    return pydicom.dcmread(sample_dir / "cases" / case_id / "image.dcm")


def test_views_calibrations_photometric_and_transfer_syntax_variants(sample_dir: Path) -> None:
    ap = _header(sample_dir, "ap")
    assert ap.Modality == "XA" and float(ap.PositionerPrimaryAngle) == 0
    assert [float(v) for v in ap.ImagerPixelSpacing] == [0.6, 0.6]
    for absent in (
        "EstimatedRadiographicMagnificationFactor",
        "DistanceSourceToPatient",
        "PixelSpacing",
    ):
        assert absent not in ap  # IPS only: detector_plane

    lat = _header(sample_dir, "lateral")
    assert abs(float(lat.PositionerPrimaryAngle)) == 90
    ermf = float(lat.EstimatedRadiographicMagnificationFactor)
    assert ermf == pytest.approx(
        float(lat.DistanceSourceToDetector) / float(lat.DistanceSourceToPatient)
    )
    assert float(lat.ImagerPixelSpacing[0]) / ermf == pytest.approx(0.48)

    clo = _header(sample_dir, "clo-left")
    assert abs(float(clo.PositionerPrimaryAngle)) == 45
    assert "EstimatedRadiographicMagnificationFactor" not in clo
    assert float(clo.DistanceSourceToPatient) == 800 and float(clo.DistanceSourceToDetector) == 1000

    right = _header(sample_dir, "clo-right-hypertrophic")
    assert right.file_meta.TransferSyntaxUID == RLELossless
    assert (
        "DistanceSourceToPatient" not in right
        and "EstimatedRadiographicMagnificationFactor" in right
    )

    sten = _header(sample_dir, "lateral-stenotic")
    assert sten.PhotometricInterpretation == "MONOCHROME1"
    assert sten.PresentationLUTShape == "INVERSE"
    assert sten.file_meta.TransferSyntaxUID == RLELossless

    cine = _header(sample_dir, "cine")
    assert cine.file_meta.TransferSyntaxUID == JPEGLSLossless
    assert int(cine.NumberOfFrames) >= 20 and cine.pixel_array.shape[0] == int(cine.NumberOfFrames)
    assert float(cine.FrameTime) > 0
    assert ap.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian

    views = {c.view for c in CASES}
    assert views == {"ap", "lateral", "oblique"}


def test_monochrome1_is_stored_inverted(sample_dir: Path) -> None:
    """Bone is bright after one inversion: vertebral bodies vs. the soft tissue in front."""
    import json

    folder = sample_dir / "cases" / "lateral-stenotic"
    ds = pydicom.dcmread(folder / "image.dcm")
    shown = (2**ds.BitsStored - 1) - ds.pixel_array.astype(float)  # invert once
    ann = json.loads((folder / "annotations.json").read_text())
    l3 = next(a for a in ann["annotations"] if a["id"] == "v-L3")
    pts = np.array(l3["geometry"]["points"])
    r, c = pts.mean(axis=0).round().astype(int)
    body = shown[r - 5 : r + 5, c - 5 : c + 5].mean()
    front = shown[r - 5 : r + 5, c - 90 : c - 80].mean()  # abdomen anterior to the body
    assert body > front + 0.05 * (2**ds.BitsStored)


def test_annotation_types_levels_and_sides_cover_mild(cases: dict[str, dict]) -> None:
    anns = [a for c in cases.values() for a in c["annotations"]["annotations"]]
    # the v1 phantom draws no laminae, spinous or articular processes or VILL yet
    v1_missing = {
        "lamina",
        "spinous_process",
        "articular_process",
        "ventral_interlaminar_line",
        "pedicle",
    }
    assert {a["type"] for a in anns} == set(MILD.type_names) - v1_missing
    lateral = cases["lateral"]["annotations"]["annotations"]
    levels = [a["level"] for a in lateral if a["type"] == "vertebra"]
    assert levels == ["L1", "L2", "L3", "L4", "L5", "S1"]
    assert all(len(a["geometry"]["points"]) == 4 for a in lateral if a["type"] == "vertebra")
    assert {a["side"] for a in anns if a["type"] == "ligamentum_flavum"} == {"left", "right"}
    cine = cases["cine"]["annotations"]
    portal_frames = sorted(a["frame"] for a in cine["annotations"] if a["type"] == "cannula")
    assert portal_frames == list(range(cine["image"]["frames"]))
    cal = [a for a in anns if a["type"] == "calibration"]
    assert cal and all(a["length_mm"] == 25.0 for a in cal)
    for c in cases.values():
        ids = [a["id"] for a in c["annotations"]["annotations"]]
        assert len(ids) == len(set(ids))
        assert c["annotations"]["notes"].strip()


def test_case_files_round_trip_through_the_model(cases: dict[str, dict]) -> None:
    from flannot.model.case import Case

    for c in cases.values():
        case = Case.load(c["dir"] / "annotations.json")
        assert case.case_id == c["annotations"]["case_id"]
        assert len(case.annotations) == len(c["annotations"]["annotations"])
        again = case.to_dict()
        assert again["image"]["calibration"] == c["annotations"]["image"]["calibration"]
        assert [a["geometry"] for a in again["annotations"]] == [
            a["geometry"] for a in c["annotations"]["annotations"]
        ]


def test_case_files_and_the_set_validate_without_any_problem(
    cases: dict[str, dict], sample_dir: Path
) -> None:
    """Zero errors and zero warnings: the shipped set is the example users copy."""
    from flannot.model.validate import validate_case_file
    from flannot.teach.teaching_set import TeachingSet

    for c in cases.values():
        problems = validate_case_file(c["dir"] / "annotations.json")
        assert problems == [], c["dir"].name
    problems = TeachingSet.open(sample_dir).validate()
    assert problems == [], [f"{p.path}: {p.message}" for p in problems]
