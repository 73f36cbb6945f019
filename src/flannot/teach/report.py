"""The course report: trainees, cases, errors and learning curves of a teaching set (SPEC §16).

>>> from flannot.teach.report import course_report
>>> rep = course_report("my-set")  # doctest: +SKIP
>>> rep.trainees[["trainee", "pass_rate", "safety_failures"]]  # doctest: +SKIP

What it reads, for every case of the set and every trainee folder
``SET/attempts/<trainee>/``:

* the attempt history ``<case-id>.history.jsonl`` (:mod:`flannot.teach.history`):
  one entry per Check, with its score items. An attempt file that was never
  checked is scored now and counts as one Check at its ``modified`` time;
* the educator's assessment in the attempt file (``"assessment"``,
  :mod:`flannot.teach.rubric`);
* second answer keys ``SET/keys/<rater>/<case-id>.json`` for the inter-rater
  agreement (:mod:`flannot.teach.agreement`).

Tables (``pandas.DataFrame``), also what ``--csv``/``--json`` print:

``trainees``
    checks, pass rate, first and last score, trend (score points per week, the
    least-squares slope: the learning curve's direction), safety failures (Checks
    with a tip past a safety boundary), wrong-level procedures, vertebra labels
    counted too high / too low, mean global rating, latest entrustment, rubric
    items done.
``cases``
    difficulty: pass rate (all Checks and first attempts), median failed items,
    median tip error, the most common errors.
``levels``
    level-offset confusion: counts of each offset (−1 = one level too high) per
    trainee and kind (``vertebra`` label or ``procedure``).
``errors``
    every kind of error in the course, most common first.
``checks``
    one row per Check (the learning-curve data).
``assessments``, ``agreement``, ``boundaries``
    rubric and ratings per attempt; ICC(2,1) and Bland–Altman per measurement;
    boundary distances between the two keys.

A Check's *score* is the share of its items that passed, in %.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flannot.errors import FlannotError

__all__ = ["TABLES", "CourseReport", "course_report", "error_kind"]

TABLES = (
    "trainees",
    "cases",
    "levels",
    "errors",
    "checks",
    "assessments",
    "agreement",
    "boundaries",
)
_CHECK_COLUMNS = [
    "trainee", "case_id", "attempt", "time", "passed", "score", "n_items", "n_failed",
    "safety_failures", "wrong_level_procedures", "tip_error",
]  # fmt: skip
_ITEM_COLUMNS = ["trainee", "case_id", "attempt", "type", "level", "side", "metric", "value",
                 "passed", "kind", "message"]  # fmt: skip
_LEVEL_COLUMNS = ["trainee", "case_id", "attempt", "kind", "offset"]


@dataclass
class CourseReport:
    """The tables of a course report (see the module notes)."""

    set_name: str
    protocol: str
    n_cases: int
    trainees: pd.DataFrame
    cases: pd.DataFrame
    levels: pd.DataFrame
    errors: pd.DataFrame
    checks: pd.DataFrame
    assessments: pd.DataFrame
    agreement: pd.DataFrame
    boundaries: pd.DataFrame
    #: the failed items of every Check (what ``errors`` counts)
    failed_items: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    #: measurement pairs of the two keys (what ``agreement`` summarises)
    agreement_pairs: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def table(self, name: str) -> pd.DataFrame:
        """A table by name (one of :data:`TABLES`)."""
        if name not in TABLES:
            raise FlannotError(f"no table {name!r} (one of {', '.join(TABLES)})")
        return getattr(self, name)

    def level_confusion(self) -> pd.DataFrame:
        """Trainee × offset counts (all kinds), offsets as columns (−1 = one too high)."""
        lv = self.levels
        if lv.empty:
            return pd.DataFrame()
        return lv.pivot_table(
            index="trainee", columns="offset", values="count", aggfunc="sum", fill_value=0
        )

    def learning_curve(self) -> pd.DataFrame:
        """Mean score (%) per session (UTC day) × trainee: the learning-curve plot's data."""
        c = self.checks.dropna(subset=["time", "score"])
        if c.empty:
            return pd.DataFrame()
        return c.pivot_table(
            index=c["time"].dt.floor("D"), columns="trainee", values="score", aggfunc="mean"
        )

    def to_dict(self) -> dict[str, Any]:
        """Every table as a list of records (``NaN`` → ``null``)."""
        out: dict[str, Any] = {
            "set": self.set_name,
            "protocol": self.protocol,
            "n_cases": self.n_cases,
        }
        for name in TABLES:
            out[name] = _records(self.table(name))
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)


