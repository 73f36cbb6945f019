"""``flannot pacs pull``: retrieve a study with WADO-RS into a teaching set (SPEC §17, §5, §7).

Two phases, so a failure never leaves half a study behind:

1. **download** every instance (PS3.18 §10.4, one streamed Retrieve Series request per
   series, checked against the QIDO-RS listing) into a temporary folder outside the
   set — the set is not touched;
2. **add** them with :meth:`flannot.teach.teaching_set.TeachingSet.add_dicom`, the very
   code ``flannot set add`` runs: de-identified on arrival (PS3.15 Basic Profile, UIDs
   remapped with the set's secret), all cases or none.

A series becomes one case: a cine folder when its instances are single frames, one
case per instance when they are multi-frame runs. Objects that are not images
(SEG, SR, KO, PR …) are skipped and counted.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flannot.errors import FlannotError
from flannot.pacs.client import PacsClient

MAX_SERIES = 200  # a teaching study is a handful of runs; refuse absurd answers
MAX_INSTANCES = 5000
NOT_IMAGES = {"SEG", "SR", "KO", "PR", "DOC", "REG", "RWV", "PLAN", "AU", "ECG"}

Progress = Callable[[int, int], None]  # (instances done, instances in all)


@dataclass
class PullResult:
    """What a pull added: the set's case reports and what was left out."""

    study_uid: str
    set_dir: str
    instances: int = 0
    bytes: int = 0
    cases: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "<modality> <sop uid>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "study_uid": self.study_uid,
            "set": self.set_dir,
            "instances": self.instances,
            "bytes": self.bytes,
            "cases": self.cases,
            "skipped": self.skipped,
        }


def _uid(item: dict[str, Any], tag: str) -> str:
    vals = (item.get(tag) or {}).get("Value") if isinstance(item, dict) else None
    if not isinstance(vals, list) or not vals or not isinstance(vals[0], str) or not vals[0]:
        raise ValueError(f"a search result has no ({tag[:4]},{tag[4:]}) UID")
    return vals[0]


def _number(item: dict[str, Any], tag: str) -> int:
    vals = (item.get(tag) or {}).get("Value") if isinstance(item, dict) else None
    try:
        return int(vals[0]) if isinstance(vals, list) and vals else 0
    except (TypeError, ValueError):
        return 0


def list_instances(
    pacs: PacsClient, study_uid: str, series_uid: str | None = None
) -> list[tuple[str, list[str]]]:
    """The study's series and their SOP Instance UIDs (in Instance Number order), by QIDO-RS.

    Raises
    ------
    FlannotError
        No such study (or series) on the server, too many series or instances, or
        the search failed.
    """
    filters = {"SeriesInstanceUID": series_uid} if series_uid else None
    what = f"series {series_uid} of study {study_uid}" if series_uid else f"study {study_uid}"
    gone = f"no {what} on the server"
    with pacs.errors(f"listing {what}", not_found=gone):
        series = pacs.dicomweb.search_for_series(
            study_uid, search_filters=filters, limit=MAX_SERIES + 1
        )
        if not isinstance(series, list):
            raise ValueError("the series search answer is not a JSON array")
        if not series:
            raise FlannotError(gone, pacs.url)
        if len(series) > MAX_SERIES:
            raise FlannotError(f"{what} has more than {MAX_SERIES} series", pacs.url)
        ordered = sorted(series, key=lambda s: (_number(s, "00200011"), _uid(s, "0020000E")))
        out: list[tuple[str, list[str]]] = []
        total = 0
        for s in ordered:
            suid = _uid(s, "0020000E")
            items = pacs.dicomweb.search_for_instances(
                study_uid, suid, fields=["InstanceNumber"], limit=MAX_INSTANCES + 1
            )
            if not isinstance(items, list):
                raise ValueError("the instance search answer is not a JSON array")
            items = sorted(items, key=lambda i: (_number(i, "00200013"), _uid(i, "00080018")))
            total += len(items)
            if total > MAX_INSTANCES:
                raise FlannotError(f"{what} has more than {MAX_INSTANCES} instances", pacs.url)
            # an instance listed twice is pulled once
            sops = list(dict.fromkeys(_uid(i, "00080018") for i in items))
            if sops:
                out.append((suid, sops))
    if not out:
        raise FlannotError(f"{what} holds no instances", pacs.url)
    return out


