"""The PACS dock's model, without Qt: a service, search filters, the studies found, pull
and push, and the words the dock shows (SPEC §17).

The napari dock (:mod:`flannot.napari._qt.pacs_dock`) is wiring over this class; scripts
and tests drive it directly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flannot.errors import FlannotError
from flannot.pacs.client import DEFAULT_TIMEOUT, PacsClient, credentials_from_env
from flannot.pacs.find import Study, find_studies
from flannot.pacs.pull import PullResult, pull_study
from flannot.pacs.push import PushResult, push_set

ENV_URL = "FLANNOT_PACS_URL"  # a default for the dock's URL field
COLUMNS = ("Date", "Patient", "ID", "Mod.", "Images", "Description")


class PacsBrowser:
    """Search a DICOMweb service and pull a study into a teaching set.

    Parameters
    ----------
    url
        Service URL (default ``$FLANNOT_PACS_URL``, else empty).
    timeout
        Seconds per request.
    env
        Where credentials come from (default ``os.environ``).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.env = os.environ if env is None else env
        self.url = url if url is not None else self.env.get(ENV_URL, "")
        self.timeout = timeout
        self.studies: list[Study] = []

    def credentials_text(self) -> str:
        """Where the credentials come from (never the secret), or what is wrong with them."""
        try:
            return credentials_from_env(self.env).describe()
        except FlannotError as exc:
            return f"error: {exc}"

    def client(self) -> PacsClient:
        if not str(self.url).strip():
            raise FlannotError("enter the DICOMweb URL of the PACS first")
        return PacsClient(
            self.url, credentials=credentials_from_env(self.env), timeout=self.timeout
        )

    def search(self, patient: str = "", study_date: str = "", modality: str = "") -> list[Study]:
        """Find studies (QIDO-RS); empty filters are left out. Keeps them in :attr:`studies`."""
        with self.client() as pacs:
            self.studies = find_studies(
                pacs,
                patient=patient.strip() or None,
                study_date=study_date.strip() or None,
                modality=modality.strip() or None,
            )
        return self.studies

    def rows(self) -> list[tuple[str, ...]]:
        """The study table, one tuple of :data:`COLUMNS` texts per study."""
        return [
            (
                s.date or "—",
                s.patient_name.replace("^", " ").strip() or "—",
                s.patient_id or "—",
                "/".join(s.modalities) or "—",
                "?" if s.instances is None else str(s.instances),
                s.description,
            )
            for s in self.studies
        ]

    def pull(
        self,
        row: int,
        set_dir: str | os.PathLike[str],
        progress: Callable[[int, int], None] | None = None,
    ) -> PullResult:
        """Pull the study in table row ``row`` into the teaching set (de-identified)."""
        if not 0 <= row < len(self.studies):
            raise FlannotError("select a study to pull")
        with self.client() as pacs:
            return pull_study(pacs, self.studies[row].study_uid, Path(set_dir), progress=progress)

    def push(
        self, set_dir: str | os.PathLike[str], progress: Callable[[int, int], None] | None = None
    ) -> PushResult:
        """Store the set's SEG/SR export on the PACS (STOW-RS)."""
        with self.client() as pacs:
            return push_set(Path(set_dir), pacs, progress=progress)


def pull_summary(result: PullResult) -> str:
    """One line for the dock after a pull."""
    cases = ", ".join(str(c["case_id"]) for c in result.cases)
    flagged = sum(bool(c.get("burned_in_flagged")) for c in result.cases)
    text = (
        f"Pulled {result.instances} image(s), {result.bytes / 1e6:.1f} MB, de-identified "
        f"into {len(result.cases)} new case(s): {cases}."
    )
    if flagged:
        text += f" {flagged} may have burned-in text: check the pixels and draw redactions."
    if result.skipped:
        text += f" Skipped {len(result.skipped)} object(s) that are not images."
    return text


def push_summary(result: PushResult) -> str:
    """One line for the dock after a push."""
    text = f"{len(result.accepted)} file(s) accepted by the PACS"
    if result.rejected:
        reasons = "; ".join(f"{rel}: {why}" for rel, _, why in result.rejected[:3])
        text += f", {len(result.rejected)} rejected ({reasons})"
    return text + "."


def describe(exc: Any) -> str:
    """The one-line message of an error for the dock's status line."""
    return str(exc) if isinstance(exc, FlannotError) else f"{type(exc).__name__}: {exc}"
