"""``flannot deidentify IN OUT`` — PS3.15 Basic Application Confidentiality Profile (SPEC §7)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from flannot.errors import FlannotError


def register(app: typer.Typer) -> None:
    """Add the ``deidentify`` command to the ``flannot`` app."""

    @app.command("deidentify")
    def deidentify_cmd(
        inp: Path = typer.Argument(..., metavar="IN", help="DICOM file or folder (recursive)."),
        out: Path = typer.Argument(..., metavar="OUT", help="Output file or folder."),
        retain: list[str] = typer.Option(
            [],
            "--retain",
            help="Retain option (repeatable): patient-characteristics, modified-dates, "
            "full-dates, device-identity, institution-identity, uids.",
        ),
        salt_file: Path | None = typer.Option(
            None,
            "--salt-file",
            help="Secret for UID remapping and date shifting (created when missing); "
            "reuse it to map later files the same way. Default: a new secret per run.",
        ),
        as_json: bool = typer.Option(False, "--json", help="Print a per-file JSON report."),
    ) -> None:
        """De-identify DICOM: remove/blank identifiers (PS3.15 Table E.1-1), remove private
        tags, remap UIDs with a secret, flag burned-in annotation risk.

        Folders are mirrored; non-DICOM files are skipped and reported. Exit 0 when every
        DICOM file was de-identified, 1 when some failed, 2 on bad input.
        """
        from flannot.deid import UidMap, deidentify, load_secret

        options: list[str] = []
        for r in retain:
            options += [x for x in r.replace(",", " ").split() if x]
        uid_map = UidMap(load_secret(salt_file)) if salt_file is not None else UidMap()
        if sys.stderr.isatty() and inp.is_dir():  # a bar on a terminal, quiet in a pipe
            with typer.progressbar(length=1, label="de-identifying", file=sys.stderr) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                report = deidentify(inp, out, options=options, uid_map=uid_map, progress=progress)
        else:
            report = deidentify(inp, out, options=options, uid_map=uid_map)
        if not report.files:  # like every other command: nothing to work on is bad input
            raise FlannotError("no DICOM or other files found to de-identify", inp)
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=2))
        else:
            for f in report.files:
                if f.status == "deidentified":
                    risk = (
                        f"; burned-in risk {f.burned_in_risk}: check the pixels"
                        if f.burned_in_flagged
                        else ""
                    )
                    typer.echo(
                        f"{f.input} -> {f.output}: {sum(f.actions.values())} actions, "
                        f"{f.uid_remaps} UIDs remapped{risk}"
                    )
                else:
                    typer.echo(f"{f.input}: {f.status}: {f.reason}")
            done = sum(f.status == "deidentified" for f in report.files)
            typer.echo(f"de-identified {done} of {len(report.files)} file(s)")
        if not report.ok:
            raise typer.Exit(1)
