"""``flannot report SET [--html DIR] [--csv|--json]`` — the course report (SPEC §16)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to the ``flannot`` app."""

    @app.command("report")
    def report_cmd(
        teaching_set: Path = typer.Argument(
            ..., metavar="SET", help="Teaching set folder with attempts/<trainee>/ inside."
        ),
        html: Path | None = typer.Option(
            None,
            "--html",
            metavar="DIR",
            help="Write DIR/index.html with plots (static: no scripts, no network) and "
            "every table as DIR/<table>.csv.",
        ),
        as_csv: bool = typer.Option(False, "--csv", help="Print one table as CSV (see --table)."),
        as_json: bool = typer.Option(False, "--json", help="Print every table as JSON."),
        table: str = typer.Option(
            "trainees",
            "--table",
            help="Table for --csv: trainees, cases, levels, errors, checks, assessments, "
            "agreement or boundaries.",
        ),
    ) -> None:
        """Course report: per trainee (pass rate, learning curve, safety failures,
        wrong-level errors, rubric and entrustment), per case (difficulty, most common
        errors), level-offset confusion and inter-rater agreement of answer keys.

        Reads SET/attempts/<trainee>/<case-id>.history.jsonl (every Check, kept by
        the Quiz dock and 'flannot score --record'), the attempt files and
        SET/keys/<rater>/<case-id>.json.
        """
        from flannot.cli import error
        from flannot.teach.report import TABLES, course_report, human_lines

        if as_csv and as_json:
            raise error("--csv and --json: choose one")
        if table not in TABLES:
            raise error(f"--table {table!r}: not one of {', '.join(TABLES)}")
        rep = course_report(teaching_set)
        if html is not None:
            from flannot.teach.report_html import write_html

            page = write_html(rep, html)
            typer.echo(f"wrote {page}", err=as_csv or as_json)
        if as_json:
            typer.echo(rep.to_json())
        elif as_csv:
            typer.echo(rep.table(table).to_csv(index=False), nl=False)
        elif html is None:
            for line in human_lines(rep):
                typer.echo(line)
