"""Regenerate the README's table of side-by-side ratios from ``make bench``'s results.

Every ratio benchmark (``bench_export.py``, ``bench_deid.py``, ``bench_decode.py``,
``bench_batch.py``) saves its figures as ``benchmarks/results/<name>.json``
(``what``, ``figure``, ``target``, ``ok``, ``load``, ``when``). This script renders
them as a Markdown table and replaces the block between the markers
``<!-- bench-ratios:begin -->`` and ``<!-- bench-ratios:end -->`` in README.md.

    python benchmarks/report_table.py            # rewrite README.md
    python benchmarks/report_table.py --print    # print the table only
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = Path(os.environ.get("FLANNOT_BENCH_RESULTS", HERE / "results"))
README = HERE.parent / "README.md"
BEGIN, END = "<!-- bench-ratios:begin -->", "<!-- bench-ratios:end -->"

#: table order (result file stems); others follow alphabetically
ORDER = [
    "export-csv",
    "export-coco",
    "export-html",
    "export-dicom",
    "export-nnunet",
    "deid",
    "deid-start",
    "measure-200",
    "decode-native",
    "decode-rle",
    "decode-jpeg-ls",
    "decode-jpeg-2000",
    "decode-jpeg-lossless-sv1",
    "decode-rle-cold",
]


def load(folder: Path = RESULTS) -> list[tuple[str, dict[str, Any]]]:
    """The result rows found in ``folder``, in table order."""
    rows = {p.stem: json.loads(p.read_text("utf-8")) for p in sorted(folder.glob("*.json"))}
    names = [n for n in ORDER if n in rows] + sorted(n for n in rows if n not in ORDER)
    return [(n, rows[n]) for n in names]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    """The Markdown table (what, figure, target, met, load and time of the run)."""
    lines = [
        "| what (`make bench`, side by side, interleaved) | figure | target | met | load |",
        "|---|---|---|---|---|",
    ]
    for _, r in rows:
        met = "yes" if r.get("ok") else "**no**"
        load = f"{float(r.get('load', 0)):.1f} ({r.get('when', '')})"
        lines.append(
            "| "
            + " | ".join(
                _cell(v) for v in (r.get("what", ""), r.get("figure", ""), r.get("target", ""))
            )
            + f" | {met} | {_cell(load)} |"
        )
    return "\n".join(lines) + "\n"


def rewrite(readme: Path, text: str) -> bool:
    """Replace the marked block of ``readme`` with ``text``; ``False`` without markers."""
    doc = readme.read_text("utf-8")
    if BEGIN not in doc or END not in doc:
        return False
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}{END}{tail}", "utf-8")
    return True


def main(argv: list[str]) -> int:
    rows = load()
    if not rows:
        print(f"no results in {RESULTS}: run `make bench` first", file=sys.stderr)
        return 1
    text = table(rows)
    if "--print" in argv:
        print(text, end="")
        return 0
    if not rewrite(README, text):
        print(f"{README}: no {BEGIN} … {END} block", file=sys.stderr)
        return 1
    print(f"{README}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
