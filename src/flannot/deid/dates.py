"""Date shifting for the Retain Longitudinal Temporal Information with Modified Dates option.

Every DA and the date part of every DT listed in Table E.1-1 with the option is moved
by the same whole number of days for a whole set (the offset comes from the set's
secret), so intervals between studies survive while real dates do not. Times of day
are kept: a whole-day shift does not move them. A value that is not a valid date is
emptied rather than passed through.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any, cast


def shift_da(value: str, days: int) -> str:
    """Shift a DA value (``YYYYMMDD``, or a ``A-B`` range) by ``days``; ``""`` when invalid."""
    value = value.strip()
    if not value:
        return ""
    if "-" in value:  # range matching form (queries); shift both ends
        a, _, b = value.partition("-")
        a2 = shift_da(a, days) if a else ""
        b2 = shift_da(b, days) if b else ""
        if (a and not a2) or (b and not b2):
            return ""
        return f"{a2}-{b2}"
    try:
        d = _dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        return ""
    if len(value) != 8:
        return ""
    return (d + _dt.timedelta(days=days)).strftime("%Y%m%d")


def shift_dt(value: str, days: int) -> str:
    """Shift the date part of a DT value (``YYYYMMDD[HHMMSS[.F]][&ZZXX]``) by ``days``."""
    value = value.strip()
    if not value:
        return ""
    if len(value) < 8:  # year or year-month precision: drop, cannot shift by days
        return ""
    date = shift_da(value[:8], days)
    return date + value[8:] if date else ""


def shift_value(value: object, vr: str, days: int) -> object:
    """Shift a DA/DT element value (single or multi-valued); other VRs unchanged."""
    fn = {"DA": shift_da, "DT": shift_dt}.get(vr)
    if fn is None or value is None:
        return value
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [fn(str(v), days) for v in cast(Iterable[Any], value)]
    return fn(str(value), days)
