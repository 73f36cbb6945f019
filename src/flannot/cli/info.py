"""``flannot info FILE|DIR [--json]`` — what flannot reads from a DICOM file or series folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def format_info(info: dict[str, Any]) -> str:
    """A short aligned table of :meth:`FluoroImage.info`; mm only when calibrated."""
    spacing = info["pixel_spacing_mm"]
    if spacing is None:
        spacing_text = "none (pixels only)"
    else:
        # the calibration goes wherever a number in mm is shown (SPEC §2)
        spacing_text = (
            f"{spacing[0]:.4g} x {spacing[1]:.4g} mm (row x column, {info['calibration']})"
        )
    ft = info["frame_time_ms"]
    rows: list[tuple[str, str]] = [
        ("file", info["path"] + (f" ({info['files']} files)" if info["files"] > 1 else "")),
        ("modality", info["modality"] or "-"),
        ("view", f"{info['view']} ({info['view_source']})"),
        ("frames", str(info["frames"])),
        ("rows", str(info["rows"])),
        ("columns", str(info["columns"])),
        ("pixel spacing", spacing_text),
        ("calibration", f"{info['calibration']}: {info['calibration_note']}"),
        ("spacing from", info["calibration_source"]),
        (
            "photometric",
            info["photometric_interpretation"]
            + (" (inverted for display)" if info["inverted"] else ""),
        ),
        ("transfer syntax", f"{info['transfer_syntax_name']} ({info['transfer_syntax_uid']})"),
        ("decoder", info["decoder"]),
        ("pixel type", f"{info['dtype']} (stored {info['stored_dtype']})"),
    ]
    for i, w in enumerate(info["windows"]):
        label = "windows" if i == 0 else ""
        rows.append((label, f"C {w['center']:.6g} / W {w['width']:.6g}  {w['explanation']}"))
    rows.append(("VOI LUT function", info["voi_lut_function"]))
    rows.append(("frame time", "-" if ft is None else f"{ft:.4g} ms"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def register(app: typer.Typer) -> None:
    """Add the ``info`` command to the ``flannot`` app."""

    @app.command("info")
    def info(
        path: Path = typer.Argument(..., help="A DICOM file or a folder of one series."),
        as_json: bool = typer.Option(False, "--json", help="Print the facts as JSON."),
    ) -> None:
        """Show modality, view, frames, size, pixel spacing and its calibration, transfer
        syntax and window presets. Millimetres are shown only for calibrated images.
        """
        from flannot.io import read_dicom

        image = read_dicom(path)  # FlannotError → one line on stderr, exit 2
        facts = image.info()
        if as_json:
            typer.echo(json.dumps(facts, indent=2, ensure_ascii=False, allow_nan=False))
        else:
            typer.echo(format_info(facts))
