"""The measurement row (SPEC §4) and its DataFrame / CSV / JSON forms."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is asked for
    import pandas as pd

COLUMNS = (
    "case_id",
    "frame",
    "annotation_id",
    "type",
    "level",
    "side",
    "name",
    "value",
    "unit",
    "calibration",
)


@dataclass(frozen=True)
class Row:
    """One measured value, flag or grade. Flags and grades have ``unit == ""``."""

    case_id: str
    frame: int
    annotation_id: str
    type: str
    level: str | None
    side: str | None
    name: str
    value: float | bool | str
    unit: str
    calibration: str


class RowMaker:
    """Builds rows for one annotation: the annotation's identity is filled in once."""

    def __init__(self, case_id: str, ann: Any, calibration: str, level: str | None = None):
        self._base = (
            str(case_id),
            int(getattr(ann, "frame", 0) or 0),
            str(ann.id),
            str(ann.type),
            level if level is not None else getattr(ann, "level", None),
            getattr(ann, "side", None),
        )
        self._calibration = calibration

    def __call__(self, name: str, value: float | bool | str, unit: str = "") -> Row:
        if isinstance(value, (bool, np.bool_)):
            value = bool(value)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            value = float(value)
        return Row(*self._base, name, value, unit, self._calibration)


def to_frame(rows: Iterable[Row]) -> pd.DataFrame:
    """Rows → DataFrame with exactly the SPEC §4 columns (``value`` is an object column)."""
    import pandas as pd

    get = attrgetter(*COLUMNS)
    records = [get(r) for r in rows]
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    df["frame"] = df["frame"].astype("int64")
    df["value"] = df["value"].astype(object)
    return df


def _plain(value: Any) -> Any:
    """A JSON-safe Python value: numpy scalars unwrapped, NaN/inf/None/NA → ``None``."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or type(value).__name__ == "NAType":  # pandas.NA
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame → list of row dicts with plain JSON-safe values, in column order."""
    cols = list(df.columns)
    return [
        {c: _plain(v) for c, v in zip(cols, row, strict=True)}
        for row in df.itertuples(index=False, name=None)
    ]


def to_json(df: pd.DataFrame, indent: int | None = 2) -> str:
    """A JSON array of row objects (SPEC §4: ``--json``); NaN → ``null``."""
    return json.dumps(to_records(df), indent=indent, ensure_ascii=False, allow_nan=False)


def to_csv(df: pd.DataFrame) -> str:
    """CSV text with a header row; flags are written ``true``/``false`` like in JSON."""
    out = df.copy()
    out["value"] = [
        ("true" if v else "false") if isinstance(v, (bool, np.bool_)) else _plain(v)
        for v in out["value"]
    ]
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def rows_to_records(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Rows → the records :func:`to_records` gives for their DataFrame (no pandas)."""
    get = attrgetter(*COLUMNS)
    return [{c: _plain(v) for c, v in zip(COLUMNS, get(r), strict=True)} for r in rows]


def rows_to_json(rows: Iterable[Row], indent: int | None = 2) -> str:
    """The text :func:`to_json` gives for the rows' DataFrame, without pandas."""
    return json.dumps(rows_to_records(rows), indent=indent, ensure_ascii=False, allow_nan=False)


def rows_to_csv(rows: Iterable[Row]) -> str:
    """The text :func:`to_csv` gives for the rows' DataFrame, without pandas."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    get = attrgetter(*COLUMNS)
    for r in rows:
        cells = []
        for c, v in zip(COLUMNS, get(r), strict=True):
            if c == "value" and isinstance(v, (bool, np.bool_)):
                cells.append("true" if v else "false")
                continue
            v = _plain(v)
            cells.append("" if v is None else str(int(v)) if c == "frame" else str(v))
        writer.writerow(cells)
    return buf.getvalue()
