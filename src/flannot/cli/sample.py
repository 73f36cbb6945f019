"""``flannot sample OUT [--seed N]``: write the synthetic sample teaching set."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``sample`` command to ``app``."""

    @app.command("sample")
    def sample(
        out: Path = typer.Argument(..., help="Folder to write the teaching set into."),
        seed: int = typer.Option(
            0, "--seed", min=0, help="Noise/texture seed; the default reproduces sample_dicoms/."
        ),
        previews: Path | None = typer.Option(
            None, "--previews", help="Also write PNG previews (plain and annotated) here."
        ),
    ) -> None:
        """Write the synthetic lumbar-spine phantom teaching set (AP, lateral, obliques,
        cine) with reference annotations and truth.json; the same seed gives the same
        bytes."""
        from flannot.phantom import CASES, write_sample_set
        from flannot.phantom.course import V2_CASES

        write_sample_set(out, seed=seed)
        print(f"wrote {len(CASES) + len(V2_CASES)} cases to {out}")
        if previews is not None:
            from flannot.phantom.preview import write_previews

            written = write_previews(previews, seed=seed)
            print(f"wrote {len(written)} previews to {previews}")
