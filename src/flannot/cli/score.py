"""``flannot score REFERENCE ATTEMPT [--json]`` — SPEC §6 assessment of trainee attempts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import typer


def _value(item: Any) -> str:
    from flannot.teach.feedback import format_item_value  # worded as the Quiz dock does

    return format_item_value(item)


def _where(item: Any) -> str:
    parts = [p for p in (item.type, item.level, item.side) if p]
    return " ".join(parts) or "case"


def human_lines(scores: list[Any]) -> list[str]:
    """One line per failed item and a summary per case; passed items are counted by metric."""
    out: list[str] = []
    for cs in scores:
        n_ok = sum(1 for it in cs.items if it.passed)
        verdict = "PASS" if cs.passed else "FAIL"
        out.append(f"case {cs.case_id}: {verdict} ({n_ok} of {len(cs.items)} items passed)")
        from flannot.teach.feedback import sort_items

        for it in sort_items(cs.failed):  # safety violations first
            out.append(f"  FAIL {_where(it)} {it.metric}={_value(it)}: {it.message}")
        passed = Counter(it.metric for it in cs.items if it.passed)
        if passed:
            summary = ", ".join(f"{n} {m}" for m, n in passed.items())
            out.append(f"  passed: {summary}")
        labels = [it for it in cs.items if it.metric == "level_offset" and it.value is not None]
        if labels:
            right = sum(1 for it in labels if it.value == 0)
            out.append(f"  vertebra labels: {right} of {len(labels)} right")
    n_pass = sum(1 for cs in scores if cs.passed)
    out.append(f"{n_pass} of {len(scores)} cases passed")
    return out


def register(app: typer.Typer) -> None:
    """Add the ``score`` command to the ``flannot`` app."""

    @app.command("score")
    def score_cmd(
        reference: Path = typer.Argument(
            ..., help="Reference: annotations.json, a case folder, or a teaching set."
        ),
        attempt: Path = typer.Argument(
            ...,
            help="Attempt: a case file or folder, a teaching set, or an attempts folder "
            "(SET/attempts/TRAINEE/ with CASE-ID.json files).",
        ),
        as_json: bool = typer.Option(
            False, "--json", help='Print {"cases": [{"case_id", "passed", "items": [...]}]}.'
        ),
        record: bool = typer.Option(
            False,
            "--record",
            help="Append this Check to each attempt's history (CASE-ID.history.jsonl beside "
            "the attempt file), for learning curves in 'flannot report'.",
        ),
    ) -> None:
        """Score a trainee's attempt against the reference, per case (SPEC §6).

        Vertebra labels (matched by position; wrong-level errors named), region
        overlap (Dice, IoU, HD95), cannula tip/entry/angle errors and crossing of
        the epidural contrast line, measurement errors; pass/fail against the
        teaching set's tolerances. Exit 0 when every case passes, 1 when any fails.
        """
        from flannot.teach.score import score, to_json

        scores = score(reference, attempt)
        if record:
            from flannot.teach.history import record_scores

            written = record_scores(attempt, scores)
            if not as_json:
                typer.echo(f"recorded {len(written)} attempt(s) in the attempt history", err=True)
        if as_json:
            typer.echo(to_json(scores))
        else:
            for line in human_lines(scores):
                typer.echo(line)
        if not all(cs.passed for cs in scores):
            raise typer.Exit(1)
