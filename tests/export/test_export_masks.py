"""Label-image export: values match the legend, the annotations and pycocotools' rasters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.export.export_helpers import case_json


@pytest.fixture(scope="module")
def legend(exports) -> tuple[Path, dict]:
    out = exports("masks")
    return out, json.loads((out / "legend.json").read_text("utf-8"))


def test_legend_describes_every_label_image(legend, sample_set: Path) -> None:
    out, doc = legend
    labels = doc["labels"]
    assert doc["background"] == 0
    assert [int(k) for k in labels] == list(range(1, len(labels) + 1))
    keys = {(v["type"], v["level"], v["side"]) for v in labels.values()}
    assert len(keys) == len(labels)  # one value per structure, set-wide
    assert sum(1 for im in doc["images"] if im["case_id"] == "cine") == 24
    for im in doc["images"]:
        with Image.open(out / im["file"]) as png:
            assert png.mode == "L"
            pixels = np.asarray(png)
        assert pixels.shape == (im["rows"], im["columns"])
        present = {int(v) for v in np.unique(pixels)} - {0}
        assert present <= {int(k) for k in im["labels"]}
        raw = {a["id"]: a for a in case_json(sample_set, im["case_id"])["annotations"]}
        for value, entry in im["labels"].items():
            assert entry["pixels"] == int((pixels == int(value)).sum())
            meaning = labels[value]
            for aid in entry["annotation_ids"]:
                a = raw[aid]
                assert a["type"] == meaning["type"]
                assert a.get("level") == meaning["level"] and a.get("side") == meaning["side"]
                assert a.get("frame", 0) == im["frame"]
        record = case_json(sample_set, im["case_id"])["image"]
        assert "calibration" in im and "spacing_mm" in im
        if im["calibration"] == record["calibration"]:
            assert im["spacing_mm"] == record["spacing_mm"]


def test_label_regions_agree_with_coco_polygons(legend, exports) -> None:
    import pycocotools.coco as coco_mod

    out, doc = legend
    coco = coco_mod.COCO(str(exports("coco") / "annotations.json"))
    by_id = {
        (coco.imgs[a["image_id"]]["case_id"], a["flannot_id"]): a
        for a in coco.dataset["annotations"]
    }
    checked = 0
    for im in doc["images"]:
        if im["case_id"] != "ap":
            continue
        pixels = np.asarray(Image.open(out / im["file"]))
        for value, entry in im["labels"].items():
            (aid,) = entry["annotation_ids"]  # AP interlaminar windows do not overlap
            ref = coco.annToMask(by_id[("ap", aid)]).astype(bool)
            mine = pixels == int(value)
            iou = (ref & mine).sum() / (ref | mine).sum()
            assert iou > 0.95, aid
            checked += 1
    assert checked == 5


def test_overlap_paints_ligamentum_over_canal(sample_set: Path, tmp_path: Path) -> None:
    from flannot.export import export_set
    from tests.export.export_helpers import small_set

    src = small_set(sample_set, tmp_path / "set", ["lateral"])
    case_file = src / "cases" / "lateral" / "annotations.json"
    data = json.loads(case_file.read_text())
    canal = next(a for a in data["annotations"] if a["type"] == "spinal_canal")
    pts = np.asarray(canal["geometry"]["points"])
    r0, c0 = pts.min(axis=0) + 2
    lf = {
        "id": "lf-over",
        "type": "ligamentum_flavum",
        "level": canal["level"],
        "side": "left",
        "frame": 0,
        "geometry": {
            "kind": "polygon",
            "points": [[r0, c0], [r0, c0 + 6], [r0 + 6, c0 + 6], [r0 + 6, c0]],
        },
    }
    data["annotations"].append(lf)
    case_file.write_text(json.dumps(data))
    export_set(src, "masks", tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "legend.json").read_text())
    value = {
        (v["type"], v["side"]): int(k)
        for k, v in doc["labels"].items()
        if v["level"] == canal["level"]
    }
    pixels = np.asarray(Image.open(tmp_path / "out" / doc["images"][0]["file"]))
    inside = pixels[int(r0) + 2 : int(r0) + 5, int(c0) + 2 : int(c0) + 5]
    assert (inside == value[("ligamentum_flavum", "left")]).all()
    assert value[("ligamentum_flavum", "left")] > value[("spinal_canal", None)]
