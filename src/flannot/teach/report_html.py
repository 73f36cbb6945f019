"""The course report as a static HTML page with plots (``flannot report SET --html DIR``, SPEC §16).

``DIR/index.html`` opens from disk: no scripts, no network, CSS inline, the plots
as PNG files beside it (matplotlib with the Agg backend, imported only here), and
every table as a CSV file (``DIR/<table>.csv``).
"""

from __future__ import annotations

import html
import math
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flannot.atomic import atomic_write, atomic_write_text
from flannot.teach.report import TABLES, CourseReport

__all__ = ["PLOTS", "render_html", "write_html", "write_plots"]

PASS = "#2ca02c"
FAIL = "#d62728"
SAFETY = "#c51b7d"
WARN = "#e08214"

_CSS = """
body { font: 14px/1.45 -apple-system, 'Segoe UI', 'DejaVu Sans', Arial, sans-serif;
       margin: 0; color: #1d1d1f; background: #f5f6f8; }
header { background: #243447; color: #fff; padding: 18px 28px; }
header h1 { margin: 0; font-size: 22px; font-weight: 600; }
header p { margin: 4px 0 0; color: #c9d3de; }
main { padding: 16px 28px 40px; max-width: 1500px; }
section { background: #fff; border-radius: 8px; padding: 14px 18px; margin: 14px 0;
          box-shadow: 0 1px 2px rgba(0,0,0,.08); }
h2 { font-size: 17px; margin: 0 0 8px; color: #243447; }
p.note { color: #555; margin: 4px 0 10px; font-size: 13px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; }
.card { background: #fff; border-radius: 8px; padding: 10px 16px; min-width: 150px;
        box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card b { display: block; font-size: 24px; color: #243447; }
.card span { color: #555; font-size: 12px; }
.row { display: flex; gap: 18px; flex-wrap: wrap; align-items: flex-start; }
.row > div { flex: 1 1 560px; min-width: 0; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e3e6ea; text-align: right; }
th { background: #eef1f5; color: #243447; font-weight: 600; position: sticky; top: 0; }
td.t, th.t { text-align: left; white-space: nowrap; }
td.bad { color: #fff; background: #d62728; font-weight: 600; }
td.safety { color: #fff; background: #c51b7d; font-weight: 600; }
td.warn { background: #fdd9b5; }
td.good { background: #d9f0d3; }
img { max-width: 100%; height: auto; }
.scroll { max-height: 520px; overflow: auto; }
footer { color: #666; font-size: 12px; padding: 0 28px 20px; }
"""


# --------------------------------------------------------------------------- plots
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=100))


def _learning_curve(rep: CourseReport, plt: Any, path: Path) -> None:
    checks = rep.checks.dropna(subset=["time", "score"])
    fig, ax = plt.subplots(figsize=(7.0, 3.6), layout="constrained")
    trainees = sorted(checks["trainee"].unique())
    many = len(trainees) > 12
    cmap = plt.get_cmap("tab10" if len(trainees) <= 10 else "tab20")
    curve = rep.learning_curve()
    for k, name in enumerate(trainees):
        s = curve[name].dropna()
        ax.plot(s.index, s.to_numpy(), marker="o", ms=3.5, lw=1.0 if many else 1.8,
                alpha=0.45 if many else 0.95, color=cmap(k % cmap.N),
                label=None if many else name)  # fmt: skip
    if len(checks):
        med = checks.groupby(checks["time"].dt.floor("D"))["score"].median()
        ax.plot(med.index, med.to_numpy(), color="k", lw=2.6, ls="--", label="course median")
    ax.set_ylim(-2, 102)
    ax.set_ylabel("score (% of items passed)")
    ax.set_title("Learning curves: mean score per session")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    import matplotlib.dates as mdates

    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    _save(fig, path)
    plt.close(fig)


