"""``flannot set new|title|add|import|export`` — teaching sets (SPEC §5, §8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from flannot.errors import FlannotError

set_app = typer.Typer(
    name="set",
    help="Create teaching sets, add de-identified DICOM, import/export zips.",
    no_args_is_help=True,
)


@set_app.command("new")
def new(
    folder: Path = typer.Argument(..., metavar="DIR", help="New (or empty) folder."),
    name: str | None = typer.Option(None, "--name", help="Set name (default: folder name)."),
    description: str = typer.Option("", "--description", help="Set description."),
    protocol: str = typer.Option("mild", "--protocol", help="Procedure protocol."),
) -> None:
    """Create an empty teaching set."""
    from flannot.teach.teaching_set import TeachingSet

    ts = TeachingSet.new(folder, name, description=description, protocol=protocol)
    typer.echo(f"created teaching set {ts.name!r} in {ts.root}")


@set_app.command("title")
def title(
    folder: Path = typer.Argument(..., metavar="DIR", help="Teaching-set folder."),
    text: str = typer.Argument(..., metavar="TEXT", help="The new title."),
    case: str | None = typer.Option(
        None, "--case", help="Case id to rename (default: the set itself)."
    ),
) -> None:
    """Rename a teaching set, or one of its cases with --case."""
    from flannot.teach.teaching_set import TeachingSet

    ts = TeachingSet.open(folder)
    ts.set_title(text, case)
    ts.save()
    what = f"case {case!r}" if case is not None else "the set"
    typer.echo(f"{what} is now titled {text.strip()!r}")


@set_app.command("add")
def add(
    folder: Path = typer.Argument(..., metavar="DIR", help="Teaching-set folder."),
    dicoms: list[Path] = typer.Argument(
        None, metavar="DICOM...", help="DICOM files or series folders (one case each)."
    ),
    ct: Path | None = typer.Option(
        None, "--ct", help="A CT (NIfTI or DICOM series folder): a C-arm training case."
    ),
    labels: Path | None = typer.Option(
        None, "--labels", help="With --ct: its vertebra labelmap on the same grid."
    ),
    label_map: str = typer.Option(
        "totalsegmentator", "--label-map", help="With --ct: totalsegmentator, verse or a JSON."
    ),
    target: str | None = typer.Option(None, "--target", help="With --ct: level, e.g. L4-L5."),
    side: str | None = typer.Option(None, "--side", help="With --ct: left or right."),
    views: str = typer.Option(
        "ap,clo-left", "--views", help="With --ct: the protocol's views to obtain, in order."
    ),
    budget: int | None = typer.Option(None, "--budget", help="With --ct: shot budget."),
    no_deidentify: bool = typer.Option(
        False, "--no-deidentify", help="Copy as is (only for data that is already anonymous)."
    ),
    case_id: str | None = typer.Option(None, "--case-id", help="Case id (one DICOM only)."),
    retain: list[str] = typer.Option(
        [],
        "--retain",
        help="De-identification retain option (repeatable): patient-characteristics, "
        "modified-dates, full-dates, device-identity, institution-identity, uids.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the per-case report as JSON."),
) -> None:
    """Copy DICOM into the set as new cases, de-identified by default; with --ct, add a
    CT-backed C-arm training case (SPEC §15) instead."""
    from flannot.teach.teaching_set import TeachingSet

    if ct is not None:
        from flannot.teach.ct_case import add_ct_case

        if dicoms or labels is None or target is None:
            raise FlannotError("--ct needs --labels and --target, and no DICOM arguments")
        task: dict[str, Any] = {
            "target": target,
            "side": side,
            "views": [v.strip() for v in views.split(",") if v.strip()],
            "shot_budget": budget,
            "label_map": label_map,
        }
        cid = add_ct_case(folder, ct, labels, task, case_id=case_id)
        typer.echo(f"added {cid} (CT-backed training case: {target}, views {views})")
        return
    if not dicoms:
        raise FlannotError("give DICOM files or series folders to add (or --ct)")
    options: list[str] = []
    for opt in retain:
        options += [x for x in opt.replace(",", " ").split() if x]
    ts = TeachingSet.open(folder)
    reports = ts.add_dicom(
        dicoms, deidentify=not no_deidentify, case_id=case_id, options=options, save=True
    )
    if as_json:
        typer.echo(json.dumps(reports, indent=2))
        return
    for r in reports:
        flag = (
            f"; burned-in risk {r['burned_in_risk']}: check the pixels and draw redactions"
            if r["burned_in_flagged"]
            else ""
        )
        what = "de-identified" if r["deidentified"] else "copied (NOT de-identified)"
        typer.echo(f"added {r['case_id']} ({r['files']} file(s), {what}){flag}")


@set_app.command("import")
def import_cmd(
    zip_path: Path = typer.Argument(..., metavar="ZIP", help="Zipped teaching set."),
    folder: Path = typer.Argument(..., metavar="DIR", help="New (or empty) folder."),
) -> None:
    """Unpack a zipped teaching set safely (never writes outside DIR)."""
    from flannot.teach.zipio import import_set

    ts = import_set(zip_path, folder)
    typer.echo(f"imported teaching set {ts.name!r} ({len(ts.cases)} cases) into {ts.root}")


@set_app.command("export")
def export_cmd(
    folder: Path = typer.Argument(..., metavar="DIR", help="Teaching-set folder."),
    zip_path: Path = typer.Argument(..., metavar="ZIP", help="Zip file to write."),
    allow_identified: bool = typer.Option(
        False,
        "--allow-identified",
        help="Also ship images without Patient Identity Removed = YES.",
    ),
) -> None:
    """Zip a teaching set (its de-identification secret is left out; redactions applied)."""
    from flannot.teach.zipio import export_set

    out = export_set(folder, zip_path, allow_identified=allow_identified)
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add the ``set`` sub-commands to the ``flannot`` app."""
    app.add_typer(set_app, name="set")
