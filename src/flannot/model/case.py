"""The case file (``annotations.json``, format version 1, SPEC §3) and its safe saving.

A :class:`Case` is one annotated image: an :class:`ImageRef` to the DICOM, a list
of :class:`~flannot.model.annotation.Annotation`, teaching notes and provenance.

Saving never loses work: files are replaced atomically (:mod:`flannot.atomic`),
and :meth:`Case.save` refuses to overwrite a file that changed on disk since this
case was loaded from it (someone else saved meanwhile) unless ``force=True``.
Unknown keys at every level are kept and written back.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from flannot.errors import FlannotError
from flannot.model.annotation import Annotation, utc_now
from flannot.model.decision import Decision
from flannot.model.limits import parse_json

__all__ = [
    "CASE_FILENAME",
    "FORMAT_VERSION",
    "Case",
    "ConcurrentChangeError",
    "ImageRef",
    "case_file_path",
    "case_files",
    "check_version",
    "dumps_case",
    "read_case_json",
]

#: Case file format version this flannot reads and writes.
FORMAT_VERSION = 1
#: File name of a case inside a case folder.
CASE_FILENAME = "annotations.json"
#: File that makes a folder a teaching set (SPEC §5).
SET_FILENAME = "flannot-set.json"
#: Larger case files are refused before reading: a case at every limit of
#: :mod:`flannot.model.limits` (10⁴ annotations, a 10⁵-point contour) is a few MB.
MAX_CASE_BYTES = 16 * 1024 * 1024


class ConcurrentChangeError(FlannotError):
    """A save was refused: the file on disk is not the one this case was loaded from."""


# --------------------------------------------------------------------------- helpers
def case_file_path(path: str | os.PathLike[str]) -> Path:
    """The case file for ``path``: the file itself, or ``annotations.json`` in a case folder."""
    p = Path(path)
    return p / CASE_FILENAME if p.is_dir() else p


def _set_case_files(root: Path) -> list[Path]:
    """Case files of a teaching set: its case list, else every ``cases/*/annotations.json``."""
    files: list[Path] = []
    try:
        manifest = parse_json((root / SET_FILENAME).read_bytes(), root / SET_FILENAME, "set file")
    except OSError as exc:
        raise FlannotError(
            f"cannot read the teaching set's case list: {exc.strerror or exc}", root / SET_FILENAME
        ) from None
    entries = manifest.get("cases") if isinstance(manifest, dict) else None
    inside = root.resolve()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("case_id"), str):
            continue
        rel = str(entry.get("path") or f"cases/{entry['case_id']}")
        folder = (root / rel).resolve()
        if inside in folder.parents:  # a case list never points outside the set
            files.append(root / rel / CASE_FILENAME)
    return files or sorted((root / "cases").glob(f"*/{CASE_FILENAME}"))


def case_files(path: str | os.PathLike[str]) -> list[Path]:
    """The case files ``path`` stands for: a case file, a case folder or a teaching set.

    A teaching set gives the case files of its case list (``flannot-set.json``) in
    list order, or every ``cases/*/annotations.json`` when the list is empty.
    Listed files are returned even when missing, so that reading them says so.

    Raises
    ------
    FlannotError
        ``path`` does not exist or is none of these.
    """
    p = Path(path)
    if p.is_file():
        return [p]
    if p.is_dir():
        if (p / SET_FILENAME).is_file():
            return _set_case_files(p)
        if (p / CASE_FILENAME).is_file():
            return [p / CASE_FILENAME]
        raise FlannotError(
            f"neither a case folder ({CASE_FILENAME} missing) "
            f"nor a teaching set ({SET_FILENAME} missing)",
            p,
        )
    raise FlannotError("no such file or folder", p)


@dataclass(frozen=True)
class _DiskStamp:
    """What the file looked like when we last read or wrote it."""

    mtime_ns: int
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path, content: bytes) -> _DiskStamp:
        st = path.stat()
        return cls(st.st_mtime_ns, st.st_size, hashlib.sha256(content).hexdigest())


