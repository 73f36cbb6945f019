"""``flannot sample OUT [--seed N] [--with-ct]``: write the sample teaching set."""

from __future__ import annotations

import sys
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
        with_ct: bool = typer.Option(
            False,
            "--with-ct",
            help="Also write the CT-derived cases (ct-totalseg-l4-ap/-lateral/-clo-left) from "
            "the TotalSegmentator example CT, as in sample_dicoms/; needs it cached (make "
            "sample fetches it). Off by default, so the output never depends on a cache.",
        ),
        ct_cache: Path | None = typer.Option(
            None,
            "--ct-cache",
            help="Folder holding example_ct.nii.gz and totalseg.nii.gz (default: "
            "$FLANNOT_TEST_DATA or ~/.cache/flannot-test-data, totalsegmentator-2.18.0/).",
        ),
        phantom: bool = typer.Option(
            True, "--phantom/--no-phantom", help="Write the phantom cases (--no-phantom: CT only)."
        ),
    ) -> None:
        """Write the sample teaching set: the synthetic lumbar-spine phantom (AP, lateral,
        obliques, cine, the v2 MILD course) and, with --with-ct, three views of a real CT;
        reference annotations and truth.json; the same seed gives the same bytes."""
        from flannot.errors import FlannotError

        if not phantom and not with_ct:
            raise FlannotError("--no-phantom writes nothing without --with-ct")
        if with_ct:  # fail on a missing CT before writing anything
            from flannot.sim.sample_ct import reference_ct

            reference_ct(ct_cache)
        if phantom:
            from flannot.phantom import CASES, write_sample_set
            from flannot.phantom.course import V2_CASES

            write_sample_set(out, seed=seed)
            print(f"wrote {len(CASES) + len(V2_CASES)} cases to {out}")
            if not with_ct and (out / "cases" / "ct-totalseg-l4-ap").is_dir():
                print(  # sample_dicoms/ regenerated the old way: the set drops its CT cases
                    f"note: {out} holds CT-derived cases the set no longer lists; "
                    "add --with-ct (make sample) to keep them",
                    file=sys.stderr,
                )
        if with_ct:
            from flannot.sim.sample_ct import write_ct_cases

            ct_ids = write_ct_cases(out, ct_cache, seed=seed)
            print(f"wrote {len(ct_ids)} CT-derived cases to {out}")
        if previews is not None:
            from flannot.phantom.preview import write_previews

            written = write_previews(previews, seed=seed) if phantom else []
            if with_ct:
                from flannot.sim.sample_ct import write_ct_previews

                written += write_ct_previews(out, previews)
            print(f"wrote {len(written)} previews to {previews}")
