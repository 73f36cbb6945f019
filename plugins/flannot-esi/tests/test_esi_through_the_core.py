"""The proof of the protocol design (SPEC §11): the ESI plugin's ventral interlaminar
line is measured, scored and exported by the core, which holds no ESI name."""

from __future__ import annotations

import copy
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pydicom
import pytest

import flannot
from flannot.export import export_set
from flannot.model import Case
from flannot.teach.score import score_case

SAMPLE = Path(__file__).resolve().parents[3] / "sample_dicoms"
SP = 0.48  # the borrowed image's spacing (mm per pixel)
VILL = [[40, 120], [60, 122], [80, 124]]


def _ann(id, type, kind, points, **kw):
    return {"id": id, "type": type, "frame": 0, "geometry": {"kind": kind, "points": points}, **kw}


def esi_case(tip=(100, 100)) -> dict:
    image = json.loads((SAMPLE / "cases" / "clo-left" / "annotations.json").read_text())["image"]
    return {
        "flannot_version": 1,
        "case_id": "esi-1",
        "protocol": "esi",
        "image": image,
        "annotations": [
            _ann("v4", "vertebra", "point", [[30, 80]], level="L4"),
            _ann("v5", "vertebra", "point", [[90, 80]], level="L5"),
            _ann("vill1", "ventral_interlaminar_line", "path", VILL, level="L4-L5", side="left"),
            _ann(
                "n1",
                "cannula",
                "line",
                [[100, 20], list(tip)],
                level="L4-L5",
                side="left",
                instrument="tuohy_20g",
            ),  # fmt: skip
        ],
        "notes": "",
    }


@pytest.fixture()
def esi_set(tmp_path: Path) -> Path:
    root = tmp_path / "esi-set"
    data = json.loads((SAMPLE / "flannot-set.json").read_text("utf-8"))
    data.update(name="ESI set", protocol="esi", cases=[{"case_id": "esi-1", "path": "cases/esi-1"}])
    (root / "cases").mkdir(parents=True)
    shutil.copytree(SAMPLE / "cases" / "clo-left", root / "cases" / "esi-1")
    (root / "cases" / "esi-1" / "truth.json").unlink()
    (root / "cases" / "esi-1" / "annotations.json").write_text(json.dumps(esi_case()))
    (root / "flannot-set.json").write_text(json.dumps(data), "utf-8")
    return root


def _distance_to_vill(tip) -> float:
    """Independent: the distance (mm) from the tip to the nearest vertex/segment of VILL."""
    p = np.asarray(tip, float)
    best = math.inf
    for a, b in zip(VILL[:-1], VILL[1:], strict=True):
        a, b = np.asarray(a, float), np.asarray(b, float)
        t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0, 1)
        best = min(best, float(np.hypot(*(p - (a + t * (b - a))))))
    return best * SP


def test_the_needle_is_measured_against_the_vill() -> None:
    df = flannot.measure(Case.from_dict(esi_case()))
    row = df[(df.annotation_id == "n1") & (df.name == "tip_to_vill")]
    assert row.value.iloc[0] == pytest.approx(_distance_to_vill((100, 100)), rel=1e-9)
    assert row.unit.iloc[0] == "mm" and row.value.iloc[0] > 0  # short of the line
    past = flannot.measure(Case.from_dict(esi_case(tip=(100, 140))))
    assert past[(past.annotation_id == "n1") & (past.name == "tip_to_vill")].value.iloc[0] < 0


def test_a_needle_past_the_vill_is_a_safety_failure_whatever_its_side() -> None:
    reference = Case.from_dict(esi_case())
    attempt = Case.from_dict(esi_case(tip=(100, 140)))
    attempt.annotations[-1].side = "right"  # a label cannot dodge the safety check
    s = score_case(reference, attempt)
    first = s.items[0]
    assert first.metric == "crossed_contrast" and first.value is True and not s.passed
    assert "past the ventral interlaminar line (VILL) (L4-L5 left)" in first.message
    assert "meet, not pass" in first.message  # the ESI protocol's own safety words
    # the VILL is scored as a boundary line
    line = [it for it in s.items if it.type == "ventral_interlaminar_line"]
    assert {it.metric for it in line} == {"msd", "hd95"} and all(it.passed for it in line)


def test_every_export_carries_the_vill(esi_set: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_set(esi_set, "coco", out / "coco")
    doc = json.loads((out / "coco" / "annotations.json").read_text())
    cats = {c["id"]: c["name"] for c in doc["categories"]}
    vill = [a for a in doc["annotations"] if cats[a["category_id"]].startswith("ventral_inter")]
    assert len(vill) == 1 and len(vill[0]["polyline"]) == 6
    needle = next(a for a in doc["annotations"] if a["flannot_id"] == "n1")
    assert needle["num_keypoints"] == 2

    export_set(esi_set, "csv", out / "csv")
    assert ",n1,cannula,L4-L5,left,tip_to_vill," in (out / "csv" / "measurements.csv").read_text()

    export_set(esi_set, "html", out / "html")
    page = next((out / "html").rglob("esi-1*.html")).read_text()
    assert "vill1: ventral_interlaminar_line" in page and "tip_to_vill" in page

    export_set(esi_set, "dicom", out / "dicom")
    import highdicom as hd

    sr = hd.sr.srread(out / "dicom" / "dicom" / "esi-1" / "sr.dcm")
    groups = {str(g.tracking_identifier): g for g in sr.content.get_planar_roi_measurement_groups()}
    names = {m.name.value for m in groups["n1"].get_measurements()}
    assert "tip_to_vill" in names
    assert groups["n1"].finding_type.value == "79068005"  # SCT Needle, declared by ESI
    assert pydicom.dcmread(out / "dicom" / "dicom" / "esi-1" / "sr.dcm").Modality == "SR"


def test_the_core_holds_no_esi_name() -> None:
    src = Path(flannot.__file__).parent
    words = ("ventral_interlaminar_line", "tuohy", '"esi"')
    offenders = [
        str(p.relative_to(src))
        for p in src.rglob("*.py")
        for w in words
        if w in p.read_text("utf-8")
        # protocols declare the names; the phantom draws MILD's own answer key (the VILL
        # is a MILD type too), it is sample data, not a path measure/score/export take
        and not p.is_relative_to(src / "protocols")
        and not p.is_relative_to(src / "phantom")
    ]
    assert offenders == []
    assert copy.deepcopy(esi_case())["protocol"] == "esi"
