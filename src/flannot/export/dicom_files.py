"""``dicom`` export: per case ``dicom/<case>/seg.dcm`` + ``sr.dcm``, and ``dicom.json``.

The SEG (:mod:`flannot.export.dicom_seg`) holds the regions, the SR
(:mod:`flannot.export.dicom_sr`) the measurements with their geometry. Both reference
the case's image in the set (the de-identified copy). A multi-frame source without a
Frame of Reference (a cine) gets no SEG — highdicom cannot build one — and the legend
says so; its regions are in the SR with referenced frame numbers.
"""

from __future__ import annotations

from typing import Any

import pydicom

from flannot.errors import FlannotError

LEGEND_FILE = "dicom.json"
NO_SEG_MULTIFRAME = (
    "no SEG: multi-frame source without a Frame of Reference (highdicom cannot build one); "
    "regions are in the SR with referenced frame numbers"
)
NO_SEG_SERIES = (
    "no SEG: the image is a series of single-frame instances; regions are in the SR, "
    "each referencing the instance of its frame"
)


def seg_file(case_id: str) -> str:
    return f"dicom/{case_id}/seg.dcm"


def sr_file(case_id: str) -> str:
    return f"dicom/{case_id}/sr.dcm"


def read_header(path: Any) -> pydicom.Dataset:
    """The image header (no pixels), or a one-line :class:`FlannotError`."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except (OSError, pydicom.errors.InvalidDicomError, ValueError) as exc:
        raise FlannotError(f"cannot read the image: {exc}", path) from None
    for kw in ("SOPInstanceUID", "SOPClassUID", "Rows", "Columns"):
        if not ds.get(kw):
            raise FlannotError(f"image has no {kw}", path)
    return ds


def series_sources(folder: Any) -> list[pydicom.Dataset]:
    """Headers of a series-folder case in cine order (frame ``f`` is instance ``f``)."""
    from pathlib import Path

    from flannot.io.series import series_headers

    out = []
    for path, _ in series_headers(Path(folder)):
        out.append(read_header(path))
    return out


def case_part(case: Any, info: dict[str, Any]) -> dict[str, Any]:
    """SEG and SR bytes of one case plus its legend entry.

    A case whose image is a series folder (single-frame instances played as a cine)
    gets an SR whose regions reference, frame by frame, the instance shown in that
    frame; no SEG (its regions are in the SR).
    """
    from flannot.export import dicom_seg, dicom_sr

    path = case.image_path
    sources = series_sources(path) if path.is_dir() else [read_header(path)]
    src = sources[0]
    files: dict[str, bytes] = {}
    notes: list[str] = []
    seg = None if len(sources) > 1 else dicom_seg.seg_bytes(case, src, info.get("source"))
    if seg is not None:
        files[seg_file(info["case_id"])] = seg
    elif len(sources) > 1:
        notes.append(NO_SEG_SERIES)
    elif dicom_seg.frame_count(src) > 1 and "FrameOfReferenceUID" not in src:
        notes.append(NO_SEG_MULTIFRAME)
    else:
        notes.append("no SEG: no region of a type the protocol exports as a segment")
    sr = dicom_sr.sr_bytes(case, src, info, sources)
    if sr is not None:
        files[sr_file(info["case_id"])] = sr
    else:
        notes.append("no SR: nothing measured")
    entry = {
        "case_id": info["case_id"],
        "source_sop_instance_uid": str(src.SOPInstanceUID),
        "frames": len(sources) if len(sources) > 1 else dicom_seg.frame_count(src),
        "seg": seg_file(info["case_id"]) if seg is not None else None,
        "sr": sr_file(info["case_id"]) if sr is not None else None,
        "spacing_mm": info["spacing_mm"],
        "calibration": info["calibration"],
        "notes": notes,
    }
    return {"entry": entry, "files": files}


def assemble(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The legend: what each case's files are and why a file is missing."""
    return {
        "format": "flannot DICOM SEG + SR",
        "version": 1,
        "seg": "BINARY, one segment per (type, level, side) of the protocol's region types "
        "(pixel-centre rule); segmented property types are the protocol's codes",
        "sr": "Comprehensive 3D SR, TID 1500; one planar ROI group per measured annotation "
        "with SCOORD geometry; finding types are the protocol's codes (SNOMED CT where one "
        "exists), measurement names standard concepts where they exist, else 99FLANNOT",
        "cases": [p["entry"] for p in parts],
    }
