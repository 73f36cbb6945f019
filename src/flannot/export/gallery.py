"""Static HTML gallery: ``index.html`` + one page per case (SPEC §9).

Each page shows the annotated frames (PNG, default window, redactions blanked) with the
annotations drawn over them as inline SVG in the protocol's colours and labelled with
their level, the measurement table (calibration beside the unit) and the teaching
notes. Everything is escaped; the Markdown of the notes is rendered with raw HTML,
links and images switched off. No script, no external style sheet, no network:
the folder opens from disk.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from flannot.export.render import png_bytes, render_frame
from flannot.protocols import Role

INDEX_FILE = "index.html"

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;max-width:70em;color:#222;background:#fafafa}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}
figure{display:inline-block;margin:0 1em 1em 0;vertical-align:top}
figcaption{font-size:.9em;color:#555}
svg.frame{max-width:100%;height:auto;background:#000}
table{border-collapse:collapse;font-size:.9em}
td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.meta{color:#555}.warn{color:#a40}
ul.cases{list-style:none;padding:0}
ul.cases li{display:inline-block;margin:0 1em 1em 0;vertical-align:top;width:14em}
ul.cases img{width:14em;height:auto;background:#000}
""".strip()


def page_file(case_id: str) -> str:
    """Relative path of a case page."""
    return f"cases/{case_id}.html"


def image_file(case_id: str, frame: int) -> str:
    """Relative path of a frame's PNG."""
    return f"images/{case_id}/frame-{frame:04d}.png"


