"""Rubrics: the protocol's checklist, a global rating and an entrustment scale (SPEC §6).

A protocol declares its rubric (:class:`flannot.protocols.RubricItem`), a global
rating scale and an entrustment scale (MILD: the Zwisch scale, George et al. 2014).
Items whose ``check`` this module knows are checked from the attempt; the others
the educator ticks. The result is stored in the attempt file under the key
``"assessment"`` (an extension key the case format keeps, SPEC §3)::

    "assessment": {
      "educator": "dr-lee", "time": "2026-12-04T18:00:00Z", "attempt": 3,
      "rubric": [{"key": "instrument_docked", "text": "...", "done": true,
                  "by": "auto", "why": "portal tip 0.00 mm from the lamina"}, ...],
      "global_rating": 4, "global_rating_label": "4",
      "entrustment": "passive help", "entrustment_level": 3
    }

``done`` is ``true``/``false`` or ``null`` (not assessed); ``by`` is ``"auto"`` or
``"educator"`` (an educator's tick overrides an automatic check and says so).

Automatic checks
----------------
``contrast_at_level_side``
    the attempt has a safety-boundary line (epidural contrast, VILL) at the target
    level and side — the level and side of the reference's instrument trajectories
    (else of its safety boundaries).
``instrument_docked``
    an attempt instrument at the target level has ``tip_to_lamina`` (measured by
    :mod:`flannot.measure` against the *reference* laminae) within ``docked_mm``
    (tolerance, default 1.0 mm) and no safety violation in the score.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flannot.errors import FlannotError

__all__ = [
    "ASSESSMENT_KEY",
    "Assessment",
    "RubricMark",
    "assess",
    "auto_checks",
    "load_assessment",
    "save_assessment",
]

ASSESSMENT_KEY = "assessment"
#: ``tip_to_lamina`` within this (mm) counts as docked, unless the set's tolerances say otherwise
DOCKED_MM = 1.0


@dataclass
class RubricMark:
    """One checklist item as assessed."""

    key: str
    text: str
    done: bool | None = None
    by: str | None = None  # "auto" | "educator"
    why: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Assessment:
    """The educator's assessment of one attempt (stored under ``"assessment"``)."""

    educator: str
    time: str
    rubric: list[RubricMark] = field(default_factory=list)
    global_rating: int | None = None
    global_rating_label: str | None = None
    entrustment: str | None = None
    entrustment_level: int | None = None
    attempt: int | None = None

    @property
    def done(self) -> int:
        """Checklist items done."""
        return sum(1 for m in self.rubric if m.done)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["rubric"] = [m.to_dict() for m in self.rubric]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assessment:
        marks = [
            RubricMark(
                str(m.get("key", "")),
                str(m.get("text", "")),
                m.get("done") if isinstance(m.get("done"), bool) else None,
                m.get("by"),
                str(m.get("why") or ""),
            )
            for m in data.get("rubric") or []
            if isinstance(m, Mapping)
        ]
        gr = data.get("global_rating")
        el = data.get("entrustment_level")
        att = data.get("attempt")
        return cls(
            educator=str(data.get("educator") or ""),
            time=str(data.get("time") or ""),
            rubric=marks,
            global_rating=gr if isinstance(gr, int) and not isinstance(gr, bool) else None,
            global_rating_label=data.get("global_rating_label"),
            entrustment=data.get("entrustment"),
            entrustment_level=el if isinstance(el, int) and not isinstance(el, bool) else None,
            attempt=att if isinstance(att, int) and not isinstance(att, bool) else None,
        )


# --------------------------------------------------------------------------- automatic checks
def _targets(protocol: Any, reference: Any) -> list[tuple[str | None, str | None]]:
    from flannot.measure.context import norm_level
    from flannot.protocols import Role

    for role in (Role.INSTRUMENT, Role.SAFETY_BOUNDARY):
        names = set(protocol.names_with_role(role))
        found = [(norm_level(a.level), a.side) for a in reference.annotations if a.type in names]
        if found:
            return list(dict.fromkeys(found))
    return []


def _contrast_at_level_side(protocol: Any, reference: Any, attempt: Any) -> tuple[bool, str]:
    from flannot.measure.context import norm_level
    from flannot.protocols import Role

    targets = _targets(protocol, reference)
    if not targets:
        return False, "the reference has no target level"
    lines = set(protocol.names_with_role(Role.SAFETY_BOUNDARY))
    have = {(norm_level(a.level), a.side) for a in attempt.annotations if a.type in lines}
    where = ", ".join(" ".join(p for p in t if p) for t in targets)
    missing = [t for t in targets if t not in have and (t[0], None) not in have]
    if missing:
        return False, f"no contrast line drawn at {where}"
    return True, f"contrast line drawn at {where}"


def _instrument_docked(
    protocol: Any, reference: Any, attempt: Any, result: Any, tolerances: Mapping[str, Any]
) -> tuple[bool, str]:
    from flannot.measure import measure_rows
    from flannot.measure.context import norm_level
    from flannot.protocols import Role

    limit = float(tolerances.get("docked_mm", DOCKED_MM))
    instruments = set(protocol.names_with_role(Role.INSTRUMENT))
    targets = {lv for lv, _ in _targets(protocol, reference)}
    mine = [
        a for a in attempt.annotations if a.type in instruments and norm_level(a.level) in targets
    ]
    if not mine:
        return False, "no instrument at the target level"
    if result is not None and any(
        it.metric == "crossed_contrast" and bool(it.value) for it in result.items
    ):
        return False, "a safety boundary was crossed"
    # the attempt's tips against the reference's laminae, in the reference's units
    # (the trainee need not draw the laminae)
    ids = {str(a.id) for a in mine}
    ref_rest = [
        dataclasses.replace(a, id=f"reference:{a.id}")
        for a in reference.annotations
        if a.type not in instruments
    ]
    combined = dataclasses.replace(reference, annotations=mine + ref_rest)
    values = [
        r.value
        for r in measure_rows(combined)
        if r.name == "tip_to_lamina" and str(r.annotation_id) in ids
    ]
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not numbers:
        return False, "tip distance to the lamina cannot be measured"
    best = min(numbers, key=abs)
    ok = abs(best) <= limit
    rel = "within" if ok else "more than"
    return ok, f"tip {abs(best):.2f} mm from the dorsal lamina, {rel} the {limit:.2f} mm allowed"


