"""Where cases are summarised, the case decision is carried: CSV rows, gallery page, report."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pandas as pd

from flannot.export import gallery, table
from flannot.model.case import Case
from flannot.model.decision import Decision
from flannot.protocols import get_protocol
from flannot.teach.report import _case_table, _decisions
from flannot.teach.teaching_set import TeachingSet

SAMPLE = Path(__file__).resolve().parents[2] / "sample_dicoms"


def _case(decision):
    case = Case.load(SAMPLE / "cases" / "clo-left")
    case.decision = decision
    return case


def test_the_csv_gets_case_level_decision_rows():
    rows = list(csv.DictReader(io.StringIO(table.assemble([table.case_part(_case(
        Decision(False, "no_laminar_shelf", "flat lamina")))]))))  # fmt: skip
    tail = [(r["annotation_id"], r["type"], r["name"], r["value"]) for r in rows[-2:]]
    assert tail == [("", "", "proceed", "false"), ("", "", "decision_reason", "no_laminar_shelf")]
    plain = table.assemble([table.case_part(_case(None))])
    assert "proceed" not in plain and "decision_reason" not in plain
    assert (
        table.assemble([table.case_part(_case(Decision(True)))])
        .rstrip()
        .endswith("proceed,true,,magnification_corrected")
    )


def test_the_gallery_page_and_index_show_the_decision():
    html = gallery._decision_html(_case(Decision(False, "no_laminar_shelf", "flat lamina")))
    assert "<h2>Decision</h2>" in html
    assert "Do not proceed: no laminar shelf at the target level</b> — flat lamina" in html
    assert gallery._decision_html(_case(None)) == ""
    entry = {"case_id": "x", "title": "t", "view": "clo", "thumbnail": "a.png", "annotations": 1,
             "decision": "do not proceed: no laminar shelf at the target level"}  # fmt: skip
    assert "· do not proceed: no laminar shelf" in gallery.index_html({"name": "s"}, [entry])


def test_the_course_report_case_table_names_each_cases_right_answer(tmp_path):
    root = tmp_path / "set"
    shutil.copytree(SAMPLE, root)
    file = root / "cases" / "clo-left" / "annotations.json"
    data = json.loads(file.read_text())
    data["decision"] = {"proceed": False, "reason": "epidurogram_not_at_target"}
    file.write_text(json.dumps(data))
    ts = TeachingSet.open(root)
    words = _decisions(ts, ts.case_ids, get_protocol("mild"))
    assert words["clo-left"] == "do not proceed: epidurogram not seen at the target level and side"
    assert words["ap"] == ""
    checks = pd.DataFrame(
        {"trainee": ["a"], "case_id": ["clo-left"], "attempt": [1], "passed": [False],
         "n_failed": [1], "tip_error": [float("nan")]}
    )  # fmt: skip
    out = _case_table(checks, pd.DataFrame(), ts.case_ids, words)
    assert out.loc[0, "decision"].startswith("do not proceed")
