"""Every network and server failure is one line, exit 2, and a failed pull leaves the set
byte-for-byte as it was (SPEC §17): the real Orthanc for a server that is down, refused
credentials, a missing study and a study deleted mid-pull; a fake server
(:mod:`fake_dicomweb`) for a 500 mid-pull, a malformed multipart answer, a timeout."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fake_dicomweb import FakeDicomweb
from identified import SECRET, write
from pacs_studies import dicom_bytes, identified_study
from pacs_support import free_port, new_set, run_cli, tree_digest

from flannot.errors import FlannotError
from flannot.pacs.client import PacsClient, credentials_from_env
from flannot.pacs.pull import pull_study
from flannot.teach.teaching_set import SECRET_FILE, TeachingSet


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """A set holding one case already (so 'unchanged' means more than 'empty')."""
    folder = new_set(tmp_path / "set", SECRET)
    s = identified_study(singles=1)
    TeachingSet.open(folder).add_dicom([write(s.datasets[0], tmp_path / "x.dcm")], save=True)
    return folder


def assert_one_line_failure(argv: list[str], capsys, *expected: str) -> str:
    code, out, err = run_cli(argv, capsys)
    assert code == 2, (code, out, err)
    assert out == "" and err.count("\n") == 1 and err.startswith("flannot: error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


def test_server_down(target: Path, capsys) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    before = tree_digest(target)
    for argv in (
        ["pacs", "find", url],
        ["pacs", "pull", url, "--study", "1.2.3", "--into", str(target)],
    ):
        assert_one_line_failure(argv, capsys, url, "connection refused")
    assert tree_digest(target) == before


def test_wrong_password_is_401_naming_the_credentials_source(
    orthanc, target: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("FLANNOT_PACS_PASSWORD", "wrong")
    before = tree_digest(target)
    err = assert_one_line_failure(
        ["pacs", "pull", orthanc.url, "--study", "1.2.3", "--into", str(target)],
        capsys,
        orthanc.url,
        "401",
        "FLANNOT_PACS_USER",
    )
    assert "wrong" not in err  # the password is never printed
    assert tree_digest(target) == before
    monkeypatch.delenv("FLANNOT_PACS_USER")
    monkeypatch.delenv("FLANNOT_PACS_PASSWORD")
    assert_one_line_failure(["pacs", "find", orthanc.url], capsys, "401", "none")


def test_unknown_study_is_404_and_the_set_is_unchanged(orthanc, target: Path, capsys) -> None:
    before = tree_digest(target)
    assert_one_line_failure(
        ["pacs", "pull", orthanc.url, "--study", "1.2.3.4.5", "--into", str(target)],
        capsys,
        "no study 1.2.3.4.5 on the server",
    )
    assert tree_digest(target) == before
    assert_one_line_failure(
        ["pacs", "pull", orthanc.url, "--study", "not-a-uid", "--into", str(target)],
        capsys,
        "bad study UID",
    )


def test_study_deleted_mid_pull_leaves_the_set_unchanged(orthanc, target: Path) -> None:
    s = identified_study(singles=1, cine_runs=2)  # three series, one request each
    orthanc.upload(s.datasets)
    before = tree_digest(target)

    def delete_after_first(done: int, total: int) -> None:
        if done == 1:
            orthanc.delete_study(s.study_uid)

    with pytest.raises(FlannotError) as err:
        pull_study(PacsClient(orthanc.url), s.study_uid, target, progress=delete_after_first)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(orthanc.url)
    assert "retrieving series 2 of 3" in msg and "404" in msg and "gone" in msg
    assert tree_digest(target) == before


def test_500_mid_pull(target: Path, capsys) -> None:
    s = identified_study(singles=2, cine_runs=1)
    before = tree_digest(target)
    with FakeDicomweb(dicom_bytes(s), fault="500-at-2") as fake:
        assert_one_line_failure(
            ["pacs", "pull", fake.url, "--study", s.study_uid, "--into", str(target)],
            capsys,
            fake.url,
            "retrieving series 2 of 2",
            "500",
        )
        assert fake.retrieves == 2  # no retry of a server error
    assert tree_digest(target) == before


def test_a_series_cut_short_is_refused(target: Path, capsys) -> None:
    s = identified_study(singles=3)
    before = tree_digest(target)
    with FakeDicomweb(dicom_bytes(s), fault="cut-short") as fake:
        assert_one_line_failure(
            ["pacs", "pull", fake.url, "--study", s.study_uid, "--into", str(target)],
            capsys,
            "sent 1 of 3 instances",
        )
    assert tree_digest(target) == before


@pytest.mark.parametrize(
    ("fault", "why"),
    [("multipart", "no header/body separator"), ("wrong-type", '"text/html"')],
)
def test_malformed_answer(target: Path, fault: str, why: str, capsys) -> None:
    s = identified_study(singles=2)
    before = tree_digest(target)
    with FakeDicomweb(dicom_bytes(s), fault=fault) as fake:
        assert_one_line_failure(
            ["pacs", "pull", fake.url, "--study", s.study_uid, "--into", str(target)],
            capsys,
            fake.url,
            "malformed answer",
            why,
        )
    assert tree_digest(target) == before


def test_slow_server_times_out(target: Path, capsys) -> None:
    s = identified_study(singles=1)
    before = tree_digest(target)
    with FakeDicomweb(dicom_bytes(s), fault="slow", delay=3.0) as fake:
        for argv in (
            ["pacs", "find", fake.url],
            ["pacs", "pull", fake.url, "--study", s.study_uid, "--into", str(target)],
        ):
            t0 = time.monotonic()
            assert_one_line_failure([*argv, "--timeout", "0.5"], capsys, "no answer within 0.5 s")
            assert time.monotonic() - t0 < 2.0  # one attempt: a timeout is not multiplied
    assert tree_digest(target) == before


def test_an_image_the_set_refuses_leaves_no_secret_behind(tmp_path: Path, capsys) -> None:
    """The add phase fails (a truncated image): the fresh set gets no secret either."""
    folder = tmp_path / "fresh"
    TeachingSet.new(folder)
    assert not (folder / SECRET_FILE).exists()
    s = identified_study(singles=1)
    data = dicom_bytes(s)[0]
    broken = data[: len(data) - 3000]  # pixel data cut short
    before = tree_digest(folder)
    with FakeDicomweb([broken]) as fake:
        assert_one_line_failure(
            ["pacs", "pull", fake.url, "--study", s.study_uid, "--into", str(folder)],
            capsys,
            f"study {s.study_uid}",
        )
    assert tree_digest(folder) == before


def test_a_good_pull_from_the_fake_server_works(tmp_path: Path, capsys) -> None:
    """The fake server is a fair DICOMweb server when it does not misbehave; --retain
    reaches the de-identification as with `set add`."""
    import pydicom

    s = identified_study(singles=2)
    folder = new_set(tmp_path / "set", SECRET)
    with FakeDicomweb(dicom_bytes(s)) as fake:
        code, out, err = run_cli(
            ["pacs", "pull", fake.url, "--study", s.study_uid, "--into", str(folder),
             "--retain", "patient-characteristics", "--json"],
            capsys,
        )  # fmt: skip
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["instances"] == 2 and [c["files"] for c in report["cases"]] == [2]
    ds = pydicom.dcmread(folder / "cases" / "case-001" / "image" / "0001.dcm")
    assert (ds.PatientSex, ds.PatientAge) == ("M", "070Y")  # kept, as asked
    assert "DOE" not in str(ds.PatientName)


@pytest.fixture
def annotated(target: Path) -> Path:
    """``target`` with a region on its case, so the DICOM export holds a SEG and an SR."""
    case_file = target / "cases" / "case-001" / "annotations.json"
    doc = json.loads(case_file.read_text("utf-8"))
    stamp = "2026-12-04T10:00:00Z"
    doc["annotations"] = [
        {
            "id": "il", "type": "interlaminar_space", "level": "L4-L5", "frame": 0,
            "geometry": {"kind": "polygon", "points": [[10, 10], [10, 30], [30, 30], [30, 10]]},
            "note": "", "author": "educator", "created": stamp, "modified": stamp,
        }
    ]  # fmt: skip
    case_file.write_text(json.dumps(doc), "utf-8")
    return target


def test_forbidden_is_one_line(annotated: Path, capsys) -> None:
    s = identified_study(singles=1)
    with FakeDicomweb(dicom_bytes(s), fault="403") as fake:
        assert_one_line_failure(["pacs", "find", fake.url], capsys, "403", "may not do this")
        assert_one_line_failure(["pacs", "push", str(annotated), fake.url], capsys, "403")


def test_push_reports_what_the_server_rejected_exit_1(annotated: Path, capsys) -> None:
    s = identified_study(singles=1)
    with FakeDicomweb(dicom_bytes(s), fault="reject") as fake:
        code, out, err = run_cli(["pacs", "push", str(annotated), fake.url], capsys)
        assert fake.stored == []
    assert code == 1 and err == ""
    assert "rejected dicom/case-001/seg.dcm" in out and "rejected dicom/case-001/sr.dcm" in out
    assert "data set does not match SOP class (0xA900)" in out
    assert "0 accepted, 2 rejected" in out
    with FakeDicomweb(dicom_bytes(s)) as fake:
        code, out, err = run_cli(["pacs", "push", str(annotated), fake.url, "--json"], capsys)
        assert len(fake.stored) == 2
    assert code == 0 and {a["sop_instance_uid"] for a in json.loads(out)["accepted"]} == set(
        fake.stored
    )


def test_push_to_a_server_that_is_down(annotated: Path, capsys) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    assert_one_line_failure(
        ["pacs", "push", str(annotated), url], capsys, "connection refused", "0 of 2 file(s)"
    )


def test_credentials_only_from_the_environment(tmp_path: Path, monkeypatch, capsys) -> None:
    s = identified_study(singles=1)
    monkeypatch.delenv("FLANNOT_PACS_USER")
    monkeypatch.delenv("FLANNOT_PACS_PASSWORD")
    monkeypatch.setenv("FLANNOT_PACS_TOKEN", "tok-123")
    with FakeDicomweb(dicom_bytes(s)) as fake:
        assert run_cli(["pacs", "find", fake.url], capsys)[0] == 0
        assert fake.requests[-1][2].get("Authorization") == "Bearer tok-123"
        monkeypatch.delenv("FLANNOT_PACS_TOKEN")
        assert run_cli(["pacs", "find", fake.url], capsys)[0] == 0
        assert "Authorization" not in fake.requests[-1][2]
        user_url = fake.url.replace("http://", "http://me:pw@")
        err = assert_one_line_failure(["pacs", "find", user_url], capsys, "credentials in the URL")
        assert "pw" not in err
    assert credentials_from_env({}).kind == "none"
    assert credentials_from_env({"FLANNOT_PACS_USER": "u", "FLANNOT_PACS_PASSWORD": "p"}).kind == (
        "basic"
    )
    for env in (
        {"FLANNOT_PACS_TOKEN": "t", "FLANNOT_PACS_USER": "u"},
        {"FLANNOT_PACS_USER": "u"},
        {"FLANNOT_PACS_PASSWORD": "p"},
    ):
        with pytest.raises(FlannotError):
            credentials_from_env(env)
    assert "secret-token" not in repr(credentials_from_env({"FLANNOT_PACS_TOKEN": "secret-token"}))


def test_tls_is_verified_by_default() -> None:
    pacs = PacsClient("https://pacs.example/dicom-web", timeout=1)
    assert pacs.dicomweb is not None and pacs._session.verify is True
    with pytest.raises(FlannotError, match="not a DICOMweb URL"):
        PacsClient("ftp://pacs.example/")


def test_importing_the_pacs_package_stays_cheap() -> None:
    """``flannot.pacs`` and its command load requests and dicomweb-client on first use only."""
    import subprocess
    import sys

    code = (
        "import sys, flannot.pacs, flannot.cli.pacs; "
        "heavy = [m for m in ('requests', 'dicomweb_client', 'qtpy', 'napari') "
        "if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
