"""The de-identification summary an educator reads after adding DICOM to a set (Markdown).

From the report of :meth:`flannot.teach.teaching_set.TeachingSet.add_dicom`: totals of
what the PS3.15 Basic Profile did, the cases flagged for burned-in text, one line per case.
"""

from __future__ import annotations

from typing import Any


def field(entry: Any, key: str, default: Any = None) -> Any:
    """A field of a set's case entry, whether it is a mapping or an object."""
    if isinstance(entry, dict):
        return entry.get(key, default)
    return getattr(entry, key, default)


_RISK_TEXT = {
    "yes": "Burned In Annotation is YES",
    "unknown": "Burned In Annotation not stated for an XA/RF/secondary-capture image",
}
_MAX_NAMES = 12  # attribute names listed per case; the rest are counted


def deid_summary(report: Any) -> str:
    """Markdown summary of what de-identification did, from a ``TeachingSet.add_dicom`` report.

    Parameters
    ----------
    report
        The list ``TeachingSet.add_dicom`` returns: per case ``case_id``, action counts
        (``removed``, ``emptied``, ``replaced``, ``private_removed``), ``attributes`` (names
        removed), ``uid_remaps``, ``burned_in_risk`` and ``burned_in_flagged``.

    Returns
    -------
    str
        A headline with the totals, a burned-in warning naming the flagged cases, and one line
        per case.
    """
    files = report_files(report)
    lines: list[str] = []
    total = {"removed": 0, "emptied": 0, "replaced": 0, "private": 0}
    risky: list[str] = []
    n_files = 0
    for f in files:
        name = str(field(f, "case_id") or field(f, "path") or "case")
        n_files += int(field(f, "files", 1) or 1)
        counts = {k: _count(f, k) for k in total}
        for k, v in counts.items():
            total[k] += v
        parts = [f"{counts['removed']} removed", f"{counts['emptied']} emptied"]
        if counts["replaced"]:
            parts.append(f"{counts['replaced']} replaced")
        if counts["private"]:
            parts.append(f"{counts['private']} private tags removed")
        remaps = field(f, "uid_remaps")
        if isinstance(remaps, int) and remaps:
            parts.append(f"{remaps} UIDs remapped")
        line = f"- **{name}**: " + ", ".join(parts)
        names = field(f, "attributes")
        if isinstance(names, (list, tuple)) and names:
            shown = ", ".join(str(n) for n in names[:_MAX_NAMES])
            more = len(names) - _MAX_NAMES
            line += f" — attributes: {shown}{f', … {more} more' if more > 0 else ''}"
        if field(f, "deidentified") is False:
            line += " — copied **without** de-identification"
        risk = _burned_in(f)
        if risk:
            risky.append(name)
            line += f" — ⚠ {risk}"
        lines.append(line)
    head = (
        f"**De-identified {n_files} file(s)** into {len(files)} case(s) (DICOM PS3.15 Basic "
        f"Application Level Confidentiality Profile): {total['removed']} attributes removed, "
        f"{total['emptied']} emptied"
    )
    if total["replaced"]:
        head += f", {total['replaced']} replaced"
    if total["private"]:
        head += f", {total['private']} private tags removed"
    out = [head + ".", ""]
    if risky:
        out += [
            "⚠ **Burned-in text risk** in "
            + ", ".join(risky)
            + ": the pixels may show patient details. Check the images and draw "
            "`redaction` rectangles before sharing the set.",
            "",
        ]
    return "\n".join(out + lines) + "\n"


def report_files(report: Any) -> list[Any]:
    if report is None:
        return []
    if isinstance(report, (list, tuple)):
        return list(report)
    for key in ("files", "reports", "cases", "items"):
        value = field(report, key)
        if isinstance(value, (list, tuple)):
            return list(value)
    return [report]


def _count(entry: Any, kind: str) -> int:
    """Number of attributes of ``kind`` in a per-case report: a count or a list of tags."""
    keys = ("private_removed", "n_private") if kind == "private" else (kind, f"n_{kind}")
    for key in keys:
        value = field(entry, key)
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        try:
            return len(value)
        except TypeError:
            continue
    return 0


def _burned_in(entry: Any) -> str:
    """Why a case is flagged for burned-in text, or ``""`` when it is not."""
    risk = str(field(entry, "burned_in_risk") or "").strip().lower()
    flagged = field(entry, "burned_in_flagged")
    if flagged is None:
        flagged = risk in _RISK_TEXT
    if not flagged:
        return ""
    return "burned-in text risk: " + _RISK_TEXT.get(risk, risk or "flagged")
