"""A case's **decision**: proceed, or do not proceed and why (SPEC §6).

A teaching case may have the right answer "do not proceed" — no laminar shelf
to dock on, no epidurogram at the target level and side, a grade II slip. The
reference records it and a trainee's attempt records theirs::

    "decision": {"proceed": false, "reason": "no_laminar_shelf", "note": "…"}

``reason`` names one of the protocol's
:attr:`~flannot.protocols.base.Protocol.decision_reasons` (``null`` when the
case proceeds); ``note`` is free text. :func:`decision_from_truth` reads the
``"decision"`` key a phantom ``truth.json`` carries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flannot.errors import FlannotError

__all__ = [
    "Decision",
    "decision_choices",
    "decision_from_truth",
    "decision_problems",
    "with_truth_decision",
]


@dataclass(frozen=True)
class Decision:
    """Proceed or not, the reason (a protocol ``decision_reasons`` key) and a note."""

    proceed: bool
    reason: str | None = None
    note: str = ""

    @classmethod
    def from_dict(cls, data: Any, path: Any = None) -> Decision:
        """The decision of a case file's ``"decision"`` object.

        Raises
        ------
        FlannotError
            Not an object with a boolean ``proceed``.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("proceed"), bool):
            raise FlannotError("not a valid case file: $.decision needs a boolean 'proceed'", path)
        reason = data.get("reason")
        return cls(
            proceed=bool(data["proceed"]),
            reason=None if reason in (None, "") else str(reason),
            note=str(data.get("note") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``reason`` is ``null`` when none is given)."""
        return {"proceed": self.proceed, "reason": self.reason, "note": self.note}

    def words(self, protocol: Any = None) -> str:
        """``"proceed"`` or ``"do not proceed: <reason label>"`` for reports and docks."""
        if self.proceed:
            return "proceed"
        if not self.reason:
            return "do not proceed"
        found = None if protocol is None else protocol.decision_reason(self.reason)
        return f"do not proceed: {found.label if found is not None else self.reason}"


def decision_from_truth(truth: Mapping[str, Any]) -> Decision | None:
    """The reference decision a phantom ``truth.json`` declares, ``None`` when it has none.

    Parameters
    ----------
    truth
        The parsed ``truth.json``; its ``"decision"`` key is
        ``{"proceed": bool, "reason": str | null}`` (and optionally ``"note"``).

    Raises
    ------
    FlannotError
        A ``"decision"`` that is not such an object.
    """
    data = truth.get("decision") if isinstance(truth, Mapping) else None
    if data is None:
        return None
    return Decision.from_dict(data, "truth.json")


def with_truth_decision(case_data: dict[str, Any], truth: Mapping[str, Any]) -> dict[str, Any]:
    """``case_data`` (an ``annotations.json`` object) with the decision ``truth`` declares.

    The one call a sample generator needs: the reference answer key then carries the
    phantom's decision (``"decision"`` after ``"notes"``); without one in ``truth`` the
    case data is returned unchanged. Returns the same (mutated) dict.
    """
    decision = decision_from_truth(truth)
    if decision is not None:
        case_data["decision"] = decision.to_dict()
    return case_data


def decision_problems(decision: Decision | None, protocol: Any) -> list[tuple[str, str, str]]:
    """``(json path, message, severity)`` for a decision the protocol does not allow.

    A reason must be one of ``protocol.decision_reasons``; a "do not proceed"
    without a reason and a "proceed" with one are warnings.
    """
    if decision is None or protocol is None:
        return []
    keys = [r.key for r in getattr(protocol, "decision_reasons", ())]
    out: list[tuple[str, str, str]] = []
    if decision.reason is not None and decision.reason not in keys:
        known = ", ".join(keys) if keys else "none"
        out.append(
            (
                "$.decision.reason",
                f"unknown reason {decision.reason!r} for protocol {protocol.name} (known: {known})",
                "error",
            )
        )
    elif decision.proceed and decision.reason is not None:
        out.append(
            ("$.decision.reason", "a reason is given but the decision is to proceed", "warning")
        )
    elif not decision.proceed and decision.reason is None:
        out.append(("$.decision.reason", "do not proceed, but no reason given", "warning"))
    return out


def decision_choices(protocol: Any) -> list[tuple[str, Decision | None]]:
    """The choices a dock offers: not decided, proceed, and do not proceed for each reason.

    Returns
    -------
    list of (label, decision)
        ``("not decided", None)`` first, then ``("proceed", Decision(True))``, then
        ``("do not proceed: <label>", Decision(False, key))`` in the protocol's order.
    """
    out: list[tuple[str, Decision | None]] = [("not decided", None), ("proceed", Decision(True))]
    for r in getattr(protocol, "decision_reasons", ()):
        out.append((f"do not proceed: {r.label}", Decision(False, r.key)))
    return out
