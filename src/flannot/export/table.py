"""CSV export: the SPEC §4 measurement table of every case of a set, in one file.

The rows travel as :class:`flannot.measure.rows.Row` objects and the CSV is written
without pandas (:func:`flannot.measure.rows.rows_to_csv`: the same text as the
DataFrame's), so a worker neither imports pandas nor pickles a DataFrame.
"""

from __future__ import annotations

from typing import Any

CSV_FILE = "measurements.csv"


def case_part(case: Any) -> list[Any]:
    """The measurement rows of one case (:func:`flannot.measure.measure_rows`)."""
    from flannot.measure import measure_rows

    return measure_rows(case)


def assemble(parts: list[list[Any]]) -> str:
    """CSV text (header row, cases in set order) of the per-case rows."""
    from flannot.measure.rows import rows_to_csv

    return rows_to_csv(row for rows in parts for row in rows)
