"""The nnU-Net exporter plugin: found by entry point, writes a dataset nnU-Net can read."""

from __future__ import annotations

import ast
import io
import json
import shutil
from importlib.metadata import distribution
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from flannot.cli import main
from flannot.export import available_exporters, export_set, region_mask
from flannot.model.case import Case
from flannot.protocols import get_protocol

SAMPLE = Path(__file__).resolve().parents[3] / "sample_dicoms"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nnunet")
    export_set(SAMPLE, "nnunet", out)
    return out


def test_found_through_its_entry_point() -> None:
    eps = distribution("flannot-nnunet").entry_points.select(group="flannot.exporters")
    assert [ep.name for ep in eps] == ["nnunet"]
    assert "nnunet" in available_exporters()
    assert list(available_exporters())[:5] == ["coco", "masks", "csv", "html", "dicom"]


def test_plugin_imports_only_the_public_api() -> None:
    import flannot_nnunet

    tree = ast.parse(Path(flannot_nnunet.__file__).read_text("utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in modules if m and m.startswith("flannot")} == {
        "flannot.export",
        "flannot.protocols",
    }


def test_dataset_json_names_every_label(exported: Path) -> None:
    (folder,) = exported.iterdir()
    assert folder.name == "Dataset501_MildSampleSetSyntheticPhantom"  # nnU-Net's name rule
    doc = json.loads((folder / "dataset.json").read_text())
    regions = [t.name for t in get_protocol("mild").types if t.region_export]
    assert doc["labels"] == {"background": 0, **{n: i for i, n in enumerate(regions, 1)}}
    assert doc["channel_names"] == {"0": "fluoroscopy"} and doc["file_ending"] == ".png"
    images = sorted((folder / "imagesTr").glob("*_0000.png"))
    labels = sorted((folder / "labelsTr").glob("*.png"))
    assert doc["numTraining"] == len(images) == len(labels) > 0
    assert [p.name.removesuffix("_0000.png") for p in images] == [p.stem for p in labels]


def test_labels_load_back_as_the_annotated_regions(exported: Path) -> None:
    (folder,) = exported.iterdir()
    doc = json.loads((folder / "dataset.json").read_text())
    case = Case.load(SAMPLE / "cases" / "lateral")
    label = np.asarray(Image.open(folder / "labelsTr" / "lateral.png"))
    image = np.asarray(Image.open(folder / "imagesTr" / "lateral_0000.png"))
    assert label.shape == image.shape == (case.image.rows, case.image.columns)
    assert label.dtype == np.uint8 and image.dtype == np.uint8
    present = set(np.unique(label)) - {0}
    by_value = {v: k for k, v in doc["labels"].items()}
    assert {by_value[v] for v in present} == {"vertebra", "spinal_canal"}
    # the canal is painted over the vertebrae: every canal pixel carries the canal's value
    canal = next(a for a in case.annotations if a.type == "spinal_canal")
    mask = region_mask(canal, label.shape)
    assert (label[mask] == doc["labels"]["spinal_canal"]).all()


def test_a_cine_gives_one_training_image_per_annotated_frame(exported: Path) -> None:
    (folder,) = exported.iterdir()
    cine = sorted(p.stem for p in (folder / "labelsTr").glob("cine-f*.png"))
    case = Case.load(SAMPLE / "cases" / "cine")
    regions = set(json.loads((folder / "dataset.json").read_text())["labels"])
    frames = sorted({a.frame for a in case.annotations if a.type in regions})
    assert cine == [f"cine-f{f:04d}" for f in frames]


def test_cli_lists_and_runs_the_plugin(tmp_path: Path, capsys) -> None:
    small = tmp_path / "set"
    shutil.copytree(SAMPLE, small)
    assert main(["export", str(small), "--format", "nnunet", "--out", str(tmp_path / "o")]) == 0
    assert "nnunet" in capsys.readouterr().out
    assert main(["export", "--help"]) == 0
    assert "nnunet: an nnU-Net v2 raw dataset" in " ".join(capsys.readouterr().out.split())
    png = next((tmp_path / "o").glob("*/labelsTr/*.png")).read_bytes()
    assert Image.open(io.BytesIO(png)).mode == "L"
