"""``flannot pacs find``: search a PACS for studies with QIDO-RS (PS3.18 §10.6, SPEC §17)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from flannot.errors import FlannotError
from flannot.pacs.client import PacsClient

MODALITIES = ("XA", "RF", "DX", "CR")
MAX_STUDIES = 1000  # one search never lists more (QIDO-RS "limit")
_DATE = re.compile(r"^(\d{8})?(-)?(\d{8})?$")

# QIDO-RS study attributes (PS3.18 Table 10.6.3-3) plus the counts flannot shows
STUDY_FIELDS = (
    "StudyDescription",
    "ModalitiesInStudy",
    "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
)


@dataclass(frozen=True)
class Study:
    """One study as a QIDO-RS search lists it (values as the PACS holds them)."""

    study_uid: str
    date: str = ""  # YYYY-MM-DD, or "" when the PACS has none
    time: str = ""
    patient_name: str = ""
    patient_id: str = ""
    accession: str = ""
    description: str = ""
    modalities: list[str] = field(default_factory=list)
    series: int | None = None
    instances: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _values(item: dict[str, Any], tag: str) -> list[Any]:
    elem = item.get(tag)
    if not isinstance(elem, dict):
        return []
    vals = elem.get("Value")
    return vals if isinstance(vals, list) else []


def _text(item: dict[str, Any], tag: str) -> str:
    vals = _values(item, tag)
    if not vals:
        return ""
    v = vals[0]
    if isinstance(v, dict):  # PN: {"Alphabetic": "DOE^JOHN"}
        v = v.get("Alphabetic", "")
    return str(v).strip()


def _int(item: dict[str, Any], tag: str) -> int | None:
    try:
        return int(_text(item, tag))
    except ValueError:
        return None


def study_from_json(item: dict[str, Any]) -> Study:
    """A :class:`Study` from one DICOM JSON (PS3.18 Annex F) search result.

    Raises
    ------
    ValueError
        The result has no Study Instance UID (a malformed answer).
    """
    if not isinstance(item, dict):
        raise ValueError("a search result is not a JSON object")
    uid = _text(item, "0020000D")
    if not uid:
        raise ValueError("a search result has no Study Instance UID")
    date = _text(item, "00080020")
    if re.fullmatch(r"\d{8}", date):
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return Study(
        study_uid=uid,
        date=date,
        time=_text(item, "00080030"),
        patient_name=_text(item, "00100010"),
        patient_id=_text(item, "00100020"),
        accession=_text(item, "00080050"),
        description=_text(item, "00081030"),
        modalities=[str(v) for v in _values(item, "00080061")],
        series=_int(item, "00201206"),
        instances=_int(item, "00201208"),
    )


def date_range(text: str) -> str:
    """A DICOM date range (PS3.4 C.2.2.2.5) from ``YYYYMMDD``, ``YYYYMMDD-YYYYMMDD``,
    ``YYYYMMDD-``, ``-YYYYMMDD`` (ISO ``YYYY-MM-DD`` dates joined by ``..`` also work).

    Raises
    ------
    FlannotError
        Not a date or range of that form.
    """
    t = str(text).strip()
    if ".." in t:
        t = "-".join(part.replace("-", "") for part in t.split("..", 1))
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        t = t.replace("-", "")
    m = _DATE.match(t)
    if not t or m is None or not (m.group(1) or m.group(3)) or (m.group(3) and not m.group(2)):
        raise FlannotError(
            f"bad --study-date {text!r}; use YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD- or -YYYYMMDD"
        )
    return t


def _name_pattern(text: str) -> str:
    # forgiving: "Doe John", "DOE^JOHN", "doe, john" all become *DOE*JOHN*; the
    # components separator ^ and spaces are left out of the query on purpose, as
    # some servers do not decode them (see PacsClient)
    words = [w for w in re.split(r"[\s,^*?]+", text) if w]
    return "*" + "*".join(words) + "*" if words else "*"


def find_studies(
    pacs: PacsClient,
    *,
    patient: str | None = None,
    study_date: str | None = None,
    modality: str | None = None,
    limit: int = MAX_STUDIES,
) -> list[Study]:
    """Search the PACS for studies (QIDO-RS).

    Parameters
    ----------
    pacs
        The service.
    patient
        Part of the patient's name, or the patient ID: studies matching either.
    study_date
        A date or a range (:func:`date_range`).
    modality
        One of ``XA``, ``RF``, ``DX``, ``CR`` (Modalities in Study).
    limit
        At most this many studies (and never more than :data:`MAX_STUDIES`).

    Returns
    -------
    list[Study]
        Newest first, each study once.

    Raises
    ------
    FlannotError
        Bad filters, or the search failed (one line naming the URL).
    """
    filters: dict[str, str] = {}
    if study_date:
        filters["StudyDate"] = date_range(study_date)
    if modality:
        m = modality.strip().upper()
        if m not in MODALITIES:
            raise FlannotError(
                f"bad --modality {modality!r}; choose one of {', '.join(MODALITIES)}"
            )
        filters["ModalitiesInStudy"] = m
    limit = max(1, min(int(limit), MAX_STUDIES))
    searches = [filters]
    if patient and patient.strip():
        p = patient.strip()
        searches = [{**filters, "PatientName": _name_pattern(p)}, {**filters, "PatientID": p}]
    found: dict[str, Study] = {}
    with pacs.errors("searching studies"):
        for search in searches:
            results = pacs.dicomweb.search_for_studies(
                search_filters=search, fields=list(STUDY_FIELDS), limit=limit
            )
            if not isinstance(results, list):
                raise ValueError("the search answer is not a JSON array")
            for item in results[:limit]:
                s = study_from_json(item)
                found.setdefault(s.study_uid, s)
    studies = sorted(found.values(), key=lambda s: (s.date, s.time, s.study_uid), reverse=True)
    return studies[:limit]
