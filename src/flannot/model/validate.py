"""Checking case files: JSON Schema first, then what a schema cannot say (SPEC §3).

Every finding is a :class:`Problem` with a JSON path such as
``$.annotations[3].geometry.points[1]``. Errors make ``flannot validate`` fail;
warnings (non-canonical level spelling, a missing side …) are reported only.
Unknown keys (``x_…`` extensions) are never a problem.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from flannot.enums import StrEnum
from flannot.errors import FlannotError
from flannot.model import rle
from flannot.model.annotation import Annotation
from flannot.model.case import (
    Case,
    check_version,
    read_case_json,
)
from flannot.model.decision import decision_problems
from flannot.model.levels import (
    VERTEBRA_LEVELS,
    adjacent_vertebrae,
    is_canonical,
    level_index,
    level_kind,
    normalize_level,
)
from flannot.model.limits import limit_problems, within_limits

__all__ = [
    "Problem",
    "case_schema",
    "set_schema",
    "set_schema_problems",
    "schema_problems",
    "validate_case",
    "validate_case_file",
    "vertebra_order_problems",
]

# how many points each geometry kind takes: (minimum, maximum or None, human rule)
_POINT_COUNTS: dict[str, tuple[int, int | None, str]] = {
    "point": (1, 1, "exactly 1 point"),
    "line": (2, 2, "exactly 2 points (start and end)"),
    "path": (2, None, "at least 2 points"),
    "polygon": (3, None, "at least 3 points"),
    "rectangle": (2, 4, "4 corners (or 2 opposite corners)"),
}

_MAX_MESSAGE = 200


def _a(word: str) -> str:
    """``word`` with its indefinite article: ``a vertebra``, ``an interlaminar_space``."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


class Severity(StrEnum):
    """How bad a validation finding is."""

    ERROR = "error"  # the file is wrong
    WARNING = "warning"  # suspicious, still usable


@dataclass(frozen=True)
class Problem:
    """One finding of validation.

    Attributes
    ----------
    path
        JSON path of the offending value, e.g. ``$.annotations[3].level``.
    message
        What is wrong, one line.
    severity
        ``"error"`` (the file is wrong) or ``"warning"`` (suspicious, still usable).
    file
        The case file, when known.
    annotation_id
        The ``id`` of the annotation the problem is about, when it is about one
        (lets the napari docks select it).
    """

    path: str
    message: str
    severity: str = Severity.ERROR
    file: str | None = None
    annotation_id: str | None = None

    def __str__(self) -> str:
        head = f"{self.file}: " if self.file else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{head}{self.path}: {tag}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def in_file(self, file: str | os.PathLike[str]) -> Problem:
        """The same problem, naming ``file``."""
        return Problem(self.path, self.message, self.severity, os.fspath(file), self.annotation_id)


# --------------------------------------------------------------------------- schema
@functools.cache
def case_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the case file, shipped with the package."""
    text = resources.files("flannot.model").joinpath("schema/case.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def set_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``flannot-set.json``, shipped with the package."""
    text = resources.files("flannot.model").joinpath("schema/set.schema.json").read_text("utf-8")
    return json.loads(text)


def set_schema_problems(data: Any) -> list[Problem]:
    """JSON Schema violations of a parsed ``flannot-set.json`` (SPEC §5), in document order."""
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(set_schema()).iter_errors(data)
    return [Problem(e.json_path, _short(e.message)) for e in sorted(errors, key=_path_key)]


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(case_schema())


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _path_key(error: Any) -> tuple[Any, ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path)


def _is_point_list(value: Any) -> bool:
    from flannot.model.limits import point_array

    return point_array(value) is not None


_MAX_COUNT = 65535 * 65535  # a run cannot be longer than the largest mask


def _is_count_list(value: Any) -> bool:
    return type(value) is list and all(type(v) is int and 0 <= v <= _MAX_COUNT for v in value)