def markdown_html(text: str) -> str:
    """Teaching notes (Markdown) as safe HTML: raw HTML escaped, no links or images."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["link", "image", "autolink", "html_inline", "html_block"])
    return md.render(text or "")


def _doc(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )


def _fmt(v: float) -> str:
    return f"{v:.2f}"


def _label(ann: Any) -> str:
    parts = [ann.instrument or "", ann.level or "", ann.side or "", ann.part or ""]
    if ann.length_mm:  # only a calibration line carries a known length
        parts = [f"{ann.length_mm:g} mm"]
    return " ".join(p for p in parts if p)


def _mask_outline(ann: Any) -> Any:
    """Longest outline of a mask annotation as ``[x, y]`` points (empty when unreadable)."""
    import numpy as np
    from skimage.measure import find_contours

    try:
        mask = ann.geometry.to_mask()
    except ValueError:
        return np.zeros((0, 2))
    contours = find_contours(np.pad(mask, 1).astype(np.float32), 0.5)
    if not contours:
        return np.zeros((0, 2))
    longest = max(contours, key=len) - 1.0  # undo the padding
    return longest[:, ::-1] + 0.5


def _svg_shape(
    ann: Any, colour: str, size: float, width: float = math.inf, label_left: bool = False
) -> str:
    """SVG for one annotation (coordinates: x = col + 0.5, y = row + 0.5)."""
    from flannot.export.regions import xy

    if ann.geometry.kind == "mask":
        pts = _mask_outline(ann)
    else:
        pts = xy(ann.geometry.points)
    if pts.size == 0 or not all(math.isfinite(v) for v in pts.ravel()):
        return ""
    kind = ann.geometry.kind
    stroke = max(size / 8.0, 1.0)
    title = f"<title>{escape(f'{ann.id}: {ann.type} {_label(ann)}'.strip())}</title>"
    coords = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts)
    if kind == "point" or len(pts) == 1:
        x, y = pts[0]
        shape = (
            f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(stroke * 2)}" fill="{colour}">'
            f"{title}</circle>"
        )
    elif kind in ("polygon", "rectangle", "mask"):
        shape = (
            f'<polygon points="{coords}" fill="{colour}" fill-opacity="0.25" '
            f'stroke="{colour}" stroke-width="{_fmt(stroke)}">{title}</polygon>'
        )
    else:  # line, path
        calibration = ann.length_mm is not None
        dash = ' stroke-dasharray="4 3"' if calibration else ""
        shape = (
            f'<polyline points="{coords}" fill="none" stroke="{colour}" '
            f'stroke-width="{_fmt(stroke)}"{dash}>{title}</polyline>'
        )
        if kind == "line" and not calibration:  # an instrument: mark its tip
            x, y = pts[-1]
            shape += (
                f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(stroke * 1.5)}" fill="{colour}"/>'
            )
    label = _label(ann)
    if label and shape:
        # types whose protocol label offset is negative (a contrast line) are labelled on
        # their left, everything else on its right, so an LF band and the contrast line
        # along it do not print over each other
        left = label_left
        if pts[:, 0].max() + size * (0.3 + 0.6 * len(label)) > width:  # would leave the image
            left = True
        x = pts[:, 0].min() - size * 0.3 if left else pts[:, 0].max() + size * 0.3
        y = pts[:, 1].mean() + size * 0.35
        anchor = "end" if left else "start"
        shape += (
            f'<text x="{_fmt(x)}" y="{_fmt(y)}" text-anchor="{anchor}" fill="{colour}" '
            f'font-size="{_fmt(size)}" '
            f'stroke="#000" stroke-width="{_fmt(size / 10)}" paint-order="stroke">'
            f"{escape(label)}</text>"
        )
    return shape


def _svg(case: Any, frame: int, shape: tuple[int, int], href: str, colours: dict) -> str:
    h, w = shape
    size = max(w / 40.0, 6.0)
    from flannot.export.regions import protocol_for

    protocol = protocol_for(case)
    hidden = set(protocol.names_with_role(Role.REDACTION))
    left = {t.name for t in protocol.types if (t.label_offset or 0) < 0}
    items = [
        _svg_shape(a, colours.get(a.type, "#ffff00"), size, w, a.type in left)
        for a in case.annotations
        if int(a.frame) == frame and a.type not in hidden
    ]
    return (
        f'<svg class="frame" viewBox="0 0 {w} {h}" '
        f'width="{w}" height="{h}" role="img">'
        f'<image href="{escape(href)}" x="0" y="0" width="{w}" height="{h}"/>'
        + "".join(items)
        + "</svg>"
    )


def _table(df: Any) -> str:
    """The measurement table: measurement rows (:class:`flannot.measure.rows.Row`) or
    a :func:`flannot.measure.measure` DataFrame."""
    if df is None or len(df) == 0:
        return "<p>No measurable annotations.</p>\n"
    head = "".join(
        f"<th>{h}</th>"
        for h in ("frame", "annotation", "type", "level", "side", "name", "value", "unit")
    )
    rows = []
    for r in df.itertuples(index=False) if hasattr(df, "itertuples") else df:
        v = r.value
        if isinstance(v, bool):
            value = "yes" if v else "no"
        elif isinstance(v, float):
            value = "–" if not math.isfinite(v) else f"{v:.2f}"
        else:
            value = "" if v is None else str(v)
        unit = f"{r.unit} ({r.calibration})" if r.unit else ""
        cells = [
            f'<td class="num">{int(r.frame)}</td>',
            f"<td>{escape(str(r.annotation_id))}</td>",
            f"<td>{escape(str(r.type))}</td>",
            f"<td>{escape(str(r.level or ''))}</td>",
            f"<td>{escape(str(r.side or ''))}</td>",
            f"<td>{escape(str(r.name))}</td>",
            f'<td class="num">{escape(value)}</td>',
            f"<td>{escape(unit)}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table>\n<tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>\n"


def case_part(
    case: Any,
    image: Any,
    rects: list[Any],
    info: dict[str, Any],
    table: Any,
    colours: dict[str, str],
) -> dict[str, Any]:
    """The case page and its PNGs.

    Returns
    -------
    dict
        ``entry`` (for the index: ``case_id``, ``title``, ``view``, ``thumbnail``,
        ``annotations``) and ``files`` (relative path -> bytes).
    """
    cid = info["case_id"]
    from flannot.export.regions import protocol_for

    hidden = set(protocol_for(case).names_with_role(Role.REDACTION))
    shown = [a for a in case.annotations if a.type not in hidden]
    frames = sorted({int(a.frame) for a in shown}) or [0]
    shape = (int(image.rows), int(image.cols))
    files: dict[str, bytes] = {}
    figures = []
    for f in frames:
        name = image_file(cid, f)
        files[name] = png_bytes(render_frame(image, f, rects))
        figures.append(
            f"<figure>{_svg(case, f, shape, '../' + name, colours)}"
            f"<figcaption>frame {f}</figcaption></figure>\n"
        )
    if info["spacing_mm"]:
        sr, sc = info["spacing_mm"]
        spacing = f"pixel spacing {sr:.4g} × {sc:.4g} mm (row × column)"
    else:
        spacing = "uncalibrated: lengths in pixels"
    notes = [
        f"<li><b>{escape(a.id)}</b> ({escape(a.type)}): {escape(a.note)}</li>"
        for a in case.annotations
        if a.note
    ]
    body = (
        '<p><a href="../index.html">All cases</a></p>\n'
        f"<h1>{escape(info['title'])}</h1>\n"
        f'<p class="meta">case {escape(cid)} · view {escape(info["view"])} · calibration '
        f"{escape(info['calibration'])} · {escape(spacing)}</p>\n"
        + "".join(figures)
        + _decision_html(case)
        + "<h2>Measurements</h2>\n"
        + _table(table)
        + "<h2>Teaching notes</h2>\n"
        + (markdown_html(case.notes) or "<p>No notes.</p>\n")
        + ("<h2>Annotation notes</h2>\n<ul>\n" + "\n".join(notes) + "\n</ul>\n" if notes else "")
    )
    files[page_file(cid)] = _doc(f"{info['title']} — flannot", body).encode("utf-8")
    entry = {
        "case_id": cid,
        "title": info["title"],
        "view": info["view"],
        "thumbnail": image_file(cid, frames[0]),
        "annotations": len(shown),
        "decision": _decision_words(case),
    }
    return {"entry": entry, "files": files}


def _decision_words(case: Any) -> str:
    """The case's decision in words (``""`` when it records none)."""
    from flannot.export.regions import protocol_for

    decision = getattr(case, "decision", None)
    return "" if decision is None else decision.words(protocol_for(case))


