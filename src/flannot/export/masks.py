"""Label-image export: one uint8 PNG per annotated frame + ``legend.json`` (SPEC §9).

Label values are set-wide and semantic: one value per (type, level, side) found in the
set, in the protocol's paint order (its declaration order of region types) and then
cranio-caudal, so ``3`` means the same structure in every image. Where regions
overlap, the later one in that order wins (LF is drawn over the canal it narrows). The
legend lists, per image, which annotation ids each value holds and how many pixels
it kept, with the image's spacing and calibration.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.errors import FlannotError
from flannot.export import regions
from flannot.export.render import png_bytes

LEGEND_FILE = "legend.json"
MAX_LABELS = 255

LabelKey = tuple[str, str | None, str | None]  # type, level, side


def mask_file(case_id: str, frame: int) -> str:
    """Relative path of a frame's label image."""
    return f"masks/{case_id}/frame-{frame:04d}.png"


def label_key(ann: Any) -> LabelKey:
    return (str(ann.type), ann.level or None, ann.side or None)


def region_annotations(case: Any) -> list[Any]:
    """Annotations that are drawn into label images (regions with an area)."""
    types = regions.region_types(regions.protocol_for(case))
    return [
        a
        for a in case.annotations
        if a.type in types and a.geometry.kind in ("polygon", "rectangle", "mask")
    ]


def label_table(
    keys: set[LabelKey], source: Any = None, protocol: Any = None
) -> dict[LabelKey, int]:
    """Label value of each (type, level, side), 1…255 in paint order.

    Raises
    ------
    FlannotError
        More distinct structures than an 8-bit label image holds.
    """
    if protocol is None:
        from flannot.protocols import get_protocol

        protocol = get_protocol()
    order = {t: i for i, t in enumerate(regions.region_types(protocol))}

    def sort_key(key: LabelKey) -> tuple[Any, ...]:
        t, level, side = key
        return (order.get(t, len(order)), t, regions.level_order(level), side or "")

    ordered = sorted(keys, key=sort_key)
    if len(ordered) > MAX_LABELS:
        raise FlannotError(
            f"{len(ordered)} distinct region labels; an 8-bit label image holds {MAX_LABELS}",
            source,
        )
    return {k: i for i, k in enumerate(ordered, start=1)}


def case_part(
    case: Any, shape: tuple[int, int], labels: dict[LabelKey, int], info: dict[str, Any]
) -> dict[str, Any]:
    """Label images of one case.

    Returns
    -------
    dict
        ``images`` (legend entries) and ``files`` (relative path -> PNG bytes).
    """
    anns = region_annotations(case)
    images, files = [], {}
    for f in sorted({int(a.frame) for a in anns}):
        here = sorted((a for a in anns if int(a.frame) == f), key=lambda a: labels[label_key(a)])
        out = np.zeros(shape, dtype=np.uint8)
        members: dict[int, list[str]] = {}
        for ann in here:
            mask = regions.region_mask(ann, shape, info.get("source"))
            if mask is None:
                continue
            value = labels[label_key(ann)]
            out[mask] = value  # later labels paint over earlier ones
            members.setdefault(value, []).append(ann.id)
        name = mask_file(info["case_id"], f)
        files[name] = png_bytes(out)
        counts = np.bincount(out.ravel(), minlength=MAX_LABELS + 1)
        images.append(
            {
                "file": name,
                "case_id": info["case_id"],
                "frame": f,
                "rows": shape[0],
                "columns": shape[1],
                "view": info["view"],
                "spacing_mm": info["spacing_mm"],
                "calibration": info["calibration"],
                "labels": {
                    str(v): {"annotation_ids": ids, "pixels": int(counts[v])}
                    for v, ids in sorted(members.items())
                },
            }
        )
    return {"images": images, "files": files}


def assemble(parts: list[dict[str, Any]], labels: dict[LabelKey, int]) -> dict[str, Any]:
    """The legend document from the per-case parts (in case order)."""
    return {
        "format": "flannot label images",
        "version": 1,
        "background": 0,
        "overlap": "where regions overlap, the higher label value (later in paint order) wins",
        "labels": {
            str(v): {"type": t, "level": level, "side": side}
            for (t, level, side), v in sorted(labels.items(), key=lambda kv: kv[1])
        },
        "images": [img for p in parts for img in p["images"]],
    }
