"""A DICOMweb connection: URL, credentials from the environment, timeouts, one-line errors.

SPEC §17: credentials never come from the command line — only from
``FLANNOT_PACS_TOKEN`` (bearer) or ``FLANNOT_PACS_USER``/``FLANNOT_PACS_PASSWORD``
(HTTP basic); TLS certificates are verified (``REQUESTS_CA_BUNDLE`` names a private
CA). Every failure of a request — server down, refused credentials, a missing
study, a server error, a malformed answer, a timeout — becomes one
:class:`~flannot.errors.FlannotError` line naming the URL.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flannot.errors import FlannotError

ENV_USER = "FLANNOT_PACS_USER"
ENV_PASSWORD = "FLANNOT_PACS_PASSWORD"
ENV_TOKEN = "FLANNOT_PACS_TOKEN"
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Credentials:
    """How to authenticate: ``kind`` is ``"none"``, ``"basic"`` or ``"bearer"``."""

    kind: str = "none"
    user: str | None = None
    secret: str | None = field(default=None, repr=False)  # never printed

    def describe(self) -> str:
        """Where the credentials come from, for messages and the dock (no secret)."""
        if self.kind == "basic":
            return f"HTTP basic as {self.user!r} ({ENV_USER}/{ENV_PASSWORD})"
        if self.kind == "bearer":
            return f"bearer token ({ENV_TOKEN})"
        return f"none (set {ENV_TOKEN} or {ENV_USER}/{ENV_PASSWORD})"


def credentials_from_env(env: Mapping[str, str] | None = None) -> Credentials:
    """Credentials from the environment (SPEC §17).

    Parameters
    ----------
    env
        Environment to read (default ``os.environ``).

    Raises
    ------
    FlannotError
        Both a token and a user are set, or a user without a password (or the reverse).
    """
    env = os.environ if env is None else env
    token = env.get(ENV_TOKEN) or None
    user = env.get(ENV_USER) or None
    password = env.get(ENV_PASSWORD) or None
    if token and (user or password):
        raise FlannotError(f"set either {ENV_TOKEN} or {ENV_USER}/{ENV_PASSWORD}, not both")
    if token:
        return Credentials("bearer", None, token)
    if user and password:
        return Credentials("basic", user, password)
    if user or password:
        missing = ENV_PASSWORD if user else ENV_USER
        raise FlannotError(f"{missing} is not set (HTTP basic needs {ENV_USER} and {ENV_PASSWORD})")
    return Credentials()


def clean_url(url: str) -> str:
    """The service URL without a trailing slash, refusing anything but http(s) and
    credentials written into it (they would end up in shell history and logs)."""
    text = str(url).strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FlannotError("not a DICOMweb URL (expected http(s)://host[:port]/path)", text)
    if parts.username or parts.password:
        raise FlannotError(
            f"credentials in the URL are refused; set {ENV_USER}/{ENV_PASSWORD} or {ENV_TOKEN}",
            urlunsplit(
                parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
            ),
        )
    if parts.query or parts.fragment:
        raise FlannotError("the DICOMweb URL must not have a query or fragment", text)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/")))


def _session_class() -> type:
    import requests

    class _Session(requests.Session):
        """Leaves ``*`` unescaped in query strings: a QIDO-RS wildcard (PS3.18 8.3.4.6.1)
        that RFC 3986 allows as is, and that some servers (Orthanc 1.10) do not decode
        when dicomweb-client sends it as ``%2A``."""

        def send(self, request: Any, **kwargs: Any) -> Any:
            if request.method == "GET" and "?" in (request.url or ""):
                base, _, query = request.url.partition("?")
                request.url = f"{base}?{query.replace('%2A', '*')}"
            return super().send(request, **kwargs)

    return _Session


class PacsClient:
    """A DICOMweb service (PS3.18) at ``url``.

    Parameters
    ----------
    url
        Base URL of the service, e.g. ``http://127.0.0.1:8042/dicom-web``.
    credentials
        Default: :func:`credentials_from_env`.
    timeout
        Seconds to wait for a connection and for each answer.
    verify
        Verify TLS certificates (default; ``False`` only for testing).
    """

    def __init__(
        self,
        url: str,
        *,
        credentials: Credentials | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool = True,
    ) -> None:
        self.url = clean_url(url)
        self.credentials = credentials_from_env() if credentials is None else credentials
        if not timeout or float(timeout) <= 0:
            raise FlannotError(f"timeout must be a positive number of seconds, not {timeout}")
        self.timeout = float(timeout)
        self.verify = bool(verify)
        self._client: Any = None
        self._session: Any = None

    def __repr__(self) -> str:
        return f"PacsClient({self.url!r}, auth={self.credentials.kind})"

    @property
    def dicomweb(self) -> Any:
        """The :class:`dicomweb_client.DICOMwebClient` (built on first use)."""
        if self._client is None:
            from dicomweb_client import DICOMwebClient

            session = _session_class()()
            session.verify = self.verify
            session.trust_env = True  # proxies and REQUESTS_CA_BUNDLE, as requests does
            headers = {}
            if self.credentials.kind == "basic":
                session.auth = (self.credentials.user or "", self.credentials.secret or "")
            elif self.credentials.kind == "bearer":
                headers["Authorization"] = f"Bearer {self.credentials.secret}"
            try:
                client = DICOMwebClient(
                    self.url, session=session, headers=headers, timeout=self.timeout
                )
            except ValueError as exc:
                raise FlannotError(f"not a DICOMweb URL: {exc}", self.url) from None
            # no retries: dicomweb-client's (``retrying``) would also repeat timeouts and
            # refused connections, multiplying --timeout; one attempt, one clear line
            client.set_http_retry_params(retry=False)
            self._client, self._session = client, session
        return self._client

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        self._client = self._session = None

    def __enter__(self) -> PacsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def errors(self, what: str, not_found: str | None = None) -> Iterator[None]:
        """Turn any failure of the requests inside into one :class:`FlannotError` line.

        Parameters
        ----------
        what
            What was being done ("searching studies", "retrieving instance 3 of 100").
        not_found
            The message for a 404 (e.g. ``"no study 1.2.3 on the server"``).
        """
        try:
            yield
        except FlannotError:
            raise
        except Exception as exc:  # every failure becomes one line
            raise FlannotError(
                f"{what}: {describe_failure(exc, self, not_found)}", self.url
            ) from exc


def describe_failure(exc: BaseException, pacs: PacsClient, not_found: str | None = None) -> str:
    """One line for a failed request (the reason only; the caller names the URL)."""
    import requests
    from pydicom.errors import InvalidDicomError

    r = requests.exceptions
    if isinstance(exc, r.SSLError):
        return "TLS certificate verification failed (set REQUESTS_CA_BUNDLE to your CA's file)"
    if isinstance(exc, r.Timeout):
        return f"no answer within {pacs.timeout:g} s (server too slow or unreachable)"
    if isinstance(exc, r.ConnectionError):
        text = str(exc)
        if "refused" in text.lower():
            return "cannot connect: connection refused (is the server running?)"
        if "resolve" in text.lower() or "name or service" in text.lower():
            return "cannot connect: unknown host"
        return "cannot connect: the connection failed or was closed mid-answer"
    if isinstance(exc, (r.ChunkedEncodingError, r.ContentDecodingError)):
        return "the connection failed or was closed mid-answer"
    if isinstance(exc, r.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        reason = exc.response.reason or ""
        if code == 401:
            return (
                f"401 {reason or 'Unauthorized'}: the server refused the credentials "
                f"({pacs.credentials.describe()})"
            )
        if code == 403:
            return f"403 {reason or 'Forbidden'}: these credentials may not do this"
        if code == 404:
            return f"404 {reason or 'Not Found'}" + (f": {not_found}" if not_found else "")
        if code >= 500:
            return f"{code} {reason or 'Server Error'}: the server failed"
        return f"{code} {reason}".strip()
    if isinstance(exc, r.RequestException):
        return f"request failed: {exc}"
    if isinstance(exc, OSError):  # after requests' (they are OSErrors too): our disk
        return f"cannot store the download: {exc.strerror or exc}"
    if isinstance(exc, (ValueError, KeyError, IndexError, TypeError, InvalidDicomError, EOFError)):
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if first == "subsection not found":  # bytes.index() inside dicomweb-client
            first = "a multipart/related part has no header/body separator"
        return f"malformed answer from the server ({first[:160]})"
    return f"{type(exc).__name__}: {exc}"
