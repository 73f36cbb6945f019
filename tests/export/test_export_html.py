"""HTML gallery: self-contained (no network, no script), every link resolves, notes escaped."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from flannot.export import export_set
from tests.export.export_helpers import case_json, small_set


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []
        self.svg_shapes: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("polygon", "polyline", "circle"):
            self.svg_shapes[tag] = self.svg_shapes.get(tag, 0) + 1
        for name, value in attrs:
            if name in ("href", "src", "xlink:href") and value is not None:
                self.refs.append(value)

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    page.close()
    return page


@pytest.fixture(scope="module")
def gallery(exports) -> Path:
    return exports("html")


def test_every_page_is_self_contained(gallery: Path, sample_set: Path) -> None:
    pages = [gallery / "index.html", *sorted((gallery / "cases").glob("*.html"))]
    listing = json.loads((sample_set / "flannot-set.json").read_text())
    assert len(pages) == 1 + len(listing["cases"])
    for path in pages:
        raw = path.read_text("utf-8")
        assert "http" not in raw.lower() and "//" not in raw.replace("<!--", "")
        page = _parse(path)
        assert "script" not in page.tags and "link" not in page.tags and "iframe" not in page.tags
        assert page.refs
        for ref in page.refs:
            assert ":" not in ref and not ref.startswith("/"), ref
            assert (path.parent / ref).resolve().is_file(), f"{path.name}: {ref}"
    index = _parse(gallery / "index.html")
    assert {f"cases/{c['case_id']}.html" for c in listing["cases"]} <= set(index.refs)


def test_case_page_draws_annotations_with_levels_and_measurements(
    gallery: Path, sample_set: Path
) -> None:
    raw = case_json(sample_set, "clo-left")
    page = _parse(gallery / "cases" / "clo-left.html")
    text = " ".join(page.text)
    lf = [a for a in raw["annotations"] if a["type"] == "ligamentum_flavum"]
    contrast = [a for a in raw["annotations"] if a["type"] == "epidural_contrast"]
    assert page.svg_shapes.get("polygon", 0) == len(lf)
    assert page.svg_shapes.get("polyline", 0) == len(contrast)
    for a in lf:
        assert a["level"] in text
    assert f"mm ({raw['image']['calibration']})" in text
    assert "max_thickness" in text
    cine = _parse(gallery / "cases" / "cine.html")
    assert sum(1 for t in cine.tags if t == "svg") == 24


def test_notes_markdown_is_rendered_and_escaped(sample_set: Path, tmp_path: Path) -> None:
    src = small_set(sample_set, tmp_path / "set", ["ap"])
    case_file = src / "cases" / "ap" / "annotations.json"
    data = json.loads(case_file.read_text())
    data["notes"] = (
        "# Heading\n\nA **bold** and *italic* point <script>alert(1)</script>.\n\n"
        "- one\n- two\n\n[a link](http://example.invalid) ![img](http://example.invalid/x.png)\n"
    )
    case_file.write_text(json.dumps(data))
    export_set(src, "html", tmp_path / "out")
    html = (tmp_path / "out" / "cases" / "ap.html").read_text("utf-8")
    page = _parse(tmp_path / "out" / "cases" / "ap.html")
    assert "<strong>bold</strong>" in html and "<em>italic</em>" in html
    assert "<li>one</li>" in html and "Heading</h1>" in html
    assert "&lt;script&gt;" in html and "script" not in page.tags
    assert not any("example.invalid" in r for r in page.refs)


def test_mask_regions_are_outlined(sample_set: Path, tmp_path: Path) -> None:
    import numpy as np

    from flannot.model.annotation import Geometry

    src = small_set(sample_set, tmp_path / "set", ["clo-left"])
    case_file = src / "cases" / "clo-left" / "annotations.json"
    data = json.loads(case_file.read_text())
    mask = np.zeros((512, 512), bool)
    mask[100:120, 200:230] = True
    lf = next(a for a in data["annotations"] if a["type"] == "ligamentum_flavum")
    lf["geometry"] = Geometry.from_mask(mask).to_dict()
    case_file.write_text(json.dumps(data))
    export_set(src, "html", tmp_path / "out")
    html = (tmp_path / "out" / "cases" / "clo-left.html").read_text("utf-8")
    page = _parse(tmp_path / "out" / "cases" / "clo-left.html")
    n_lf = sum(1 for a in data["annotations"] if a["type"] == "ligamentum_flavum")
    assert page.svg_shapes.get("polygon", 0) == n_lf
    # the outline runs along the mask's edge: x in [200, 230], y in [100, 120]
    start = html.index(f"<title>{lf['id']}:")
    points = html[html.rindex('points="', 0, start) + 8 : start].split('"')[0].split()
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert 199 <= min(xs) and max(xs) <= 231 and 99 <= min(ys) and max(ys) <= 121
    assert max(xs) - min(xs) >= 28 and max(ys) - min(ys) >= 18