def download(
    pacs: PacsClient,
    study_uid: str,
    series: list[tuple[str, list[str]]],
    folder: Path,
    progress: Progress | None = None,
) -> list[tuple[str, list[Path]]]:
    """Retrieve every listed instance (WADO-RS Retrieve Series, streamed, in the stored
    transfer syntax) into ``folder``.

    One request per series: a request per instance costs Orthanc ~25 ms each. Returns
    the files per series, in the listing's order. Raises a one-line
    :class:`FlannotError` when a request fails (e.g. the study was deleted meanwhile) or
    a series arrives without some of its listed instances (cut short, or changed).
    """
    total = sum(len(sops) for _, sops in series)
    done = 0
    if progress is not None:
        progress(0, total)
    files: list[tuple[str, list[Path]]] = []
    for n, (suid, sops) in enumerate(series, 1):
        sub = folder / f"series-{n:03d}"
        sub.mkdir()
        wanted = {sop: i for i, sop in enumerate(sops, 1)}
        got: dict[str, Path] = {}
        parts = 0
        with pacs.errors(
            f"retrieving series {n} of {len(series)} of study {study_uid}",
            not_found="the study or series is gone from the server",
        ):
            for ds in pacs.dicomweb.iter_series(
                study_uid, suid, media_types=(("application/dicom", "*"),)
            ):
                parts += 1
                if parts > 2 * len(sops) + 10:  # a server that never stops sending
                    raise FlannotError(
                        f"series {n} of study {study_uid}: the server sent more than "
                        f"{2 * len(sops) + 10} objects for {len(sops)} listed instances",
                        pacs.url,
                    )
                sop = str(ds.get("SOPInstanceUID", "") or "")
                if sop not in wanted or sop in got:  # added since the listing, or repeated
                    continue
                path = sub / f"{wanted[sop]:05d}.dcm"
                ds.save_as(path, enforce_file_format=True)
                got[sop] = path
                done += 1
                if progress is not None:
                    progress(done, total)
        if len(got) != len(sops):
            raise FlannotError(
                f"series {n} of study {study_uid}: the server sent {len(got)} of "
                f"{len(sops)} instances (the study changed, or the answer was cut short)",
                pacs.url,
            )
        files.append((suid, [got[sop] for sop in sops]))
    return files


def _cases(files: list[tuple[str, list[Path]]], skipped: list[str]) -> list[Path]:
    """The paths ``add_dicom`` gets: one per case (see the module notes)."""
    import pydicom

    cases: list[Path] = []
    for _, paths in files:
        images: list[tuple[Path, int]] = []
        for p in paths:
            ds = pydicom.dcmread(p, stop_before_pixels=True)
            modality = str(ds.get("Modality", "") or "").upper()
            if modality in NOT_IMAGES or "Rows" not in ds:
                skipped.append(f"{modality or '?'} {ds.get('SOPInstanceUID', '')}")
                p.unlink()
                continue
            images.append((p, int(ds.get("NumberOfFrames", 1) or 1)))
        if not images:
            continue
        if len(images) == 1 or any(frames > 1 for _, frames in images):
            cases.extend(p for p, _ in images)
        else:  # single frames of one series: one cine, as flannot.read_dicom opens it
            cases.append(images[0][0].parent)
    return cases


def pull_study(
    pacs: PacsClient,
    study_uid: str,
    set_dir: str | os.PathLike[str],
    *,
    series_uid: str | None = None,
    options: Iterable[str] = (),
    progress: Progress | None = None,
) -> PullResult:
    """Pull a study (or one series) from the PACS into a teaching set, de-identified.

    Parameters
    ----------
    pacs
        The service.
    study_uid, series_uid
        What to pull (a series of the study, or the whole study).
    set_dir
        The teaching set (``flannot-set.json``).
    options
        De-identification retain options, as for ``flannot set add --retain``.
    progress
        Called with ``(instances retrieved, instances)``.

    Returns
    -------
    PullResult

    Raises
    ------
    FlannotError
        Not a set, a network or server failure, a malformed answer, an image the set
        refuses. The set is then exactly as it was (SPEC §17).
    """
    from flannot.teach.teaching_set import SECRET_FILE, TeachingSet

    ts = TeachingSet.open(set_dir)  # before downloading: a typo must not cost a study
    for uid, name in ((study_uid, "study"), (series_uid, "series")):
        if uid is not None and not _is_uid(uid):
            raise FlannotError(f"bad {name} UID {uid!r} (digits and dots)")
    series = list_instances(pacs, study_uid, series_uid)
    result = PullResult(study_uid=study_uid, set_dir=str(ts.root))
    secret = ts.root / SECRET_FILE
    had_secret = secret.exists()
    with tempfile.TemporaryDirectory(prefix="flannot-pacs-") as tmp:
        files = download(pacs, study_uid, series, Path(tmp), progress)
        result.instances = sum(len(p) for _, p in files)
        result.bytes = sum(f.stat().st_size for _, paths in files for f in paths)
        cases = _cases(files, result.skipped)
        if not cases:
            raise FlannotError(
                f"study {study_uid} holds no images flannot can teach with", pacs.url
            )
        try:
            result.cases = ts.add_dicom(cases, deidentify=True, options=options, save=True)
        except BaseException as exc:
            # add_dicom takes its cases back; a secret it made for them goes too
            if not had_secret:
                secret.unlink(missing_ok=True)
            if isinstance(exc, FlannotError) and exc.path and exc.path.startswith(tmp):
                # name the study, not our temporary copy of it
                raise FlannotError(f"study {study_uid}: {exc.reason}", pacs.url) from None
            raise
    return result


def _is_uid(text: str) -> bool:
    return 0 < len(text) <= 64 and all(part.isdigit() for part in text.split("."))
