"""Burned-in annotation risk of one image (PS3.15 E.3.1 Clean Pixel Data).

Fluoroscopy (XA/RF), ultrasound and screen captures very often carry names and
dates burned into the pixels. flannot cannot read them; it flags the file so the
educator draws ``redaction`` rectangles before sharing.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

# modalities whose pixels commonly carry burned-in text when the header is silent
_RISKY_MODALITIES = frozenset({"XA", "RF", "US", "OT", "ES", "XC", "SC"})
_SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"


def burned_in_risk(ds: Dataset) -> str:
    """Risk that the pixels hold identifying text.

    Returns
    -------
    str
        ``"yes"`` — Burned In Annotation (0028,0301) is YES;
        ``"unknown"`` — it is absent or empty for XA/RF/US/OT/SC or a Secondary Capture SOP class;
        ``"no"`` — it is NO, or absent for a modality that seldom burns text in.
    """
    value = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    if value == "YES":
        return "yes"
    if value == "NO":
        return "no"
    modality = str(ds.get("Modality", "") or "").strip().upper()
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if modality in _RISKY_MODALITIES or sop_class.startswith(_SECONDARY_CAPTURE_PREFIX):
        return "unknown"
    return "no"


def is_flagged(risk: str) -> bool:
    """Whether a risk value means a human must check the pixels."""
    return risk in ("yes", "unknown")