def _without_bulk(data: Any, well_formed: set[int] | None = None) -> Any:
    """A shallow view of a case with well-formed point and count lists emptied.

    jsonschema checks arrays item by item in Python (seconds for 10⁵ points); the same
    checks done here in one pass leave only the malformed lists for it to report.
    """
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        return data
    anns = []
    for a in data["annotations"]:
        g = a.get("geometry") if isinstance(a, dict) else None
        if isinstance(g, dict):
            g2 = dict(g)
            points = g2.get("points")
            if (id(points) in well_formed) if well_formed is not None else _is_point_list(points):
                g2["points"] = []
            m = g2.get("mask")
            if isinstance(m, dict) and _is_count_list(m.get("counts")):
                g2["mask"] = {**m, "counts": []}
            a = {**a, "geometry": g2}
        anns.append(a)
    return {**data, "annotations": anns}


@functools.cache
def _schema_past_limits() -> dict[str, Any]:
    """The case schema without the check of each point: what a case passing
    :func:`flannot.model.limits.within_limits` still has to satisfy.

    A point (``$defs/point``) is two numbers within ±131072 — what ``within_limits``
    checks, for all the points of a case at once, at C speed.
    """
    schema = copy.deepcopy(case_schema())
    del schema["$defs"]["geometry"]["properties"]["points"]["items"]
    return schema


def schema_problems(data: Any) -> list[Problem]:
    """JSON Schema violations of a parsed case file, in document order, with JSON paths."""
    from flannot.model.fastcheck import is_valid

    # the common case, a valid case file, answered fast; anything else (or any doubt)
    # goes the exact way below, which names the first problem
    if within_limits(data) and is_valid(_schema_past_limits(), data) is True:
        return []
    well_formed: set[int] = set()  # point lists limit_problems found well formed
    limits = limit_problems(data, well_formed)
    if limits:  # 10⁵ annotations, a 2·10⁶-point polygon: report, look no further
        return [Problem(path, message) for path, message in limits]
    light = _without_bulk(data, well_formed)
    if is_valid(case_schema(), light):  # the common case, ~30x faster than jsonschema
        return []
    from jsonschema.exceptions import best_match

    problems: list[Problem] = []
    for error in sorted(_validator().iter_errors(light), key=_path_key):
        detail = error
        if error.context:  # oneOf/anyOf: the branch that got deepest names the real culprit
            deepest = max(len(e.absolute_path) for e in error.context)
            detail = best_match(e for e in error.context if len(e.absolute_path) == deepest)
        problems.append(Problem(detail.json_path, _short(detail.message)))
    return _in_document_order(problems)


# --------------------------------------------------------------------------- image facts
@dataclass
class _ImageFacts:
    rows: int | None = None
    cols: int | None = None
    frames: int | None = None
    source: str = "the image record"


def _header_facts(image_path: Path) -> tuple[_ImageFacts, str | None]:
    """Rows, columns, frames and SOP Instance UID from the DICOM header (no pixel data)."""
    import pydicom

    if image_path.is_dir():
        from flannot.io.series import image_files

        try:
            files = image_files(image_path)
        except FlannotError as exc:
            raise ValueError(exc.reason) from None
        ds = pydicom.dcmread(files[0], stop_before_pixels=True)
        frames = len(files)
        sop = None  # a series has one UID per frame
    else:
        ds = pydicom.dcmread(image_path, stop_before_pixels=True)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        sop = str(ds.SOPInstanceUID) if "SOPInstanceUID" in ds else None
    rows = int(ds.Rows) if "Rows" in ds else None
    cols = int(ds.Columns) if "Columns" in ds else None
    return _ImageFacts(rows, cols, frames, "the DICOM header"), sop


