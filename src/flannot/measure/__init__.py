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
from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from flannot.errors import FlannotError
from flannot.measure import registry
from flannot.measure.context import Context, norm_level, rasterize_together
from flannot.measure.rows import COLUMNS, Row, RowMaker, to_csv, to_frame, to_json, to_records
from flannot.measure.units import Units, resolve_units

if TYPE_CHECKING:  # pandas is imported when measure() builds its DataFrame
    import pandas as pd

__all__ = [
    "COLUMNS",
    "Units",
    "contexts",
    "measure",
    "measure_rows",
    "measure_rows_many",
    "resolve_units",
    "to_csv",
    "to_json",
    "to_records",
]

PLANNING = "planning"  # Annotation.image of annotations on the planning slice


def contexts(case: Any, image: Any = None, protocol: Any = None) -> dict[str, Context]:
    """One :class:`Context` per image of the case: ``"image"`` and, if any, ``"planning"``.

    The planning slice has its own spacing and calibration; only there are
    ``planning_only`` criteria applied (an axial CT/MR slice, SPEC §4).
    """
    from flannot.model.case import is_axial_planning

    on_planning = [a for a in case.annotations if getattr(a, "image", None) == PLANNING]
    main = [a for a in case.annotations if getattr(a, "image", None) != PLANNING]
    cid = str(case.case_id)
    out = {
        "image": Context(
            cid,
            resolve_units(SimpleNamespace(image=image or case.image, annotations=main)),
            main,
            protocol,
        )
    }
    planning = getattr(case, "planning", None)
    if on_planning or planning is not None:
        units = resolve_units(SimpleNamespace(image=planning, annotations=on_planning))
        out[PLANNING] = Context(
            cid, units, on_planning, protocol, planning=is_axial_planning(planning)
        )
    return out


def measure_rows(case: Any, image: Any = None) -> list[Row]:
    """The measurement rows of ``case`` as :class:`~flannot.measure.rows.Row` objects.

    What is measured for each annotation is what its type declares in the case's
    protocol (:class:`flannot.protocols.Measurement`); types that declare nothing
    give no rows.

    Raises
    ------
    FlannotError
        The case names a protocol that is not installed, a protocol names an
        unknown measurement kind, or an annotation's geometry is malformed.
    """
    return measure_rows_many([case], image)[0]


def measure_rows_many(cases: Sequence[Any], image: Any = None) -> list[list[Row]]:
    """:func:`measure_rows` of each case; their ligamentum-flavum bands measured together.

    The rows are those :func:`measure_rows` gives case by case; the exact band
    geometry (:func:`flannot.measure.regions.band_thickness_many`) just runs once
    for every polygon band of the cases instead of once per band.
    """
    from flannot.protocols import protocol_of

    prepared = []
    for case in cases:
        protocol = protocol_of(case)
        prepared.append(
            (case, protocol, _measured(case, protocol, contexts(case, image, protocol)))
        )
    _bands_ahead(prepared)
    return [_rows(case, protocol, todo) for case, protocol, todo in prepared]


_Todo = list[tuple[Any, Any, Context]]  # (annotation, its protocol type, its image's context)


def _measured(case: Any, protocol: Any, ctxs: dict[str, Context]) -> _Todo:
    """The annotations of ``case`` whose type declares measurements, in order, each with
    its type and the context of the image it is on (looked up once for the bands and
    the rows)."""
    todo = []
    for ann in case.annotations:
        atype = protocol.find_type(ann.type)
        if atype is None or not atype.measurements:
            continue
        todo.append(
            (ann, atype, ctxs[PLANNING if getattr(ann, "image", None) == PLANNING else "image"])
        )
    return todo


def _bands_ahead(prepared: list[tuple[Any, Any, _Todo]]) -> None:
    """Measure every polygon band of ``prepared`` together, into each context's ``bands``."""
    from flannot.measure import ligamentum, regions

    if registry.kind("band") is not ligamentum.measure_band:  # a plugin's own "band"
        return
    bands = []
    for _case, _protocol, todo in prepared:
        for ann, atype, ctx in todo:
            if getattr(ann.geometry, "kind", None) == "mask":
                continue
            if not any(
                m.kind == "band" and (ctx.planning or not m.planning_only)
                for m in atype.measurements
            ):
                continue
            try:
                region = ctx.region(ann)
            except ValueError:  # malformed: measured (and reported) on its own
                continue
            if region is not None and region.polygon is not None:
                bands.append((ctx, ann, region))
    try:
        rasterize_together([region for _, _, region in bands])
    except ValueError:
        pass  # each band builds (and reports on) its own raster below
    jobs = []
    for ctx, ann, region in bands:
        try:
            jobs.append((ctx, ann, (region.raster, region.dist, ctx.spacing, region.polygon)))
        except ValueError:  # malformed: measured (and reported) on its own
            continue
    if not jobs:
        return
    try:
        results = regions.band_thickness_many([job[2] for job in jobs])
    except ValueError:
        return  # one band the geometry refuses: each is measured on its own, and reported
    for (ctx, ann, _), value in zip(jobs, results, strict=True):
        ctx.bands[id(ann)] = value


def _rows(case: Any, protocol: Any, todo: _Todo) -> list[Row]:
    rows: list[Row] = []
    for ann, atype, ctx in todo:
        maker = RowMaker(ctx.case_id, ann, ctx.units.calibration, level=norm_level(ann.level))
        for spec in atype.measurements:
            if spec.planning_only and not ctx.planning:
                continue  # an MR/CT criterion is never applied to a projection
            fn = registry.kind(spec.kind)
            if fn is None:
                raise FlannotError(
                    f"protocol {protocol.name!r}: {ann.type} declares an unknown measurement "
                    f"kind {spec.kind!r} (known: {', '.join(registry.kinds())})"
                )
            try:
                new = fn(ctx, ann, maker, spec)
            except ValueError as exc:  # malformed geometry (e.g. a bad RLE)
                raise FlannotError(f"annotation {ann.id!r}: {exc}", _case_path(case)) from exc
            for r in new:
                ctx.values.setdefault((str(ann.id), r.name), r.value)
            rows.extend(new)
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
