"""magicgui forms mirror their CLI commands: same parameter names, same core call."""

from __future__ import annotations

import inspect
import json
import shutil
from pathlib import Path

import pydicom
import pytest
import typer

from flannot.cli import _build_app
from flannot.napari._qt import forms
from tests.deid.identified import make_xa, write

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms"


def _cli_params(*path: str) -> set[str]:
    cmd = typer.main.get_command(_build_app())
    for name in path:
        cmd = cmd.commands[name]
    return {p.name for p in cmd.params}


@pytest.mark.parametrize(
    ("form", "command"),
    [
        (forms.export_form, ("export",)),
        (forms.deidentify_form, ("deidentify",)),
        (forms.new_set_form, ("set", "new")),
    ],
)
def test_every_form_field_is_an_option_of_its_command(form, command):
    fields = set(inspect.signature(form.keywords["function"]).parameters)
    assert fields <= _cli_params(*command), fields - _cli_params(*command)


@pytest.mark.gui
def test_export_form_runs_the_export(qtbot, tmp_path):
    widget = forms.export_form()
    assert "nnunet" in widget.fmt.choices and "coco" in widget.fmt.choices  # the registry
    widget.set_dir.value = SAMPLE
    widget.fmt.value = "csv"
    widget.out.value = tmp_path / "out"
    text = widget()
    assert "exported 16 case(s) as csv" in text  # 6 v1 + 7 v2 + 3 CT-derived cases
    assert (tmp_path / "out" / "measurements.csv").read_text().startswith("case_id,")


@pytest.mark.gui
def test_deidentify_form_removes_identifiers(qtbot, tmp_path):
    src = write(make_xa(0, n_frames=1), tmp_path / "in" / "a.dcm")
    widget = forms.deidentify_form()
    widget.inp.value = src
    widget.out.value = tmp_path / "out"
    widget.retain.value = ["patient-characteristics"]
    assert "de-identified 1 of 1" in widget()
    out = tmp_path / "out" / "a.dcm"  # a file goes into the chosen folder
    ds = pydicom.dcmread(out)
    assert ds.PatientIdentityRemoved == "YES"
    assert str(ds.PatientName) != str(pydicom.dcmread(src).PatientName)


@pytest.mark.gui
def test_new_set_form_creates_a_set_and_reports_a_bad_folder(qtbot, tmp_path):
    widget = forms.new_set_form()
    assert "esi" in widget.protocol.choices  # plugin protocols are offered
    widget.folder.value = tmp_path / "course"
    widget["name"].value = "Spring course"
    widget.protocol.value = "esi"
    assert "created teaching set 'Spring course'" in widget()
    data = json.loads((tmp_path / "course" / "flannot-set.json").read_text())
    assert data["protocol"] == "esi" and data["name"] == "Spring course"
    shutil.copy(tmp_path / "course" / "flannot-set.json", tmp_path / "course" / "x.json")
    assert widget() == ""  # not empty any more: refused, reported, nothing raised
