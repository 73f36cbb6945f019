"""COCO export: ``annotations.json`` + 8-bit PNG renderings of the annotated frames (SPEC §9).

Per case, :func:`case_part` renders the frames and builds image and annotation records
with case-local numbering; :func:`assemble` joins the parts in case order, numbering
images, annotations and categories — so the file is the same whatever ran the parts.

- regions (LF, canal, interlaminar space, vertebra outlines) are ``segmentation``
  polygons in ``[x, y]`` order, or RLE for ``mask`` geometry; ``area`` is the number
  of pixels inside (pixel centre rule), ``bbox`` is ``[x, y, w, h]``;
- vertebra corners (and centre points) and cannula entry/tip are ``keypoints`` with a
  ``skeleton`` in their category;
- epidural contrast lines have an empty segmentation and their points in ``polyline``;
- every image record carries ``case_id``, ``frame``, ``view``, ``spacing_mm`` (``null``
  when uncalibrated) and ``calibration``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flannot.export import regions
from flannot.export.render import png_bytes, render_frame

ANNOTATIONS_FILE = "annotations.json"


def keypoint_names(protocol: Any, type_name: str) -> tuple[str, ...]:
    """The COCO keypoint names a type declares (empty: not exported as keypoints)."""
    t = protocol.find_type(type_name)
    return t.keypoints if t is not None else ()


def skeleton(names: tuple[str, ...]) -> list[list[int]]:
    """Edges between consecutive keypoints (closed for four or more outline points;
    a ``centre`` keypoint is not joined)."""
    n = len([k for k in names if k != "centre"])
    if n < 2:
        return []
    edges = [[i, i + 1] for i in range(1, n)]
    if n >= 4:
        edges.append([n, 1])
    return edges


def image_file(case_id: str, frame: int) -> str:
    """Relative path of a frame's PNG in the export folder."""
    return f"images/{case_id}/frame-{frame:04d}.png"


def _keypoints(ann: Any, names: tuple[str, ...]) -> tuple[list[float], int] | None:
    """COCO ``keypoints`` (x, y, v triples) and the number labelled, for keypoint types.

    A point fills the ``centre`` keypoint (else the first); a line its first and last
    keypoints (entry and tip); an outline with exactly as many points as the
    non-centre keypoints fills them in order (vertebra corners).
    """
    if not names:
        return None
    pts = regions.xy(ann.geometry.points)
    triples: list[list[float]] = [[0.0, 0.0, 0] for _ in names]
    kind = ann.geometry.kind
    outline = [i for i, k in enumerate(names) if k != "centre"]
    if kind == "point" and len(pts) >= 1:
        i = names.index("centre") if "centre" in names else 0
        triples[i] = [float(pts[0, 0]), float(pts[0, 1]), 2]
    elif kind in ("line", "path") and len(pts) >= 2 and len(outline) == 2:
        triples[outline[0]] = [float(pts[0, 0]), float(pts[0, 1]), 2]
        triples[outline[1]] = [float(pts[-1, 0]), float(pts[-1, 1]), 2]
    elif kind in ("polygon", "rectangle") and len(pts) == len(outline):
        for i, p in zip(outline, pts, strict=True):
            triples[i] = [float(p[0]), float(p[1]), 2]
    flat = [round(v, 3) if i % 3 != 2 else int(v) for t in triples for i, v in enumerate(t)]
    return flat, sum(1 for t in triples if t[2])