def _read_bytes(file: Path) -> bytes:
    try:
        size = file.stat().st_size
        if size > MAX_CASE_BYTES:
            raise FlannotError(
                f"case file is {size / 2**20:.0f} MiB, more than flannot reads "
                f"({MAX_CASE_BYTES // 2**20} MiB)",
                file,
            )
        return file.read_bytes()
    except FileNotFoundError:
        raise FlannotError("no such case file", file) from None
    except IsADirectoryError:
        raise FlannotError(f"folder holds no {CASE_FILENAME}", file) from None
    except OSError as exc:
        raise FlannotError(f"cannot read: {exc.strerror or exc}", file) from None


def _parse(content: bytes, file: Path | str | None) -> Any:
    """Strict JSON (:func:`flannot.model.limits.parse_json`): what every command reads."""
    return parse_json(content, file, "case file")


def read_case_json(path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any], bytes]:
    """Read and parse a case file without validating it.

    Returns
    -------
    (file, data, content)
        The resolved case file, the parsed JSON object and the raw bytes.

    Raises
    ------
    FlannotError
        Missing or unreadable file, invalid JSON (with line and column), or not a
        JSON object.
    """
    file = case_file_path(path)
    content = _read_bytes(file)
    data = _parse(content, file)
    if not isinstance(data, dict):
        raise FlannotError(
            f"not a flannot case file: the JSON is {type(data).__name__}, not an object", file
        )
    return file, data, content


def check_version(data: Mapping[str, Any], file: Path | str | None = None) -> None:
    """Refuse a case written by a newer flannot (a newer ``flannot_version``)."""
    version = data.get("flannot_version")
    if (
        isinstance(version, (int, float))
        and not isinstance(version, bool)
        and version > FORMAT_VERSION
    ):
        raise FlannotError(
            f"written by a newer flannot (case format version {version:g}; this flannot reads "
            f"version {FORMAT_VERSION}); upgrade flannot to open it",
            file,
        )


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


_PLAIN_NUMBERS = (int, float)


def _number(v: int | float) -> str:
    """JSON for a plain int or float: ``repr`` is the shortest exact form of a float."""
    if type(v) is float and not math.isfinite(v):
        raise ValueError(f"Out of range float values are not JSON compliant: {v!r}")
    return repr(v)


def _encode(obj: Any, indent: int, level: int, enc: json.JSONEncoder) -> Iterator[str]:
    """Pretty JSON with lists of numbers (a point, an RLE count list) kept on one line."""
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(obj, dict):
        if not obj:
            yield "{}"
            return
        yield "{\n"
        for i, (key, value) in enumerate(obj.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            yield pad + enc.encode(key) + ": "
            yield from _encode(value, indent, level + 1, enc)
            yield ",\n" if i < len(obj) - 1 else "\n"
        yield end + "}"
    elif isinstance(obj, (list, tuple)):
        if not obj:
            yield "[]"
            return
        if all(type(v) in _PLAIN_NUMBERS for v in obj):
            yield "[" + ", ".join(map(_number, obj)) + "]"
            return
        if all(type(v) is list and all(type(x) in _PLAIN_NUMBERS for x in v) for v in obj):
            # a list of points: the bulk of a big case, written without per-item recursion
            sep = ",\n" + pad
            yield "[\n" + pad
            yield sep.join("[" + ", ".join(map(_number, v)) + "]" for v in obj)
            yield "\n" + end + "]"
            return
        yield "[\n"
        for i, value in enumerate(obj):
            yield pad
            yield from _encode(value, indent, level + 1, enc)
            yield ",\n" if i < len(obj) - 1 else "\n"
        yield end + "]"
    else:
        yield enc.encode(obj)


def dumps_case(data: Mapping[str, Any]) -> str:
    """Serialise a case dict as flannot writes it: UTF-8 JSON, 2-space indent, points on one line.

    Floats use ``repr`` (shortest exact form), so reading the text back gives the
    same float64 values. Non-finite numbers are refused (they are not JSON).
    """
    enc = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default)
    return "".join(_encode(dict(data), 2, 0, enc)) + "\n"


