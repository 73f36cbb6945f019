"""``flannot validate PATH`` — check a case file, case folder or teaching set (SPEC §3, §8)."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to the ``flannot`` app."""

    @app.command("validate")
    def validate(
        path: Path = typer.Argument(
            ..., help="annotations.json, a case folder, or a teaching-set folder."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the findings as JSON."),
        strict: bool = typer.Option(False, "--strict", help="Fail on warnings too."),
    ) -> None:
        """Check case files against the JSON Schema and the protocol (levels, order, geometry).

        Prints one line per problem, '<file>: <json path>: <message>', and a summary.
        Exit 0 when valid (warnings allowed unless --strict), 1 when problems were
        found, 2 when the input cannot be read.
        """
        from flannot.teach.set_validation import validate_path

        problems, n_files = validate_path(path)  # FlannotError → exit 2 in flannot.cli.main
        errors = [p for p in problems if p.severity == "error"]
        warnings = [p for p in problems if p.severity != "error"]
        failed = bool(errors) or (strict and bool(warnings))
        if as_json:
            report = {
                "path": str(path),
                "files": n_files,
                "valid": not failed,
                "errors": len(errors),
                "warnings": len(warnings),
                "problems": [
                    {
                        "file": getattr(p, "file", None),
                        "path": p.path,
                        "severity": p.severity,
                        "message": p.message,
                        "annotation_id": getattr(p, "annotation_id", None),
                    }
                    for p in problems
                ],
            }
            typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            for p in problems:
                typer.echo(str(p))
            files = f"{n_files} case file{'s' if n_files != 1 else ''}"
            if not problems:
                typer.echo(f"{path}: valid ({files})")
            else:
                typer.echo(
                    f"{path}: {'invalid' if failed else 'valid'}: {len(errors)} "
                    f"error{'s' if len(errors) != 1 else ''}, {len(warnings)} "
                    f"warning{'s' if len(warnings) != 1 else ''} in {files}"
                )
        if failed:
            raise typer.Exit(1)
