"""COCO export: pycocotools reads it, geometry is in x/y order, redactions are blanked."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pycocotools.coco as pycoco
import pytest
from PIL import Image

from flannot.export import export_set
from flannot.io import read_dicom
from tests.export.export_helpers import case_json, small_set


@pytest.fixture(scope="module")
def coco_dir(exports) -> Path:
    return exports("coco")


@pytest.fixture(scope="module")
def doc(coco_dir: Path) -> dict:
    return json.loads((coco_dir / "annotations.json").read_text("utf-8"))


def test_pycocotools_loads_and_areas_match(coco_dir: Path) -> None:
    coco = pycoco.COCO(str(coco_dir / "annotations.json"))
    regions = [a for a in coco.dataset["annotations"] if a["segmentation"]]
    assert len(regions) >= 20
    for ann in regions:
        img = coco.imgs[ann["image_id"]]
        mask = coco.annToMask(ann)
        assert mask.shape == (img["height"], img["width"])
        # two independent rasterisers (pycocotools vs pixel-centre rule) agree closely
        assert abs(int(mask.sum()) - ann["area"]) <= max(0.03 * ann["area"], 4), ann["flannot_id"]
        # bbox [x, y, w, h] encloses the decoded mask
        ys, xs = np.nonzero(mask)
        x, y, w, h = ann["bbox"]
        assert x - 1 <= xs.min() and xs.max() <= x + w + 1
        assert y - 1 <= ys.min() and ys.max() <= y + h + 1


def test_images_are_8bit_pngs_with_spacing_and_calibration(
    coco_dir: Path, doc: dict, sample_set: Path
) -> None:
    cases = {
        c["case_id"]: c for c in json.loads((sample_set / "flannot-set.json").read_text())["cases"]
    }
    # every annotated frame of every case is an image: the cine contributes its 24 frames
    assert sum(1 for im in doc["images"] if im["case_id"] == "cine") == 24
    assert {im["case_id"] for im in doc["images"]} == set(cases)
    for im in doc["images"]:
        with Image.open(coco_dir / im["file_name"]) as png:
            assert png.mode == "L"
            assert png.size == (im["width"], im["height"])
        assert im["view"] == cases[im["case_id"]]["view"]
        assert {"spacing_mm", "calibration", "frame"} <= set(im)
    ap = next(im for im in doc["images"] if im["case_id"] == "ap")
    record = case_json(sample_set, "ap")["image"]
    assert ap["spacing_mm"] == record["spacing_mm"]
    assert ap["calibration"] == record["calibration"]
    # the lateral case has a calibration line: its spacing is the user's, labelled so
    lat = next(im for im in doc["images"] if im["case_id"] == "lateral")
    assert lat["calibration"] == "user"


def test_polygons_are_x_y_and_keypoints_follow_geometry(doc: dict, sample_set: Path) -> None:
    raw = {a["id"]: a for a in case_json(sample_set, "clo-left")["annotations"]}
    images = {im["id"]: im for im in doc["images"]}
    cats = {c["id"]: c for c in doc["categories"]}
    lf = [
        a
        for a in doc["annotations"]
        if images[a["image_id"]]["case_id"] == "clo-left" and a["type"] == "ligamentum_flavum"
    ]
    assert lf
    for a in lf:
        pts = raw[a["flannot_id"]]["geometry"]["points"]
        seg = a["segmentation"][0]
        assert len(seg) == 2 * len(pts)
        for (r, c), x, y in zip(pts, seg[0::2], seg[1::2], strict=True):
            assert x == pytest.approx(c + 0.5, abs=1e-3) and y == pytest.approx(r + 0.5, abs=1e-3)
        assert (
            cats[a["category_id"]]["name"] == f"ligamentum_flavum/{raw[a['flannot_id']]['level']}"
        )
    # cannula: entry then tip, as keypoints
    cine = {a["id"]: a for a in case_json(sample_set, "cine")["annotations"]}
    can = [a for a in doc["annotations"] if a["type"] == "cannula" and a["flannot_id"] in cine]
    assert len(can) == 24
    for a in can:
        (r0, c0), (r1, c1) = cine[a["flannot_id"]]["geometry"]["points"]
        assert a["keypoints"] == pytest.approx(
            [c0 + 0.5, r0 + 0.5, 2, c1 + 0.5, r1 + 0.5, 2], abs=1e-3
        )
        assert images[a["image_id"]]["frame"] == cine[a["flannot_id"]]["frame"]
        cat = cats[a["category_id"]]
        assert cat["keypoints"] == ["entry", "tip"] and cat["skeleton"] == [[1, 2]]
    # vertebra corners: four labelled keypoints with a closed skeleton
    lat = {a["id"]: a for a in case_json(sample_set, "lateral")["annotations"]}
    v = next(a for a in doc["annotations"] if a["flannot_id"] == "v-L4" and a["num_keypoints"] == 4)
    corners = lat["v-L4"]["geometry"]["points"]
    assert v["keypoints"][:12:3] == pytest.approx([c + 0.5 for _, c in corners], abs=1e-3)
    assert cats[v["category_id"]]["skeleton"] == [[1, 2], [2, 3], [3, 4], [4, 1]]


def test_categories_per_type_and_level(doc: dict) -> None:
    names = [c["name"] for c in doc["categories"]]
    assert "ligamentum_flavum/L4-L5" in names and "vertebra/L4" in names
    assert len(names) == len(set(names))
    assert not any(n.startswith(("redaction", "calibration")) for n in names)
    assert [c["id"] for c in doc["categories"]] == list(range(1, len(names) + 1))
    assert len({a["id"] for a in doc["annotations"]}) == len(doc["annotations"])


def test_window_applied_and_redaction_blanked(coco_dir: Path, doc: dict, sample_set: Path) -> None:
    raw = case_json(sample_set, "ap")
    red = next(a for a in raw["annotations"] if a["type"] == "redaction")
    rows = [p[0] for p in red["geometry"]["points"]]
    cols = [p[1] for p in red["geometry"]["points"]]
    r0, r1 = math.floor(min(rows)), math.ceil(max(rows)) + 1
    c0, c1 = math.floor(min(cols)), math.ceil(max(cols)) + 1
    source = np.asarray(read_dicom(sample_set / "cases" / "ap" / "image.dcm").frames[0])
    assert source[r0:r1, c0:c1].std() > 0  # burned-in text is there in the DICOM
    im = next(i for i in doc["images"] if i["case_id"] == "ap")
    png = np.asarray(Image.open(coco_dir / im["file_name"]))
    assert (png[r0:r1, c0:c1] == 0).all()
    # outside the box: a monotone 8-bit mapping of the presentation values
    keep = np.ones(png.shape, bool)
    keep[r0:r1, c0:c1] = False
    order = np.argsort(source[keep], kind="stable")
    assert (np.diff(png[keep][order].astype(int)) >= 0).all()
    assert len(np.unique(png)) > 50


def test_mask_geometry_exported_as_rle(sample_set: Path, tmp_path: Path) -> None:
    src = small_set(sample_set, tmp_path / "set", ["clo-left"])
    case_file = src / "cases" / "clo-left" / "annotations.json"
    data = json.loads(case_file.read_text())
    from flannot.model.annotation import Geometry

    mask = np.zeros((512, 512), bool)
    mask[100:120, 200:230] = True  # 600 pixels, bbox x=200 y=100 w=30 h=20
    lf = next(a for a in data["annotations"] if a["type"] == "ligamentum_flavum")
    lf["geometry"] = Geometry.from_mask(mask).to_dict()
    case_file.write_text(json.dumps(data))
    export_set(src, "coco", tmp_path / "out")
    coco = pycoco.COCO(str(tmp_path / "out" / "annotations.json"))
    ann = next(a for a in coco.dataset["annotations"] if a["flannot_id"] == lf["id"])
    assert isinstance(ann["segmentation"], dict)
    assert ann["area"] == 600 and ann["bbox"] == [200, 100, 30, 20]
    assert (coco.annToMask(ann).astype(bool) == mask).all()
