"""Scoring a case's decision: proceed, or do not proceed and why (SPEC §6).

Safety first: a trainee who proceeds — says so, or draws a portal or another
working instrument — where the reference says **do not proceed** fails the
``decision`` item, and :func:`flannot.teach.feedback.sort_items` lists it above
everything else. A "do not proceed" that matches the reference is followed by a
``decision_reason`` item: the reason must be the reference's.

A missing decision is read as follows: with a working instrument drawn the
trainee proceeded; with none, when the reference proceeds, nothing is graded
(proceeding is the default), but when it does not, the case fails for want of
the decision.
"""

from __future__ import annotations

from typing import Any

from flannot.protocols import Role

__all__ = ["attempt_proceeds", "decision_items"]


def _item(metric: str, value: Any, passed: bool, message: str) -> Any:
    from flannot.teach.score import ScoreItem

    return ScoreItem(None, None, None, None, metric, value, "", passed, message)


def attempt_proceeds(protocol: Any, attempt: Any) -> tuple[bool | None, str]:
    """Whether the attempt proceeds, and how we know (``"decision"``/``"instrument"``/``""``).

    An explicit decision wins; without one, a drawn instrument that is not a
    work-up instrument (the protocol's ``workup_instruments``: the epidurogram
    needle) means the trainee went ahead; otherwise ``None``.
    """
    decision = getattr(attempt, "decision", None)
    if decision is not None:
        return bool(decision.proceed), "decision"
    instruments = set(protocol.names_with_role(Role.INSTRUMENT))
    workup = set(getattr(protocol, "workup_instruments", ()))
    for a in attempt.annotations:
        if a.type in instruments and (getattr(a, "instrument", None) or "") not in workup:
            return True, "instrument"
    return None, ""


def _label(protocol: Any, key: str | None) -> str:
    found = None if key is None else protocol.decision_reason(key)
    return found.label if found is not None else str(key or "no reason")


def decision_items(protocol: Any, reference: Any, attempt: Any) -> list[Any]:
    """The ``decision`` (and ``decision_reason``) items of one case; none without a reference
    decision.

    ``decision``'s value is whether the attempt proceeds (``null``: not recorded);
    ``decision_reason``'s is the attempt's reason key.
    """
    ref = getattr(reference, "decision", None)
    if ref is None:
        return []
    proceeds, how = attempt_proceeds(protocol, attempt)
    if ref.proceed:
        if proceeds is False:
            mine = _label(protocol, attempt.decision.reason)
            criteria = "; ".join(r.label for r in protocol.decision_reasons) or "none"
            return [
                _item(
                    "decision", False, False,
                    f"you decided not to proceed ({mine}), but this case can proceed: the "
                    f"reference finds none of the do-not-proceed criteria ({criteria})",
                )
            ]  # fmt: skip
        if proceeds is None:
            return [_item("decision", None, True, "no decision recorded; this case proceeds")]
        return [_item("decision", True, True, "proceed: right, this case can proceed")]
    reason = protocol.decision_reason(ref.reason) if ref.reason else None
    why = reason.label if reason is not None else "see the case notes"
    action = ""
    if reason is not None and reason.action:
        action = " — " + reason.action.removeprefix("do not proceed: ")
    if proceeds:
        did = "placed a working instrument" if how == "instrument" else "decided to proceed"
        return [
            _item(
                "decision", True, False,
                f"SAFETY: you {did}, but this case must not proceed: {why}{action}",
            )
        ]  # fmt: skip
    if proceeds is None:
        return [
            _item(
                "decision", None, False,
                f"no decision recorded: this case must not proceed ({why}); record "
                "'do not proceed' and the reason",
            )
        ]  # fmt: skip
    items = [_item("decision", False, True, f"do not proceed: right ({why})")]
    given = attempt.decision.reason
    if ref.reason is None:
        return items
    if given == ref.reason:
        items.append(_item("decision_reason", given, True, f"reason right: {why}"))
    elif not given:
        items.append(
            _item("decision_reason", None, False, f"no reason given; the reason here is: {why}")
        )
    else:
        items.append(
            _item(
                "decision_reason", given, False,
                f"you gave '{_label(protocol, given)}'; the reason here is: {why}",
            )
        )  # fmt: skip
    return items
