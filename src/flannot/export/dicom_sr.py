"""DICOM SR (Comprehensive 3D SR, TID 1500 measurement report) of a case (SPEC §9).

One planar ROI measurement group (TID 1410) per measured annotation: its geometry as
SCOORD (``POINT`` for a point, ``POLYLINE`` for lines and paths, a closed ``POLYLINE``
for regions) referencing the source image and, for a multi-frame source, the frame
number (a mask annotation, which has no SCOORD outline, is a TID 1501 measurement group
naming its source image and frame instead); its SPEC §4 numbers from
:func:`flannot.measure.measure_rows` as numeric measurements in UCUM units (``mm``,
``mm2``, ``deg``, ``%``; ``{pixels}`` / ``{pixels2}`` only for an uncalibrated case);
flags and grades as qualitative evaluations; and the calibration as a qualitative
evaluation (and in the series description with the spacing). The finding type of a group
is the code its protocol declares for the annotation's type (SNOMED CT where
``pydicom.sr.codedict`` has one); measurement names that have a standard concept
(length, area, width, angle, height, distance) use it, the others the local scheme
``99FLANNOT`` (the names of ``docs/measurements.md``). The procedure reported is SNOMED
CT Fluoroscopy plus the protocol (``99FLANNOT``).

Deterministic like :mod:`flannot.export.dicom_seg` (UIDs from the source SOP Instance
UID, dates from the source).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pydicom

from flannot.export.dicom_seg import (
    MANUFACTURER,
    SCHEME,
    _fix_dates_and_uids,
    concept,
    frame_count,
    lo_text,
    to_bytes,
    uid,
)

#: measurement names with a standard concept in pydicom's code dictionary
STANDARD_NAMES = {
    "length": ("SCT", "Length"),
    "area": ("SCT", "Area"),
    "width": ("SCT", "Width"),
    "angle": ("SCT", "Angle"),
    "height": ("DCM", "Height"),
    "distance": ("DCM", "Distance"),
}

#: flannot unit -> (UCUM code, meaning).
UNITS = {
    "mm": ("mm", "millimeter"),
    "mm2": ("mm2", "square millimeter"),
    "deg": ("deg", "degree"),
    "%": ("%", "percent"),
    "px": ("{pixels}", "pixels"),
    "px2": ("{pixels2}", "square pixels"),
}


def _code(value: str, meaning: str | None = None) -> Any:
    """A ``99FLANNOT`` concept; value and meaning made legal (no backslash or control
    character; the meaning at most 64 characters, :func:`flannot.export.dicom_seg.lo_text`).
    A value over 16 characters goes in Long Code Value (highdicom's rule)."""
    import highdicom as hd

    code = lo_text(str(value), 10**4)
    return hd.sr.CodedConcept(code, SCHEME, lo_text((meaning or code).replace("_", " ")))


def _name_code(name: str, meaning: str) -> Any:
    """A measurement name's concept: the standard one when the name has it."""
    std = STANDARD_NAMES.get(name)
    if std is not None and meaning == name:
        from pydicom.sr.codedict import codes

        return getattr(getattr(codes, std[0]), std[1])
    return _code(name, meaning)


def _unit(unit: str) -> Any:
    import highdicom as hd

    code, meaning = UNITS.get(unit, (f"{{{unit}}}", unit))
    return hd.sr.CodedConcept(code, "UCUM", meaning)


def _graphic(ann: Any) -> tuple[str, np.ndarray] | None:
    """SCOORD graphic type and ``(column, row)`` data (DICOM: top-left pixel corner 0,0)."""
    geom = ann.geometry
    if geom.kind == "mask" or geom.points is None:
        return None
    pts = np.asarray(geom.points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0 or not np.isfinite(pts).all():
        return None
    data = pts[:, ::-1] + 0.5  # flannot pixel centres are integers; SCOORD's are at .5
    if geom.kind == "point" or len(pts) == 1:
        return "POINT", data[:1]
    if geom.kind in ("polygon", "rectangle"):
        if len(pts) < 3:
            return None
        return "POLYLINE", np.vstack([data, data[:1]])  # closed: first point repeated
    return "POLYLINE", data


def _group(
    src: pydicom.Dataset,
    case_id: str,
    ann: Any,
    rows: list[Any],
    calibration: str,
    protocol: Any,
    sources: list[pydicom.Dataset] | None = None,
) -> Any:
    import highdicom as hd
    from pydicom.sr.codedict import codes

    graphic = _graphic(ann)
    region = None
    shown = src
    frames = [int(ann.frame) + 1] if frame_count(src) > 1 else None
    if sources is not None and len(sources) > 1:  # a series: frame f is instance f
        shown = sources[min(int(ann.frame), len(sources) - 1)]
        frames = None
    if graphic is not None:
        region = hd.sr.ImageRegion(
            graphic_type=graphic[0],
            graphic_data=graphic[1],
            source_image=hd.sr.SourceImageForRegion(
                referenced_sop_class_uid=shown.SOPClassUID,
                referenced_sop_instance_uid=shown.SOPInstanceUID,
                referenced_frame_numbers=frames,
            ),
        )
    measurements, evaluations = [], []
    for row in rows:
        name = str(row.name)
        if row.level and row.level != ann.level:  # e.g. a disc height below a vertebra
            meaning = f"{name} {row.level}"
        else:
            meaning = name
        value = row.value
        if isinstance(value, bool) or isinstance(value, np.bool_):
            evaluations.append(
                hd.sr.QualitativeEvaluation(
                    _code(name, meaning), codes.SCT.Yes if value else codes.SCT.No
                )
            )
        elif isinstance(value, str):
            evaluations.append(hd.sr.QualitativeEvaluation(_code(name, meaning), _code(value)))
        elif value is not None and np.isfinite(float(value)):
            measurements.append(
                hd.sr.Measurement(
                    name=_name_code(name, meaning), value=float(value), unit=_unit(str(row.unit))
                )
            )
    evaluations.append(hd.sr.QualitativeEvaluation(_code("calibration"), _code(calibration)))
    tracking = hd.sr.TrackingIdentifier(
        uid=uid(src, "sr-group", case_id, str(ann.id)), identifier=lo_text(str(ann.id))
    )
    if region is None:  # a mask (or a degenerate shape): no SCOORD; TID 1501 names the image
        return hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking,
            finding_type=concept(protocol, str(ann.type), ann),
            measurements=measurements or None,
            qualitative_evaluations=evaluations,
            source_images=[
                hd.sr.SourceImageForMeasurementGroup(
                    referenced_sop_class_uid=shown.SOPClassUID,
                    referenced_sop_instance_uid=shown.SOPInstanceUID,
                    referenced_frame_numbers=frames,
                )
            ],
        )
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=tracking,
        referenced_region=region,
        finding_type=concept(protocol, str(ann.type), ann),
        measurements=measurements or None,
        qualitative_evaluations=evaluations,
    )