def _image_checks(case: Case, image: Any) -> tuple[_ImageFacts, list[Problem]]:
    from flannot.io.calibration import CALIBRATIONS  # the SPEC §2 names (imports pydicom)

    ref = case.image
    problems: list[Problem] = []
    if ref.spacing_mm is not None and ref.calibration == "uncalibrated":
        problems.append(
            Problem("$.image.spacing_mm", "spacing in mm given but calibration is 'uncalibrated'")
        )
    if ref.calibration not in CALIBRATIONS:
        problems.append(
            Problem(
                "$.image.calibration",
                f"unknown calibration {ref.calibration!r} (known: {', '.join(CALIBRATIONS)})",
            )
        )
    if image is not None:
        facts = _ImageFacts(
            getattr(image, "rows", None),
            getattr(image, "cols", getattr(image, "columns", None)),
            getattr(image, "n_frames", None),
            "the image",
        )
        sop = getattr(image, "sop_instance_uid", None)
    else:
        facts = _ImageFacts(ref.rows, ref.columns, ref.frames)
        sop = None
        # read the header only when the case knows where it lives (not for in-memory cases)
        if case.folder is not None or Path(ref.path).is_absolute():
            try:
                img_path = case.image_path
            except FlannotError as exc:  # leads out of the teaching set
                return facts, [*problems, Problem("$.image.path", exc.reason)]
            if not img_path.exists():
                problems.append(Problem("$.image.path", f"image not found: {img_path}"))
            else:
                try:
                    header, sop = _header_facts(img_path)
                except Exception as exc:  # any unreadable header is a finding, not a crash
                    problems.append(
                        Problem(
                            "$.image.path",
                            _short(f"cannot read the DICOM header of {img_path.name}: {exc}"),
                            "warning",
                        )
                    )
                else:
                    problems += _compare_record(case, header)
                    facts = _ImageFacts(
                        header.rows if header.rows is not None else facts.rows,
                        header.cols if header.cols is not None else facts.cols,
                        header.frames or facts.frames,
                        header.source,
                    )
    if sop and ref.sop_instance_uid and sop != ref.sop_instance_uid:
        problems.append(
            Problem(
                "$.image.sop_instance_uid",
                "the annotations were made on another image (SOP Instance UID "
                f"{ref.sop_instance_uid}, the image has {sop})",
            )
        )
    return facts, problems


def _compare_record(case: Case, header: _ImageFacts) -> list[Problem]:
    ref = case.image
    out = []
    for key, recorded, actual, severity in (
        ("rows", ref.rows, header.rows, "error"),
        ("columns", ref.columns, header.cols, "error"),
        ("frames", ref.frames, header.frames, "warning"),
    ):
        if recorded is not None and actual is not None and recorded != actual:
            out.append(
                Problem(
                    f"$.image.{key}",
                    f"the case says {key} = {recorded} but the DICOM header says {actual}",
                    severity,
                )
            )
    return out


# --------------------------------------------------------------------------- annotations
def _is_vertebra(type_name: str, protocol: Any) -> bool:
    """Whether ``type_name`` is a vertebra of ``protocol`` (``Role.VERTEBRA``); without a
    protocol, the SPEC §3 name."""
    if protocol is None:
        return type_name == "vertebra"
    from flannot.protocols import Role

    return type_name in protocol.names_with_role(Role.VERTEBRA)


