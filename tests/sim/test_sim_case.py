"""Simulated cases from the synthetic CT: answer key, DICOM, validation, CLI, batch."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from skimage.measure import points_in_poly

from flannot.cli import main
from flannot.errors import FlannotError
from flannot.sim.case import SimRequest, simulate, write_case
from tests.sim.synthetic_ct import LEVELS, SyntheticCT, write_dicom_series

PIXEL = 0.8
SIZE = 192


def _req(synth: SyntheticCT, **kw) -> SimRequest:
    base = dict(
        ct=str(synth.ct_path),
        labels=str(synth.labels_path),
        target="L3",
        detector=SIZE,
        pixel=PIXEL,
        seed=5,
    )
    base.update(kw)
    return SimRequest(**base)


@pytest.fixture(scope="module")
def cases(synth: SyntheticCT, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("sim-cases")
    made = {}
    for view in ("ap", "lateral", "clo-left"):
        case = simulate(_req(synth, view=view))
        made[view] = write_case(case.files, out / view)
    return made


def _case(folder: Path) -> dict:
    return json.loads((folder / "annotations.json").read_text())


def _points(folder: Path) -> dict[str, dict]:
    return {a["level"]: a for a in _case(folder)["annotations"] if a["type"] == "vertebra"}


def test_answer_key_levels_in_cranio_caudal_order(cases: dict[str, Path]) -> None:
    for folder in cases.values():
        pts = _points(folder)
        assert list(pts) == list(LEVELS)
        rows = [pts[lv]["geometry"]["points"][0][0] for lv in LEVELS]
        assert rows == sorted(rows), rows


def test_centroids_are_the_3d_centroids_projected(
    cases: dict[str, Path], synth: SyntheticCT
) -> None:
    for folder in cases.values():
        case = _case(folder)
        proj = np.asarray(case["image"]["projection"])
        assert proj.shape == (3, 4)
        for level, ann in _points(folder).items():
            h = proj @ np.append(synth.centroids[level], 1.0)
            assert np.allclose(ann["geometry"]["points"][0], h[:2] / h[2], atol=0.01)
            outline = np.asarray(ann["x_outline"])
            assert points_in_poly([ann["geometry"]["points"][0]], outline)[0]


def test_image_plane_distance_is_the_3d_distance_times_magnification(
    cases: dict[str, Path], synth: SyntheticCT
) -> None:
    """Independent of the projection matrix: SID/SOD and the detector plane from the angles."""
    for folder in cases.values():
        truth = json.loads((folder / "truth.json").read_text())
        g = truth["geometry"]
        u, v = np.array(g["column_direction"]), np.array(g["row_direction"])
        mag = g["sid_mm"] / g["sod_mm"]
        pts = _points(folder)
        for a, b in (("L2", "L4"), ("L1", "L5")):
            d3 = synth.centroids[a] - synth.centroids[b]
            in_plane = np.hypot(d3 @ u, d3 @ v) * mag
            d2 = np.subtract(pts[a]["geometry"]["points"][0], pts[b]["geometry"]["points"][0])
            assert np.linalg.norm(d2) * g["pixel_mm"] == pytest.approx(in_plane, abs=1.0)


def test_posterior_landmarks_land_on_the_right_side(cases: dict[str, Path]) -> None:
    ap = _points(cases["ap"])["L3"]
    lc, rc = ap["x_pedicles"]["left"][1], ap["x_pedicles"]["right"][1]
    assert lc < ap["geometry"]["points"][0][1] < rc  # prone AP: the patient's left on the left
    tip_c = ap["x_spinous_tip"][1]
    assert lc < tip_c < rc
    lat = _points(cases["lateral"])["L3"]
    # lateral (detector at the left): columns run posterior; the spinous tip is behind
    assert lat["x_spinous_tip"][1] > lat["geometry"]["points"][0][1] + 20


def test_spinous_processes_and_pedicles_are_annotations_of_their_own(
    cases: dict[str, Path],
) -> None:
    anns = json.loads((cases["ap"] / "annotations.json").read_text())["annotations"]
    by_id = {a["id"]: a for a in anns}
    l3 = by_id["v-L3"]
    assert by_id["sp-L3"]["type"] == "spinous_process"
    assert by_id["sp-L3"]["geometry"]["points"] == [l3["x_spinous_tip"]]
    for side in ("left", "right"):
        ped = by_id[f"ped-L3-{side}"]
        assert (ped["type"], ped["side"], ped["level"]) == ("pedicle", side, "L3")
        assert ped["geometry"]["points"] == [l3["x_pedicles"][side]]


def test_the_bead_left_of_the_spine_is_on_the_image_side_dicom_says(
    cases: dict[str, Path], synth: SyntheticCT
) -> None:
    """End to end, in the stored pixels: prone AP (primary 180) shows the patient's left on
    the image's left, and Patient Orientation says the columns run to the patient's right."""
    import pydicom

    ds = pydicom.dcmread(cases["ap"] / "image.dcm")
    assert float(ds.PositionerPrimaryAngle) == 180.0 and list(ds.PatientOrientation) == ["R", "F"]
    img = ds.pixel_array.astype(float)
    proj = np.asarray(_case(cases["ap"])["image"]["projection"])

    def px(p: np.ndarray) -> tuple[int, int]:
        h = proj @ np.append(p, 1.0)
        return tuple(np.rint(h[:2] / h[2]).astype(int))

    bead, mirror = px(synth.marker), px(synth.marker * [-1, 1, 1])
    spine_col = px(synth.centroids["L3"])[1]
    assert bead[1] < spine_col < mirror[1]

    def patch(rc):
        return img[rc[0] - 1 : rc[0] + 2, rc[1] - 1 : rc[1] + 2].mean()

    assert patch(bead) > patch(mirror) + 300


def test_bone_brighter_than_paraspinal_soft_tissue(cases: dict[str, Path]) -> None:
    import pydicom

    ds = pydicom.dcmread(cases["ap"] / "image.dcm")
    img = ds.pixel_array.astype(float)
    case = _case(cases["ap"])
    proj = np.asarray(case["image"]["projection"])
    truth = json.loads((cases["ap"] / "truth.json").read_text())
    for row in truth["vertebrae"]:
        c3 = np.asarray(row["centroid_lps"])
        beside = proj @ np.append(c3 + [-32.0, 0.0, 0.0], 1.0)
        r, c = np.rint(row["centroid_rc"]).astype(int)
        br, bc = np.rint(beside[:2] / beside[2]).astype(int)
        assert (
            img[r - 2 : r + 3, c - 2 : c + 3].mean() > img[br - 2 : br + 3, bc - 2 : bc + 3].mean()
        )


def test_dicom_header_and_calibration(cases: dict[str, Path]) -> None:
    import pydicom

    import flannot

    ds = pydicom.dcmread(cases["clo-left"] / "image.dcm")
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.12.1"  # XA
    assert ds.PhotometricInterpretation == "MONOCHROME2"
    assert float(ds.PositionerPrimaryAngle) == -135.0
    assert float(ds.DistanceSourceToDetector) / float(ds.DistanceSourceToPatient) == pytest.approx(
        float(ds.EstimatedRadiographicMagnificationFactor)
    )
    assert [float(x) for x in ds.ImagerPixelSpacing] == [PIXEL, PIXEL]
    assert float(ds.KVP) == 80.0 and ds.FrameOfReferenceUID and ds.PatientPosition == "HFP"
    img = flannot.read_dicom(cases["clo-left"] / "image.dcm")
    assert img.calibration == "magnification_corrected"
    assert img.spacing_mm[0] == pytest.approx(PIXEL * 700 / 1000)
    assert _case(cases["clo-left"])["image"]["spacing_mm"][0] == pytest.approx(img.spacing_mm[0])


def test_dciodvfy_reports_no_errors(cases: dict[str, Path]) -> None:
    tool = shutil.which("dciodvfy")
    assert tool, "dciodvfy (dicom3tools) must be installed: tools/system-deps.sh"
    for folder in cases.values():
        run = subprocess.run(
            [tool, str(folder / "image.dcm")], capture_output=True, text=True, check=False
        )
        report = run.stdout + run.stderr
        assert [ln for ln in report.splitlines() if ln.startswith("Error")] == []
        assert "XAImage" in report.splitlines()  # it recognised the IOD


def test_validate_and_measure_accept_the_cases(
    cases: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    for folder in cases.values():
        assert main(["validate", str(folder)]) == 0
        assert main(["measure", str(folder), "--json"]) == 0
    capsys.readouterr()


def test_same_seed_same_bytes(synth: SyntheticCT) -> None:
    a = simulate(_req(synth, view="ap", detector=64, pixel=2.0)).files
    b = simulate(_req(synth, view="ap", detector=64, pixel=2.0)).files
    c = simulate(_req(synth, view="ap", detector=64, pixel=2.0, seed=6)).files
    assert a == b
    assert a["image.dcm"] != c["image.dcm"]


def test_dicom_series_input_matches_nifti(synth: SyntheticCT, tmp_path: Path) -> None:
    folder = write_dicom_series(synth, tmp_path / "series")
    # the series carries no labels: iso at the volume centre, the same as for the NIfTI
    a = simulate(SimRequest(str(folder), angles=(-135.0, 5.0), detector=48, pixel=2.0, seed=1))
    b = simulate(
        SimRequest(str(synth.ct_path), angles=(-135.0, 5.0), detector=48, pixel=2.0, seed=1)
    )
    assert np.array_equal(
        a.annotations["image"]["projection"], b.annotations["image"]["projection"]
    )
    assert np.abs(a.pixels.astype(int) - b.pixels.astype(int)).max() <= 1


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    err = capsys.readouterr().err
    return code, err


def test_cli_writes_a_case_and_refuses_bad_input(
    synth: SyntheticCT, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ct, seg = str(synth.ct_path), str(synth.labels_path)
    out = tmp_path / "case"
    code, err = _run(
        [
            "sim",
            ct,
            "--labels",
            seg,
            "--view",
            "clo-right:30",
            "--target",
            "L4",
            "--detector",
            "64",
            "--pixel",
            "2",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["annotations.json", "image.dcm", "truth.json"]
    assert _case(out)["x_sim"]["primary_deg"] == 150.0

    import nibabel as nib

    other = tmp_path / "other.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8, 8), np.uint8), np.eye(4)), str(other))
    flat = tmp_path / "flat.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((8, 8), np.int16), np.eye(4)), str(flat))
    tilted = write_dicom_series(synth, tmp_path / "tilted", tilt_mm=0.5)
    bad = [
        (["sim", ct, "--labels", str(other), "--view", "ap"], "another grid"),
        (["sim", str(flat), "--view", "ap"], "3D"),
        (["sim", ct, "--labels", seg, "--view", "ap", "--target", "L9"], "L9"),
        (["sim", ct, "--view", "sideways"], "unknown view"),
        (["sim", ct, "--view", "ap", "--angles", "0,0"], "either"),
        (["sim", ct, "--angles", "0,120"], "secondary"),
        (["sim", ct, "--view", "ap", "--detector", "100000"], "--detector"),
        (["sim", str(tilted), "--view", "ap"], "gantry tilt"),
        (["sim", ct, "--labels", seg, "--label-map", "nope", "--view", "ap"], "convention"),
    ]
    for args, words in bad:
        code, err = _run([*args, "--out", str(tmp_path / "x")], capsys)
        assert code == 2, (args, err)
        assert err.startswith("flannot: error: ") and err.count("\n") == 1, err
        assert words in err, (words, err)


def test_manifest_batch_same_bytes_serial_and_parallel(
    synth: SyntheticCT, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "course.csv"
    manifest.write_text(
        "ct,labels,views,target,seed\n"
        f"{synth.ct_path},{synth.labels_path},ap;clo-left,L3,1\n"
        f"{synth.ct_path},{synth.labels_path},lateral,L2,2\n"
    )
    outs = []
    for extra in ([], ["--workers", "2"]):
        out = tmp_path / f"out{len(extra)}"
        code, err = _run(
            [
                "sim",
                "--manifest",
                str(manifest),
                "--detector",
                "48",
                "--pixel",
                "2.5",
                "--out",
                str(out),
                *extra,
            ],
            capsys,
        )
        assert code == 0, err
        outs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert len(outs[0]) == 9 and outs[0] == outs[1]
    assert {p.parts[0] for p in outs[0]} == {
        "row001-ct-ap",
        "row001-ct-clo-left",
        "row002-ct-lateral",
    }


def test_json_label_map_names_only_its_labels(synth: SyntheticCT, tmp_path: Path) -> None:
    mapping = tmp_path / "levels.json"
    mapping.write_text('{"29": "L3", "28": "l4"}')
    case = simulate(_req(synth, view="lateral", label_map=str(mapping), detector=96, pixel=1.6))
    anns = case.annotations["annotations"]
    assert [a["level"] for a in anns if a["type"] == "vertebra"] == ["L3", "L4"]
    assert {a["level"] for a in anns} == {"L3", "L4"}
    bad = tmp_path / "bad.json"
    for text, words in (
        ('{"29": "L33"}', "not a vertebra level"),
        ("[1]", "JSON object"),
        ('{"1000000000": "L3"}', "outside"),
    ):
        bad.write_text(text)
        with pytest.raises(FlannotError, match=words):
            simulate(_req(synth, view="ap", label_map=str(bad)))


def test_json_manifest_and_its_errors(synth: SyntheticCT, tmp_path: Path) -> None:
    from flannot.sim.batch import read_manifest, run_manifest

    (tmp_path / "data").mkdir()
    for p in (synth.ct_path, synth.labels_path):
        shutil.copy(p, tmp_path / "data" / p.name)
    manifest = tmp_path / "m.json"
    manifest.write_text(
        json.dumps(
            [
                {
                    "ct": "data/ct.nii.gz",
                    "labels": "data/seg.nii.gz",
                    "views": ["oblique-left:30"],
                    "target": "L2",
                    "case_id": "demo",
                }
            ]
        )
    )
    rows = read_manifest(manifest)
    assert rows[0]["ct"] == str((tmp_path / "data" / "ct.nii.gz").resolve())
    out = run_manifest(manifest, tmp_path / "out", settings={"detector": 48, "pixel": 2.5})
    assert [p.name for p in out] == ["demo-oblique-left30"]
    case = _case(out[0])
    assert case["x_sim"]["primary_deg"] == 150.0 and case["x_sim"]["target"] == "L2"
    for text, words in (
        ('[{"ct": "a.nii"}]', "no views"),
        ('[{"views": "ap"}]', "no ct"),
        ('{"ct": "a"}', "list of objects"),
        ('[{"ct": "a", "views": "ap", "colour": 1}]', "unknown column"),
        ("[]", "no rows"),
    ):
        manifest.write_text(text)
        with pytest.raises(FlannotError, match=words):
            read_manifest(manifest)


def test_manifest_on_a_dask_cluster_with_threaded_workers(
    synth: SyntheticCT, tmp_path: Path
) -> None:
    """Two tasks at once in one worker's threads: the same bytes as serially."""
    import distributed

    from flannot.sim.batch import run_manifest

    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "ct,labels,views,seed\n"
        f"{synth.ct_path},{synth.labels_path},ap,1\n"
        f"{synth.ct_path},{synth.labels_path},clo-right,2\n"
    )
    settings = {"detector": 40, "pixel": 3.0}
    serial = run_manifest(manifest, tmp_path / "serial", settings=settings)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        on_cluster = run_manifest(
            manifest, tmp_path / "cluster", settings=settings, scheduler=cluster.scheduler_address
        )
    assert [p.name for p in serial] == [p.name for p in on_cluster]
    for a, b in zip(serial, on_cluster, strict=True):
        for name in ("image.dcm", "annotations.json", "truth.json"):
            assert (a / name).read_bytes() == (b / name).read_bytes()


