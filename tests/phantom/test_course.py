"""Phantom v2 cases: the portal docks on the lamina, views agree, planning-only flags,
decisions, seeds that change the anatomy (SPEC §10, §15)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pydicom
import pytest

from flannot.measure import measure
from flannot.model.case import Case
from flannot.phantom.course import REASONS, V2_CASES, generate_course_case
from flannot.phantom.scene import answer_key, make_scene, view_carm
from flannot.phantom.volume import draw_patient


def _rows(case_dir, **match):
    df = measure(Case.load(case_dir))
    for k, v in match.items():
        df = df[df[k] == v]
    return dict(zip(df.name, df.value, strict=True))


def test_every_v2_case_is_in_the_set_with_a_decision(v2_cases: dict) -> None:
    assert sorted(v2_cases) == sorted(c.case_id for c in V2_CASES)
    for cid, c in v2_cases.items():
        decision = c["truth"]["decision"]
        assert set(decision) == {"proceed", "reason"}
        assert isinstance(decision["proceed"], bool)
        if decision["proceed"]:
            assert decision["reason"] is None, cid
        else:
            assert decision["reason"] in REASONS, cid
    stop = {c["truth"]["decision"]["reason"] for c in v2_cases.values()} - {None}
    assert stop == set(REASONS)


def test_cine_last_frame_is_docked_on_the_lamina(v2_cases: dict) -> None:
    case = v2_cases["p1-cine-docked"]
    frames = case["annotations"]["image"]["frames"]
    last = _rows(case["dir"], frame=frames - 1, type="cannula")
    assert abs(last["tip_to_lamina"]) < 0.75
    assert last["tip_in_lf"] in (False, "false")
    assert last["tip_to_contrast"] > 2.0  # dorsal to the contrast line
    assert last["tip_to_vill"] > 2.0  # and to the VILL
    first = _rows(case["dir"], frame=0, type="cannula")
    assert first["tip_to_lamina"] > 20.0  # it advances toward the lamina
    # the portal really is in the pixels: the tip region is brighter on the last frame
    ds = pydicom.dcmread(case["dir"] / "image.dcm")
    assert int(ds.NumberOfFrames) == frames
    tip = next(
        a
        for a in case["annotations"]["annotations"]
        if a["type"] == "cannula" and a["frame"] == frames - 1
    )["geometry"]["points"]
    entry, end = np.asarray(tip[0]), np.asarray(tip[1])
    r, c = np.rint(end - 8 * (end - entry) / np.linalg.norm(end - entry)).astype(int)
    px = ds.pixel_array.astype(float)
    assert px[-1, r - 1 : r + 2, c - 1 : c + 2].mean() > px[0, r - 1 : r + 2, c - 1 : c + 2].mean()


def test_hypertrophic_only_on_planning_slices(v2_cases: dict) -> None:
    for cid, c in v2_cases.items():
        df = measure(Case.load(c["dir"]))
        flags = df[df.name == "hypertrophic"]
        planning_ids = {
            a["id"] for a in c["annotations"]["annotations"] if a.get("image") == "planning"
        }
        assert set(flags.annotation_id) <= planning_ids, cid
        truth = c["truth"]["planning"]
        if truth is None:
            assert flags.empty
            continue
        for _, row in flags.iterrows():
            side = row["side"]
            expect = truth["lf_axial_thickness_mm"][side]
            assert row_value(df, row["annotation_id"], "max_thickness") == pytest.approx(
                expect, abs=0.15
            )
            assert bool(row["value"]) is (expect >= 2.5)
    p1 = v2_cases["p1-clo-left"]["truth"]["planning"]["hypertrophic"]
    p4 = v2_cases["p4-clo-left-no-shelf"]["truth"]["planning"]["hypertrophic"]
    assert p1["left"] is True and p4["left"] is False


def row_value(df, ann_id: str, name: str) -> float:
    sel = df[(df.annotation_id == ann_id) & (df.name == name)]
    return float(sel.value.iloc[0])


def test_slip_case_measures_grade_ii(v2_cases: dict) -> None:
    rows = _rows(v2_cases["p2-lateral-slip"]["dir"], annotation_id="v-L4")
    assert 25.0 <= rows["slip_percent"] < 50.0
    assert rows["meyerding_grade"] == "ii"


def test_stop_cases_show_what_the_decision_says(v2_cases: dict) -> None:
    shelf = v2_cases["p4-clo-left-no-shelf"]["annotations"]["annotations"]
    assert not [a for a in shelf if a["type"] == "lamina" and a["level"] == "L4"]
    assert [a for a in shelf if a["type"] == "lamina" and a["level"] == "L5"]
    cut = v2_cases["p3-clo-right-interrupted"]["annotations"]["annotations"]
    assert not [a for a in cut if a["type"] == "epidural_contrast"]
    assert [a for a in cut if a["type"] == "ventral_interlaminar_line"]
    ok = v2_cases["p1-clo-left"]["annotations"]["annotations"]
    assert {
        "lamina",
        "articular_process",
        "ligamentum_flavum",
        "epidural_contrast",
        "ventral_interlaminar_line",
        "pedicle",
        "vertebra",
    } <= {a["type"] for a in ok}


def test_v2_dicoms_pass_dciodvfy(v2_cases: dict) -> None:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (Debian dicom3tools) is required: run `make system-deps`"
    files = [f for c in v2_cases.values() for f in sorted(c["dir"].glob("*.dcm"))]
    assert len(files) == len(V2_CASES) + sum(c.planning for c in V2_CASES)
    for f in files:
        res = subprocess.run([tool, str(f)], capture_output=True, text=True, check=False)
        bad = [
            line
            for line in (res.stdout + res.stderr).splitlines()
            if line.startswith(("Error", "Warning"))
            and not line.endswith("needed to build DICOMDIR - Patient ID")
        ]
        assert bad == [], f"{f}: {bad}"


def test_views_of_one_patient_show_the_same_anatomy(v2_cases: dict) -> None:
    """Vertebra centres annotated in the AP and the lateral, triangulated with the two
    stored projection matrices, meet in one 3D point each (the same patient), and the
    pixels show bone there."""
    ap, lat = v2_cases["p1-ap"], v2_cases["p1-lateral"]
    pa = np.asarray(ap["annotations"]["image"]["projection"])
    pl = np.asarray(lat["annotations"]["image"]["projection"])
    centres = {
        a["level"]: np.asarray(a["geometry"]["points"][0])
        for a in ap["annotations"]["annotations"]
        if a["type"] == "vertebra"
    }
    corners = {
        a["level"]: np.asarray(a["geometry"]["points"]).mean(axis=0)
        for a in lat["annotations"]["annotations"]
        if a["type"] == "vertebra"
    }
    common = sorted(set(centres) & set(corners))
    assert len(common) >= 4
    truth = ap["truth"]["landmarks_lps"]
    for lvl in common:
        x = _triangulate([(pa, centres[lvl]), (pl, corners[lvl])])
        assert np.linalg.norm(x - truth[lvl]["centre"]) < 1.5, lvl
    # the lateral image agrees: body centres are brighter than the discs between them
    for case in (lat,):
        img = pydicom.dcmread(case["dir"] / "image.dcm").pixel_array.astype(float)
        proj = np.asarray(case["annotations"]["image"]["projection"])
        for up, lo in (("L3", "L4"), ("L4", "L5")):
            b = _sample(img, proj, truth[up]["centre"])
            d = _sample(img, proj, _disc_centre(truth, up, lo))
            assert b > d, (case["annotations"]["case_id"], up, lo)


def _disc_centre(truth: dict, up: str, lo: str) -> np.ndarray:
    a = np.asarray(truth[up]["corners"])
    b = np.asarray(truth[lo]["corners"])
    # the upper vertebra's inferior corners and the lower's superior corners
    return (a[2] + a[3] + b[0] + b[1]) / 4


def _sample(img: np.ndarray, proj: np.ndarray, lps) -> float:
    h = proj @ np.append(np.asarray(lps, float), 1.0)
    r, c = np.rint(h[:2] / h[2]).astype(int)
    return float(img[r - 2 : r + 3, c - 2 : c + 3].mean())


def _triangulate(views) -> np.ndarray:
    rows = []
    for p, (r, c) in views:
        rows.append(r * p[2] - p[0])
        rows.append(c * p[2] - p[1])
    a = np.asarray(rows)
    _, _, vt = np.linalg.svd(a)
    x = vt[-1]
    return x[:3] / x[3]


def test_two_seeds_differ_in_anatomy_and_truth() -> None:
    keys = []
    for seed in (1, 2):
        scene = make_scene(draw_patient(seed, transitional="none", slip=None))
        carm = view_carm(scene, "ap", size=128)
        anns = answer_key(scene, carm, "ap")
        keys.append({a["id"]: np.asarray(a["geometry"]["points"]) for a in anns})
    a, b = keys
    assert set(a) & set(b)
    moved = [
        float(np.abs(a[k].mean(0) - b[k].mean(0)).max())
        for k in set(a) & set(b)
        if k.startswith("v-")
    ]
    assert max(moved) > 2.0  # pixels on a 128² detector


def test_same_seed_same_bytes() -> None:
    first = generate_course_case("p2-lateral-slip", 0)
    again = generate_course_case("p2-lateral-slip", 0)
    assert first.files == again.files
    other = generate_course_case("p2-lateral-slip", 5)
    assert other.files["image.dcm"] != first.files["image.dcm"]
    assert other.truth["landmarks_lps"] == first.truth["landmarks_lps"]