def _geometry_checks(
    base: str, a: Annotation, facts: _ImageFacts, protocol: Any = None
) -> list[Problem]:
    g = a.geometry
    gpath = f"{base}.geometry"
    out: list[Problem] = []
    if g.kind == "mask":
        if g.mask is None:
            return [Problem(gpath, "a mask geometry needs 'mask' (COCO RLE with size and counts)")]
        try:
            rle.area(g.mask)  # checks counts against size without decoding
        except ValueError as exc:
            return [Problem(f"{gpath}.mask", f"invalid RLE: {exc}")]
        size = list(g.mask["size"])
        if facts.rows is not None and facts.cols is not None and size != [facts.rows, facts.cols]:
            out.append(
                Problem(
                    f"{gpath}.mask.size",
                    f"mask size {size[0]}x{size[1]} differs from the image "
                    f"({facts.rows}x{facts.cols}, from {facts.source})",
                )
            )
        return out

    n = len(g.points)
    rule = _POINT_COUNTS.get(g.kind)
    if rule is not None:
        lo, hi, words = rule
        bad = n < lo or (hi is not None and n > hi) or (g.kind == "rectangle" and n == 3)
        if bad:
            out.append(Problem(f"{gpath}.points", f"{_a(g.kind)} takes {words}, not {n}"))
    if _is_vertebra(a.type, protocol) and g.kind == "polygon" and n != 4:
        out.append(
            Problem(
                f"{gpath}.points",
                "a vertebra polygon has 4 corners (superior-anterior, superior-posterior, "
                f"inferior-posterior, inferior-anterior), not {n}",
            )
        )
    finite = np.isfinite(g.points).all(axis=1)
    if not finite.all():
        j = int(np.flatnonzero(~finite)[0])
        out.append(Problem(f"{gpath}.points[{j}]", "coordinate is not a finite number"))
        return out
    if g.kind == "line" and n == 2 and np.array_equal(g.points[0], g.points[1]):
        out.append(Problem(f"{gpath}.points", "the line has zero length (both ends coincide)"))
    if n and facts.rows is not None and facts.cols is not None:
        # pixel centres run 0..rows-1; the image's edge is half a pixel further out
        r, c = g.points[:, 0], g.points[:, 1]
        outside = (r < -0.5) | (r > facts.rows - 0.5) | (c < -0.5) | (c > facts.cols - 0.5)
        if outside.any():
            j = int(np.flatnonzero(outside)[0])
            out.append(
                Problem(
                    f"{gpath}.points[{j}]",
                    f"[{g.points[j, 0]:g}, {g.points[j, 1]:g}] lies outside the "
                    f"{facts.rows}x{facts.cols} image ({int(outside.sum())} of {n} points outside)",
                )
            )
    return out


def _attribute_checks(base: str, a: Annotation, atype: Any, proto: Any) -> list[Problem]:
    out: list[Problem] = []
    # level
    if atype.level_kind is None:
        if a.level is not None:
            out.append(Problem(f"{base}.level", f"{_a(a.type)} has no level; ignored", "warning"))
    elif a.level is None:
        out.append(Problem(f"{base}.level", f"no level given for this {a.type}", "warning"))
    else:
        out += _level_checks(base, a, atype.level_kind, proto)
    # side
    if "side" in atype.attributes:
        if a.side is not None and a.side not in proto.sides:
            out.append(
                Problem(f"{base}.side", f"side must be {' or '.join(proto.sides)}, not {a.side!r}")
            )
        elif a.side is None:
            out.append(Problem(f"{base}.side", f"no side given for this {a.type}", "warning"))
    elif a.side is not None:
        out.append(Problem(f"{base}.side", f"{_a(a.type)} has no side; it is ignored", "warning"))
    # instrument
    if "instrument" in atype.attributes:
        if a.instrument is not None and a.instrument not in proto.instruments:
            out.append(
                Problem(
                    f"{base}.instrument",
                    f"unknown instrument {a.instrument!r} (known: {', '.join(proto.instruments)})",
                )
            )
    elif a.instrument is not None:
        out.append(
            Problem(
                f"{base}.instrument", f"{_a(a.type)} has no instrument; it is ignored", "warning"
            )
        )
    # part (and any other attribute whose values the type declares)
    for name, allowed in getattr(atype, "values", ()):
        value = getattr(a, name, None)
        if value is None:
            value = a.extra.get(name)
        if name not in atype.attributes:
            continue
        if value is None:
            out.append(Problem(f"{base}.{name}", f"no {name} given for this {a.type}", "warning"))
        elif value not in allowed:
            out.append(
                Problem(f"{base}.{name}", f"{name} must be {' or '.join(allowed)}, not {value!r}")
            )
    if a.part is not None and "part" not in atype.attributes:
        out.append(Problem(f"{base}.part", f"{_a(a.type)} has no part; it is ignored", "warning"))
    # length_mm
    if "length_mm" in atype.attributes:
        if a.length_mm is None or not math.isfinite(a.length_mm) or a.length_mm <= 0:
            out.append(
                Problem(
                    f"{base}.length_mm",
                    f"{_a(a.type)} line needs a positive length_mm (the known length it spans), "
                    f"not {a.length_mm}",
                )
            )
    elif a.length_mm is not None:
        out.append(
            Problem(f"{base}.length_mm", f"{_a(a.type)} has no length_mm; it is ignored", "warning")
        )
    return out


