"""CT-backed cases through the CLI: `set add --ct`, `validate` and `score` use them."""

from __future__ import annotations

import json
from pathlib import Path

from flannot.cli import main
from flannot.teach.ct_case import open_training, shots_dir, write_attempt_case
from flannot.teach.teaching_set import TeachingSet


def test_set_add_ct_then_validate_and_score(synth_ct, tmp_path: Path, capsys) -> None:
    root = tmp_path / "set"
    TeachingSet.new(root)
    args = ["set", "add", str(root), "--ct", str(synth_ct.ct_path)]
    assert main([*args, "--target", "L3-L4"]) == 2  # no labels: bad input, one line
    assert "--labels" in capsys.readouterr().err
    args += ["--labels", str(synth_ct.labels_path), "--target", "L3-L4", "--views", "ap"]
    assert main(args) == 0
    (cid,) = TeachingSet.open(root).case_ids
    assert "CT-backed training case" in capsys.readouterr().out
    assert main(["validate", str(root)]) == 0
    # a CT case whose task names an unknown view is reported by `flannot validate`
    folder = TeachingSet.open(root).case_dir(cid)
    sim = json.loads((folder / "sim.json").read_text())
    good = dict(sim)
    sim["task"] = {**sim["task"], "views": ["upside-down"]}
    (folder / "sim.json").write_text(json.dumps(sim))
    assert main(["validate", str(root)]) == 1
    assert "unknown view" in capsys.readouterr().out
    (folder / "sim.json").write_text(json.dumps(good))
    # a trainee's shot is scored on the view, through `flannot score`
    attempt = root / "attempts" / "alice" / f"{cid}.json"
    session = open_training(folder, shots_dir(attempt))
    session.set_angles(180.0, 6.0)
    session.shoot()
    write_attempt_case(folder / "annotations.json", attempt, "alice")
    code = main(["score", str(root), str(attempt.parent), "--json"])
    items = json.loads(capsys.readouterr().out)["cases"][0]["items"]
    angle = next(it for it in items if it["metric"] == "view_angle_error")
    assert angle["annotation_id"] == "ap" and abs(angle["value"]) > 1.0
    assert code in (0, 1)
