"""``flannot export SET --format coco|masks|csv|html|dicom --out DIR`` (SPEC §9 exports)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer


def format_help() -> str:
    """Every registered exporter with its one-line title (built-ins and plugins)."""
    from flannot.export.registry import available_exporters

    return "; ".join(f"{e.name}: {e.title}" for e in available_exporters().values()) + "."


class _Bar:
    """A tqdm bar on stderr when it is a terminal; nothing in a pipe (SPEC §8)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.label, unit="case", file=sys.stderr)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to the ``flannot`` app."""

    @app.command("export")
    def export_cmd(
        set_dir: Path = typer.Argument(..., metavar="SET", help="Teaching-set folder."),
        fmt: str = typer.Option(..., "--format", "-f", help=format_help()),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder (created)."),
        scheduler: str | None = typer.Option(
            None,
            "--scheduler",
            help="Dask scheduler address, e.g. tcp://host:8786 (then --workers is ignored).",
        ),
        workers: int | None = typer.Option(
            None, "--workers", "-j", help="Local worker processes (default: 1, serial)."
        ),
    ) -> None:
        """Export every case of a teaching set (SPEC §9).

        Renderings are 8-bit PNGs with the image's default window and the case's
        redaction rectangles blanked. The output is the same bytes whether it ran
        serially, with --workers N or on a Dask cluster (--scheduler). --format dicom
        writes a DICOM SEG (regions) and SR (TID 1500 measurements) per case.
        """
        from flannot.export import export_set

        bar = _Bar(f"export {fmt}")
        try:
            result = export_set(
                set_dir, fmt, out, scheduler=scheduler, workers=workers, progress=bar
            )
        finally:
            bar.close()
        typer.echo(
            f"exported {result['cases']} case(s) as {result['format']}: "
            f"{len(result['files'])} file(s) in {result['out']}"
        )
