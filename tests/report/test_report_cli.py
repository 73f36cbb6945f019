"""``flannot report SET [--html DIR] [--csv|--json]``: outputs, errors, the page in Chromium."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest

from flannot.cli import main


def test_json_has_every_table(course, capsys):
    assert main(["report", str(course), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"trainees", "cases", "levels", "errors", "checks", "assessments", "agreement",
            "boundaries"} <= set(data)  # fmt: skip
    by = {t["trainee"]: t for t in data["trainees"]}
    assert by["t-crosses"]["safety_failures"] == 12
    assert by["t-level_high"]["wrong_level_procedures"] == 12
    assert data["checks"][0]["time"].endswith("Z")


def test_csv_prints_the_chosen_table(course, capsys):
    assert main(["report", str(course), "--csv", "--table", "cases"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["case_id"] == "case-03" and len(rows) == 4


def test_human_summary(course, capsys):
    assert main(["report", str(course)]) == 0
    out = capsys.readouterr().out
    assert "t-crosses: 12 checks, 0 % passed" in out
    assert "safety failures 12" in out
    assert "levels too high 84 / too low 0" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--csv", "--json"], "choose one"),
        (["--csv", "--table", "nope"], "--table 'nope'"),
    ],
)
def test_bad_options_exit_2_one_line(course, capsys, args, message):
    assert main(["report", str(course), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flannot: error:") and message in err and err.count("\n") == 1


def test_not_a_set_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not a teaching set" in err and err.count("\n") == 1


def test_an_attempt_never_checked_is_scored_once(tmp_path, capsys):
    from flannot.teach.course_demo import attempt_case_dict, build_course

    root = build_course(tmp_path / "set", trainees=[], n_cases=2, second_keys=0)
    import numpy as np

    f = root / "attempts" / "zoe" / "case-01.json"
    f.parent.mkdir(parents=True)
    f.write_text(
        json.dumps(attempt_case_dict("crosses", 0, "case-01", 3, np.random.default_rng(1)))
    )
    assert main(["report", str(root), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(t["trainee"], t["checks"], t["safety_failures"]) for t in data["trainees"]] == [
        ("zoe", 1, 1)
    ]


def test_html_is_static_and_renders_in_headless_chromium(course, tmp_path):
    out = tmp_path / "html"
    assert main(["report", str(course), "--html", str(out)]) == 0
    page = (out / "index.html").read_text()
    assert "<script" not in page.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from the network
    for src in re.findall(r'<img src="([^"]+)"', page):
        assert (out / src).is_file() and (out / src).stat().st_size > 5000
    assert {"learning_curve.png", "case_difficulty.png", "level_confusion.png",
            "bland_altman.png"} <= {p.name for p in out.iterdir()}  # fmt: skip
    assert (out / "trainees.csv").read_text().startswith("trainee,")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "headless Chromium is needed to check the page (apt-get install chromium)"
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking"]  # fmt: skip
    dom = subprocess.run(
        [*flags, "--dump-dom", (out / "index.html").as_uri()],
        capture_output=True, text=True, timeout=90,
    ).stdout  # fmt: skip
    assert "Course report: Scripted MILD course" in dom
    assert "t-level_high" in dom and "wrong-level procedure" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, "--window-size=1200,900", f"--screenshot={shot}", (out / "index.html").as_uri()],
        capture_output=True, timeout=90,
    )  # fmt: skip
    from PIL import Image

    img = Image.open(shot).convert("L")
    lo, hi = img.getextrema()
    assert img.size == (1200, 900) and hi - lo > 100  # drawn, not a blank page