def _decision_html(case: Any) -> str:
    """The "Decision" section of a case page: proceed, or do not proceed and why."""
    words = _decision_words(case)
    if not words:
        return ""
    note = case.decision.note
    return (
        f'<h2>Decision</h2>\n<p class="decision"><b>{escape(words[:1].upper() + words[1:])}</b>'
        + (f" — {escape(note)}" if note else "")
        + "</p>\n"
    )


def index_html(set_info: dict[str, Any], entries: list[dict[str, Any]]) -> str:
    """The gallery's ``index.html`` (cases in set order)."""
    items = [
        f'<li><a href="{escape(page_file(e["case_id"]))}">'
        f'<img src="{escape(e["thumbnail"])}" alt="{escape(e["title"])}"><br>'
        f"{escape(e['title'])}</a><br>"
        f'<span class="meta">{escape(e["view"])} · {e["annotations"]} annotations'
        + (f" · {escape(e['decision'])}" if e.get("decision") else "")
        + "</span></li>"
        for e in entries
    ]
    name = str(set_info.get("name") or "flannot teaching set")
    body = (
        f"<h1>{escape(name)}</h1>\n"
        f"<p>{escape(str(set_info.get('description') or ''))}</p>\n"
        '<ul class="cases">\n' + "\n".join(items) + "\n</ul>\n"
    )
    return _doc(name, body)
