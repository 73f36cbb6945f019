"""SPEC §4 measurements on a case: ``measure(case, image=None) -> pandas.DataFrame``.

>>> import flannot
>>> case = flannot.Case.load("sample_dicoms/cases/lateral")  # doctest: +SKIP
>>> flannot.measure(case).query("name == 'max_thickness'")  # doctest: +SKIP

One row per value with the columns ``case_id, frame, annotation_id, type,
level, side, name, value, unit, calibration``. See ``docs/measurements.md``
for what each name means, its formula and its clinical thresholds.

``flannot.measure`` is this package and is callable: ``flannot.measure(case)``,
``from flannot import measure; measure(case)`` and ``flannot.measure.measure(case)``
run the same function whatever was imported first (the module's class forwards
calls, and ``flannot`` exports the package rather than the function).
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

import pandas as pd

from flannot.errors import FlannotError
from flannot.measure.canal import measure_canal
from flannot.measure.cannula import measure_cannula
from flannot.measure.context import Context, norm_level
from flannot.measure.interlaminar import measure_interlaminar
from flannot.measure.ligamentum import measure_ligamentum
from flannot.measure.rows import COLUMNS, Row, RowMaker, to_csv, to_frame, to_json, to_records
from flannot.measure.units import Units, resolve_units
from flannot.measure.vertebra import measure_vertebra

__all__ = [
    "COLUMNS",
    "Units",
    "measure",
    "measure_rows",
    "resolve_units",
    "to_csv",
    "to_json",
    "to_records",
]

MEASURES: dict[str, Callable[[Context, Any, RowMaker], list[Row]]] = {
    "ligamentum_flavum": measure_ligamentum,
    "spinal_canal": measure_canal,
    "cannula": measure_cannula,
    "vertebra": measure_vertebra,
    "interlaminar_space": measure_interlaminar,
}


def measure_rows(case: Any, image: Any = None) -> list[Row]:
    """The measurement rows of ``case`` as :class:`~flannot.measure.rows.Row` objects."""
    units = resolve_units(case, image)
    ctx = Context(str(case.case_id), units, list(case.annotations))
    rows: list[Row] = []
    for ann in ctx.annotations:
        fn = MEASURES.get(ann.type)
        if fn is None:
            continue
        maker = RowMaker(ctx.case_id, ann, units.calibration, level=norm_level(ann.level))
        try:
            rows.extend(fn(ctx, ann, maker))
        except ValueError as exc:  # malformed geometry (e.g. a bad RLE)
            raise FlannotError(f"annotation {ann.id!r}: {exc}", _case_path(case)) from exc
    return rows


def measure(case: Any, image: Any = None) -> pd.DataFrame:
    """Measure every annotation of a case (SPEC §4).

    Parameters
    ----------
    case
        A :class:`flannot.Case`, or the path of a case file / case folder.
    image
        Optional :class:`flannot.FluoroImage` the case was drawn on; its spacing
        and calibration win over the case file's image record. A ``calibration``
        annotation (a line with ``length_mm``) overrides both as ``user``.

    Returns
    -------
    pandas.DataFrame
        Columns ``case_id, frame, annotation_id, type, level, side, name, value,
        unit, calibration``; ``value`` holds floats, booleans (flags) and
        lower-case strings (grades). Lengths are ``mm`` only when calibrated,
        otherwise ``px``.
    """
    if isinstance(case, (str, os.PathLike)):
        from flannot.model.case import Case

        case = Case.load(case)
    return to_frame(measure_rows(case, image))


def _case_path(case: Any) -> str | None:
    path = getattr(case, "path", None) or getattr(case, "source", None)
    return None if path is None else str(path)


class _CallableModule(types.ModuleType):
    """``flannot.measure`` names both this package and its function (SPEC §4).

    Importing the package (``from flannot.measure import …``) binds the
    *module* to ``flannot.measure``, which would shadow the lazily exported
    function; calling the module forwards to :func:`measure`, so
    ``flannot.measure(case)`` works whatever was imported first.
    """

    def __call__(self, case: Any, image: Any = None) -> pd.DataFrame:
        return measure(case, image)


sys.modules[__name__].__class__ = _CallableModule