def sr_bytes(
    case: Any,
    src: pydicom.Dataset,
    info: dict[str, Any],
    sources: list[pydicom.Dataset] | None = None,
) -> bytes | None:
    """The TID 1500 measurement report of a case, ``None`` when nothing was measured.

    Parameters
    ----------
    case
        The :class:`flannot.Case`.
    src
        The case's (de-identified) image header.
    info
        :func:`flannot.export.jobs.case_info` (calibration and spacing).
    sources
        For a series-folder case, the headers of its instances in cine order: each
        region references the instance of its frame, and all are evidence.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    from flannot.measure import measure_rows

    rows = measure_rows(case)
    by_ann: dict[str, list[Any]] = {}
    for row in rows:
        by_ann.setdefault(str(row.annotation_id), []).append(row)
    if not by_ann:
        return None
    from flannot.protocols import protocol_of

    protocol = protocol_of(case)
    anns = {str(a.id): a for a in case.annotations}
    calibration = str(info["calibration"])
    groups = [
        _group(src, str(case.case_id), anns[aid], rs, calibration, protocol, sources)
        for aid, rs in by_ann.items()
        if aid in anns
    ]
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=uid(src, "device"), name=MANUFACTURER
        ),
    )

    def report(measurements: list[Any]) -> Any:
        return hd.sr.MeasurementReport(
            observation_context=hd.sr.ObservationContext(observer_device_context=observer),
            procedure_reported=[
                codes.SCT.Fluoroscopy,
                _code(lo_text(protocol.name.upper(), 16), protocol.title),
            ],
            imaging_measurements=measurements,
        )

    spacing = info.get("spacing_mm")
    cal = f"{calibration} {spacing[0]:.4g}x{spacing[1]:.4g} mm" if spacing else calibration
    evidence = list(sources) if sources else [src]
    # highdicom deep-copies the content and searches it for references (two thirds of
    # the time at 4,500 annotations): build the document around one group, then put in
    # the full content tree. Every region references an instance of ``evidence``, and
    # the evidence sequences list all of ``evidence`` whatever the content references.
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence,
        content=report(groups[:1]),
        series_instance_uid=uid(src, "sr-series"),
        series_number=902,
        sop_instance_uid=uid(src, "sr"),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        series_description=lo_text(f"flannot measurements ({cal})"),
    )
    sr.ContentSequence = report(groups)[0].ContentSequence
    _fix_dates_and_uids(sr, src, "sr")
    return to_bytes(sr)
