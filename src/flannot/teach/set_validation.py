"""Checking a teaching set (``flannot validate SET``): the manifest, the case list, every
case file, every image (duplicates, identifiers left) and orphan case folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flannot.errors import FlannotError
from flannot.model.validate import Problem
from flannot.teach.set_format import CASE_FILE

if TYPE_CHECKING:  # pragma: no cover
    from flannot.teach.set_format import TeachingSet


def validate_set(ts: TeachingSet) -> list[Problem]:
    """Check the set: files, case list, duplicate images, identifiers left, case files.

    Returns
    -------
    list[Problem]
        Problems with ``file`` set; empty when the set is clean.
    """
    from flannot.deid.dicom_checks import dicom_problems
    from flannot.teach.case_import import _image_files
    from flannot.teach.ct_case import is_ct_case, validate_ct_case

    problems: list[Problem] = []
    setf = str(ts.file)

    def add(path: str, msg: str, severity: str = "error", file: str | None = None) -> None:
        problems.append(Problem(path, msg, severity, file or setf))

    for key in ("name", "protocol"):
        if not isinstance(ts.data.get(key), str) or not ts.data.get(key):
            add(f"$.{key}", f"missing {key}")
    protocol = ts.data.get("protocol")
    if isinstance(protocol, str) and protocol:
        from flannot.protocols import available_protocols

        known = available_protocols()
        if protocol.lower() not in known:
            add("$.protocol", f"unknown protocol {protocol!r} (installed: {', '.join(known)})")
    tol = ts.data.get("tolerances", {})
    if not isinstance(tol, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in tol.values()
    ):
        add("$.tolerances", "tolerances must map names to numbers")

    listed: dict[str, int] = {}
    sop_seen: dict[str, str] = {}
    for i, entry in enumerate(ts.data.get("cases", [])):
        jp = f"$.cases[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("case_id"), str):
            add(jp, "case entry needs a case_id")
            continue
        cid = entry["case_id"]
        if cid in listed:
            add(f"{jp}.case_id", f"case id {cid!r} listed twice")
            continue
        listed[cid] = i
        try:
            folder = ts.case_dir(cid)
        except FlannotError as exc:
            add(f"{jp}.path", exc.reason)
            continue
        if not folder.is_dir():
            add(f"{jp}.path", f"case folder {entry.get('path')!r} is missing")
            continue
        case_file = folder / CASE_FILE
        if not case_file.is_file():
            add(f"{jp}.path", f"case {cid!r} has no {CASE_FILE}")
            continue
        found, data = _case_file_problems(case_file)
        problems.extend(found)
        if is_ct_case(folder):  # a CT-backed case: its task, CT and labelmap too
            problems.extend(validate_ct_case(folder))
        if data is None:  # unreadable: its problem says why, there is no image to check
            continue
        try:
            image = image_path(case_file, ts.root, data)
        except FlannotError as exc:
            add("$.image.path", exc.reason, file=str(case_file))
            continue
        if image is None or not image.exists():
            add("$.image.path", f"image of case {cid!r} is missing", file=str(case_file))
            continue
        for dcm in _image_files(image):
            problems.extend(dicom_problems(dcm, cid, sop_seen))
    cases_dir = ts.root / "cases"
    if cases_dir.is_dir():
        for child in sorted(cases_dir.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and child.name not in listed:
                add(
                    "$.cases",
                    f"case folder cases/{child.name} is not in the case list",
                    "warning",
                )
    return problems


def _case_file_problems(case_file: Path) -> tuple[list[Problem], Any]:
    """The case file's problems and its parsed JSON (``None`` when it cannot be read):
    read once, with the case-file bounds (size, depth, numbers), for both uses."""
    from flannot.model.case import read_case_json
    from flannot.model.validate import validate_case_data

    try:
        file, data, content = read_case_json(case_file)
        return list(validate_case_data(file, data, content)), data
    except FlannotError as exc:
        return [Problem("$", exc.reason, "error", str(case_file))], None


def image_path(case_file: Path, root: Path, data: Any = None) -> Path | None:
    """The image a case file names; ``None`` when unreadable.

    ``data`` is the case file's parsed JSON when the caller has it; else the file
    is read with the case-file bounds (a 40 MB file is not parsed just for this).

    Raises
    ------
    FlannotError
        When the path leaves the set folder ``root`` (a shared set must not make
        flannot read, or redact in place, files elsewhere on the disk).
    """
    if data is None:
        from flannot.model.case import read_case_json

        try:
            data = read_case_json(case_file)[1]
        except FlannotError:
            return None
    try:
        rel = Path(str(data["image"]["path"]))
    except (KeyError, TypeError, ValueError):
        return None
    image = case_file.parent / rel
    base = root.resolve()
    if rel.is_absolute() or base not in image.resolve().parents:
        raise FlannotError(f"image path {str(rel)!r} leaves the set folder", case_file)
    return image


def validate_path(path: str | os.PathLike[str]) -> tuple[list[Problem], int]:
    """Validate a case file, a case folder or a teaching-set folder (``flannot validate``).

    A teaching set (a folder with ``flannot-set.json``) is checked against its JSON
    Schema and by :func:`validate_set` (its case list, case files, images, identifiers);
    a case file by :func:`flannot.model.validate.validate_case_file`. A CT-backed case
    folder also gets its task checked.

    Returns
    -------
    (problems, n_files)
        All problems, and how many case files were checked.

    Raises
    ------
    FlannotError
        ``path`` is none of these, or (for a single case) cannot be read.
    """
    from flannot.model.case import SET_FILENAME, case_files
    from flannot.model.limits import parse_json
    from flannot.model.validate import set_schema_problems, validate_case_file
    from flannot.teach.ct_case import is_ct_case, validate_ct_case
    from flannot.teach.set_format import TeachingSet

    p = Path(path)
    files = case_files(p)  # FlannotError when p is neither a case nor a set
    if p.is_dir() and (p / SET_FILENAME).is_file():
        set_file = p / SET_FILENAME
        manifest = parse_json(set_file.read_bytes(), set_file, "set file")
        schema = [q.in_file(set_file) for q in set_schema_problems(manifest)]
        found = [
            q if q.file else Problem(q.path, q.message, q.severity, os.fspath(p))
            for q in TeachingSet.open(p).validate()
        ]
        return schema + found, len(files)
    problems = validate_case_file(files[0])
    folder = files[0].parent
    if is_ct_case(folder):
        problems += validate_ct_case(folder)
    return problems, 1
