"""benchmarks/report_table.py: the README's ratio table comes from the saved results."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location(
        "report_table", ROOT / "benchmarks" / "report_table.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_in_order_and_readme_block_replaced(tmp_path: Path) -> None:
    rt = _module()
    rows = {
        "deid": {"what": "deid", "figure": "1.05×", "target": "≤ 1.1×", "ok": True, "load": 2},
        "export-csv": {"what": "csv | x", "figure": "1.8×", "target": "≥ 1.7×", "ok": False},
    }
    for name, row in rows.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(row))
    found = rt.load(tmp_path)
    assert [n for n, _ in found] == ["export-csv", "deid"]  # table order, not file order
    text = rt.table(found)
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| csv \\| x | 1.8× | ≥ 1.7× | **no** |")
    assert lines[3].startswith("| deid | 1.05× | ≤ 1.1× | yes | 2.0")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{rt.BEGIN}\nold table\n{rt.END}\nafter\n")
    assert rt.rewrite(readme, text)
    assert readme.read_text() == f"intro\n{rt.BEGIN}\n{text}{rt.END}\nafter\n"
    (tmp_path / "none.md").write_text("no markers")
    assert not rt.rewrite(tmp_path / "none.md", text)
    assert (tmp_path / "none.md").read_text() == "no markers"


def test_readme_has_the_block() -> None:
    rt = _module()
    doc = (ROOT / "README.md").read_text("utf-8")
    assert doc.count(rt.BEGIN) == 1 and doc.count(rt.END) == 1
