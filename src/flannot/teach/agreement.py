"""Inter-rater agreement between two answer keys of the same case (SPEC §16).

Educators check each other: a second educator's key of a case
(``SET/keys/<rater>/<case-id>.json``) against the set's reference.

* **ICC(2,1)** — two-way random effects, absolute agreement, single rater
  (Shrout & Fleiss 1979, *Psychol Bull* 86:420–428, case 2; McGraw & Wong 1996,
  *Psychol Methods* 1:30–46, "ICC(A,1)"), per measurement name over every
  annotation both keys measured::

      ICC = (MSR − MSE) / (MSR + (k − 1)·MSE + k·(MSC − MSE)/n)

  with ``n`` targets, ``k`` raters, MSR/MSC/MSE the mean squares of rows
  (targets), columns (raters) and error of the two-way ANOVA.
* **Bland–Altman** (Bland & Altman 1986, *Lancet* 327:307–310): bias = mean of
  the differences (second key − reference), 95 % limits of agreement
  bias ± 1.96·SD of the differences.
* **Boundary distances**: the second key scored as an attempt against the
  reference (:func:`flannot.teach.score.score_case`): mean surface distance and
  HD95 of each region, band and boundary line.

Interpretation of the ICC (Koo & Li 2016, *J Chiropr Med* 15:155–163): < 0.5
poor, 0.5–0.75 moderate, 0.75–0.9 good, > 0.9 excellent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["bland_altman", "boundary_rows", "icc_2_1", "measurement_pairs"]


def icc_2_1(ratings: Any) -> float:
    """ICC(2,1) of an ``(n targets, k raters)`` array (Shrout & Fleiss 1979).

    ``nan`` with fewer than two targets or raters, or no variance at all.
    """
    x = np.asarray(ratings, float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2 or not np.isfinite(x).all():
        return math.nan
    n, k = x.shape
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ss_err = ss_total - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    denom = msr + (k - 1) * mse + k * (msc - mse) / n
    return float((msr - mse) / denom) if denom > 0 else math.nan


def bland_altman(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float, float]:
    """``(bias, sd, lower, upper)``: differences ``b − a``, limits bias ± 1.96·SD
    (Bland & Altman 1986)."""
    d = np.asarray(b, float) - np.asarray(a, float)
    if len(d) == 0:
        return (math.nan,) * 4
    bias = float(d.mean())
    sd = float(d.std(ddof=1)) if len(d) > 1 else math.nan
    return bias, sd, bias - 1.96 * sd, bias + 1.96 * sd


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def measurement_pairs(reference: Any, other: Any) -> list[dict[str, Any]]:
    """Numeric measurements both keys give, paired by (type, frame, level, side, name).

    Rows ``{case_id, type, level, side, name, unit, reference, other}``; an
    annotation whose key is not unique in either case is left out (it cannot be
    paired by its labels).
    """
    from flannot.measure import measure_rows

    def rows(case: Any) -> dict[tuple, Any]:
        out: dict[tuple, Any] = {}
        seen: dict[tuple, int] = {}
        for r in measure_rows(case):
            if not _numeric(r.value):
                continue
            key = (r.type, int(r.frame or 0), r.level, r.side, r.name)
            seen[key] = seen.get(key, 0) + 1
            out[key] = r
        return {k: v for k, v in out.items() if seen[k] == 1}

    ra, rb = rows(reference), rows(other)
    out = []
    for key in sorted(ra.keys() & rb.keys(), key=str):
        a, b = ra[key], rb[key]
        out.append(
            {
                "case_id": str(reference.case_id),
                "type": key[0],
                "level": key[2],
                "side": key[3],
                "name": key[4],
                "unit": a.unit,
                "reference": float(a.value),
                "other": float(b.value),
            }
        )
    return out


def boundary_rows(reference: Any, other: Any) -> list[dict[str, Any]]:
    """Mean surface distance and HD95 of ``other``'s outlines against ``reference``'s."""
    from flannot.teach.score import score_case

    out = []
    for it in score_case(reference, other).items:
        if it.metric in ("msd", "hd95") and _numeric(it.value):
            out.append(
                {
                    "case_id": str(reference.case_id),
                    "type": it.type,
                    "level": it.level,
                    "side": it.side,
                    "metric": it.metric,
                    "value": float(it.value),  # type: ignore[arg-type]  # numeric metrics only
                    "unit": it.unit,
                }
            )
    return out