def auto_checks(
    reference: Any,
    attempt: Any,
    result: Any = None,
    tolerances: Mapping[str, Any] | None = None,
) -> dict[str, tuple[bool, str]]:
    """``{item key: (done, why)}`` for the rubric items that can be checked from the attempt.

    Parameters
    ----------
    reference, attempt
        :class:`flannot.Case` objects of the same image.
    result
        The attempt's :class:`~flannot.teach.score.CaseScore` (for the safety part of
        ``instrument_docked``); scored here when ``None``.
    tolerances
        ``docked_mm`` among them (default :data:`DOCKED_MM`).
    """
    from flannot.protocols import protocol_of
    from flannot.teach.score import score_case

    protocol = protocol_of(reference)
    tol = dict(tolerances or {})
    out: dict[str, tuple[bool, str]] = {}
    for item in protocol.rubric:
        if item.check == "contrast_at_level_side":
            out[item.key] = _contrast_at_level_side(protocol, reference, attempt)
        elif item.check == "instrument_docked":
            if result is None:
                result = score_case(reference, attempt, tol)
            out[item.key] = _instrument_docked(protocol, reference, attempt, result, tol)
    return out


# --------------------------------------------------------------------------- the assessment
def assess(
    reference: Any,
    attempt: Any,
    *,
    educator: str,
    ticks: Mapping[str, bool | None] | None = None,
    global_rating: int | None = None,
    entrustment: str | None = None,
    result: Any = None,
    tolerances: Mapping[str, Any] | None = None,
    attempt_number: int | None = None,
    time: str | None = None,
) -> Assessment:
    """The rubric of ``reference``'s protocol filled in for ``attempt``.

    Parameters
    ----------
    educator
        Who assesses (stored with the time).
    ticks
        The educator's marks by item key; they override an automatic check.
    global_rating
        1 … n on the protocol's global rating scale.
    entrustment
        One of the protocol's entrustment (Zwisch) levels, by name.

    Raises
    ------
    FlannotError
        An unknown item key, a rating off the scale, an unknown entrustment level,
        or no educator name.
    """
    from flannot.model.annotation import utc_now
    from flannot.protocols import protocol_of

    protocol = protocol_of(reference)
    if not educator or not educator.strip():
        raise FlannotError("an assessment needs the educator's name")
    ticks = dict(ticks or {})
    unknown = sorted(set(ticks) - {r.key for r in protocol.rubric})
    if unknown:
        raise FlannotError(f"not an item of the {protocol.name} rubric: {', '.join(unknown)}")
    label = None
    if global_rating is not None:
        n = len(protocol.global_rating)
        if not (isinstance(global_rating, int) and 1 <= global_rating <= n):
            raise FlannotError(f"the global rating must be 1 to {n}, not {global_rating!r}")
        label = protocol.global_rating[global_rating - 1]
    level = None
    if entrustment is not None:
        if entrustment not in protocol.entrustment:
            raise FlannotError(
                f"entrustment must be one of {', '.join(protocol.entrustment)}, not {entrustment!r}"
            )
        level = protocol.entrustment.index(entrustment) + 1
    auto = auto_checks(reference, attempt, result, tolerances)
    marks = []
    for item in protocol.rubric:
        mark = RubricMark(item.key, item.text)
        if item.key in auto:
            mark.done, mark.why = auto[item.key]
            mark.by = "auto"
        if ticks.get(item.key) is not None:
            if mark.by == "auto" and mark.done != ticks[item.key]:
                mark.why = f"educator overrode the automatic check ({mark.why})"
            mark.done, mark.by = bool(ticks[item.key]), "educator"
        marks.append(mark)
    return Assessment(
        educator=educator.strip(),
        time=time or utc_now(),
        rubric=marks,
        global_rating=global_rating,
        global_rating_label=label,
        entrustment=entrustment,
        entrustment_level=level,
        attempt=attempt_number,
    )


def save_assessment(attempt_file: str | os.PathLike[str], assessment: Assessment) -> Path:
    """Store ``assessment`` in the attempt file under ``"assessment"`` (atomic; the
    annotations and their ``modified`` time are left as they are)."""
    from flannot.model.case import Case

    case = Case.load(attempt_file)
    case.extra[ASSESSMENT_KEY] = assessment.to_dict()
    return case.save(touch=False)


def load_assessment(source: str | os.PathLike[str] | Mapping[str, Any] | Any) -> Assessment | None:
    """The assessment in an attempt file, its parsed JSON or a :class:`flannot.Case`
    (``None`` when there is none)."""
    if isinstance(source, (str, os.PathLike)):
        from flannot.model.case import Case

        data = Case.load(source).extra.get(ASSESSMENT_KEY)
    elif isinstance(source, Mapping):
        data = source.get(ASSESSMENT_KEY)
    else:
        data = getattr(source, "extra", {}).get(ASSESSMENT_KEY)
    return Assessment.from_dict(data) if isinstance(data, Mapping) else None