def test_ideal_view_from_the_truth_file(cases: dict[str, Path]) -> None:
    from flannot.sim import angle_error, ideal_for_level, resolve_view

    truth = json.loads((cases["clo-left"] / "truth.json").read_text())
    case = _case(cases["clo-left"])
    p, s = ideal_for_level(truth["vertebrae"], "L3", "clo-left")
    assert p == case["x_sim"]["primary_deg"]
    assert s == pytest.approx(case["x_sim"]["secondary_deg"], abs=0.02)
    axis = next(v["axis_lps"] for v in truth["vertebrae"] if v["level"] == "L3")
    err = angle_error(resolve_view("clo-left"), p + 7.0, s - 2.0, np.asarray(axis))
    assert err["primary_error"] == pytest.approx(7.0) and err["secondary_error"] == pytest.approx(
        -2.0
    )
    with pytest.raises(FlannotError, match="L9"):
        ideal_for_level(truth["vertebrae"], "L9", "ap")


def test_spinous_process_midway_between_the_pedicles_on_a_true_ap(
    cases: dict[str, Path], synth: SyntheticCT
) -> None:
    from flannot.sim import spinous_offset

    ap = _points(cases["ap"])["L3"]
    assert abs(spinous_offset(ap["x_pedicles"], ap["x_spinous_tip"])) < 0.05
    # turned 20 degrees, the tip (posterior) swings toward one pedicle
    turned = simulate(_req(synth, angles=(160.0, 0.0), detector=SIZE, pixel=PIXEL))
    l3 = next(a for a in turned.annotations["annotations"] if a["level"] == "L3")
    assert abs(spinous_offset(l3["x_pedicles"], l3["x_spinous_tip"])) > 0.15