def _disk_provenance(file: Path) -> str:
    """``modified … by …`` as the file on disk states it, plus its file time."""
    bits = []
    try:
        st = file.stat()
        when = datetime.fromtimestamp(st.st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        bits.append(f"file time {when}")
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return ", ".join(bits)
    if isinstance(data, dict):
        author = data.get("author")
        if not author and isinstance(data.get("annotations"), list):
            stamped = [a for a in data["annotations"] if isinstance(a, dict) and a.get("author")]
            if stamped:
                author = max(stamped, key=lambda a: str(a.get("modified") or ""))["author"]
        said = "modified " + str(data["modified"]) if data.get("modified") else "modified"
        if author:
            said += f" by {author}"
        bits.insert(0, said)
    return ", ".join(bits)


# --------------------------------------------------------------------------- ImageRef
_IMAGE_KEYS = ("path", "sop_instance_uid", "frames", "spacing_mm", "calibration", "rows", "columns")


@dataclass
class ImageRef:
    """The image a case annotates.

    Attributes
    ----------
    path
        DICOM file or series folder; relative paths are relative to the case file's folder.
    sop_instance_uid
        SOP Instance UID of the image (checks that the right image is annotated).
    frames
        Number of frames.
    spacing_mm
        ``(row_mm, col_mm)``, ``None`` when uncalibrated (never mm without a calibration).
    calibration
        Where the spacing came from (SPEC §2): ``user``, ``fiducial``, ``geometry``,
        ``calibrated``, ``magnification_corrected``, ``detector_plane``,
        ``pixel_spacing`` or ``uncalibrated``.
    rows, columns
        Image size in pixels, when known.
    extra
        Unknown keys, preserved.
    """

    path: str
    sop_instance_uid: str | None = None
    frames: int = 1
    spacing_mm: tuple[float, float] | None = None
    calibration: str = "uncalibrated"
    rows: int | None = None
    columns: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path = os.fspath(self.path)
        if self.spacing_mm is not None:
            self.spacing_mm = (float(self.spacing_mm[0]), float(self.spacing_mm[1]))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageRef:
        spacing = data.get("spacing_mm")
        return cls(
            path=str(data["path"]),
            sop_instance_uid=data.get("sop_instance_uid"),
            frames=int(data.get("frames", 1)),
            spacing_mm=None if spacing is None else (float(spacing[0]), float(spacing[1])),
            calibration=str(data.get("calibration", "uncalibrated")),
            rows=data.get("rows"),
            columns=data.get("columns"),
            extra={k: v for k, v in data.items() if k not in _IMAGE_KEYS},
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path}
        if self.sop_instance_uid is not None:
            out["sop_instance_uid"] = self.sop_instance_uid
        out["frames"] = int(self.frames)
        out["spacing_mm"] = None if self.spacing_mm is None else list(self.spacing_mm)
        out["calibration"] = self.calibration
        if self.rows is not None:
            out["rows"] = int(self.rows)
        if self.columns is not None:
            out["columns"] = int(self.columns)
        out.update(self.extra)
        return out


def _refuse_duplicate_ids(annotations: Any, path: str | os.PathLike[str] | None) -> None:
    """One line naming the first annotation whose id an earlier one already has."""
    seen: dict[str, int] = {}
    for j, a in enumerate(annotations):
        aid = a["id"]
        i = seen.setdefault(aid, j)
        if i != j:
            raise FlannotError(
                f"not a valid case file: $.annotations[{j}].id: duplicate id {aid!r} "
                f"(also $.annotations[{i}]; run 'flannot validate' for all of them)",
                path,
            )


def _id_prefix(protocol: str, type_name: str) -> str:
    """Short prefix of new ids (``lf`` → ``lf1``): the type's abbreviation in its protocol."""
    from flannot.protocols import get_protocol

    try:
        t = get_protocol(protocol or "mild").find_type(type_name)
    except FlannotError:
        t = None
    if t is not None:
        return t.abbreviation
    return re.sub(r"[^a-z0-9]+", "_", type_name.lower()).strip("_") or "a"


def new_annotation_id(protocol: str, type_name: str, taken: Iterable[str]) -> str:
    """A short id not in ``taken``: the type's abbreviation in its protocol and the next
    number (``lf1``, ``lf2``, ``v1`` …)."""
    prefix = _id_prefix(protocol, type_name)
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    used = set(taken)
    n = max((int(m.group(1)) for i in used if (m := pattern.match(i))), default=0) + 1
    while f"{prefix}{n}" in used:  # pragma: no cover - max+1 is always free
        n += 1
    return f"{prefix}{n}"


def _planning(data: Any, path: Any) -> ImageRef | None:
    """The planning-slice record of a case file (``None`` when absent)."""
    if data is None:
        return None
    if not isinstance(data, Mapping) or not isinstance(data.get("path"), str):
        raise FlannotError("not a valid case file: $.planning needs a 'path'", path)
    return ImageRef.from_dict(data)


def is_axial_planning(ref: ImageRef | None) -> bool:
    """Whether ``ref`` is an axial CT or MR slice (where MR/CT criteria may apply, SPEC §4)."""
    if ref is None:
        return False
    modality = str(ref.extra.get("modality") or "").upper()
    return modality in ("CT", "MR") and str(ref.extra.get("plane") or "").lower() == "axial"


# --------------------------------------------------------------------------- Case
_CASE_KEYS = (
    "flannot_version",
    "case_id",
    "protocol",
    "author",
    "image",
    "planning",
    "annotations",
    "notes",
    "decision",
    "created",
    "modified",
)


@dataclass(repr=False)
class Case:
    """One annotated image: the content of an ``annotations.json`` (SPEC §3).

    Examples
    --------
    >>> case = Case.load("sample_dicoms/cases/lateral")  # doctest: +SKIP
    >>> [a.level for a in case.annotations if a.type == "vertebra"]  # doctest: +SKIP
    ['L1', 'L2', 'L3', 'L4', 'L5', 'S1']
    >>> case.save()  # doctest: +SKIP
    """

    case_id: str
    image: ImageRef
    annotations: list[Annotation] = field(default_factory=list)
    protocol: str = "mild"
    notes: str = ""
    created: str | None = field(default_factory=utc_now)
    modified: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    author: str | None = None
    #: an axial CT/MR planning slice (``modality`` and ``plane`` in its record), if any
    planning: ImageRef | None = None
    #: proceed or not, and why (:mod:`flannot.model.decision`); ``None``: not recorded
    decision: Decision | None = None
    # where the case lives on disk and what the file looked like (for save's conflict check)
    _file: Path | None = field(default=None, init=False, repr=False, compare=False)
    _stamp: _DiskStamp | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.modified is None:
            self.modified = self.created

    def __repr__(self) -> str:  # the full dataclass repr would print every point
        where = f", path={str(self._file)!r}" if self._file is not None else ""
        return (
            f"Case(case_id={self.case_id!r}, protocol={self.protocol!r}, "
            f"image={self.image.path!r}, annotations={len(self.annotations)}{where})"
        )

    # ------------------------------------------------------------------ dict / JSON
    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        path: str | os.PathLike[str] | None = None,
        strict: bool = True,
    ) -> Case:
        """Build a case from its JSON form, checking version and schema.

        Parameters
        ----------
        data
            The parsed ``annotations.json`` object.
        path
            Only used to name the file in error messages (not bound for saving).
        strict
            Refuse two annotations with the same id (what every command reads).
            ``False`` only where the duplicates are reported or repaired instead:
            ``validate`` lists them all, crash recovery keeps the edits (the
            napari session gives repeated ids fresh ones).

        Raises
        ------
        FlannotError
            A newer format version, a schema violation (the first one, with its JSON
            path) or, when ``strict``, the first duplicate annotation id.
        """
        from flannot.model.validate import schema_problems

        if not isinstance(data, Mapping):
            raise FlannotError(f"a case must be a JSON object, not {type(data).__name__}", path)
        check_version(data, None if path is None else os.fspath(path))
        problems = schema_problems(data)
        if problems:
            first = problems[0]
            more = ""
            if len(problems) > 1:
                more = f" (and {len(problems) - 1} more; run 'flannot validate')"
            raise FlannotError(f"not a valid case file: {first.path}: {first.message}{more}", path)
        if strict:
            _refuse_duplicate_ids(data["annotations"], path)
        return cls(
            case_id=str(data["case_id"]),
            image=ImageRef.from_dict(data["image"]),
            annotations=[Annotation.from_dict(a) for a in data["annotations"]],
            protocol=str(data.get("protocol", "mild")),
            notes=str(data.get("notes") or ""),
            created=data.get("created"),
            modified=data.get("modified"),
            author=data.get("author"),
            extra={k: v for k, v in data.items() if k not in _CASE_KEYS},
            planning=_planning(data.get("planning"), path),
            decision=(
                None if data.get("decision") is None else Decision.from_dict(data["decision"], path)
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of format version 1 (unknown keys last)."""
        out: dict[str, Any] = {
            "flannot_version": FORMAT_VERSION,
            "case_id": self.case_id,
            "protocol": self.protocol,
        }
        if self.author is not None:
            out["author"] = self.author
        out["image"] = self.image.to_dict()
        if self.planning is not None:
            out["planning"] = self.planning.to_dict()
        out["annotations"] = [a.to_dict() for a in self.annotations]
        out["notes"] = self.notes
        if self.decision is not None:
            out["decision"] = self.decision.to_dict()
        if self.created is not None:
            out["created"] = self.created
        if self.modified is not None:
            out["modified"] = self.modified
        out.update(self.extra)
        return out

    def to_json(self) -> str:
        """The text :meth:`save` writes."""
        try:
            return dumps_case(self.to_dict())
        except ValueError as exc:  # NaN / inf
            raise FlannotError(
                f"case {self.case_id!r} cannot be saved: {exc} "
                "(a coordinate or length is NaN or infinite)"
            ) from None
        except TypeError as exc:  # something in `extra` that JSON cannot hold
            raise FlannotError(f"case {self.case_id!r} cannot be saved: {exc}") from None

    # ------------------------------------------------------------------ load / save
    @classmethod
    def load(cls, path: str | os.PathLike[str], *, strict: bool = True) -> Case:
        """Read a case file, or the ``annotations.json`` of a case folder.

        ``strict=False`` accepts duplicate annotation ids (see :meth:`from_dict`).

        Raises
        ------
        FlannotError
            Missing/unreadable file, invalid JSON (line and column), a newer format
            version, a schema violation or a duplicate annotation id — always one
            line naming the file.
        """
        file, data, content = read_case_json(path)
        case = cls.from_dict(data, path=file, strict=strict)
        case._bind(file, content)
        return case

    def _bind(self, file: Path, content: bytes) -> None:
        self._file = Path(os.path.abspath(file))
        self._stamp = _DiskStamp.of(file, content)

    @property
    def path(self) -> Path | None:
        """The case file this case was loaded from or last saved to (absolute)."""
        return self._file

    @property
    def folder(self) -> Path | None:
        """The folder of :attr:`path` (image paths are relative to it)."""
        return None if self._file is None else self._file.parent

    def changed_on_disk(self, *, strict: bool = False) -> bool:
        """Whether the bound case file was changed (or replaced) by someone else since load/save.

        ``strict`` compares the content even when time and size agree (a save
        within the file system's timestamp granularity keeps the time); saves do.
        """
        if self._file is None:
            return False
        try:
            st = self._file.stat()
        except FileNotFoundError:
            return False  # deleted: saving recreates it, nothing to lose
        if self._stamp is None:
            return True  # bound to a file that did not exist then: someone created it
        same = st.st_mtime_ns == self._stamp.mtime_ns and st.st_size == self._stamp.size
        if same and not strict:
            return False
        try:  # the time changed; only a different content counts
            return hashlib.sha256(self._file.read_bytes()).hexdigest() != self._stamp.sha256
        except OSError:
            return True

    def save(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        force: bool = False,
        touch: bool = True,
    ) -> Path:
        """Write the case file atomically.

        Parameters
        ----------
        path
            Target file, or a case folder (``annotations.json`` inside, created with its
            parents if missing). Defaults to the file the case was loaded from.
        force
            Overwrite even if the file changed on disk since it was loaded, or exists
            and was not loaded by this case.
        touch
            Set ``modified`` to now (the default).

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        ConcurrentChangeError
            The target changed on disk since it was loaded (someone else saved), or
            exists and is not the file this case came from; nothing was written.
        FlannotError
            No path to save to, or the case holds NaN/inf values, or the write failed.
        """
        if path is None:
            if self._file is None:
                raise FlannotError(f"case {self.case_id!r} has no file yet; give a path to save to")
            target = self._file
        else:
            p = Path(path)
            target = p / CASE_FILENAME if p.is_dir() or p.suffix.lower() != ".json" else p
        target = Path(os.path.abspath(target))
        # here, not at the top: reading cases (measure, validate) never saves one
        from flannot.atomic import atomic_write_text, save_lock, sweep_temporaries

        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # the check and the rename happen under one lock: no writer can slip between
            with save_lock(target):
                if not force:
                    self._refuse_overwrite(target)
                if touch:
                    self.modified = utc_now()
                    if self.created is None:
                        self.created = self.modified
                self._relativise_image(target.parent)
                text = self.to_json()
                atomic_write_text(target, text)
                self._bind(target, text.encode("utf-8"))
                sweep_temporaries(target)  # under the lock every temporary is debris
        except OSError as exc:
            raise FlannotError(f"cannot save: {exc.strerror or exc}", target) from None
        return target

    def _refuse_overwrite(self, target: Path) -> None:
        if not target.exists():
            return
        hint = "save under another name (save as) or save with force=True to overwrite it"
        if self._file is None or target != self._file:
            raise ConcurrentChangeError(
                f"already exists and is not the file this case was loaded from "
                f"({_disk_provenance(target)}); {hint}",
                target,
            )
        if self.changed_on_disk(strict=True):
            raise ConcurrentChangeError(
                f"changed on disk since it was loaded ({_disk_provenance(target)}); "
                f"your changes were not written; {hint}",
                target,
            )

    def _relativise_image(self, folder: Path) -> None:
        """Store the image path relative to the case folder when the image lies inside it."""
        current = self.image_path
        try:
            rel = Path(os.path.abspath(current)).relative_to(folder)
        except ValueError:
            if not Path(self.image.path).is_absolute() and self.folder not in (None, folder):
                self.image.path = os.path.abspath(current)  # keep it findable after save-as
            return
        self.image.path = rel.as_posix()

    # ------------------------------------------------------------------ image
    @classmethod
    def from_image(cls, image: Any, case_id: str, *, protocol: str = "mild") -> Case:
        """A new, empty case for a :class:`~flannot.io.image.FluoroImage` (duck-typed).

        Uses ``path``, ``sop_instance_uid``, ``n_frames``, ``spacing_mm``,
        ``calibration``, ``rows`` and ``cols``. The image path is stored absolute and
        made relative to the case folder on the first save when the image is inside it.
        """
        spacing = getattr(image, "spacing_mm", None)
        rows = getattr(image, "rows", None)
        cols = getattr(image, "cols", getattr(image, "columns", None))
        ref = ImageRef(
            path=os.path.abspath(os.fspath(image.path)),
            sop_instance_uid=getattr(image, "sop_instance_uid", None) or None,
            frames=int(getattr(image, "n_frames", 1) or 1),
            spacing_mm=None if spacing is None else (float(spacing[0]), float(spacing[1])),
            calibration=str(getattr(image, "calibration", None) or "uncalibrated"),
            rows=None if rows is None else int(rows),
            columns=None if cols is None else int(cols),
        )
        return cls(case_id=case_id, image=ref, protocol=protocol)

    @property
    def image_path(self) -> Path:
        """Absolute path of the image (relative paths resolve against the case folder).

        Raises
        ------
        FlannotError
            The case lies in a teaching set and its image does not: an absolute
            path, ``..`` or a symlink leading out of the set (SPEC §5: a set is
            self-contained; nothing reads outside it).
        """
        p = Path(self.image.path)
        if not p.is_absolute():
            base = self.folder if self.folder is not None else Path.cwd()
            p = Path(os.path.abspath(base / p))
        root = self._set_root()
        if root is not None:
            real, inside = os.path.realpath(p), os.path.realpath(root)
            if os.path.commonpath([real, inside]) != inside:
                raise FlannotError(
                    f"image.path {self.image.path!r} leads outside the teaching set {root}",
                    self._file,
                )
        return p

    def _set_root(self) -> Path | None:
        """The teaching set this case file lies in (``<set>/cases/<id>/``), if any."""
        if self.folder is None:
            return None
        for up in list(self.folder.parents)[:2]:
            if (up / SET_FILENAME).is_file():
                return up
        return None

    def load_image(self) -> Any:
        """Read the image with :func:`flannot.read_dicom` (a ``FluoroImage``)."""
        from flannot.io.reader import read_dicom

        return read_dicom(self.image_path)

    # ------------------------------------------------------------------ annotations
    def new_id(self, type: str) -> str:
        """A fresh annotation id for ``type`` (``v3``, ``lf2`` …), unique in this case."""
        return new_annotation_id(self.protocol, type, {a.id for a in self.annotations})

    def get(self, annotation_id: str) -> Annotation:
        """The annotation with this id; ``KeyError`` when there is none."""
        for a in self.annotations:
            if a.id == annotation_id:
                return a
        raise KeyError(annotation_id)

    def add(self, annotation: Annotation, *, author: str | None = None) -> Annotation:
        """Append an annotation (an empty id gets :meth:`new_id`) and mark the case modified.

        Raises
        ------
        ValueError
            The id is already used in this case.
        """
        if not annotation.id:
            annotation.id = self.new_id(annotation.type)
        elif any(a.id == annotation.id for a in self.annotations):
            raise ValueError(f"annotation id {annotation.id!r} is already used in this case")
        annotation.touch(author if author is not None else annotation.author or self.author)
        self.annotations.append(annotation)
        self.touch()
        return annotation

    def remove(self, annotation_id: str) -> Annotation:
        """Remove and return the annotation with this id (``KeyError`` when absent)."""
        a = self.get(annotation_id)
        self.annotations.remove(a)
        self.touch()
        return a

    def select(
        self, type: str | None = None, frame: int | None = None, level: str | None = None
    ) -> list[Annotation]:
        """Annotations of a type / frame / level (``None`` matches anything)."""
        return [
            a
            for a in self.annotations
            if (type is None or a.type == type)
            and (frame is None or a.frame == frame)
            and (level is None or a.level == level)
        ]

    def vertebra_order_problems(self) -> list[Any]:
        """Vertebra labels out of cranio-caudal order or skipping a level, per frame (SPEC §3).

        The same check ``flannot validate`` runs, for live feedback while annotating.

        Returns
        -------
        list[flannot.model.validate.Problem]
            One per offending label, with ``annotation_id`` and a one-line ``message``;
            empty when every frame's vertebrae are in order.
        """
        from flannot.model.validate import vertebra_order_problems

        return vertebra_order_problems(self)

    def touch(self) -> None:
        """Mark the case as changed now (``modified``)."""
        self.modified = utc_now()

    def __iter__(self) -> Iterator[Annotation]:
        return iter(self.annotations)

    def __len__(self) -> int:
        return len(self.annotations)

    def extend(self, annotations: Iterable[Annotation]) -> None:
        for a in annotations:
            self.add(a)

    def copy(self) -> Case:
        """A deep copy, not bound to any file (saving it needs a path)."""
        return Case.from_dict(self.to_dict(), strict=False)
