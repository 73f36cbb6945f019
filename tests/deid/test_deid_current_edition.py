"""Table E.1-1 of the current edition, and the rules beyond it: what survived main does not."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
from identified import SECRET, make_xa, write
from pydicom.dataset import Dataset

from flannot.cli import main
from flannot.deid import deidentify
from flannot.deid.actions import EDITION, TABLE

ROOT = Path(__file__).resolve().parents[2]


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "99LOCAL", meaning
    return item


def _survivors_xa(tmp_path: Path) -> Path:
    """An XA carrying what the campaign saw survive de-identification on real files."""
    ds = make_xa(0)
    ds.InstanceCreationTime = "113015"
    ds.ProcedureCodeSequence = [_code("P1", "Lumbar procedure for Doe")]
    ds.RequestedProcedureCodeSequence = [_code("R1", "MILD requested by Dr Roe")]
    ds.PerformedProtocolCodeSequence = [_code("PP1", "Protocol of Doe")]
    ds.ContrastBolusStartTime = "101500"
    ds.ContrastBolusStopTime = "101730"
    ds.add_new(0x00082127, "SH", "DOE LATERAL")  # View Name
    ds.add_new(0x00540400, "SH", "DOE-IMG-7")  # Image ID
    return write(ds, tmp_path / "in" / "s.dcm")


def test_the_table_is_the_current_edition() -> None:
    assert EDITION == "2026c"
    assert len(TABLE) >= 600  # the 2021 transcription had 456 rows
    for tag in (0x00080013, 0x00181042, 0x00181043):  # Instance Creation Time, Bolus times
        assert tag in TABLE, hex(tag)


def test_survivors_of_main_do_not_survive(tmp_path: Path) -> None:
    src = _survivors_xa(tmp_path)
    out = tmp_path / "out.dcm"
    deidentify(src, out, secret=SECRET)
    raw = out.read_bytes()
    for text in ("Doe", "DOE", "Roe", "113015", "101500", "101730"):
        assert text.encode() not in raw, text
    ds = pydicom.dcmread(out)
    for kw in ("ProcedureCodeSequence", "RequestedProcedureCodeSequence"):
        assert kw not in ds, kw
    assert "PerformedProtocolCodeSequence" not in ds


def test_edition_in_the_json_report_and_the_method(tmp_path: Path, capsys) -> None:
    src = _survivors_xa(tmp_path)
    code = main(["deidentify", str(src), str(tmp_path / "o.dcm"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["table_edition"] == "2026c"
    assert report["files"][0]["table_edition"] == "2026c"
    method = list(pydicom.dcmread(tmp_path / "o.dcm").DeidentificationMethod)
    assert "DICOM PS3.15 2026c Table E.1-1" in method
    assert all(len(m) <= 64 for m in method)  # LO


def _dciodvfy_errors(path: Path) -> list[str]:
    exe = shutil.which("dciodvfy")
    assert exe, "dciodvfy not found: run tools/system-deps.sh (Debian package dicom3tools)"
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True, check=False)
    return [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.startswith("Error")]


def test_veterinary_type_2c_attributes_are_emptied_not_removed(tmp_path: Path) -> None:
    ds = make_xa(0)
    ds.PatientSpeciesDescription = "Canine"
    ds.PatientBreedDescription = "Doe's Beagle"
    ds.PatientBreedCodeSequence = []
    ds.BreedRegistrationSequence = []
    ds.ResponsiblePerson = "DOE^JANE"
    ds.ResponsiblePersonRole = "OWNER"
    ds.ResponsibleOrganization = "Doe Kennels"
    src = write(ds, tmp_path / "in" / "vet.dcm")
    out = tmp_path / "vet.dcm"
    deidentify(src, out, secret=SECRET)
    back = pydicom.dcmread(out)
    for kw in ("PatientBreedDescription", "ResponsiblePerson", "ResponsibleOrganization"):
        assert kw in back and back[kw].value in (None, ""), kw
    assert b"Doe" not in out.read_bytes() and b"DOE" not in out.read_bytes()
    assert len(_dciodvfy_errors(out)) <= len(_dciodvfy_errors(src))


def test_no_new_dciodvfy_errors_with_the_extra_rules(tmp_path: Path) -> None:
    src = _survivors_xa(tmp_path)
    out = tmp_path / "out.dcm"
    deidentify(src, out, secret=SECRET)
    assert len(_dciodvfy_errors(out)) <= len(_dciodvfy_errors(src))


def test_the_generator_reads_only_data(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import regen_deid_table as regen
    finally:
        sys.path.remove(str(ROOT / "tools"))
    source = (
        "import os\nos.system('echo never run')\n"
        "D_TAGS = [\n    (0x0010, 0x0010),  # Patient's Name\n]\n"
        "U_TAGS = [\n    (\n        0x0040,\n        0x4023,\n"
        "    ),  # Referenced General Purpose Scheduled Procedure Step Transaction UID\n]\n"
        "X_TAGS = [\n    (0x5000, 0x0000, 0xFF00, 0x0000),  # Curve Data\n]\n"
    )
    rows = regen.parse_rows(source)
    assert rows == {
        0x00100010: ("D", "Patient's Name"),
        0x00404023: ("U", "Referenced General Purpose Scheduled Procedure Step Transaction UID"),
    }
    assert regen.derived_options(0x00080013, "Instance Creation Time") == "l*"
    assert regen.derived_options(0x00080018, "SOP Instance UID") == "u*"


def test_deflate_bomb_is_refused_before_pydicom_inflates_it(tmp_path: Path) -> None:
    import pytest
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    from flannot import FlannotError
    from flannot.io.deflate import check_inflated_size

    ds = make_xa(0)
    ds.add_new(0x00091010, "OB", bytes(8 << 20))  # 8 MiB of zeros, ~8 kB deflated
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = tmp_path / "bomb.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(FlannotError, match="inflates past the 4 MiB limit"):
        check_inflated_size(path, limit=4 << 20)
    assert check_inflated_size(path) > 8 << 20  # within the default limit: counted, not kept


def test_a_fifo_is_refused_not_read(tmp_path: Path) -> None:
    import os
    import threading

    from flannot import FlannotError
    from flannot.deid.engine import read_dicom_file

    fifo = tmp_path / "image.dcm"
    os.mkfifo(fifo)
    result: list[BaseException | None] = []

    def run() -> None:
        try:
            read_dicom_file(fifo)
            result.append(None)
        except BaseException as exc:  # the exception is the result under test
            result.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "blocked on the FIFO"
    assert isinstance(result[0], FlannotError) and "a FIFO" in str(result[0])
