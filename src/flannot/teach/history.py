"""Attempt history: every Check kept, never overwritten (SPEC §6, §16).

Each time a trainee's attempt is checked (the Quiz dock's **Check**, ``flannot score
--record``), one JSON line is appended to the history file beside the attempt::

    SET/attempts/<trainee>/<case-id>.json           the attempt (its latest annotations)
    SET/attempts/<trainee>/<case-id>.history.jsonl  one line per Check

A line is ``{"attempt": n, "time", "case_id", "trainee", "passed", "n_items",
"n_failed", "items": [...]}`` with the score items of ``flannot score --json``
(SPEC §6), so the course report (:mod:`flannot.teach.report`) can draw learning
curves and count errors without scoring again. ``attempt`` counts from 1 in the
order of the lines. The file is rewritten whole through :mod:`flannot.atomic` on
each append: a reader sees the old history or the new one, never half a line.
An attempt has one writer at a time (its trainee's Quiz dock or a script); two
processes checking the same attempt at the same instant could drop one line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flannot.atomic import atomic_write_text
from flannot.errors import FlannotError

if TYPE_CHECKING:  # pragma: no cover
    from flannot.teach.score import CaseScore

__all__ = ["HISTORY_SUFFIX", "history_path", "read_history", "record", "record_scores"]

HISTORY_SUFFIX = ".history.jsonl"


def history_path(attempt_file: str | os.PathLike[str]) -> Path:
    """The history beside an attempt file (``case-a.json`` → ``case-a.history.jsonl``)."""
    p = Path(attempt_file)
    return p.with_name(p.name.removesuffix(".json") + HISTORY_SUFFIX)


def read_history(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The Checks of one history file, oldest first (``[]`` when there is none yet).

    Raises
    ------
    FlannotError
        A line that is not a JSON object (names the file and the line).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise FlannotError(f"cannot read the attempt history: {exc}", p) from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FlannotError(
                f"line {n} of the attempt history is not JSON: {exc.msg}", p
            ) from None
        if not isinstance(entry, dict):
            raise FlannotError(f"line {n} of the attempt history is not a JSON object", p)
        out.append(entry)
    return out


def _now() -> str:
    from flannot.model.annotation import utc_now

    return utc_now()


def record(
    attempt_file: str | os.PathLike[str],
    result: CaseScore,
    *,
    trainee: str | None = None,
    time: str | None = None,
) -> dict[str, Any]:
    """Append one Check of ``attempt_file`` to its history and return the entry.

    Parameters
    ----------
    attempt_file
        The attempt's case file; the history is :func:`history_path` of it.
    result
        The score of that Check (:func:`flannot.teach.score.score_case`).
    trainee
        Who made the attempt; default: the attempt folder's name
        (``attempts/<trainee>/``).
    time
        ISO 8601 UTC time of the Check; default now.
    """
    path = history_path(attempt_file)
    previous = read_history(path)
    entry = {
        "attempt": len(previous) + 1,
        "time": time or _now(),
        "case_id": result.case_id,
        "trainee": trainee or Path(attempt_file).parent.name,
        "passed": bool(result.passed),
        "n_items": len(result.items),
        "n_failed": len(result.failed),
        "items": [it.to_dict() for it in result.items],
    }
    old = path.read_text(encoding="utf-8") if previous else ""
    if old and not old.endswith("\n"):
        old += "\n"
    line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, old + line + "\n")
    except OSError as exc:
        raise FlannotError(f"cannot record the attempt: {exc.strerror or exc}", path) from None
    return entry


def record_scores(attempt_path: str | os.PathLike[str], scores: Iterable[CaseScore]) -> list[Path]:
    """Record each scored case beside its attempt file (``flannot score --record``).

    ``attempt_path`` is what was scored: an attempt case file, a case folder or an
    attempts folder. Cases without an attempt (``missing_case``) are not recorded.
    Returns the history files written.
    """
    from flannot.teach.score import attempt_files

    files = attempt_files(attempt_path)
    written = []
    for cs in scores:
        f = files.get(cs.case_id)
        if f is None or any(it.metric == "missing_case" for it in cs.items):
            continue
        record(f, cs)
        written.append(history_path(f))
    return written
