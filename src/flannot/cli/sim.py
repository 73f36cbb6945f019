"""``flannot sim``: the virtual C-arm — simulated fluoroscopy cases from CT (SPEC §15)."""

from __future__ import annotations

from pathlib import Path

import typer

from flannot.errors import FlannotError


def _angles(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise FlannotError(
            f"--angles {text!r}: give PRIMARY,SECONDARY in degrees, e.g. 180,0 or -135,-5"
        ) from None


def register(app: typer.Typer) -> None:
    """Add the ``sim`` command to the ``flannot`` app."""

    @app.command("sim")
    def sim_cmd(
        ct: Path | None = typer.Argument(
            None, metavar="CT", help="CT volume: NIfTI (.nii/.nii.gz) or a DICOM series folder."
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Case folder (or folder of cases)."),
        labels: Path | None = typer.Option(None, "--labels", help="Vertebra labelmap (CT grid)."),
        label_map: str = typer.Option(
            "totalsegmentator", "--label-map", help="totalsegmentator, verse or a JSON file."
        ),
        view: str | None = typer.Option(
            None, "--view", help="ap, lateral, clo-left[:DEG], clo-right[:DEG], oblique-left…"
        ),
        angles: str | None = typer.Option(
            None, "--angles", help="DICOM positioner PRIMARY,SECONDARY degrees (LAO+, CRAN+)."
        ),
        target: str | None = typer.Option(None, "--target", help="Isocentre vertebra, e.g. L4."),
        sid: float = typer.Option(1000.0, "--sid", help="Source to detector, mm."),
        sod: float = typer.Option(700.0, "--sod", help="Source to isocentre, mm."),
        detector: int = typer.Option(512, "--detector", help="Detector pixels per side."),
        pixel: float = typer.Option(0.6, "--pixel", help="Detector pixel pitch, mm."),
        kvp: float = typer.Option(80.0, "--kvp", help="Tube voltage, kV."),
        seed: int = typer.Option(0, "--seed", help="Quantum-noise seed (same seed, same bytes)."),
        position: str = typer.Option("prone", "--position", help="prone (default) or supine."),
        manifest: Path | None = typer.Option(
            None, "--manifest", help="CSV/JSON of ct, labels, views…: many cases into --out."
        ),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Dask scheduler address for --manifest."
        ),
        workers: int | None = typer.Option(
            None, "--workers", "-j", help="Local worker processes for --manifest."
        ),
    ) -> None:
        """Simulate a fluoroscopy shot from CT as a case folder (SPEC §15).

        Writes image.dcm (XA), annotations.json (the answer key: projected vertebra
        centroids, outlines, spinous tips, pedicles; image.projection) and truth.json.
        Angles are DICOM's, relative to the patient: a prone AP is primary 180.
        """
        from flannot.sim.case import SimRequest, simulate, write_case

        settings = {
            "sid": sid,
            "sod": sod,
            "detector": detector,
            "pixel": pixel,
            "kvp": kvp,
            "position": position,
        }
        if manifest is not None:
            if ct is not None:
                raise FlannotError("give either a CT or --manifest, not both")
            from flannot.cli.export import _Bar
            from flannot.sim.batch import run_manifest

            if target:
                settings["target"] = target
            bar = _Bar("sim")
            try:
                cases = run_manifest(
                    manifest,
                    out,
                    settings=settings,
                    scheduler=scheduler,
                    workers=workers,
                    progress=bar,
                )
            finally:
                bar.close()
            typer.echo(f"simulated {len(cases)} case(s) into {out}")
            return
        if ct is None:
            raise FlannotError("give a CT volume (or --manifest FILE)")
        req = SimRequest(
            ct=str(ct),
            labels=str(labels) if labels else None,
            label_map=label_map,
            view=view,
            angles=_angles(angles),
            target=target,
            sid=sid,
            sod=sod,
            detector=detector,
            pixel=pixel,
            kvp=kvp,
            seed=seed,
            position=position,
        )
        case = simulate(req)
        write_case(case.files, out)
        x = case.annotations["x_sim"]
        n = sum(1 for a in case.annotations["annotations"] if a["type"] == "vertebra")
        typer.echo(
            f"{out}: {x['view'] or 'angles'} (primary {x['primary_deg']:g}, secondary "
            f"{x['secondary_deg']:g} deg, {position}), {n} vertebra(e) in the answer key"
        )
