"""Forms that mirror CLI commands, built with magicgui (SPEC §12).

Each form is a ``magic_factory`` over a typed function whose parameters are named
exactly like the command's (``flannot export``, ``flannot deidentify``, ``flannot set
new``) and which calls the same core function the command calls — so the form and the
command cannot drift apart (``tests/napari/test_forms.py`` checks the names). They hold
no rules: results and errors are reported as napari notifications.
"""

import os
from collections.abc import Callable
from pathlib import Path

from magicgui import magic_factory

from flannot.errors import FlannotError


def _notify(text: str, error: bool = False) -> None:
    from napari.utils.notifications import show_error, show_info

    (show_error if error else show_info)(text)


def _run(what: str, work: Callable[[], str]) -> str:
    """Run ``work``; its text (or ``what failed: why``) becomes a notification."""
    try:
        text = work()
    except (FlannotError, OSError) as exc:
        _notify(f"{what} failed: {exc}", error=True)
        return ""
    _notify(text)
    return text


def _exporters(widget: object = None) -> list[str]:
    from flannot.export import available_exporters

    return list(available_exporters())


def _protocols(widget: object = None) -> list[str]:
    from flannot.protocols import available_protocols

    return sorted(available_protocols())


def _retain_options(widget: object = None) -> list[str]:
    from flannot.deid import OPTIONS

    return list(OPTIONS)


@magic_factory(
    call_button="Export",
    set_dir={"label": "Teaching set", "mode": "d"},
    fmt={"label": "Format", "widget_type": "ComboBox", "choices": _exporters},
    out={"label": "Output folder", "mode": "d"},
    workers={"label": "Workers", "min": 1, "max": max(1, os.cpu_count() or 1)},
)
def export_form(
    set_dir: Path = Path("."), fmt: str = "coco", out: Path = Path("export"), workers: int = 1
) -> str:
    """``flannot export SET --format FMT --out DIR --workers N``."""
    from flannot.export import export_set

    def work() -> str:
        result = export_set(set_dir, fmt, out, workers=workers)
        return f"exported {result['cases']} case(s) as {result['format']} into {result['out']}"

    return _run("export", work)


@magic_factory(
    call_button="De-identify",
    inp={"label": "DICOM file or folder", "mode": "r"},
    out={"label": "Output", "mode": "d"},
    retain={"label": "Retain", "widget_type": "Select", "choices": _retain_options},
    salt_file={"label": "Secret (optional)", "mode": "r"},
)
def deidentify_form(
    inp: Path = Path("."),
    out: Path = Path("deidentified"),
    retain: list[str] | None = None,
    salt_file: Path | None = None,
) -> str:
    """``flannot deidentify IN OUT [--retain …] [--salt-file F]`` (PS3.15 Basic Profile)."""
    from flannot.deid import UidMap, deidentify, load_secret

    target = out / inp.name if inp.is_file() else out  # the form picks a folder

    def work() -> str:
        uid_map = UidMap(load_secret(salt_file)) if salt_file else UidMap()
        report = deidentify(inp, target, options=list(retain or []), uid_map=uid_map)
        done = sum(1 for f in report.files if f.status == "deidentified")
        risky = sum(1 for f in report.files if getattr(f, "burned_in_flagged", False))
        text = f"de-identified {done} of {len(report.files)} file(s) into {out}"
        return text + (f"; {risky} may have burned-in text: check the pixels" if risky else "")

    return _run("de-identification", work)


@magic_factory(
    call_button="Create set",
    folder={"label": "New (empty) folder", "mode": "d"},
    protocol={"label": "Protocol", "widget_type": "ComboBox", "choices": _protocols},
)
def new_set_form(
    folder: Path = Path("new-set"), name: str = "", description: str = "", protocol: str = "mild"
) -> str:
    """``flannot set new DIR [--name] [--description] [--protocol]``."""
    from flannot.teach.teaching_set import TeachingSet

    def work() -> str:
        ts = TeachingSet.new(folder, name or None, description=description, protocol=protocol)
        return f"created teaching set {ts.name!r} in {folder}"

    return _run("creating the set", work)