def _case_difficulty(rep: CourseReport, plt: Any, path: Path) -> None:
    cases = rep.cases.iloc[::-1]  # hardest at the top
    h = max(2.4, 0.28 * len(cases) + 1.0)
    fig, ax = plt.subplots(figsize=(6.4, h), layout="constrained")
    y = np.arange(len(cases))
    ax.barh(y, cases["pass_rate"], color="#5b8db8", label="all checks")
    ax.scatter(cases["first_pass_rate"], y, color="k", marker="|", s=120, zorder=3,
               label="first attempts")  # fmt: skip
    ax.set_yticks(y, cases["case_id"], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("pass rate (%)")
    ax.set_title("Case difficulty (hardest at the top)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def _level_confusion(rep: CourseReport, plt: Any, path: Path) -> None:
    conf = rep.level_confusion()
    fig, ax = plt.subplots(figsize=(7.0, 3.6), layout="constrained")
    if not conf.empty:
        names = list(conf.index)
        x = np.arange(len(names))
        bins = [
            ("≥2 too high", [c for c in conf.columns if c <= -2], "#08519c"),
            ("1 too high", [c for c in conf.columns if c == -1], "#6baed6"),
            ("1 too low", [c for c in conf.columns if c == 1], "#fd8d3c"),
            ("≥2 too low", [c for c in conf.columns if c >= 2], "#a63603"),
        ]
        bottom = np.zeros(len(names))
        for label, cols, color in bins:
            v = conf[cols].sum(axis=1).to_numpy(float) if cols else np.zeros(len(names))
            if v.any():
                ax.bar(x, v, bottom=bottom, color=color, label=label)
            bottom += v
        ax.set_ylim(0, max(1.0, float(bottom.max())) * 1.12)
        ax.set_xticks(x, names, rotation=60 if len(names) > 8 else 0, ha="right", fontsize=8)
        ax.legend(fontsize=8, frameon=False)
    ax.set_ylabel("level labels / procedures")
    ax.set_title("Level counting: labels and procedures at the wrong level")
    ax.grid(axis="y", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def _bland_altman(rep: CourseReport, plt: Any, path: Path) -> bool:
    pairs = rep.agreement_pairs
    if pairs.empty:
        return False
    mm = pairs[pairs["unit"] == "mm"]
    if mm.empty:
        return False
    groups = sorted(mm.groupby(["rater", "type", "name"]), key=lambda kv: -len(kv[1]))[:4]
    fig, axes = plt.subplots(1, len(groups), figsize=(3.4 * len(groups) + 0.6, 3.0),
                             layout="constrained", squeeze=False)  # fmt: skip
    for ax, ((_rater, typ, name), g) in zip(axes[0], groups, strict=False):
        mean = (g["reference"] + g["other"]) / 2
        diff = g["other"] - g["reference"]
        bias = float(diff.mean())
        sd = float(diff.std(ddof=1)) if len(diff) > 1 else 0.0
        ax.scatter(mean, diff, s=14, color="#243447")
        ax.axhline(bias, color=FAIL, lw=1.2)
        for lim in (bias - 1.96 * sd, bias + 1.96 * sd):
            ax.axhline(lim, color=FAIL, lw=1, ls="--")
        ax.set_title(f"{typ.replace('_', ' ')} {name.replace('_', ' ')}", fontsize=9)
        ax.set_xlabel("mean of the two keys (mm)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"{groups[0][0][0]} − reference (mm)", fontsize=8)
    fig.suptitle("Bland–Altman: bias (solid) and 95 % limits of agreement (dashed)", fontsize=10)
    _save(fig, path)
    plt.close(fig)
    return True


PLOTS = ("learning_curve", "case_difficulty", "level_confusion", "bland_altman")


def write_plots(
    rep: CourseReport, out_dir: str | os.PathLike[str], only: tuple[str, ...] = PLOTS
) -> dict[str, str]:
    """Write the report's PNG plots (those named in ``only``) into ``out_dir``.

    Returns ``{plot: file name}`` of the plots written (none without Checks; no
    Bland–Altman plot without a second answer key).
    """
    plt = _plt()
    out = Path(out_dir)
    made: dict[str, str] = {}
    draw = {
        "learning_curve": _learning_curve,
        "case_difficulty": _case_difficulty,
        "level_confusion": _level_confusion,
    }
    if not rep.checks.empty:
        for name, fn in draw.items():
            if name in only:
                fn(rep, plt, out / f"{name}.png")
                made[name] = f"{name}.png"
    if "bland_altman" in only and _bland_altman(rep, plt, out / "bland_altman.png"):
        made["bland_altman"] = "bland_altman.png"
    return made


# --------------------------------------------------------------------------- html
def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)) or v is pd.NA:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return f"{float(v) + 0.0:.{digits}f}".replace("-0.0", "0.0").lstrip()
    return str(v)


def _table(df: pd.DataFrame, columns: list[tuple[str, str]], cls: Any = None, digits=None) -> str:
    """``columns``: (column, header); ``cls(column, value) -> css class``."""
    digits = digits or {}
    records = df.to_dict("records")
    first = records[0] if records else {}
    head = "".join(
        f'<th class="{"t" if i == 0 or isinstance(first.get(c), str) else ""}">{_e(h)}</th>'
        for i, (c, h) in enumerate(columns)
    )
    rows = []
    for rec in records:
        cells = []
        for i, (c, _h) in enumerate(columns):
            v = rec.get(c)
            css = ["t"] if i == 0 or isinstance(v, str) else []
            extra = cls(c, v) if cls else None
            if extra:
                css.append(extra)
            cells.append(f'<td class="{" ".join(css)}">{_e(_fmt(v, digits.get(c, 1)))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _trainee_class(c: str, v: Any) -> str | None:
    num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    if not num or (isinstance(v, float) and not math.isfinite(v)):
        return None
    if c == "safety_failures" and v > 0:
        return "safety"
    if c in ("wrong_level_procedures", "too_high", "too_low") and v > 0:
        return "warn"
    if c == "pass_rate":
        return "good" if v >= 80 else "bad" if v < 50 else None
    if c == "trend_per_week" and v > 1:
        return "good"
    return None


def _img(plots: dict[str, str], key: str, alt: str) -> str:
    return f'<img src="{_e(plots[key])}" alt="{_e(alt)}">' if key in plots else ""


def render_html(rep: CourseReport, plots: dict[str, str]) -> str:
    """The page's HTML text (``plots`` from :func:`write_plots`)."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    tr = rep.trainees
    n_safety = int(tr["safety_failures"].sum()) if len(tr) else 0
    n_wrong = int(tr["wrong_level_procedures"].sum()) if len(tr) else 0
    rate = 100.0 * rep.checks["passed"].mean() if len(rep.checks) else math.nan
    cards = "".join(
        f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
        for k, v in (
            ("trainees", len(tr)),
            ("cases", rep.n_cases),
            ("checks", len(rep.checks)),
            ("checks passed", f"{_fmt(rate, 0)} %"),
            ("safety failures", n_safety),
            ("wrong-level procedures", n_wrong),
        )
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Course report: {_e(rep.set_name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>Course report: {_e(rep.set_name)}</h1>",
        f"<p>protocol {_e(rep.protocol)} · generated {when} by flannot report</p></header>",
        f'<main><div class="cards">{cards}</div>',
    ]
    if rep.checks.empty:
        parts.append(
            "<section><h2>No attempts yet</h2><p>Trainees' attempts go in "
            "<code>attempts/&lt;trainee&gt;/&lt;case-id&gt;.json</code>.</p></section>"
        )
    else:
        parts.append(
            "<section><h2>Trainees</h2>"
            '<p class="note">Score: share of a Check\'s items that passed. Trend: least-squares '
            "slope of the score over time (points per week). Safety failures: Checks with an "
            "instrument tip past a safety boundary. Too high / too low: vertebra labels and "
            "procedures counted one or more levels too cranial / too caudal.</p>"
            '<div class="scroll">'
            + _table(
                tr,
                [
                    ("trainee", "trainee"),
                    ("checks", "checks"),
                    ("pass_rate", "passed %"),
                    ("first_score", "first score %"),
                    ("last_score", "last score %"),
                    ("trend_per_week", "trend %/week"),
                    ("safety_failures", "safety failures"),
                    ("wrong_level_procedures", "wrong-level procedures"),
                    ("too_high", "too high"),
                    ("too_low", "too low"),
                    ("mean_rating", "global rating"),
                    ("entrustment", "entrustment (Zwisch)"),
                    ("rubric_done_pct", "rubric done %"),
                ],
                _trainee_class,
                {
                    "mean_rating": 1,
                    "pass_rate": 0,
                    "first_score": 0,
                    "last_score": 0,
                    "rubric_done_pct": 0,
                },
            )  # fmt: skip
            + '</div><div class="row"><div>'
            + _img(plots, "learning_curve", "learning curves")
            + "</div><div>"
            + _img(plots, "level_confusion", "level offsets per trainee")
            + "</div></div></section>"
        )
        parts.append(
            "<section><h2>Level counting</h2>"
            '<p class="note">Level offset = labelled level minus true level, counted over '
            "every vertebra label and every instrument placed at another level "
            "(−1: one level too high, too cranial).</p>"
            '<div class="scroll">' + _confusion_html(rep) + "</div></section>"
        )  # fmt: skip
        parts.append(
            "<section><h2>Cases</h2>"
            '<p class="note">Hardest first. Median failed: median number of failed items '
            "per Check; median tip error in mm.</p>"
            '<div class="scroll">'
            + _table(
                rep.cases,
                [
                    ("case_id", "case"),
                    ("trainees", "trainees"),
                    ("checks", "checks"),
                    ("pass_rate", "passed %"),
                    ("first_pass_rate", "first attempt passed %"),
                    ("median_failed", "median failed"),
                    ("median_tip_error", "median tip error mm"),
                    ("common_errors", "most common errors"),
                    ("decision", "right answer"),
                ],
                digits={"pass_rate": 0, "first_pass_rate": 0},
            )  # fmt: skip
            + '</div><div class="row"><div>'
            + _img(plots, "case_difficulty", "pass rate per case")
            + '</div><div><h2>Most common errors</h2><div class="scroll">'
            + _table(
                rep.errors.head(25),
                [
                    ("kind", "error"),
                    ("count", "count"),
                    ("trainees", "trainees"),
                    ("cases", "cases"),
                ],
            )
            + "</div></div></div></section>"
        )
    if not rep.assessments.empty:
        parts.append(_rubric_html(rep))
    if not rep.agreement.empty:
        parts.append(
            "<section><h2>Inter-rater agreement of the answer keys</h2>"
            '<p class="note">Second keys in <code>keys/&lt;rater&gt;/</code> against the '
            "reference: ICC(2,1), two-way random, absolute agreement, single rater "
            "(Shrout &amp; Fleiss 1979); Bland–Altman bias and 95 % limits of agreement "
            "(Bland &amp; Altman 1986); boundary distances of the outlines. ICC &lt; 0.5 poor, "
            "0.5–0.75 moderate, 0.75–0.9 good, &gt; 0.9 excellent (Koo &amp; Li 2016); "
            "an ICC over targets that do not differ (identical cases) says nothing.</p>"
            '<div class="row"><div class="scroll">'
            + _table(
                rep.agreement,
                [
                    ("name", "measurement"),
                    ("type", "type"),
                    ("rater", "rater"),
                    ("n", "n"),
                    ("icc", "ICC(2,1)"),
                    ("bias", "bias"),
                    ("loa_low", "lower LoA"),
                    ("loa_high", "upper LoA"),
                    ("unit", "unit"),
                ],
                digits={"icc": 2, "bias": 2, "loa_low": 2, "loa_high": 2},
            )  # fmt: skip
            + "</div><div>"
            + _table(
                rep.boundaries,
                [
                    ("type", "outline"),
                    ("rater", "rater"),
                    ("metric", "distance"),
                    ("n", "n"),
                    ("mean", "mean"),
                    ("max", "max"),
                    ("unit", "unit"),
                ],
                digits={"mean": 2, "max": 2},
            )  # fmt: skip
            + "</div></div>"
            + _img(plots, "bland_altman", "Bland–Altman plots")
            + "</section>"
        )
    tables = " · ".join(f'<a href="{t}.csv">{t}.csv</a>' for t in TABLES)
    parts.append(f"</main><footer>Tables as CSV: {tables}. Formulas and their sources: "
                 "docs/report.md in flannot.</footer></body></html>")  # fmt: skip
    return "\n".join(parts)


def _confusion_html(rep: CourseReport) -> str:
    conf = rep.level_confusion()
    if conf.empty:
        return "<p>No level labels in the attempts.</p>"
    df = conf.reset_index()
    cols = [("trainee", "trainee")]
    for c in conf.columns:
        word = "right level" if c == 0 else f"{abs(c)} too {'high' if c < 0 else 'low'}"
        cols.append((c, f"{c:+d} ({word})" if c else f"0 ({word})"))

    def cls(c: Any, v: Any) -> str | None:
        if c == "trainee" or not isinstance(v, (int, np.integer)) or v == 0:
            return None
        return "good" if c == 0 else "warn"

    return _table(df, cols, cls)


def _rubric_html(rep: CourseReport) -> str:
    a = rep.assessments
    keys = [c for c in a.columns if str(c).startswith("rubric:")]
    g = a.groupby("trainee")
    summary = pd.DataFrame({"assessed": g.size(), "mean_rating": g["global_rating"].mean()})
    summary["entrustment"] = (
        a.sort_values("time", kind="stable").groupby("trainee")["entrustment"].last()
    )
    for k in keys:
        summary[k] = 100.0 * g[k].apply(lambda s: (s == True).mean())  # noqa: E712
    summary = summary.reset_index()
    cols = [("trainee", "trainee"), ("assessed", "attempts assessed"),
            ("mean_rating", "global rating"), ("entrustment", "entrustment (latest)")]  # fmt: skip
    cols += [(k, k.removeprefix("rubric:").replace("_", " ") + " %") for k in keys]

    def cls(c: Any, v: Any) -> str | None:
        if str(c).startswith("rubric:") and isinstance(v, float) and math.isfinite(v):
            return "good" if v >= 80 else "bad" if v < 50 else None
        return None

    return (
        "<section><h2>Rubric and entrustment</h2>"
        '<p class="note">Checklist items done (automatic checks and the educator\'s ticks), '
        "global rating and entrustment on the Zwisch scale (George et al. 2014), per trainee."
        "</p>" + _table(summary, cols, cls, {k: 0 for k in keys}) + "</section>"
    )


def write_html(rep: CourseReport, out_dir: str | os.PathLike[str]) -> Path:
    """Write ``index.html``, the plots and every table as CSV into ``out_dir``.

    Returns the page's path.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(rep, out)
    for name in TABLES:
        atomic_write_text(out / f"{name}.csv", rep.table(name).to_csv(index=False))
    page = out / "index.html"
    atomic_write_text(page, render_html(rep, plots))
    return page