def _plain(v: Any) -> Any:
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else round(float(v), 6)
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [str(c) for c in df.columns]
    return [
        {c: _plain(v) for c, v in zip(cols, row, strict=True)}
        for row in df.itertuples(index=False, name=None)
    ]


# --------------------------------------------------------------------------- error kinds
def error_kind(item: dict[str, Any], instruments: set[str], vertebrae: set[str]) -> str:
    """A failed score item's kind of error, in words (what the ``errors`` table counts)."""
    metric, typ = item.get("metric"), item.get("type")
    msg = str(item.get("message") or "")
    value = item.get("value")
    title = str(typ or "case").replace("_", " ")
    if metric == "crossed_contrast" and value is True:
        return "safety: tip past a safety boundary"
    if metric == "decision" and value is True:
        return "safety: proceeded where the case must not"
    if metric == "decision":
        return "decision: stopped where the case proceeds" if value is False else "no decision"
    if metric == "decision_reason":
        return "wrong do-not-proceed reason"
    if metric == "missing_case":
        return "case not attempted"
    if metric == "level_offset" and typ in instruments and isinstance(value, int):
        return "wrong-level procedure"
    if msg.startswith("missed:"):
        return f"missed {title}"
    if msg.startswith("extra:"):
        return f"extra {title}"
    if metric == "level_offset" and isinstance(value, int) and not isinstance(value, bool):
        return "level counted too high" if value < 0 else "level counted too low"
    if metric == "level_offset":
        return f"{title} not labelled"
    return f"{str(metric).replace('_', ' ')} ({title})"


# --------------------------------------------------------------------------- reading
def _iso(ts: Any) -> str:
    return str(ts) if ts else ""


def _score_now(ts: Any, ref_cache: dict, cid: str, file: Path) -> dict[str, Any]:
    """A never-checked attempt file scored now, as a history entry (attempt 1)."""
    from flannot.model.case import Case
    from flannot.teach.score import score_case

    if cid not in ref_cache:
        ref_cache[cid] = ts.case(cid)
    att = Case.load(file)
    res = score_case(ref_cache[cid], att, ts.tolerances)
    return {
        "attempt": 1,
        "time": att.modified or att.created or "",
        "passed": res.passed,
        "n_items": len(res.items),
        "n_failed": len(res.failed),
        "items": [it.to_dict() for it in res.items],
    }


