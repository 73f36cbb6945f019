"""The TotalSegmentator example CT (T12–S1 labelled, 3 mm voxels) through the C-arm.

Fetched once into a cache (``tests/sim/reference_ct.py``); these tests fail, never
skip, when it cannot be fetched. Rendered at 256² to keep the suite fast.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from skimage.measure import points_in_poly

from flannot.cli import main
from flannot.sim.case import SimRequest, simulate, write_case
from flannot.sim.render import prepare
from flannot.sim.volume import label_convention, load_ct, load_labels
from tests.sim.reference_ct import fetch

LEVELS = ["T12", "L1", "L2", "L3", "L4", "L5", "S1"]


@pytest.fixture(scope="module")
def real_cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    ct_path, seg_path = fetch()  # raises (the test fails) when it cannot be fetched
    ct = load_ct(ct_path)
    labels = load_labels(seg_path, ct)
    prep = prepare(ct, 80.0)
    out = tmp_path_factory.mktemp("real")
    made = {}
    for view in ("ap", "lateral", "oblique-right:45"):
        req = SimRequest(
            str(ct_path), str(seg_path), view=view, target="L3", detector=256, pixel=1.2, seed=7
        )
        case = simulate(req, prepared=(ct, labels, prep))
        made[view] = write_case(case.files, out / view.replace(":", ""))
    return made


def _load(folder: Path) -> tuple[dict, dict, np.ndarray]:
    import pydicom

    case = json.loads((folder / "annotations.json").read_text())
    truth = json.loads((folder / "truth.json").read_text())
    return case, truth, pydicom.dcmread(folder / "image.dcm").pixel_array.astype(float)


def test_levels_t12_to_s1_in_cranio_caudal_order(real_cases: dict[str, Path]) -> None:
    for folder in real_cases.values():
        case, _, _ = _load(folder)
        verts = [a for a in case["annotations"] if a["type"] == "vertebra"]
        assert [a["level"] for a in verts] == LEVELS
        rows = [a["geometry"]["points"][0][0] for a in verts]
        assert rows == sorted(rows)


def test_l3_centroid_inside_its_outline(real_cases: dict[str, Path]) -> None:
    for folder in real_cases.values():
        case, _, _ = _load(folder)
        l3 = next(a for a in case["annotations"] if a.get("level") == "L3")
        assert len(l3["x_outline"]) >= 6
        assert points_in_poly([l3["geometry"]["points"][0]], np.asarray(l3["x_outline"]))[0]


def test_bone_brighter_than_paraspinal_soft_tissue(real_cases: dict[str, Path]) -> None:
    for name, folder in real_cases.items():
        case, truth, img = _load(folder)
        proj = np.asarray(case["image"]["projection"])
        g = truth["geometry"]
        u = np.array(g["column_direction"])
        # beside the vertebra in the image: 60 mm along the image's anterior-most direction
        ant = np.array([0.0, -1.0, 0.0])
        side = ant - (ant @ np.array(g["towards_detector"])) * np.array(g["towards_detector"])
        side = side / np.linalg.norm(side) if np.linalg.norm(side) > 0.5 else u
        offsets = [60.0 * side] if side is not u else [55.0 * u, -55.0 * u]
        checked = 0
        for row in truth["vertebrae"]:
            r, c = np.rint(row["centroid_rc"]).astype(int)
            # T12 is cut by the top of the scan (its centroid sits at the image's edge);
            # S1 has no paraspinal soft tissue beside it in projection: the ilia flank it
            if row["level"] not in LEVELS[:-1] or min(r, c, 255 - r, 255 - c) < 16:
                continue
            checked += 1
            c3 = np.asarray(row["centroid_lps"])
            bone = img[r - 4 : r + 5, c - 4 : c + 5].mean()
            soft = []
            for off in offsets:
                h = proj @ np.append(c3 + off, 1.0)
                br, bc = np.rint(h[:2] / h[2]).astype(int)
                soft.append(img[br - 4 : br + 5, bc - 4 : bc + 5].mean())
            assert bone > max(soft), (name, row["level"], bone, soft)
        assert checked >= 5, name  # L1-L5 at least


def test_centroid_distance_is_projected_distance_times_magnification(
    real_cases: dict[str, Path],
) -> None:
    for folder in real_cases.values():
        case, truth, _ = _load(folder)
        g = truth["geometry"]
        u, v = np.array(g["column_direction"]), np.array(g["row_direction"])
        mag = g["sid_mm"] / g["sod_mm"]
        by = {row["level"]: row for row in truth["vertebrae"]}
        pts = {
            a["level"]: a["geometry"]["points"][0]
            for a in case["annotations"]
            if a["type"] == "vertebra"
        }
        for a, b in (("L2", "L3"), ("L3", "L4")):
            d3 = np.subtract(by[a]["centroid_lps"], by[b]["centroid_lps"])
            expect = np.hypot(d3 @ u, d3 @ v) * mag
            got = np.linalg.norm(np.subtract(pts[a], pts[b])) * g["pixel_mm"]
            assert got == pytest.approx(expect, abs=1.0)


def test_real_cases_are_valid_dicom_and_case_files(
    real_cases: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (dicom3tools) must be installed"
    for folder in real_cases.values():
        run = subprocess.run(
            [tool, str(folder / "image.dcm")], capture_output=True, text=True, check=False
        )
        assert [ln for ln in (run.stdout + run.stderr).splitlines() if ln.startswith("Error")] == []
        assert main(["validate", str(folder)]) == 0
        assert main(["measure", str(folder)]) == 0
    capsys.readouterr()


def test_totalsegmentator_convention_names_the_labels() -> None:
    conv = label_convention("totalsegmentator")
    assert (conv[26], conv[27], conv[29], conv[32], conv[50]) == ("S1", "L5", "L3", "T12", "C1")
    verse = label_convention("verse")
    assert (verse[20], verse[24], verse[25], verse[28], verse[19]) == (
        "L1",
        "L5",
        "L6",
        "T13",
        "T12",
    )
