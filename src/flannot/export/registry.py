"""Exporters by name (SPEC §9, §11): the built-in formats and plugins register alike.

An exporter is an :class:`Exporter` instance found through the
``flannot.exporters`` entry-point group (flannot's own five are declared there
too, and are always available even without installed metadata). A plugin that
fails to load is reported with a warning naming its entry point.

The work is split so that it runs the same serially, on local workers or on a
Dask cluster: :meth:`Exporter.prepare` (once, in the caller) → :meth:`Exporter.case_part`
(once per case, possibly in another process; returns records and ``files``,
writes nothing) → :meth:`Exporter.assemble` (once, in the caller; the set-level
files). :func:`flannot.export.export_set` writes every file atomically, in case order.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flannot.errors import FlannotError

__all__ = ["CaseInput", "Exporter", "available_exporters", "get_exporter"]


class CaseInput:
    """What an exporter gets for one case (in the worker that runs it).

    Attributes
    ----------
    set
        The :class:`flannot.teach.TeachingSet`.
    case_id
        The case.
    case
        Its :class:`flannot.Case` (the reference annotations).
    protocol
        The case's protocol (its declarations: colours, codes, region types …).
    """

    def __init__(self, ts: Any, case_id: str) -> None:
        from flannot.protocols import protocol_of

        self.set = ts
        self.case_id = case_id
        self.case = ts.case(case_id)
        self.protocol = protocol_of(self.case)
        self._image: Any = None

    @property
    def image(self) -> Any:
        """The case's :class:`flannot.FluoroImage` (read on first use)."""
        if self._image is None:
            self._image = self.case.load_image()
        return self._image

    def info(self, with_image: bool = False) -> dict[str, Any]:
        """:func:`flannot.export.jobs.case_info` — id, title, view, spacing, calibration."""
        from flannot.export.jobs import case_info

        return case_info(self.set, self.case_id, self.case, self.image if with_image else None)

    def shape(self) -> tuple[int, int]:
        """Image size from the case record, else from the DICOM header."""
        rows, cols = self.case.image.rows, self.case.image.columns
        if rows and cols:
            return int(rows), int(cols)
        return int(self.image.rows), int(self.image.cols)


class Exporter:
    """Base class of an export format: subclass it, name it, and declare it as a
    ``flannot.exporters`` entry point (an instance).

    Attributes
    ----------
    name
        The ``--format`` value.
    title
        One line for ``flannot export --help``.
    """

    name: str = ""
    title: str = ""

    def prepare(self, ts: Any, case_ids: list[str]) -> dict[str, Any]:
        """Options every case task needs (computed once; must be picklable)."""
        return {}

    def case_part(self, case: CaseInput, options: dict[str, Any]) -> dict[str, Any]:
        """Export one case: a dict with ``files`` (relative path → bytes) and any records
        :meth:`assemble` needs. Runs in a worker: write nothing here."""
        raise NotImplementedError

    def assemble(
        self, ts: Any, parts: list[dict[str, Any]], options: dict[str, Any]
    ) -> dict[str, bytes]:
        """Set-level files (relative path → bytes) from the case parts, in case order."""
        return {}

    def __repr__(self) -> str:
        return f"<flannot exporter {self.name!r}>"


@lru_cache(maxsize=1)
def _installed() -> tuple[Exporter, ...]:
    from flannot.export.formats import BUILTIN
    from flannot.protocols import load_entry_points

    found: dict[str, Exporter] = {e.name: e for e in BUILTIN}
    for obj in load_entry_points("flannot.exporters", Exporter).values():
        assert isinstance(obj, Exporter)
        found.setdefault(obj.name, obj)  # a plugin never replaces a built-in format
    return tuple(found.values())


def available_exporters() -> dict[str, Exporter]:
    """Every registered exporter by ``--format`` name (built-ins first)."""
    return {e.name: e for e in _installed()}


def get_exporter(name: str) -> Exporter:
    """The exporter called ``name`` (case-insensitive).

    Raises
    ------
    FlannotError
        No exporter of that name is registered (the message lists those that are).
    """
    found = available_exporters()
    ex = found.get(str(name).strip().lower())
    if ex is None:
        raise FlannotError(f"unknown export format {name!r}; choose one of {', '.join(found)}")
    return ex
