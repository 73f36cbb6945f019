"""The five built-in export formats, registered like any plugin exporter (SPEC §9).

Each class is thin glue over its module (:mod:`~flannot.export.coco`,
:mod:`~flannot.export.masks`, :mod:`~flannot.export.table`,
:mod:`~flannot.export.gallery`, :mod:`~flannot.export.dicom_files`).
"""

from __future__ import annotations

import json
from typing import Any

from flannot.export.registry import CaseInput, Exporter


def json_bytes(obj: Any) -> bytes:
    """Indented UTF-8 JSON with a final newline (NaN refused)."""
    return (json.dumps(obj, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()


class CocoExporter(Exporter):
    name = "coco"
    title = "COCO annotations.json + PNG renderings"

    def case_part(self, case: CaseInput, options: dict[str, Any]) -> dict[str, Any]:
        from flannot.export import coco
        from flannot.export.render import redaction_rects

        rects = redaction_rects(case.case)
        return coco.case_part(case.case, case.image, rects, case.info(with_image=True))

    def assemble(self, ts: Any, parts: list[dict[str, Any]], options: dict[str, Any]):
        from flannot.export import coco
        from flannot.protocols import get_protocol

        doc = coco.assemble(parts, ts.data, get_protocol(ts.protocol))
        return {coco.ANNOTATIONS_FILE: json_bytes(doc)}


class MasksExporter(Exporter):
    name = "masks"
    title = "label PNGs per frame + legend.json"

    def prepare(self, ts: Any, case_ids: list[str]) -> dict[str, Any]:
        from flannot.export import masks

        keys = {
            masks.label_key(a) for cid in case_ids for a in masks.region_annotations(ts.case(cid))
        }
        protocol = _set_protocol(ts)
        return {"labels": masks.label_table(keys, ts.file, protocol)}

    def case_part(self, case: CaseInput, options: dict[str, Any]) -> dict[str, Any]:
        from flannot.export import masks

        return masks.case_part(case.case, case.shape(), options["labels"], case.info())

    def assemble(self, ts: Any, parts: list[dict[str, Any]], options: dict[str, Any]):
        from flannot.export import masks

        return {masks.LEGEND_FILE: json_bytes(masks.assemble(parts, options["labels"]))}


class CsvExporter(Exporter):
    name = "csv"
    title = "the measurement table (measurements.csv)"

    def case_part(self, case: CaseInput, options: dict[str, Any]) -> dict[str, Any]:
        from flannot.export import table

        return {"csv": table.case_csv(case.case), "files": {}}

    def assemble(self, ts: Any, parts: list[dict[str, Any]], options: dict[str, Any]):
        from flannot.export import table

        return {table.CSV_FILE: table.assemble_csv([p["csv"] for p in parts]).encode("utf-8")}


class HtmlExporter(Exporter):
    name = "html"
    title = "a static HTML gallery (opens from disk)"

    def case_part(self, case: CaseInput, options: dict[str, Any]) -> dict[str, Any]:
        from flannot.export import gallery, table
        from flannot.export.render import redaction_rects

        rects = redaction_rects(case.case)
        colours = {t.name: t.color for t in case.protocol.types}
        info = case.info(with_image=True)
        return gallery.case_part(
            case.case, case.image, rects, info, table.case_part(case.case), colours
        )

    def assemble(self, ts: Any, parts: list[dict[str, Any]], options: dict[str, Any]):
        from flannot.export import gallery

        html = gallery.index_html(ts.data, [p["entry"] for p in parts])
        return {gallery.INDEX_FILE: html.encode("utf-8")}


class DicomExporter(Exporter):
    name = "dicom"
    title = "DICOM SEG (regions) + SR (TID 1500 measurements) per case"

    def case_part(self, case: CaseInput, options: dict[str, Any]) -> dict[str, Any]:
        from flannot.export import dicom_files

        return dicom_files.case_part(case.case, case.info())

    def assemble(self, ts: Any, parts: list[dict[str, Any]], options: dict[str, Any]):
        from flannot.export import dicom_files

        return {dicom_files.LEGEND_FILE: json_bytes(dicom_files.assemble(parts))}


def _set_protocol(ts: Any) -> Any:
    from flannot.protocols import get_protocol

    return get_protocol(ts.protocol or "mild")


COCO = CocoExporter()
MASKS = MasksExporter()
CSV = CsvExporter()
HTML = HtmlExporter()
DICOM = DicomExporter()
#: in ``--format`` help order
BUILTIN = (COCO, MASKS, CSV, HTML, DICOM)
