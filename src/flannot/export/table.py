"""CSV export: the SPEC §4 measurement table of every case of a set, in one file.

Each case's rows are measured and written as CSV lines in the worker
(:func:`case_csv`, without pandas: :func:`flannot.measure.rows.rows_to_csv` gives the
same text as the DataFrame's), so only text travels back and the caller joins it
under the header (:func:`assemble_csv`).
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


def _header() -> str:
    from flannot.measure.rows import rows_to_csv

    return rows_to_csv([])


def case_csv(case: Any) -> str:
    """The CSV lines of one case's rows, without the header."""
    from flannot.measure.rows import rows_to_csv

    return rows_to_csv(case_part(case))[len(_header()) :]


def assemble_csv(parts: list[str]) -> str:
    """CSV text: the header, then each case's lines (:func:`case_csv`) in set order."""
    return _header() + "".join(parts)


def assemble(parts: list[list[Any]]) -> str:
    """CSV text (header row, cases in set order) of the per-case rows."""
    from flannot.measure.rows import rows_to_csv

    return rows_to_csv(row for rows in parts for row in rows)
