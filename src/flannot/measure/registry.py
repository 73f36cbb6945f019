"""Measurement kinds by name: what a protocol's :class:`~flannot.protocols.Measurement` runs.

A protocol declares, per annotation type, which measurement kinds apply
(``Measurement("band")``, ``Measurement("tip_to_line", "tip_to_x", "x_line")``:
the signed distance from a tip to the nearest line of type ``x_line``);
:func:`flannot.measure.measure_rows` looks each
kind up here. The built-in kinds live in the small per-kind modules of this
package and register themselves with :func:`register`; a plugin adds a kind the
same way, with no core edit.

A kind is a function ``fn(ctx, ann, row, spec) -> list[Row]``: ``ctx`` is the
:class:`~flannot.measure.context.Context` of the image the annotation is on,
``row`` a :class:`~flannot.measure.rows.RowMaker` for the annotation, ``spec``
the declaring :class:`~flannot.protocols.Measurement`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flannot.measure.rows import Row

MeasureFn = Callable[[Any, Any, Any, Any], list[Row]]

_KINDS: dict[str, MeasureFn] = {}


def register(kind: str) -> Callable[[MeasureFn], MeasureFn]:
    """Decorator: register ``fn`` as the measurement kind ``kind``.

    Examples
    --------
    >>> from flannot.measure.registry import register
    >>> @register("path_length")  # doctest: +SKIP
    ... def path_length(ctx, ann, row, spec):
    ...     return [row(spec.name or "length", 12.0, ctx.units.length)]
    """

    def deco(fn: MeasureFn) -> MeasureFn:
        _KINDS[kind] = fn
        return fn

    return deco


def kind(name: str) -> MeasureFn | None:
    """The function registered as ``name`` (``None`` when unknown)."""
    _load_builtins()
    return _KINDS.get(name)


def kinds() -> tuple[str, ...]:
    """Every registered kind, sorted."""
    _load_builtins()
    return tuple(sorted(_KINDS))


_BUILTINS_LOADED = False


def _load_builtins() -> None:
    # importing the modules registers their kinds; once (kind() runs for every measurement)
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    from flannot.measure import (  # noqa: F401
        canal,
        cannula,
        flags,
        interlaminar,
        ligamentum,
        vertebra,
    )

    _BUILTINS_LOADED = True
