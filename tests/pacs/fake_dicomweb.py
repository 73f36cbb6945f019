"""A tiny, misbehaving DICOMweb server on 127.0.0.1 (``http.server``) for the failure
modes a real Orthanc does not produce on demand: a 500 in the middle of a pull, a
malformed multipart answer, a server too slow to answer, a broken image.

It serves one study of instances given as DICOM bytes: QIDO-RS searches for studies,
series and instances, and WADO-RS Retrieve Series and Retrieve Instance. ``fault``
picks the misbehaviour.
"""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pydicom

BOUNDARY = "flannot-fake-boundary"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout) breaks the pipe: expected here


def _attr(tag: str, vr: str, value: Any) -> dict[str, Any]:
    return {tag: {"vr": vr, "Value": [value]}}


class FakeDicomweb:
    """``FakeDicomweb(files, fault=...)``; ``url`` is its DICOMweb root.

    Faults: ``None``; ``"500-at-2"`` (the second retrieve answers 500); ``"multipart"``
    (a multipart/related body with no part headers); ``"slow"`` (every answer after
    ``delay`` seconds); ``"wrong-type"`` (a retrieve answered with text/html);
    ``"cut-short"`` (a series answered with its first instance only); ``"403"`` (every
    request forbidden); ``"reject"`` (STOW-RS answers 409 with a Failed SOP Sequence).
    STOW-RS stores nothing; ``stored`` lists the SOP Instance UIDs it accepted.
    """

    def __init__(self, files: list[bytes], fault: str | None = None, delay: float = 3.0) -> None:
        self.files = files
        self.fault = fault
        self.delay = delay
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.retrieves = 0
        self.stored: list[str] = []
        self.datasets = [pydicom.dcmread(io.BytesIO(b), stop_before_pixels=True) for b in files]
        self.study_uid = str(self.datasets[0].StudyInstanceUID)
        self.series: dict[str, list[int]] = {}  # series UID -> indexes into files
        for i, d in enumerate(self.datasets):
            self.series.setdefault(str(d.SeriesInstanceUID), []).append(i)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path, dict(self.headers)))
                if fake.fault == "slow":
                    time.sleep(fake.delay)
                fake.answer(self)

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path, dict(self.headers)))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.store(self, body)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/dicom-web"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeDicomweb:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _json(self, h: BaseHTTPRequestHandler, items: list[dict[str, Any]]) -> None:
        body = json.dumps(items).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/dicom+json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _send(self, h: BaseHTTPRequestHandler, code: int, ctype: str, body: bytes) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def store(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        """STOW-RS: read the SOP Instance UID of each part, accept or reject it."""
        if self.fault == "403":
            return self._send(h, 403, "text/plain", b"forbidden")
        boundary = h.headers.get("Content-Type", "").split("boundary=")[-1].strip('"')
        sops = []
        for part in body.split(b"--" + boundary.encode())[1:-1]:
            content = part.split(b"\r\n\r\n", 1)[1].removesuffix(b"\r\n")
            sops.append(str(pydicom.dcmread(io.BytesIO(content)).SOPInstanceUID))
        items = [{**_attr("00081155", "UI", sop)} for sop in sops]
        if self.fault == "reject":
            for item in items:
                item.update(_attr("00081197", "US", 0xA900))
            status = {"00081198": {"vr": "SQ", "Value": items}}
            body = json.dumps(status).encode()
            return self._send(h, 409, "application/dicom+json", body)
        self.stored += sops
        status = {"00081199": {"vr": "SQ", "Value": items}}
        return self._send(h, 200, "application/dicom+json", json.dumps(status).encode())

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        if self.fault == "403":
            return self._send(h, 403, "text/plain", b"forbidden")
        path = h.path.split("?", 1)[0].rstrip("/")
        parts = path.split("/")[2:]  # after /dicom-web
        study = {
            **_attr("0020000D", "UI", self.study_uid),
            **_attr("00100010", "PN", {"Alphabetic": "FAKE^PATIENT"}),
        }
        if parts == ["studies"]:
            return self._json(h, [study])
        if parts == ["studies", self.study_uid, "series"]:
            return self._json(h, [{**study, **_attr("0020000E", "UI", uid)} for uid in self.series])
        if (
            len(parts) == 5
            and parts[:3] == ["studies", self.study_uid, "series"]
            and parts[4] == "instances"
            and parts[3] in self.series
        ):
            return self._json(
                h,
                [
                    {
                        **_attr("00080018", "UI", str(self.datasets[i].SOPInstanceUID)),
                        **_attr("00200013", "IS", n + 1),
                    }
                    for n, i in enumerate(self.series[parts[3]])
                ],
            )
        if len(parts) in (4, 6) and parts[:3] == ["studies", self.study_uid, "series"]:
            return self.retrieve(h, parts)
        return self._send(h, 404, "text/plain", b"not found")

    def retrieve(self, h: BaseHTTPRequestHandler, parts: list[str]) -> None:
        """WADO-RS Retrieve Series (4 parts) or Retrieve Instance (6 parts)."""
        self.retrieves += 1
        indexes = self.series.get(parts[3], [])
        if len(parts) == 6:
            indexes = [i for i in indexes if str(self.datasets[i].SOPInstanceUID) == parts[5]]
        if not indexes:
            return self._send(h, 404, "text/plain", b"no such series or instance")
        if self.fault == "500-at-2" and self.retrieves == 2:
            return self._send(h, 500, "text/plain", b"internal error")
        ctype = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
        if self.fault == "multipart":
            return self._send(h, 200, ctype, b"--" + BOUNDARY.encode() + b"\r\ngarbage")
        if self.fault == "wrong-type":
            return self._send(h, 200, "text/html", b"<html>login page</html>")
        if self.fault == "cut-short":
            indexes = indexes[:1]
        body = b"".join(
            f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode()
            + self.files[i]
            + b"\r\n"
            for i in indexes
        )
        return self._send(h, 200, ctype, body + f"--{BOUNDARY}--\r\n".encode())
