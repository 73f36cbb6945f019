"""``flannot pacs find|pull|push`` — a PACS over DICOMweb (SPEC §17, §8).

Credentials only from the environment: ``FLANNOT_PACS_TOKEN`` (bearer) or
``FLANNOT_PACS_USER`` + ``FLANNOT_PACS_PASSWORD`` (HTTP basic).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

AUTH_HELP = (
    "Credentials come from the environment only: FLANNOT_PACS_TOKEN (bearer) or "
    "FLANNOT_PACS_USER and FLANNOT_PACS_PASSWORD (HTTP basic). TLS certificates are verified; "
    "REQUESTS_CA_BUNDLE names a private CA."
)

pacs_app = typer.Typer(
    name="pacs",
    help="Find studies on a PACS, pull them into a teaching set, push SEG/SR back (DICOMweb). "
    + AUTH_HELP,
    no_args_is_help=True,
)

_URL = typer.Argument(..., metavar="URL", help="DICOMweb base URL, e.g. http://host:8042/dicom-web")
_TIMEOUT = typer.Option(30.0, "--timeout", help="Seconds to wait for the server.", min=0.01)


class _Bar:
    """A tqdm bar on stderr when it is a terminal; nothing in a pipe (SPEC §8)."""

    def __init__(self, label: str, unit: str) -> None:
        self.label, self.unit, self.bar = label, unit, None

    def __call__(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=self.label, unit=self.unit, file=sys.stderr)
        bar: Any = self.bar
        bar.update(done - bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _client(url: str, timeout: float) -> Any:
    from flannot.pacs.client import PacsClient

    return PacsClient(url, timeout=timeout)


@pacs_app.command("find")
def find(
    url: str = _URL,
    patient: str | None = typer.Option(
        None, "--patient", metavar="NAME|ID", help="Part of the patient name, or the patient ID."
    ),
    study_date: str | None = typer.Option(
        None,
        "--study-date",
        metavar="RANGE",
        help="YYYYMMDD, YYYYMMDD-YYYYMMDD, YYYYMMDD-, -YYYYMMDD.",
    ),
    modality: str | None = typer.Option(None, "--modality", help="XA, RF, DX or CR."),
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="List at most N studies."),
    as_json: bool = typer.Option(False, "--json", help="Print the studies as JSON."),
    timeout: float = _TIMEOUT,
) -> None:
    """List studies (QIDO-RS), newest first."""
    from flannot.pacs.find import find_studies

    with _client(url, timeout) as pacs:
        studies = find_studies(
            pacs, patient=patient, study_date=study_date, modality=modality, limit=limit
        )
    if as_json:
        typer.echo(
            json.dumps({"url": pacs.url, "studies": [s.to_dict() for s in studies]}, indent=2)
        )
        return
    if not studies:
        typer.echo("no studies found")
        return
    for s in studies:
        mods = "/".join(s.modalities) or "-"
        counts = f"{s.series if s.series is not None else '?'} series, " + (
            f"{s.instances if s.instances is not None else '?'} instances"
        )
        typer.echo(
            f"{s.study_uid}  {s.date or '----------'}  {mods:<6} {counts}  "
            f"{s.patient_name or '-'} ({s.patient_id or '-'})  {s.description}".rstrip()
        )


@pacs_app.command("pull")
def pull(
    url: str = _URL,
    study: str = typer.Option(..., "--study", metavar="UID", help="Study Instance UID."),
    series: str | None = typer.Option(None, "--series", metavar="UID", help="Only this series."),
    into: Path = typer.Option(..., "--into", metavar="SET", help="Teaching-set folder."),
    retain: list[str] = typer.Option(
        [], "--retain", help="De-identification retain option (repeatable), as for 'set add'."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    timeout: float = _TIMEOUT,
) -> None:
    """Retrieve a study (WADO-RS) into a teaching set, de-identified as 'set add' does.

    Nothing is written to the set unless the whole study arrived and every case could
    be added.
    """
    from flannot.pacs.pull import pull_study

    options: list[str] = []
    for opt in retain:
        options += [x for x in opt.replace(",", " ").split() if x]
    bar = _Bar("pull", "instance")
    try:
        with _client(url, timeout) as pacs:
            result = pull_study(pacs, study, into, series_uid=series, options=options, progress=bar)
    finally:
        bar.close()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    typer.echo(
        f"pulled {result.instances} instance(s) ({result.bytes / 1e6:.1f} MB) of study "
        f"{result.study_uid} into {result.set_dir}"
    )
    for r in result.cases:
        flag = (
            f"; burned-in risk {r['burned_in_risk']}: check the pixels and draw redactions"
            if r["burned_in_flagged"]
            else ""
        )
        typer.echo(f"added {r['case_id']} ({r['files']} file(s), de-identified){flag}")
    if result.skipped:
        typer.echo(f"skipped {len(result.skipped)} object(s) that are not images")


@pacs_app.command("push")
def push(
    set_dir: Path = typer.Argument(..., metavar="SET", help="Teaching-set folder."),
    url: str = _URL,
    fmt: str = typer.Option("dicom", "--format", "-f", help="dicom (SEG + SR per case)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    timeout: float = _TIMEOUT,
) -> None:
    """Store the set's SEG/SR export on the PACS (STOW-RS); exit 1 if any file was rejected."""
    from flannot.pacs.push import push_set

    bar = _Bar("push", "file")
    try:
        with _client(url, timeout) as pacs:
            result = push_set(set_dir, pacs, fmt=fmt, progress=bar)
    finally:
        bar.close()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        for rel, sop in result.accepted:
            typer.echo(f"accepted {rel} ({sop})")
        for rel, sop, reason in result.rejected:
            typer.echo(f"rejected {rel} ({sop}): {reason}")
        typer.echo(
            f"{len(result.accepted)} accepted, {len(result.rejected)} rejected by {result.url}"
        )
    if result.rejected:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``pacs`` sub-commands to the ``flannot`` app."""
    app.add_typer(pacs_app, name="pacs")
