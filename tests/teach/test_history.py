"""Attempt history: every Check appended, numbered, never overwritten (SPEC §6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flannot.cli import main
from flannot.errors import FlannotError
from flannot.teach.history import history_path, read_history, record
from flannot.teach.score import score_case
from tests.score.builders import ann, make_case, vertebrae


def _write(case, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(case.to_dict()))
    return path


def test_history_path_sits_beside_the_attempt():
    assert history_path("set/attempts/alice/case-a.json") == Path(
        "set/attempts/alice/case-a.history.jsonl"
    )


def test_every_check_is_kept_and_numbered(tmp_path: Path):
    ref = make_case(vertebrae())
    f = tmp_path / "attempts" / "alice" / "t.json"
    bad = score_case(ref, make_case(vertebrae(["L2", "L3", "L4", "L5", "S1"])))
    good = score_case(ref, make_case(vertebrae()))
    record(f, bad, time="2026-12-01T10:00:00Z")
    first_line = history_path(f).read_text().splitlines()[0]
    record(f, good, time="2026-12-02T10:00:00Z")
    h = read_history(history_path(f))
    assert [e["attempt"] for e in h] == [1, 2]
    assert [e["passed"] for e in h] == [False, True]
    assert h[0]["trainee"] == "alice" and h[0]["case_id"] == "t"
    assert h[0]["n_failed"] == 5 and h[1]["n_failed"] == 0
    assert h[0]["items"][0]["metric"] == "level_offset" and h[0]["items"][0]["value"] == 1
    # the first Check is still there, byte for byte
    assert history_path(f).read_text().splitlines()[0] == first_line


def test_a_broken_history_line_is_one_error_naming_the_file(tmp_path: Path):
    p = tmp_path / "x.history.jsonl"
    p.write_text('{"attempt": 1}\nnot json\n')
    with pytest.raises(FlannotError, match=r"x\.history\.jsonl.*line 2"):
        read_history(p)
    assert read_history(tmp_path / "none.history.jsonl") == []


def test_cli_score_record_appends_to_each_attempts_history(tmp_path: Path, capsys):
    lf = ann("lf", "ligamentum_flavum", "polygon", [[0, 0], [0, 9], [9, 9], [9, 0]], level="L4-L5")
    ref = _write(make_case([*vertebrae(), lf], case_id="k"), tmp_path / "ref" / "annotations.json")
    att = _write(make_case(vertebrae(), case_id="k"), tmp_path / "attempts" / "bob" / "k.json")
    assert main(["score", str(ref), str(att)]) == 1
    assert not history_path(att).exists()  # only with --record
    assert main(["score", "--record", str(ref), str(att)]) == 1
    assert main(["score", "--record", "--json", str(ref), str(att.parent)]) == 1
    h = read_history(history_path(att))
    assert [e["attempt"] for e in h] == [1, 2]
    assert all(e["trainee"] == "bob" and not e["passed"] for e in h)
    assert "recorded 1 attempt" in capsys.readouterr().err