def _level_checks(base: str, a: Annotation, want: str, proto: Any) -> list[Problem]:
    try:
        canonical = normalize_level(a.level or "")
    except ValueError as exc:
        return [Problem(f"{base}.level", f"unknown level: {exc}")]
    kind = level_kind(canonical)
    if kind != want:
        example = "L4" if want == "vertebra" else "L4-L5"
        wanted = "a vertebral" if want == "vertebra" else "an interspace"
        return [
            Problem(
                f"{base}.level",
                f"{_a(a.type)} takes {wanted} level such as {example}, not the {kind} {canonical}",
            )
        ]
    missing = [v for v in canonical.split("-") if v not in proto.vertebra_levels]
    if missing:
        return [
            Problem(
                f"{base}.level",
                f"level {canonical} is not in the {proto.name} protocol "
                f"({', '.join(proto.vertebra_levels)})",
            )
        ]
    return []


def vertebra_order_problems(case: Case, protocol: Any = None) -> list[Problem]:
    """Vertebra labels of each frame that are out of cranio-caudal order or skip a level.

    SPEC §3: within one frame the vertebrae must run cranio-caudally (a smaller
    row is more cranial) without gaps (``L3`` then ``L5`` skips ``L4``; ``L5``
    then ``S1`` is fine, ``L6`` being a rare transitional vertebra). A level
    labelled twice in one frame is reported too. Vertebrae with an unknown level
    or no usable geometry are left to the other checks.

    Parameters
    ----------
    case
        The case (for example the one a napari session is editing).

    Returns
    -------
    list[Problem]
        Errors with the JSON path of the offending ``level`` and its
        ``annotation_id``; empty when the labels are in order.

    Examples
    --------
    >>> from flannot.model import Annotation, Case, Geometry, ImageRef
    >>> case = Case("c", ImageRef("i.dcm"), [
    ...     Annotation("a", "vertebra", Geometry("point", [[10, 5]]), level="L4"),
    ...     Annotation("b", "vertebra", Geometry("point", [[50, 5]]), level="L3")])
    >>> [(p.annotation_id, p.message.split(":")[0]) for p in vertebra_order_problems(case)]
    [('b', 'vertebrae out of cranio-caudal order in frame 0')]
    """
    if protocol is None:
        from flannot.protocols import get_protocol

        try:
            protocol = get_protocol(case.protocol)
        except FlannotError:
            protocol = None
    by_frame: dict[int, list[tuple[int, str, float]]] = {}
    for i, a in enumerate(case.annotations):
        if not _is_vertebra(a.type, protocol) or a.level is None or a.image is not None:
            continue
        try:
            level = normalize_level(a.level)
        except ValueError:
            continue
        if level not in VERTEBRA_LEVELS:
            continue
        try:
            centre = a.geometry.centre()
        except ValueError:
            continue
        if centre is None or not np.isfinite(centre).all():
            continue
        by_frame.setdefault(a.frame, []).append((i, level, float(centre[0])))

    out: list[Problem] = []
    for frame, items in sorted(by_frame.items()):
        first_seen: dict[str, int] = {}
        unique = []
        for i, level, row in items:
            if level in first_seen:
                out.append(
                    Problem(
                        f"$.annotations[{i}].level",
                        f"vertebra {level} is annotated twice in frame {frame} "
                        f"(also $.annotations[{first_seen[level]}])",
                    )
                )
                continue
            first_seen[level] = i
            unique.append((i, level, row))
        unique.sort(key=lambda t: t[2])
        for (i, up, up_row), (j, low, low_row) in zip(unique, unique[1:], strict=False):
            if level_index(low) < level_index(up):
                out.append(
                    Problem(
                        f"$.annotations[{j}].level",
                        f"vertebrae out of cranio-caudal order in frame {frame}: {up} "
                        f"($.annotations[{i}], row {up_row:.1f}) lies above {low} "
                        f"(row {low_row:.1f}); cranial levels have the smaller row",
                    )
                )
        # gaps are a property of the labels, whatever their positions
        by_level = sorted(unique, key=lambda t: level_index(t[1]))
        for (_, up, _), (j, low, _) in zip(by_level, by_level[1:], strict=False):
            if not adjacent_vertebrae(up, low):
                between = VERTEBRA_LEVELS[level_index(up) + 1 : level_index(low)]
                gap = [v for v in between if not (v == "L6" and low == "S1")]
                out.append(
                    Problem(
                        f"$.annotations[{j}].level",
                        f"vertebra levels skip from {up} to {low} in frame {frame} "
                        f"(missing {', '.join(gap)})",
                    )
                )
    return _with_annotation_ids(case, out)


