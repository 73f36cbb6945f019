"""nnU-Net v2 raw-dataset export for flannot (``flannot export SET --format nnunet``).

Writes the layout nnU-Net v2 trains on (Isensee et al., Nat Methods 2021;18:203-211;
``documentation/dataset_format.md`` of the nnU-Net repository)::

    Dataset<ID>_<Name>/
      dataset.json            channel_names, labels (name -> value), numTraining, file_ending
      imagesTr/<case>_0000.png   one 8-bit grey image per annotated frame (channel 0)
      labelsTr/<case>.png        its label image: 0 background, 1..n the protocol's regions

2D images use the ``.png`` file ending (nnU-Net's NaturalImage2DIO reader). Labels are
*semantic*, one value per region type the case's protocol exports (levels and sides
merged: nnU-Net needs consecutive integer labels), in the protocol's paint order, a later
region drawn over an earlier one. A cine contributes one training image per annotated
frame (``<case>-f0003``). Images have the case's redactions blanked, as every export.

Only flannot's public API is used: :class:`flannot.export.Exporter` and
:class:`~flannot.export.CaseInput`, :func:`flannot.export.region_types`,
:func:`~flannot.export.region_mask`, :func:`~flannot.export.render_case_frame`,
:func:`~flannot.export.png_bytes`, and :func:`flannot.protocols.get_protocol`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from flannot.export import (
    CaseInput,
    Exporter,
    png_bytes,
    region_mask,
    region_types,
    render_case_frame,
)
from flannot.protocols import get_protocol

__all__ = ["NNUNET", "NnUNetExporter", "__version__", "dataset_name"]

__version__ = "0.1.0"

#: nnU-Net reserves 0 for background; the dataset id is ours to choose (500+ is free
#: of the Medical Segmentation Decathlon's)
DATASET_ID = 501


def dataset_name(set_name: str, dataset_id: int = DATASET_ID) -> str:
    """``Dataset501_<Name>``: nnU-Net's folder name (letters, digits, ``_`` only)."""
    clean = re.sub(r"[^A-Za-z0-9]+", "", str(set_name).title()) or "Flannot"
    return f"Dataset{dataset_id:03d}_{clean}"


def _case_name(case_id: str, frame: int, frames: int) -> str:
    return case_id if frames <= 1 else f"{case_id}-f{frame:04d}"


class NnUNetExporter(Exporter):
    """Export a teaching set as an nnU-Net v2 raw dataset."""

    name = "nnunet"
    title = "an nnU-Net v2 raw dataset (imagesTr, labelsTr, dataset.json)"

    def prepare(self, ts: Any, case_ids: list[str]) -> dict[str, Any]:
        protocol = get_protocol(ts.protocol or "mild")
        names = list(region_types(protocol))
        return {
            "folder": dataset_name(ts.name),
            "labels": {name: i for i, name in enumerate(names, start=1)},
        }

    def case_part(self, case: CaseInput, options: dict[str, Any]) -> dict[str, Any]:
        labels: dict[str, int] = options["labels"]
        folder = options["folder"]
        regions = [a for a in case.case.annotations if a.type in labels]
        frames = sorted({int(a.frame) for a in regions})
        n_frames = int(case.case.image.frames or 1)
        shape = case.shape()
        files: dict[str, bytes] = {}
        names = []
        for f in frames:
            label = np.zeros(shape, np.uint8)
            for type_name, value in labels.items():  # paint order: later over earlier
                for a in regions:
                    if a.type != type_name or int(a.frame) != f:
                        continue
                    mask = region_mask(a, shape, case.case.path)
                    if mask is not None:
                        label[mask] = value
            name = _case_name(case.case_id, f, n_frames)
            files[f"{folder}/imagesTr/{name}_0000.png"] = png_bytes(render_case_frame(case, f))
            files[f"{folder}/labelsTr/{name}.png"] = png_bytes(label)
            names.append(name)
        return {"training": names, "files": files}

    def assemble(self, ts: Any, parts: list[dict[str, Any]], options: dict[str, Any]):
        labels = {"background": 0, **options["labels"]}
        doc = {
            "name": str(ts.name),
            "description": str(ts.description or "")
            + " Exported by flannot (one 2D image per annotated frame).",
            "channel_names": {"0": "fluoroscopy"},
            "labels": labels,
            "numTraining": sum(len(p["training"]) for p in parts),
            "file_ending": ".png",
            "licence": "see the teaching set",
        }
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        return {f"{options['folder']}/dataset.json": text.encode("utf-8")}


NNUNET = NnUNetExporter()
