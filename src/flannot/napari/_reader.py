"""npe2 reader: DICOM files and series folders, case folders/files, teaching sets.

``get_reader`` decides cheaply (file names, the ``DICM`` magic at byte 128, a
peek at JSON) and never raises; it returns ``None`` for anything flannot does
not read so napari can offer other readers. The returned function opens the
path into the current viewer's flannot :class:`~flannot.napari.session.Session`
and hands napari the layers as layer-data tuples.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

__all__ = ["classify", "get_reader", "is_dicom_file"]

_MAX_FILES_PEEK = 8  # series folder check: look at a few files, never all of them


def is_dicom_file(path: str | Path) -> bool:
    """``True`` when ``path`` is a file with the ``DICM`` magic at byte 128 (never raises)."""
    try:
        p = Path(path)
        if not p.is_file():
            return False
        with open(p, "rb") as fh:
            fh.seek(128)
            return fh.read(4) == b"DICM"
    except (OSError, ValueError):
        return False


def _is_case_file(path: Path) -> bool:
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return b'"flannot_version"' in head


def classify(path: str | Path) -> str | None:
    """What ``path`` is for flannot: ``set``, ``case``, ``series``, ``dicom`` or ``None``."""
    try:
        p = Path(path)
        if p.is_dir():
            if (p / "flannot-set.json").is_file():
                return "set"
            if (p / "annotations.json").is_file():
                return "case"
            seen = 0
            for child in p.iterdir():  # unsorted: a big folder is not listed in full
                if child.name.startswith(".") or not child.is_file():
                    continue
                if is_dicom_file(child):
                    return "series"
                seen += 1
                if seen >= _MAX_FILES_PEEK:
                    break
            return None
        if p.name == "flannot-set.json":
            return "set"
        if _is_case_file(p):
            return "case"
        if is_dicom_file(p):
            return "dicom"
        return None
    except (OSError, ValueError):
        return None


def get_reader(path: str | list[str]) -> Callable[[Any], list[tuple]] | None:
    """npe2 ``napari_get_reader``: a reader function for ``path``, or ``None``."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    kind = classify(path)
    if kind is None:
        return None
    return partial(read, kind=kind)


def _session():
    import napari

    from flannot.napari.session import get_session

    viewer = napari.current_viewer()
    return None if viewer is None else get_session(viewer)


def read(path: str | list[str], kind: str | None = None) -> list[tuple]:
    """Open ``path`` (see :func:`classify`) and return napari layer-data tuples."""
    from flannot.errors import FlannotError

    if isinstance(path, list):
        path = path[0]
    p = Path(path)
    kind = kind or classify(p)
    if kind is None:
        raise FlannotError("not a DICOM file, series, flannot case or teaching set", p)
    session = _session()
    if kind == "set":
        return open_teaching_set(p.parent if p.is_file() else p, session)
    if kind == "case":
        return open_case(p, session)
    from flannot.io.reader import read_dicom

    image = read_dicom(p)
    if session is None:
        from flannot.napari.layers import make_image_layer

        return [make_image_layer(image).as_layer_data_tuple()]
    from flannot.model.case import Case

    case = Case.from_image(image, case_id=p.stem or p.name)
    tuples = session.load_case(case, image=image, add_layers=False)
    session.case_path = None
    return tuples


def open_case(path: Path, session) -> list[tuple]:
    """Layer tuples for a case folder or case file (image + annotation layers)."""
    if session is None:
        from flannot.model.case import Case
        from flannot.napari.layers import make_image_layer

        return [make_image_layer(Case.load(path).load_image()).as_layer_data_tuple()]
    return session.load_case(path, add_layers=False)


def open_teaching_set(folder: Path, session, case_id: str | None = None) -> list[tuple]:
    """Open a teaching set: remember it in the session and open its first (or given) case."""
    from flannot.errors import FlannotError
    from flannot.teach.teaching_set import TeachingSet

    ts = TeachingSet.open(folder)
    entries = list(ts.cases)
    if not entries:
        raise FlannotError("the teaching set has no cases", folder / "flannot-set.json")
    if case_id is None:
        case_id = _entry_id(entries[0])
    case = ts.case(case_id)
    if session is None:
        from flannot.napari.layers import make_image_layer

        return [make_image_layer(case.load_image()).as_layer_data_tuple()]
    session.teaching_set = ts
    return session.load_case(case, add_layers=False)


def _entry_id(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry["case_id"])
    return str(entry.case_id)
