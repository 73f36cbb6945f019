"""A read-only Qt table model over a pandas DataFrame (the measurement table of SPEC §4)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from qtpy.QtCore import QAbstractTableModel, QModelIndex, Qt

from flannot.measure import COLUMNS as MEASURE_COLUMNS  # the SPEC §4 row layout


def format_value(value: Any) -> str:
    """Text for one table cell: floats to 2 decimals, flags as ``true``/``false``, NA blank.

    Parameters
    ----------
    value
        A cell of the measurement DataFrame.

    Returns
    -------
    str
        What the table and the clipboard show.
    """
    if value is None:
        return ""
    if isinstance(value, bool):  # before the number check: bool is an int
        return "true" if value else "false"
    if hasattr(value, "dtype") and getattr(value.dtype, "kind", "") == "b":  # numpy.bool_
        return "true" if bool(value) else "false"
    if isinstance(value, float) or (hasattr(value, "dtype") and value.dtype.kind == "f"):
        v = float(value)
        return "" if math.isnan(v) else f"{v:.2f}"
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # arrays/lists are not NA
        pass
    return str(value)


class DataFrameModel(QAbstractTableModel):
    """Show a DataFrame in a ``QTableView``; the frame is replaced wholesale on refresh.

    Parameters
    ----------
    df
        Initial table; an empty SPEC §4 table when omitted.
    parent
        Qt parent.
    """

    def __init__(self, df: pd.DataFrame | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self._df = df if df is not None else pd.DataFrame(columns=list(MEASURE_COLUMNS))
        self._text = self._format(self._df)

    # --- data access -----------------------------------------------------------------------
    @property
    def dataframe(self) -> pd.DataFrame:
        """The frame shown (do not modify in place; call :meth:`set_dataframe`)."""
        return self._df

    def set_dataframe(self, df: pd.DataFrame) -> None:
        """Replace the table's content, keeping the columns of an empty frame when needed."""
        if df is None or (df.empty and len(df.columns) == 0):
            df = pd.DataFrame(columns=list(MEASURE_COLUMNS))
        self.beginResetModel()
        self._df = df.reset_index(drop=True)
        self._text = self._format(self._df)
        self.endResetModel()

    @staticmethod
    def _format(df: pd.DataFrame) -> list[list[str]]:
        """Cell texts, formatted once per refresh (Qt asks for them many times)."""
        return [[format_value(v) for v in row] for row in df.itertuples(index=False, name=None)]

    def row_dict(self, row: int) -> dict[str, Any]:
        """Row ``row`` as a ``{column: value}`` dict."""
        return self._df.iloc[row].to_dict()

    def to_tsv(self, rows: list[int] | None = None) -> str:
        """Tab-separated text with a header line, of ``rows`` (all rows when ``None``).

        Cells are formatted as shown in the table so a paste into a spreadsheet matches it.
        """
        picked = range(len(self._text)) if rows is None else sorted(set(rows))
        lines = ["\t".join(str(c) for c in self._df.columns)]
        lines += ["\t".join(self._text[r]) for r in picked]
        return "\n".join(lines) + "\n"

    # --- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._df)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._df.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if self._df.columns[index.column()] in ("value", "frame"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and self._df.columns[index.column()] == "value":
            return repr(self._df.iat[index.row(), index.column()])  # full precision on hover
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return str(self._df.columns[section]) if section < len(self._df.columns) else None
        return str(section + 1)


# --- connection lifetime (shared by the Measure and Teaching set docks) ----------------------
def qt_alive(obj: Any) -> bool:
    """Whether the C++ side of a Qt object still exists (binding-agnostic)."""
    try:
        obj.objectName()
    except RuntimeError:  # "wrapped C/C++ object ... has been deleted"
        return False
    return True


def connect_while_alive(widget: Any, pairs: list[tuple[Any, Any]]) -> None:
    """Connect ``(signal, callback)`` pairs and disconnect them all when ``widget`` is destroyed.

    The session and the viewer outlive a closed dock; without this they would call into a
    deleted widget. Works for psygnal signals and napari event emitters alike.
    """
    for signal, callback in pairs:
        signal.connect(callback)
    widget.destroyed.connect(lambda *_: disconnect_all(pairs))


def disconnect_all(pairs: list[tuple[Any, Any]]) -> None:
    """Disconnect ``(signal, callback)`` pairs and empty the list (in place)."""
    for signal, callback in pairs:
        try:
            signal.disconnect(callback)
        except (RuntimeError, TypeError, ValueError):  # already gone with its layer
            pass
    pairs.clear()