def _read_attempt_json(file: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FlannotError(f"cannot read the attempt: {exc}", file) from None
    return data if isinstance(data, dict) else None


def course_report(set_root: str | os.PathLike[str]) -> CourseReport:
    """Collect a teaching set's attempts and build the report tables (SPEC §16).

    Raises
    ------
    FlannotError
        Not a teaching set; an unreadable attempt, history or key file.
    """
    from flannot.protocols import Role, get_protocol
    from flannot.teach.history import history_path, read_history
    from flannot.teach.teaching_set import TeachingSet

    ts = TeachingSet.open(set_root)
    protocol = get_protocol(ts.protocol)
    instruments = set(protocol.names_with_role(Role.INSTRUMENT))
    vertebrae = set(protocol.names_with_role(Role.VERTEBRA))
    case_ids = ts.case_ids
    att_root = ts.root / "attempts"
    folders = (
        sorted(d for d in att_root.iterdir() if d.is_dir() and not d.name.startswith("."))
        if att_root.is_dir()
        else []
    )
    checks: list[tuple] = []
    failed: list[tuple] = []
    levels: list[tuple] = []
    assessments: list[dict[str, Any]] = []
    ref_cache: dict[str, Any] = {}
    for folder in folders:
        trainee = folder.name
        for cid in case_ids:
            file = folder / f"{cid}.json"
            history = read_history(history_path(file))
            data = _read_attempt_json(file)
            if not history and data is not None:
                history = [_score_now(ts, ref_cache, cid, file)]
            for e in history:
                _one_check(e, trainee, cid, instruments, vertebrae, checks, failed, levels)
            if data is not None and isinstance(data.get("assessment"), dict):
                assessments.append(_assessment_row(trainee, cid, data["assessment"], protocol))
    checks_df = pd.DataFrame(checks, columns=_CHECK_COLUMNS)
    checks_df["time"] = pd.to_datetime(checks_df["time"], utc=True, errors="coerce")
    checks_df = checks_df.sort_values(["trainee", "time", "case_id", "attempt"], kind="stable")
    checks_df = checks_df.reset_index(drop=True)
    failed_df = pd.DataFrame(failed, columns=_ITEM_COLUMNS)
    levels_df = pd.DataFrame(levels, columns=_LEVEL_COLUMNS)
    assess_df = pd.DataFrame(assessments)
    agreement, boundaries, pairs = _agreement(ts)
    return CourseReport(
        set_name=ts.name,
        protocol=protocol.name,
        n_cases=len(case_ids),
        trainees=_trainee_table(checks_df, failed_df, levels_df, assess_df, protocol),
        cases=_case_table(checks_df, failed_df, case_ids, _decisions(ts, case_ids, protocol)),
        levels=_level_table(levels_df),
        errors=_error_table(failed_df),
        checks=checks_df,
        assessments=assess_df,
        agreement=agreement,
        boundaries=boundaries,
        failed_items=failed_df,
        agreement_pairs=pairs,
    )


def _one_check(
    e: dict[str, Any],
    trainee: str,
    cid: str,
    instruments: set[str],
    vertebrae: set[str],
    checks: list[tuple],
    failed: list[tuple],
    levels: list[tuple],
) -> None:
    """Add one history entry to the rows of the checks, failed items and level offsets."""
    items = [it for it in e.get("items") or [] if isinstance(it, dict)]
    attempt = e.get("attempt")
    n_items = int(e.get("n_items", len(items)) or 0)
    n_failed = int(e.get("n_failed", sum(1 for it in items if not it.get("passed"))) or 0)
    safety = wrong = 0
    tips = []
    for it in items:
        metric, typ, value = it.get("metric"), it.get("type"), it.get("value")
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if metric in ("crossed_contrast", "decision") and value is True and not it.get("passed"):
            safety += 1
        if metric == "level_offset" and is_int and (typ in instruments or typ in vertebrae):
            levels.append((trainee, cid, attempt, "procedure" if typ in instruments else "vertebra",
                           value))  # fmt: skip
            if typ in instruments and value != 0:
                wrong += 1
        if (
            metric == "tip_error"
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        ):
            tips.append(float(value))
        if not it.get("passed"):
            failed.append(
                (trainee, cid, attempt, typ, it.get("level"), it.get("side"), metric, value,
                 False, error_kind(it, instruments, vertebrae), it.get("message"))
            )  # fmt: skip
    score = 100.0 * (n_items - n_failed) / n_items if n_items else math.nan
    checks.append(
        (trainee, cid, attempt, _iso(e.get("time")), bool(e.get("passed")), score, n_items,
         n_failed, safety, wrong, max(tips) if tips else math.nan)
    )  # fmt: skip


def _assessment_row(trainee: str, cid: str, a: dict[str, Any], protocol: Any) -> dict[str, Any]:
    marks = [m for m in a.get("rubric") or [] if isinstance(m, dict)]
    row: dict[str, Any] = {
        "trainee": trainee,
        "case_id": cid,
        "educator": a.get("educator"),
        "time": a.get("time"),
        "attempt": a.get("attempt"),
        "global_rating": a.get("global_rating"),
        "entrustment": a.get("entrustment"),
        "entrustment_level": a.get("entrustment_level"),
        "rubric_done": sum(1 for m in marks if m.get("done") is True),
        "rubric_total": len(marks) or len(protocol.rubric),
    }
    for m in marks:
        row[f"rubric:{m.get('key')}"] = m.get("done")
    return row


# --------------------------------------------------------------------------- tables
def _slope_per_week(g: pd.DataFrame) -> float:
    t = g["time"].dropna()
    if len(t) < 2:
        return math.nan
    weeks = (g["time"] - t.min()).dt.total_seconds().to_numpy() / (7 * 86400.0)
    y = g["score"].to_numpy(float)
    ok = np.isfinite(weeks) & np.isfinite(y)
    if ok.sum() < 2 or np.ptp(weeks[ok]) == 0:
        return math.nan
    # rounded: a flat curve's slope is 0, not 1e-14
    return round(float(np.polyfit(weeks[ok], y[ok], 1)[0]), 6)


def _trainee_table(
    checks: pd.DataFrame,
    failed: pd.DataFrame,
    levels: pd.DataFrame,
    assess: pd.DataFrame,
    protocol: Any,
) -> pd.DataFrame:
    cols = ["trainee", "cases", "checks", "passed", "pass_rate", "first_score", "last_score",
            "trend_per_week", "safety_failures", "wrong_level_procedures", "too_high", "too_low",
            "mean_rating", "entrustment", "rubric_done_pct"]  # fmt: skip
    if checks.empty:
        return pd.DataFrame(columns=cols)
    g = checks.groupby("trainee", sort=True)
    out = pd.DataFrame(
        {
            "cases": g["case_id"].nunique(),
            "checks": g.size(),
            "passed": g["passed"].sum().astype(int),
            "pass_rate": 100.0 * g["passed"].mean(),
        }
    )
    per_case = checks.sort_values("time", kind="stable").groupby(["trainee", "case_id"])
    out["first_score"] = per_case["score"].first().groupby("trainee").mean()
    out["last_score"] = per_case["score"].last().groupby("trainee").mean()
    out["trend_per_week"] = pd.Series({name: _slope_per_week(grp) for name, grp in g}, dtype=float)
    out["safety_failures"] = (checks["safety_failures"] > 0).groupby(checks["trainee"]).sum()
    out["wrong_level_procedures"] = g["wrong_level_procedures"].sum()
    if not levels.empty:
        lv = levels[levels["offset"] != 0]
        out["too_high"] = (lv["offset"] < 0).groupby(lv["trainee"]).sum()
        out["too_low"] = (lv["offset"] > 0).groupby(lv["trainee"]).sum()
    for c in ("too_high", "too_low"):
        out[c] = out.get(c, pd.Series(dtype=float)).reindex(out.index).fillna(0).astype(int)
    if not assess.empty:
        a = assess.sort_values("time", kind="stable").groupby("trainee")
        out["mean_rating"] = a["global_rating"].mean()
        out["entrustment"] = a["entrustment"].last()
        out["rubric_done_pct"] = 100.0 * a["rubric_done"].sum() / a["rubric_total"].sum()
    for c in ("mean_rating", "entrustment", "rubric_done_pct"):
        if c not in out:
            out[c] = np.nan
    out = out.reset_index().rename(columns={"index": "trainee"})
    return out[cols]


def _decisions(ts: Any, case_ids: list[str], protocol: Any) -> dict[str, str]:
    """Each case's reference decision in words (``""``: none recorded), read from its file."""
    from flannot.model.decision import Decision

    out: dict[str, str] = {}
    for cid in case_ids:
        file = ts.case_dir(cid) / "annotations.json"
        try:
            data = json.loads(file.read_text(encoding="utf-8-sig")).get("decision")
            out[cid] = "" if data is None else Decision.from_dict(data).words(protocol)
        except (OSError, ValueError, AttributeError, FlannotError):
            out[cid] = ""  # a CT-backed case, or a file validate reports on
    return out


def _case_table(
    checks: pd.DataFrame,
    failed: pd.DataFrame,
    case_ids: list[str],
    decisions: dict[str, str] | None = None,
) -> pd.DataFrame:
    cols = ["case_id", "trainees", "checks", "pass_rate", "first_pass_rate", "median_failed",
            "median_tip_error", "common_errors", "decision"]  # fmt: skip
    if checks.empty:
        return pd.DataFrame(columns=cols)
    g = checks.groupby("case_id")
    first = checks[checks["attempt"] == 1].groupby("case_id")["passed"].mean()
    out = pd.DataFrame(
        {
            "trainees": g["trainee"].nunique(),
            "checks": g.size(),
            "pass_rate": 100.0 * g["passed"].mean(),
            "first_pass_rate": 100.0 * first,
            "median_failed": g["n_failed"].median(),
            "median_tip_error": g["tip_error"].median(),
        }
    )
    common: dict[str, str] = {}
    if not failed.empty:
        for cid, grp in failed.groupby("case_id"):
            top = Counter(grp["kind"]).most_common(3)
            common[str(cid)] = "; ".join(f"{k} ({n})" for k, n in top)
    out["common_errors"] = pd.Series(common, dtype=object)
    out["common_errors"] = out["common_errors"].fillna("")
    order = {c: i for i, c in enumerate(case_ids)}
    out = out.reset_index().rename(columns={"index": "case_id"})
    out["decision"] = out["case_id"].map(decisions or {}).fillna("")
    out["_order"] = out["case_id"].map(order)
    # hardest first; the set's order breaks ties
    out = out.sort_values(["pass_rate", "_order"], kind="stable").drop(columns="_order")
    return out[cols].reset_index(drop=True)


def _level_table(levels: pd.DataFrame) -> pd.DataFrame:
    if levels.empty:
        return pd.DataFrame(columns=["trainee", "kind", "offset", "count"])
    out = levels.groupby(["trainee", "kind", "offset"]).size().rename("count").reset_index()
    return out


def _error_table(failed: pd.DataFrame) -> pd.DataFrame:
    if failed.empty:
        return pd.DataFrame(columns=["kind", "count", "trainees", "cases"])
    g = failed.groupby("kind")
    out = pd.DataFrame(
        {"count": g.size(), "trainees": g["trainee"].nunique(), "cases": g["case_id"].nunique()}
    )
    out = out.reset_index().sort_values(["count", "kind"], ascending=[False, True])
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- agreement
def _agreement(ts: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from flannot.model.case import Case
    from flannot.teach.agreement import bland_altman, boundary_rows, icc_2_1, measurement_pairs

    cols = ["rater", "type", "name", "unit", "n", "icc", "bias", "sd", "loa_low", "loa_high"]
    bcols = ["rater", "type", "metric", "unit", "n", "mean", "max"]
    keys = ts.root / "keys"
    raters = sorted(d for d in keys.iterdir() if d.is_dir()) if keys.is_dir() else []
    pairs: list[dict[str, Any]] = []
    bounds: list[dict[str, Any]] = []
    for rdir in raters:
        for cid in ts.case_ids:
            f = rdir / f"{cid}.json"
            if not f.is_file():
                continue
            other, ref = Case.load(f), ts.case(cid)
            pairs += [{"rater": rdir.name, **p} for p in measurement_pairs(ref, other)]
            bounds += [{"rater": rdir.name, **b} for b in boundary_rows(ref, other)]
    pairs_df = pd.DataFrame(pairs)
    rows = []
    if not pairs_df.empty:
        for (rater, typ, name, unit), g in pairs_df.groupby(["rater", "type", "name", "unit"]):
            bias, sd, lo, hi = bland_altman(g["reference"], g["other"])
            icc = icc_2_1(g[["reference", "other"]].to_numpy())
            rows.append((rater, typ, name, unit, len(g), icc, bias, sd, lo, hi))
    bdf = pd.DataFrame(bounds)
    brows = []
    if not bdf.empty:
        for (rater, typ, metric, unit), g in bdf.groupby(["rater", "type", "metric", "unit"]):
            brows.append((rater, typ, metric, unit, len(g), g["value"].mean(), g["value"].max()))
    return pd.DataFrame(rows, columns=cols), pd.DataFrame(brows, columns=bcols), pairs_df


# --------------------------------------------------------------------------- text
def human_lines(rep: CourseReport) -> list[str]:
    """A terminal summary: per trainee, the hardest cases, the commonest errors."""
    out = [
        f"course report: {rep.set_name} ({rep.protocol}, {rep.n_cases} cases, "
        f"{len(rep.trainees)} trainees, {len(rep.checks)} checks)"
    ]
    if rep.checks.empty:
        out.append("no attempts yet (SET/attempts/<trainee>/<case-id>.json)")
        return out
    out.append("trainees:")
    for r in rep.trainees.itertuples(index=False):
        trend = "" if pd.isna(r.trend_per_week) else f", trend {r.trend_per_week:+.1f} %/week"
        out.append(
            f"  {r.trainee}: {r.checks} checks, {r.pass_rate:.0f} % passed, score "
            f"{r.first_score:.0f} → {r.last_score:.0f} %{trend}; safety failures "
            f"{r.safety_failures}, wrong-level procedures {r.wrong_level_procedures}, "
            f"levels too high {r.too_high} / too low {r.too_low}"
        )
    out.append("cases (hardest first):")
    for r in rep.cases.head(5).itertuples(index=False):
        out.append(f"  {r.case_id}: {r.pass_rate:.0f} % passed; {r.common_errors}")
    out.append("most common errors:")
    for r in rep.errors.head(5).itertuples(index=False):
        out.append(f"  {r.kind}: {r.count} ({r.trainees} trainees, {r.cases} cases)")
    if not rep.agreement.empty:
        out.append("inter-rater agreement (ICC(2,1); Bland–Altman bias [95 % limits]):")
        for r in rep.agreement.itertuples(index=False):
            icc = "—" if pd.isna(r.icc) else f"{r.icc:.2f}"
            out.append(
                f"  {r.rater} {r.type} {r.name}: n={r.n}, ICC {icc}, bias {r.bias:+.2f} "
                f"[{r.loa_low:+.2f}, {r.loa_high:+.2f}] {r.unit}"
            )
    return out
