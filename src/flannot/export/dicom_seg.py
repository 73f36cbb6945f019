"""DICOM SEG of a case's regions (SPEC §9 ``dicom``), built with highdicom.

One BINARY segment per (type, level, side) of the protocol's region types that are
scored as regions or bands (ligamentum flavum, canal, interlaminar space, lamina …; not
landmarks), its segmented property type the code the protocol declares (SNOMED CT from
``pydicom.sr.codedict`` where one exists), rasterised with
:func:`flannot.export.regions.region_mask` (pixel-centre rule, the same pixels as the
``masks`` export).

Known limits worked around here:

- highdicom refuses a SEG for a multi-frame source without a Frame of Reference, so a
  cine (several frames, no FoR) gets no SEG (:func:`seg_bytes` returns ``None``); its
  regions are in the SR with referenced frame numbers.
- A single-frame XA/DX instance belongs to a multi-frame IOD in highdicom's eyes but has
  no Number of Frames or shared functional groups: highdicom is given a header copy
  that has them (one frame, a Pixel Measures item without Pixel Spacing), and that empty
  Pixel Measures item is removed from the SEG again, because highdicom cannot read a
  SEG back with one. flannot's spacing is a detector or calibrated spacing, not a
  patient-plane Pixel Spacing, so the SEG carries none: its regions are in pixels and
  the millimetres (with their calibration) are in the SR.
- Patient Orientation (Type 2C without a Frame of Reference) is copied from the source.

Everything is deterministic: UIDs come from the source SOP Instance UID and a namespace,
dates and times from the source, so the bytes do not depend on when or where it ran.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray

from flannot.export import regions

#: Local coding scheme (PS3.16 allows private designators starting with ``99``), used
#: only where no standard code exists.
SCHEME = "99FLANNOT"


def seg_types(protocol: Any) -> tuple[str, ...]:
    """Types a SEG holds, in segment order: exported regions scored as regions or bands."""
    from flannot.protocols import Scoring

    return tuple(
        t.name
        for t in protocol.types
        if t.region_export and t.scoring in (Scoring.REGION, Scoring.BAND)
    )


MANUFACTURER = "flannot"

#: LO/SH/UT may not hold control characters (PS3.5 6.1.3: only ESC, for code extensions)
#: and a backslash separates values: both become a space / a slash in what flannot writes
_ILLEGAL_IN_TEXT = {c: " " for c in (*range(0x20), *range(0x7F, 0xA0))}
_ILLEGAL_IN_TEXT[ord("\\")] = "/"


def lo_text(text: str, limit: int = 64) -> str:
    """``text`` as one legal LO (or SH, ``limit=16``) value.

    Control characters become spaces and backslashes (the value delimiter) slashes;
    runs of spaces are collapsed; a value longer than ``limit`` characters is cut
    and ends in ``...`` so a reader sees it was shortened (LO counts characters,
    not bytes, so non-ASCII text keeps its meaning; the file says ISO_IR 192).
    """
    clean = " ".join(str(text).translate(_ILLEGAL_IN_TEXT).split())
    if len(clean) > limit:
        clean = clean[: limit - 3].rstrip() + "..."
    return clean


SegKey = tuple[str, str | None, str | None, str | None]  # type, level, side, part


def uid(src: pydicom.Dataset, *parts: str) -> str:
    """A UID fixed by the source SOP Instance UID and ``parts`` (a namespace)."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[str(src.SOPInstanceUID), "flannot", *parts]))


