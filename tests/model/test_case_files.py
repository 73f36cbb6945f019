"""case_files(): which case files a path stands for (used by validate and measure)."""

from __future__ import annotations

import json
from pathlib import Path

from flannot.model.case import case_files


def test_a_set_list_saved_with_a_bom_is_followed(tmp_path: Path) -> None:
    """Notepad's UTF-8 BOM must not make the set's case list (order, paths) be ignored."""
    for cid in ("a", "b"):
        (tmp_path / "cases" / cid).mkdir(parents=True)
        (tmp_path / "cases" / cid / "annotations.json").write_text("{}")
    manifest = {"flannot_set_version": 1, "cases": [{"case_id": "b", "path": "cases/b"}]}
    (tmp_path / "flannot-set.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(manifest).encode())
    assert case_files(tmp_path) == [tmp_path / "cases" / "b" / "annotations.json"]
