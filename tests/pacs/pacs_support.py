"""The PACS tests' and benchmark's support: a real Orthanc with its DICOMweb plugin on the
loopback (Debian ``orthanc``, ``orthanc-dicomweb``, installed by ``tools/system-deps.sh``),
free ports, set snapshots and the CLI runner.

The server runs on a free 127.0.0.1 port with a throw-away storage folder, HTTP basic
authentication (user ``teacher``) and its DICOM port off.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

USER, PASSWORD = "teacher", "s3cret-pacs"
PLUGIN_GLOBS = (
    "/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
    "/usr/lib/orthanc/libOrthancDicomWeb.so*",
    "/usr/lib/*/orthanc/libOrthancDicomWeb.so*",
)
START_TIMEOUT_S = 20.0


class OrthancMissing(RuntimeError):
    """Orthanc or its plugin is not installed, or it would not start."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _plugin() -> str:
    for pattern in PLUGIN_GLOBS:
        for hit in sorted(glob.glob(pattern)):
            if os.path.isfile(hit):
                return hit
    raise OrthancMissing(
        "the Orthanc DICOMweb plugin is not installed: run tools/system-deps.sh "
        "(Debian packages orthanc, orthanc-dicomweb)"
    )


def _binary() -> str:
    found = shutil.which("Orthanc") or (
        "/usr/sbin/Orthanc" if os.path.exists("/usr/sbin/Orthanc") else None
    )
    if not found:
        raise OrthancMissing(
            "Orthanc is not installed: run tools/system-deps.sh (Debian package orthanc)"
        )
    return found


class Orthanc:
    """A running test Orthanc: ``url`` is its DICOMweb root, ``rest`` its REST API."""

    def __init__(self, folder: Path) -> None:
        import requests

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.rest = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.rest}/dicom-web"
        self.http = requests.Session()
        self.http.auth = (USER, PASSWORD)
        self.http.trust_env = False  # never a proxy: loopback only
        config = {
            "Name": "flannot-test",
            "StorageDirectory": str(folder / "db"),
            "IndexDirectory": str(folder / "db"),
            "HttpPort": self.port,
            "DicomServerEnabled": False,
            "DicomPort": free_port(),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {USER: PASSWORD},
            "Plugins": [_plugin()],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            "HttpThreadsCount": 8,
            "SaveJobs": False,
            "StorageCompression": False,
            "HttpDescribeErrors": True,
            "ExecuteLuaEnabled": False,
            "RestApiWriteToFileSystemEnabled": False,
        }
        self.config = folder / "orthanc.json"
        self.config.write_text(json.dumps(config, indent=1), "utf-8")
        self.log = folder / "orthanc.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [_binary(), str(self.config)], stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OrthancMissing(f"Orthanc exited at start-up:\n{self.log.read_text()[-2000:]}")
            try:
                if self.http.get(f"{self.rest}/plugins", timeout=1).json().count("dicom-web"):
                    return
            except Exception:
                pass
            time.sleep(0.05)
        self.stop()
        raise OrthancMissing(f"Orthanc did not answer within {START_TIMEOUT_S:g} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    # ---------------------------------------------------------------- helpers for tests
    def upload(self, datasets: list[Any]) -> None:
        """Store datasets through Orthanc's own REST API (not the code under test)."""
        for ds in datasets:
            buf = io.BytesIO()
            ds.save_as(buf, enforce_file_format=True)
            r = self.http.post(f"{self.rest}/instances", data=buf.getvalue(), timeout=10)
            r.raise_for_status()
            assert r.json()["Status"] in ("Success", "AlreadyStored"), r.text

    def study_id(self, study_uid: str) -> str | None:
        r = self.http.post(f"{self.rest}/tools/lookup", data=study_uid, timeout=10)
        r.raise_for_status()
        hits = [h["ID"] for h in r.json() if h["Type"] == "Study"]
        return hits[0] if hits else None

    def delete_study(self, study_uid: str) -> None:
        oid = self.study_id(study_uid)
        assert oid, study_uid
        self.http.delete(f"{self.rest}/studies/{oid}", timeout=10).raise_for_status()

    def instances_of(self, study_uid: str) -> list[bytes]:
        """The DICOM files of a study as Orthanc stores them."""
        oid = self.study_id(study_uid)
        if oid is None:
            return []
        ids = self.http.get(f"{self.rest}/studies/{oid}/instances", timeout=10).json()
        return [
            self.http.get(f"{self.rest}/instances/{i['ID']}/file", timeout=10).content for i in ids
        ]


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` -> SHA-256 (folders: ``dir``) and mode."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        mode = oct(p.stat().st_mode)
        digest = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        out[rel] = f"{digest} {mode}"
    return out


def new_set(folder: Path, secret: bytes | None = None) -> Path:
    """An empty teaching set, with a fixed secret when given (reproducible UID mapping)."""
    from flannot.teach.teaching_set import SECRET_FILE, TeachingSet

    TeachingSet.new(folder)
    if secret is not None:
        (folder / SECRET_FILE).write_text(secret.hex() + "\n", "ascii")
    return folder


def run_cli(argv: list[str], capsys: Any) -> tuple[int, str, str]:
    """``flannot ARGV`` in this process: exit status, stdout, stderr."""
    from flannot.cli import main

    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err