def frame_count(src: pydicom.Dataset) -> int:
    """Number of frames of the source (1 when the attribute is absent)."""
    try:
        return max(1, int(src.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def seg_key(ann: Any) -> SegKey:
    return (str(ann.type), ann.level or None, ann.side or None, getattr(ann, "part", None))


def segment_masks(case: Any, shape: tuple[int, int], source: Any = None) -> dict[SegKey, Any]:
    """Union mask of each (type, level, side) on frame 0, in segment order.

    Returns
    -------
    dict
        ``(type, level, side) -> boolean (rows, cols) mask`` (only non-empty ones).
    """
    types = seg_types(regions.protocol_for(case))
    out: dict[SegKey, NDArray[np.bool_]] = {}
    for ann in case.annotations:
        if ann.type not in types or int(ann.frame) != 0:
            continue
        mask = regions.region_mask(ann, shape, source)
        if mask is None or not mask.any():
            continue
        key = seg_key(ann)
        out[key] = out[key] | mask if key in out else mask

    def sort_key(key: SegKey) -> tuple[Any, ...]:
        t, level, side, part = key
        return (types.index(t), regions.level_order(level), side or "", part or "")

    return {k: out[k] for k in sorted(out, key=sort_key)}


def segment_label(key: SegKey) -> str:
    """``ligamentum_flavum L4-L5 left`` (a legal LO: at most 64 characters, see :func:`lo_text`)."""
    return lo_text(" ".join(p for p in key if p))


def concept(protocol: Any, type_name: str, ann: Any = None) -> Any:
    """The coded concept of a type (its declared code; ``99FLANNOT`` when it has none)."""
    import highdicom as hd

    t = protocol.find_type(type_name)
    code = None if t is None else (t.code_for(ann) if ann is not None else t.code)
    if code is None:
        return hd.sr.CodedConcept(
            lo_text(type_name, 16), SCHEME, lo_text(type_name.replace("_", " "))
        )
    return hd.sr.CodedConcept(code.value, code.scheme, lo_text(code.meaning))


def _segment_description(src: pydicom.Dataset, number: int, key: SegKey, protocol: Any) -> Any:
    from types import SimpleNamespace

    import highdicom as hd
    from pydicom.sr.codedict import codes

    part = SimpleNamespace(part=key[3], extra={})
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=segment_label(key),
        segmented_property_category=codes.SCT.AnatomicalStructure,
        segmented_property_type=concept(protocol, key[0], part),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
        tracking_id=segment_label(key),
        tracking_uid=uid(src, "segment", *(p or "" for p in key)),
    )


def _header_for_highdicom(src: pydicom.Dataset) -> pydicom.Dataset:
    """A header copy highdicom accepts for a single-frame instance of a multi-frame IOD."""
    hdr = copy.deepcopy(src)
    if "NumberOfFrames" not in hdr:
        hdr.NumberOfFrames = 1
    if "SharedFunctionalGroupsSequence" not in hdr:
        group = pydicom.Dataset()
        group.PixelMeasuresSequence = [pydicom.Dataset()]
        hdr.SharedFunctionalGroupsSequence = [group]
    return hdr


def _fix_dates_and_uids(ds: pydicom.Dataset, src: pydicom.Dataset, namespace: str) -> None:
    """Replace what highdicom takes from the clock or a random UID with fixed values."""
    date = str(src.get("ContentDate") or src.get("StudyDate") or "19000101")
    time = str(src.get("ContentTime") or src.get("StudyTime") or "000000")
    for tag in ("InstanceCreationDate", "ContentDate", "SeriesDate"):
        if tag in ds:
            setattr(ds, tag, date)
    for tag in ("InstanceCreationTime", "ContentTime", "SeriesTime"):
        if tag in ds:
            setattr(ds, tag, time)
    fixed = uid(src, namespace, "dimension-organization")

    def visit(d: pydicom.Dataset, elem: Any) -> None:
        if elem.keyword == "DimensionOrganizationUID":
            elem.value = fixed
        elif elem.keyword == "ContributionDateTime":  # highdicom's "now"
            elem.value = date + time.split(".")[0]

    for elem in ds:  # not into an SR's content tree: neither attribute is there
        if elem.VR == "SQ" and elem.keyword != "ContentSequence":
            for item in elem.value:
                item.walk(visit)
        else:
            visit(ds, elem)


def to_bytes(ds: pydicom.Dataset) -> bytes:
    """The dataset as a Part 10 file."""
    from pydicom.filebase import DicomBytesIO

    buf = DicomBytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def seg_bytes(case: Any, src: pydicom.Dataset, source: Any = None) -> bytes | None:
    """The DICOM SEG of a case, or ``None`` when there is nothing it can hold.

    Parameters
    ----------
    case
        The :class:`flannot.Case`.
    src
        The case's (de-identified) image header (``stop_before_pixels`` is enough).
    source
        Path named in errors.

    Returns
    -------
    bytes or None
        ``None`` for a multi-frame source (highdicom needs a Frame of Reference there)
        or a case without region annotations.
    """
    if frame_count(src) > 1 and "FrameOfReferenceUID" not in src:
        return None
    shape = (int(src.Rows), int(src.Columns))
    masks = segment_masks(case, shape, source)
    if not masks:
        return None
    import highdicom as hd

    keys = list(masks)
    pixels = np.stack([masks[k] for k in keys], axis=-1)[None].astype(np.uint8)
    seg = hd.seg.Segmentation(
        source_images=[_header_for_highdicom(src)],
        pixel_array=pixels,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[
            _segment_description(src, i, k, regions.protocol_for(case))
            for i, k in enumerate(keys, 1)
        ],
        series_instance_uid=uid(src, "seg-series"),
        series_number=901,
        sop_instance_uid=uid(src, "seg"),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MANUFACTURER,
        software_versions=_version(),
        device_serial_number="0",
        content_description="flannot regions",
        content_label="FLANNOT_REGIONS",
        series_description=lo_text(f"flannot regions: {case.case_id}"),
        omit_empty_frames=False,
    )
    shared = seg.SharedFunctionalGroupsSequence[0]
    if "PixelMeasuresSequence" in shared and "PixelSpacing" not in shared.PixelMeasuresSequence[0]:
        del shared.PixelMeasuresSequence  # an empty item stops highdicom reading it back
    if "PatientOrientation" in src:
        seg.PatientOrientation = src.PatientOrientation
    else:
        seg.PatientOrientation = None
    _fix_dates_and_uids(seg, src, "seg")
    return to_bytes(seg)


def _version() -> str:
    try:
        from importlib.metadata import version

        return str(version("flannot"))
    except Exception:
        return "0"
