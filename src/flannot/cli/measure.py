"""``flannot measure PATH [--json|--csv]`` — SPEC §4 measurements of a case or a teaching set."""

from __future__ import annotations

import contextlib
import math
import sys
from pathlib import Path
from typing import Any

import typer

from flannot.errors import FlannotError
from flannot.model.case import case_files

_BATCH = 64  # cases measured together (their bands in one pass)


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.2f}"
    return "" if value is None else str(value)


def _table(rows: list[Any]) -> list[str]:
    cols = ["frame", "annotation_id", "type", "level", "side", "name", "value", "unit"]
    cells = [[_fmt(getattr(r, c)) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    right = {"frame", "value"}

    def line(items: list[str]) -> str:
        return "  ".join(
            s.rjust(w) if c in right else s.ljust(w)
            for s, w, c in zip(items, widths, cols, strict=True)
        ).rstrip()

    return [line(cols), line(["-" * w for w in widths]), *(line(r) for r in cells)]


def _header(case: Any, units: Any) -> list[str]:
    from flannot.io.calibration import WARNINGS as WARN_CALIBRATIONS

    if units.calibrated:
        sr, sc = units.spacing
        spacing = f"pixel spacing {sr:.4g} x {sc:.4g} mm (row x col)"
    else:
        spacing = "no pixel spacing"
    out = [f"case {case.case_id}: calibration {units.calibration}, {spacing}"]
    warn = WARN_CALIBRATIONS.get(units.calibration)
    if warn:
        out.append(f"warning: {units.calibration}: {warn}")
    return out


def _progress(files: list[Path]) -> Any:
    """A progress bar over the case files on a terminal (stderr); quiet in a pipe (SPEC §8)."""
    if len(files) > 1 and sys.stderr.isatty():
        return typer.progressbar(files, label="measuring", file=sys.stderr)
    return contextlib.nullcontext(files)


def register(app: typer.Typer) -> None:
    """Add the ``measure`` command to the ``flannot`` app."""

    @app.command("measure")
    def measure_cmd(
        path: Path = typer.Argument(
            ..., help="annotations.json, a case folder, or a teaching-set folder."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON array of rows."),
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV with a header row."),
    ) -> None:
        """Measure the annotations of a case or of every case of a teaching set (SPEC §4).

        One row per value: case_id, frame, annotation_id, type, level, side, name,
        value, unit, calibration. Lengths are in mm only when the image is
        calibrated (px otherwise); the calibration is printed with them.
        """
        # no pandas here: rows go straight to JSON/CSV/text (the same text as through
        # a DataFrame, see flannot.measure.rows), so the command starts fast
        from flannot.measure import measure_rows_many, resolve_units
        from flannot.measure.rows import rows_to_csv, rows_to_json
        from flannot.model.case import Case

        if as_json and as_csv:
            raise FlannotError("--json and --csv cannot be used together")
        all_rows: list[Any] = []
        headers: list[tuple[list[str], list[Any]]] = []
        files = case_files(path)
        batch: list[Any] = []

        def measure_batch() -> None:  # the bands of a batch of cases are measured together
            for case, rows in zip(batch, measure_rows_many(batch), strict=True):
                all_rows.extend(rows)
                if not (as_json or as_csv):
                    headers.append((_header(case, resolve_units(case)), rows))
            batch.clear()

        with _progress(files) as todo:
            for file in todo:
                batch.append(Case.load(file))
                if len(batch) == _BATCH:
                    measure_batch()
        measure_batch()
        if as_json or as_csv:
            typer.echo(rows_to_json(all_rows) if as_json else rows_to_csv(all_rows), nl=as_json)
            return
        if not headers:
            typer.echo(f"{path}: no cases")
        for i, (lines, case_rows) in enumerate(headers):
            if i:
                typer.echo("")
            for ln in lines:
                typer.echo(ln)
            if not case_rows:
                typer.echo("(no measurable annotations)")
            else:
                for ln in _table(case_rows):
                    typer.echo(ln)
