"""CSV export: the SPEC §4 measurement table of every case of a set, in one file.

The rows travel as :class:`flannot.measure.rows.Row` objects and the CSV is written
without pandas (:func:`flannot.measure.rows.rows_to_csv`: the same text as the
DataFrame's), so a worker neither imports pandas nor pickles a DataFrame.
"""

from __future__ import annotations

from typing import Any

CSV_FILE = "measurements.csv"


def case_part(case: Any) -> list[Any]:
    """The measurement rows of one case (:func:`flannot.measure.measure_rows`), then its decision.

    A case that records a decision gets a case-level row (``annotation_id`` and
    ``type`` empty): ``name`` ``proceed``, a JSON boolean, and when it is "do not
    proceed" with a reason, ``decision_reason`` with the protocol's reason key.
    """
    from flannot.measure import measure_rows
    from flannot.measure.rows import Row

    rows = list(measure_rows(case))
    decision = getattr(case, "decision", None)
    if decision is None:
        return rows
    cal = str(getattr(case.image, "calibration", "") or "")
    cid = str(case.case_id)
    rows.append(Row(cid, 0, "", "", None, None, "proceed", decision.proceed, "", cal))
    if decision.reason is not None:
        rows.append(Row(cid, 0, "", "", None, None, "decision_reason", decision.reason, "", cal))
    return rows


def assemble(parts: list[list[Any]]) -> str:
    """CSV text (header row, cases in set order) of the per-case rows."""
    from flannot.measure.rows import rows_to_csv

    return rows_to_csv(row for rows in parts for row in rows)
