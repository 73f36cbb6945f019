"""Fixtures of the PACS tests: one real Orthanc per session (SPEC §17).

Orthanc and its DICOMweb plugin come from Debian (``tools/system-deps.sh``); when
they are missing the tests fail, they never skip.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deid"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pacs_support import PASSWORD, USER, Orthanc, OrthancMissing


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    server = Orthanc(tmp_path_factory.mktemp("orthanc"))
    try:
        server.start()
    except OrthancMissing as exc:
        pytest.fail(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def pacs_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test Orthanc's credentials, from the environment as users give them."""
    monkeypatch.setenv("FLANNOT_PACS_USER", USER)
    monkeypatch.setenv("FLANNOT_PACS_PASSWORD", PASSWORD)
    monkeypatch.delenv("FLANNOT_PACS_TOKEN", raising=False)
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
