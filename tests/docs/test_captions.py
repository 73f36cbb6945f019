"""The workspace screenshot script rewrites only its own section of docs/images/CAPTIONS.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docs" / "images" / "make_workspace_screenshots.py"


def _script():
    spec = importlib.util.spec_from_file_location("make_workspace_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_captions_keep_the_other_scripts_sections():
    m = _script()
    text = (ROOT / "docs" / "images" / "CAPTIONS.md").read_text(encoding="utf-8")
    new = m.update_captions(text, "# What the napari pictures show\n\n- **x.png** — new\n")
    assert "- **x.png** — new" in new
    assert "**workspace.png**" not in new  # the old section is gone, not duplicated
    for kept in ("pacs_dock.png", "# The virtual C-arm pictures", "carm_geometry.png"):
        assert kept in new
    assert m.update_captions(new, "# What the napari pictures show\n\n- **x.png** — new\n") == new


def test_captions_without_markers_replace_the_first_section_only():
    m = _script()
    old = (
        "# What the napari pictures show\n\nold workspace text\n\n"
        "Made by `docs/images/make_pacs_screenshot.py` against Orthanc:\n\n- pacs\n\n"
        "# The virtual C-arm pictures\n\n- carm\n"
    )
    new = m.update_captions(old)
    assert "old workspace text" not in new
    assert new.count(m.BEGIN) == 1 and new.count(m.END) == 1
    assert "make_pacs_screenshot.py` against Orthanc:\n\n- pacs" in new
    assert new.rstrip().endswith("- carm")
    assert m.update_captions(new) == new