def _annotation(ann: Any, shape: tuple[int, int], source: Any, protocol: Any) -> dict[str, Any]:
    """One COCO annotation record without ids (``category`` names the category)."""
    rec: dict[str, Any] = {"category": regions.category_name(ann)}
    geom = ann.geometry
    in_region = ann.type in regions.region_types(protocol)
    mask = regions.region_mask(ann, shape, source) if in_region else None
    if mask is not None and geom.kind == "mask":
        rec["segmentation"] = {"size": list(geom.mask["size"]), "counts": geom.mask["counts"]}
        if not isinstance(rec["segmentation"]["counts"], str):
            from flannot.model import rle

            rec["segmentation"] = {"size": list(shape), "counts": rle.encode(mask)["counts"]}
        rec["bbox"] = regions.bbox_of_mask(mask)
    elif mask is not None:
        rec["segmentation"] = [regions.flat_xy(geom.points)]
        rec["bbox"] = regions.bbox_of_points(geom.points)
    else:
        rec["segmentation"] = []
        rec["bbox"] = regions.bbox_of_points(geom.points)
    rec["area"] = int(np.count_nonzero(mask)) if mask is not None else 0
    rec["iscrowd"] = 0
    names = keypoint_names(protocol, ann.type)
    kp = _keypoints(ann, names)
    if kp is not None:
        rec["keypoints"], rec["num_keypoints"] = kp
    if geom.kind in ("path", "line") and not names:
        rec["polyline"] = regions.flat_xy(geom.points)
    rec["flannot_id"] = ann.id
    rec["type"] = ann.type
    for key in ("level", "side", "part", "instrument"):
        value = getattr(ann, key)
        if value:
            rec[key] = value
    return rec


def case_part(case: Any, image: Any, rects: list[Any], info: dict[str, Any]) -> dict[str, Any]:
    """COCO records and PNG bytes of one case.

    Parameters
    ----------
    case, image
        The reference :class:`~flannot.model.case.Case` and its ``FluoroImage``.
    rects
        Redaction rectangles to blank.
    info
        ``case_id``, ``view``, ``spacing_mm``, ``calibration`` for the image records.

    Returns
    -------
    dict
        ``images`` (records with a case-local ``frame``), ``annotations`` (records with
        ``frame``), ``files`` (relative path -> PNG bytes).
    """
    anns = regions.exported(case)
    frames = sorted({int(a.frame) for a in anns})
    shape = (int(image.rows), int(image.cols))
    images, records, files = [], [], {}
    for f in frames:
        name = image_file(info["case_id"], f)
        files[name] = png_bytes(render_frame(image, f, rects))
        images.append(
            {
                "file_name": name,
                "width": shape[1],
                "height": shape[0],
                "case_id": info["case_id"],
                "frame": f,
                "view": info["view"],
                "spacing_mm": info["spacing_mm"],
                "calibration": info["calibration"],
            }
        )
    protocol = regions.protocol_for(case)
    for ann in anns:
        rec = _annotation(ann, shape, info.get("source"), protocol)
        rec["frame"] = int(ann.frame)
        records.append(rec)
    return {"images": images, "annotations": records, "files": files}


def _categories(names: set[str], protocol: Any) -> list[dict[str, Any]]:
    """Category records in protocol type order, then cranio-caudal level order."""
    order = {t: i for i, t in enumerate(protocol.type_names)}

    def key(name: str) -> tuple[int, str, tuple[int, str]]:
        t, _, level = name.partition("/")
        return (order.get(t, len(order)), t, regions.level_order(level or None))

    cats = []
    for i, name in enumerate(sorted(names, key=key), start=1):
        t, _, level = name.partition("/")
        cat: dict[str, Any] = {"id": i, "name": name, "supercategory": t}
        if level:
            cat["level"] = level
        kp_names = keypoint_names(protocol, t)
        if kp_names:
            cat["keypoints"] = list(kp_names)
            cat["skeleton"] = skeleton(kp_names)
        cats.append(cat)
    return cats


def assemble(parts: list[dict[str, Any]], set_info: dict[str, Any], protocol: Any) -> dict:
    """The COCO document from per-case parts (in case order)."""
    names = {rec["category"] for p in parts for rec in p["annotations"]}
    categories = _categories(names, protocol)
    cat_id = {c["name"]: c["id"] for c in categories}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for part in parts:
        ids: dict[int, int] = {}
        for img in part["images"]:
            ids[img["frame"]] = len(images) + 1
            images.append({"id": len(images) + 1, **img})
        for rec in part["annotations"]:
            rec = dict(rec)
            frame = rec.pop("frame")
            category = rec.pop("category")
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": ids[frame],
                    "category_id": cat_id[category],
                    **rec,
                }
            )
    return {
        "info": {
            "description": set_info.get("name", ""),
            "version": "1",
            "contributor": "flannot export",
            "date_created": set_info.get("modified", ""),
            "coordinates": "x = column + 0.5, y = row + 0.5 (top-left pixel covers [0, 1))",
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