def validate_case(case: Case, image: Any = None) -> list[Problem]:
    """Semantic checks of a case (after the schema): protocol, levels, order, geometry, image.

    Parameters
    ----------
    case
        The case to check.
    image
        A ``FluoroImage`` (duck-typed: ``rows``, ``cols``, ``n_frames``,
        ``sop_instance_uid``) to check against. Without it the DICOM header is read
        (``stop_before_pixels``) when the image file exists, else the case's image
        record is used.

    Returns
    -------
    list[Problem]
        Errors and warnings with JSON paths, in document order.
    """
    from flannot.protocols import get_protocol

    problems: list[Problem] = []
    try:
        proto = get_protocol(case.protocol)
    except FlannotError as exc:
        proto = None
        problems.append(Problem("$.protocol", exc.reason))
    facts, image_problems = _image_checks(case, image)
    problems += image_problems

    seen_ids: dict[str, int] = {}
    for i, a in enumerate(case.annotations):
        base = f"$.annotations[{i}]"
        if a.id in seen_ids:
            problems.append(
                Problem(
                    f"{base}.id", f"duplicate id {a.id!r} (also $.annotations[{seen_ids[a.id]}])"
                )
            )
        else:
            seen_ids[a.id] = i
        if facts.frames is not None and a.frame >= facts.frames and a.image is None:
            problems.append(
                Problem(
                    f"{base}.frame",
                    f"frame {a.frame} is out of range: the image has {facts.frames} "
                    f"frame{'s' if facts.frames != 1 else ''} (0-based)",
                )
            )
        atype = None
        if proto is not None:
            try:
                atype = proto.type(a.type)
            except KeyError:
                problems.append(
                    Problem(
                        f"{base}.type",
                        f"unknown type {a.type!r} for protocol {proto.name} "
                        f"(known: {', '.join(proto.type_names)})",
                    )
                )
        if atype is not None and a.geometry.kind not in atype.geometries:
            problems.append(
                Problem(
                    f"{base}.geometry.kind",
                    f"{_a(a.type)} is drawn as {' or '.join(atype.geometries)}, "
                    f"not {a.geometry.kind}",
                )
            )
        on_planning = a.image == "planning"
        if a.image is not None and not on_planning:
            problems.append(
                Problem(f"{base}.image", f"image must be 'planning' or absent, not {a.image!r}")
            )
        elif on_planning and case.planning is None:
            problems.append(
                Problem(f"{base}.image", "drawn on a planning slice, but the case has none")
            )
        where = facts
        if on_planning:  # its own grid: the planning slice record's size, one frame
            ref = case.planning
            where = _ImageFacts(
                getattr(ref, "rows", None), getattr(ref, "columns", None), 1, "the planning slice"
            )
        problems += _geometry_checks(base, a, where, proto)
        if atype is not None:
            problems += _attribute_checks(base, a, atype, proto)
    problems += vertebra_order_problems(case, proto)
    problems += [Problem(p, m, sev) for p, m, sev in decision_problems(case.decision, proto)]
    return _in_document_order(_with_annotation_ids(case, problems))


