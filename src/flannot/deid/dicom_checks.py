"""Is a teaching-set image de-identified? Identifier checks of a DICOM header (PS3.15).

Used by set validation: Patient Identity Removed must be YES, the identifiers the Basic
Profile empties or removes must be empty (a name or ID may only be a pseudonym), no
private attributes, and no SOP Instance UID shared with another case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_description

from flannot.model.validate import Problem

# identifiers the Basic Profile empties or removes: a pseudonym may stand in for the
# first kind, nothing for the second
_PSEUDONYM_ALLOWED = (("PatientName", "(0010,0010)"), ("PatientID", "(0010,0020)"))
_NEVER_LEFT = (
    ("PatientBirthDate", "(0010,0030)"),
    ("PatientAddress", "(0010,1040)"),
    ("PatientTelephoneNumbers", "(0010,2154)"),
    ("OtherPatientIDsSequence", "(0010,1002)"),
    ("OtherPatientNames", "(0010,1001)"),
    ("AccessionNumber", "(0008,0050)"),
    ("ReferringPhysicianName", "(0008,0090)"),
)


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("Sequence", "MultiValue"):
        return len(value) == 0
    return not str(value).strip()


def dicom_problems(path: Path, case_id: str, sop_seen: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:
        return [Problem("$", f"unreadable DICOM: {type(exc).__name__}", "error", str(path))]
    sop = str(ds.get("SOPInstanceUID", ""))
    if sop:
        if sop in sop_seen and sop_seen[sop] != case_id:
            out.append(
                Problem(
                    "(0008,0018)",
                    f"same SOP Instance UID as case {sop_seen[sop]!r}",
                    "error",
                    str(path),
                )
            )
        sop_seen.setdefault(sop, case_id)
    removed = str(ds.get("PatientIdentityRemoved", "")).upper() == "YES"
    if not removed:
        out.append(
            Problem(
                "(0012,0062)",
                "Patient Identity Removed is not YES: identifiers may be left "
                "(add the image with de-identification)",
                "error",
                str(path),
            )
        )
    for kw, tag in _PSEUDONYM_ALLOWED:
        if str(ds.get(kw, "") or "").strip():
            # after de-identification a name or ID can only be a pseudonym (PS3.15 allows one)
            name = dictionary_description(kw)
            out.append(
                Problem(
                    tag,
                    f"{name} is not empty" + ("; check it is a pseudonym" if removed else ""),
                    "warning" if removed else "error",
                    str(path),
                )
            )
    for kw, tag in _NEVER_LEFT:
        if kw in ds and not _empty(ds[kw].value):
            name = dictionary_description(kw)
            out.append(Problem(tag, f"identifier left: {name} is not empty", "error", str(path)))
    private = 0

    def count(_ds: Any, elem: Any) -> None:
        nonlocal private
        if elem.tag.is_private:
            private += 1

    ds.walk(count)
    if private:
        out.append(
            Problem("private", f"{private} private attribute(s) present", "error", str(path))
        )
    return out
