"""CSV export: every case's measurement table, in set order, in one file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

import flannot
from flannot.measure import COLUMNS


def test_csv_holds_every_case_in_set_order(exports, sample_set: Path) -> None:
    text = (exports("csv") / "measurements.csv").read_text("utf-8")
    df = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert list(df.columns) == list(COLUMNS)
    order = [
        c["case_id"] for c in json.loads((sample_set / "flannot-set.json").read_text())["cases"]
    ]
    seen = list(dict.fromkeys(df["case_id"]))
    assert seen == [c for c in order if c in seen]
    total = 0
    for cid in order:
        ref = flannot.measure(sample_set / "cases" / cid)
        decided = _decision_names(sample_set, cid)  # case-level rows after the measurements
        total += len(ref) + len(decided)
        mine = df[df["case_id"] == cid]
        assert len(mine) == len(ref) + len(decided)
        assert list(mine["name"]) == list(ref["name"]) + decided
        assert list(mine["unit"]) == [u or "" for u in ref["unit"]] + [""] * len(decided)
        assert list(mine["annotation_id"]) == list(ref["annotation_id"]) + [""] * len(decided)
    assert len(df) == total > 0
    # every mm value carries its calibration, never an empty one
    assert (df.loc[df["unit"].isin(["mm", "mm2"]), "calibration"] != "uncalibrated").all()
    assert (df["calibration"] != "").all()


def test_csv_is_the_same_text_as_the_pandas_table_of_every_case(exports, sample_set) -> None:
    # the export writes rows without pandas: it must be the text measure()'s DataFrames give
    from flannot.measure.rows import to_csv

    order = [
        c["case_id"] for c in json.loads((sample_set / "flannot-set.json").read_text())["cases"]
    ]
    measured = [flannot.measure(sample_set / "cases" / cid) for cid in order]
    frames = [f for f in measured if len(f)]
    expected = to_csv(pd.concat(frames, ignore_index=True))
    # the case-level decision rows (tests/export/test_export_decision.py) follow each case's
    # measurements: without them the text is the DataFrames'
    text = (exports("csv") / "measurements.csv").read_text("utf-8")
    kept = [line for line in text.splitlines(keepends=True) if ",,,,,proceed," not in line]
    kept = [line for line in kept if ",,,,,decision_reason," not in line]
    assert "".join(kept) == expected
    assert len(kept) < len(text.splitlines())  # the sample set records decisions


def _decision_names(set_dir: Path, case_id: str) -> list[str]:
    """The case-level row names a case's recorded decision gives (from the raw case file)."""
    decision = json.loads((set_dir / "cases" / case_id / "annotations.json").read_text()).get(
        "decision"
    )
    if not decision:
        return []
    return ["proceed"] + (["decision_reason"] if decision.get("reason") else [])
