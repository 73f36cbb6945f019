"""CSV export: the SPEC §4 measurement table of every case of a set, in one file."""

from __future__ import annotations

from typing import Any

import pandas as pd

CSV_FILE = "measurements.csv"


def case_part(case: Any) -> pd.DataFrame:
    """The measurement rows of one case (:func:`flannot.measure.measure`), then its decision.

    A case that records a decision gets a case-level row (``annotation_id`` and
    ``type`` empty): ``name`` ``proceed``, a JSON boolean, and when it is "do not
    proceed" with a reason, ``decision_reason`` with the protocol's reason key.
    """
    from flannot.measure import measure
    from flannot.measure.rows import Row, to_frame

    df = measure(case)
    decision = getattr(case, "decision", None)
    if decision is None:
        return df
    cal = str(getattr(case.image, "calibration", "") or "")
    rows = [Row(str(case.case_id), 0, "", "", None, None, "proceed", decision.proceed, "", cal)]
    if decision.reason is not None:
        rows.append(
            Row(
                str(case.case_id),
                0,
                "",
                "",
                None,
                None,
                "decision_reason",
                decision.reason,
                "",
                cal,
            )
        )
    extra = to_frame(rows)
    return pd.concat([df, extra], ignore_index=True) if len(df) else extra


def assemble(parts: list[pd.DataFrame]) -> str:
    """CSV text (header row, cases in set order) of the per-case tables."""
    from flannot.measure import COLUMNS
    from flannot.measure.rows import to_csv, to_frame

    frames = [p for p in parts if len(p)]
    df = pd.concat(frames, ignore_index=True) if frames else to_frame([])
    return to_csv(df[list(COLUMNS)])