_ANNOTATION_PATH = re.compile(r"^\$\.annotations\[(\d+)\]")


def _with_annotation_ids(case: Case, problems: list[Problem]) -> list[Problem]:
    """Name the annotation of every problem whose path lies inside one."""
    out = []
    for p in problems:
        m = _ANNOTATION_PATH.match(p.path)
        if p.annotation_id is None and m and int(m.group(1)) < len(case.annotations):
            p = replace(p, annotation_id=case.annotations[int(m.group(1))].id)
        out.append(p)
    return out


# the order flannot writes keys in; other keys sort after these
_KEY_ORDER = {
    k: n
    for n, k in enumerate(
        "flannot_version case_id protocol author image path sop_instance_uid frames spacing_mm "
        "calibration rows columns annotations id type level side instrument length_mm frame "
        "geometry kind points mask size counts note notes decision proceed reason created "
        "modified".split()
    )
}
_TOKEN = re.compile(r"\[(\d+)\]|\.([^.\[]+)")


def _in_document_order(problems: list[Problem]) -> list[Problem]:
    def key(p: Problem) -> tuple[Any, ...]:
        # $.annotations[12].x after $.annotations[2].x, $.image before $.annotations
        return tuple(
            (int(index), "") if index else (_KEY_ORDER.get(name, len(_KEY_ORDER)), name)
            for index, name in _TOKEN.findall(p.path)
        )

    return sorted(problems, key=key)  # stable: same path keeps check order


def _spelling_warnings(data: Mapping[str, Any]) -> list[Problem]:
    """Levels written in an accepted but non-canonical spelling (flannot will rewrite them)."""
    out = []
    for i, a in enumerate(data.get("annotations") or []):
        level = a.get("level") if isinstance(a, Mapping) else None
        if isinstance(level, str) and not is_canonical(level):
            try:
                canonical = normalize_level(level)
            except ValueError:
                continue  # unknown levels are reported by the semantic checks
            out.append(
                Problem(
                    f"$.annotations[{i}].level",
                    f"level {level!r} is spelled {canonical!r} by flannot (rewritten on save)",
                    "warning",
                )
            )
    return out


def validate_case_file(path: str | os.PathLike[str], image: Any = None) -> list[Problem]:
    """Validate an ``annotations.json`` (or a case folder): schema, then semantics.

    Returns
    -------
    list[Problem]
        Problems naming the file; empty when the case is valid.

    Raises
    ------
    FlannotError
        The file cannot be checked at all: missing or unreadable, not JSON (line and
        column given), or written by a newer flannot.
    """
    file, data, content = read_case_json(path)
    return validate_case_data(file, data, content, image)


def validate_case_data(file: Path, data: Any, content: bytes, image: Any = None) -> list[Problem]:
    """:func:`validate_case_file` of a case file already read with
    :func:`flannot.model.case.read_case_json` (``file``, ``data``, ``content``).

    Raises
    ------
    FlannotError
        Written by a newer flannot.
    """
    check_version(data, file)
    problems = schema_problems(data)
    if not problems:
        case = Case.from_dict(data, path=file, strict=False)  # lists every duplicate id
        case._bind(file, content)
        problems = _in_document_order(_spelling_warnings(data) + validate_case(case, image))
    return [p.in_file(file) for p in problems]
