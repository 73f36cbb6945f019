"""CSV export: the SPEC §4 measurement table of every case of a set, in one file."""

from __future__ import annotations

from typing import Any

import pandas as pd

CSV_FILE = "measurements.csv"


def case_part(case: Any) -> pd.DataFrame:
    """The measurement rows of one case (:func:`flannot.measure.measure`)."""
    from flannot.measure import measure

    return measure(case)


def assemble(parts: list[pd.DataFrame]) -> str:
    """CSV text (header row, cases in set order) of the per-case tables."""
    from flannot.measure import COLUMNS
    from flannot.measure.rows import to_csv, to_frame

    frames = [p for p in parts if len(p)]
    df = pd.concat(frames, ignore_index=True) if frames else to_frame([])
    return to_csv(df[list(COLUMNS)])
