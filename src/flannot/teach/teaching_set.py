"""Teaching sets: a portable folder of de-identified cases with reference annotations (SPEC §5).

```
my-set/flannot-set.json            name, description, protocol, version, tolerances, cases
my-set/.flannot-secret             the set's de-identification secret (never exported)
my-set/cases/<case-id>/image.dcm   or image/ (a series folder of single frames)
my-set/cases/<case-id>/annotations.json
my-set/attempts/<trainee>/<case-id>.json
```

The secret keys UID remapping and the date shift, so cases added later map the same
way as earlier ones; it stays with the educator's copy of the set (``flannot set
export`` leaves it out), so nobody holding an original UID and a shared set can
recompute the mapping.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_description

from flannot.atomic import atomic_write_json, atomic_write_text
from flannot.errors import FlannotError

SET_FILE = "flannot-set.json"
SECRET_FILE = ".flannot-secret"
SET_VERSION = 1
CASE_FILE = "annotations.json"
_SOP = "SOPInstanceUID"
_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

try:  # the shared Problem type; a compatible stand-in when the model is not there
    from flannot.model.validate import Problem
except ImportError:  # pragma: no cover - only while flannot.model is being written
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Problem:  # type: ignore[no-redef]
        path: str
        message: str
        severity: str = "error"
        file: str | None = None


def _now() -> str:
    return (
        _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TeachingSet:
    """A teaching-set folder (see the module notes).

    Use :meth:`open` or :meth:`new`; ``root`` is the folder, ``data`` the parsed
    ``flannot-set.json``.
    """

    def __init__(self, root: Path, data: dict[str, Any], disk_digest: str | None) -> None:
        self.root = Path(root)
        self.data = data
        self._disk_digest = disk_digest
        self._uid_map: Any = None

    def __repr__(self) -> str:  # what a trainee sees when they type the variable
        return f"TeachingSet(name={self.name!r}, cases={len(self.cases)}, root='{self.root}')"

    # ------------------------------------------------------------------ create / open
    @classmethod
    def new(
        cls,
        folder: str | os.PathLike[str],
        name: str | None = None,
        *,
        description: str = "",
        protocol: str = "mild",
    ) -> TeachingSet:
        """Create an empty set in ``folder`` (created; must be empty if it exists)."""
        from flannot.protocols import get_protocol

        root = Path(folder)
        if root.exists() and not root.is_dir():
            raise FlannotError("exists and is not a folder", root)
        if root.is_dir() and any(root.iterdir()):
            raise FlannotError("folder is not empty; a new set needs an empty folder", root)
        proto = get_protocol(protocol)
        root.mkdir(parents=True, exist_ok=True)
        (root / "cases").mkdir(exist_ok=True)
        now = _now()
        data = {
            "flannot_set_version": SET_VERSION,
            "name": name or root.resolve().name,
            "description": description,
            "protocol": proto.name,
            "tolerances": dict(proto.tolerances),
            "cases": [],
            "created": now,
            "modified": now,
        }
        ts = cls(root, data, None)
        ts.save()
        # a set is meant to be diff-able: keep its secret out of version control
        atomic_write_text(root / ".gitignore", f"{SECRET_FILE}\n.*.tmp\n")
        return ts

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> TeachingSet:
        """Open the set in ``folder`` (or the folder of a given ``flannot-set.json``).

        Raises
        ------
        FlannotError
            No ``flannot-set.json``, invalid JSON, or a newer set version — one line
            naming the file.
        """
        p = Path(folder)
        root = p.parent if p.name == SET_FILE else p
        file = root / SET_FILE
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            raise FlannotError(f"not a teaching set (no {SET_FILE})", root) from None
        except OSError as exc:
            raise FlannotError(f"cannot read: {exc.strerror or exc}", file) from None
        try:
            data = json.loads(raw.decode("utf-8-sig"))  # a BOM, as Notepad writes, is fine
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FlannotError(f"not valid JSON: {exc}", file) from None
        if not isinstance(data, dict):
            raise FlannotError("must hold a JSON object", file)
        version = data.get("flannot_set_version")
        if not isinstance(version, int) or version < 1:
            raise FlannotError("missing or bad flannot_set_version", file)
        if version > SET_VERSION:
            raise FlannotError(
                f"written by a newer flannot (set version {version} > {SET_VERSION})", file
            )
        if not isinstance(data.get("cases", []), list):
            raise FlannotError("'cases' must be a list", file)
        data.setdefault("cases", [])
        return cls(root, data, _digest(raw))

    # ------------------------------------------------------------------ fields
    @property
    def file(self) -> Path:
        return self.root / SET_FILE

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @property
    def description(self) -> str:
        return str(self.data.get("description", ""))

    @property
    def protocol(self) -> str:
        return str(self.data.get("protocol", "mild"))

    @property
    def tolerances(self) -> dict[str, float]:
        """The set's scoring tolerances over the protocol's defaults."""
        from flannot.protocols import get_protocol

        try:
            tol = dict(get_protocol(self.protocol).tolerances)
        except FlannotError:
            tol = {}
        tol.update(self.data.get("tolerances") or {})
        return tol

    @property
    def cases(self) -> list[dict[str, Any]]:
        """The case entries (``case_id``, ``path``, ``title``, ``view``, ``provenance``)."""
        return [c for c in self.data["cases"] if isinstance(c, dict)]

    @property
    def case_ids(self) -> list[str]:
        return [str(c.get("case_id")) for c in self.cases]

    def entry(self, case_id: str) -> dict[str, Any]:
        for c in self.cases:
            if c.get("case_id") == case_id:
                return c
        raise FlannotError(f"no case {case_id!r} in the set", self.file)

    def case_dir(self, case_id: str) -> Path:
        """Folder of a case, checked to lie inside the set."""
        rel = str(self.entry(case_id).get("path") or f"cases/{case_id}")
        folder = (self.root / rel).resolve()
        if self.root.resolve() not in folder.parents:
            raise FlannotError(f"case {case_id!r} path {rel!r} leaves the set folder", self.file)
        return folder

    def case(self, case_id: str) -> Any:
        """The reference case (:class:`flannot.model.case.Case`) of ``case_id``."""
        from flannot.model.case import Case

        return Case.load(self.case_dir(case_id) / CASE_FILE)

    # ------------------------------------------------------------------ secret
    @property
    def uid_map(self) -> Any:
        """The set's :class:`~flannot.deid.uids.UidMap` (secret created on first use)."""
        if self._uid_map is None:
            from flannot.deid.uids import UidMap, load_secret

            self._uid_map = UidMap(load_secret(self.root / SECRET_FILE, create=True))
        return self._uid_map

    # ------------------------------------------------------------------ adding cases
    def _next_case_id(self, taken: set[str]) -> str:
        n = 1
        while True:
            cid = f"case-{n:03d}"
            if cid not in taken and not (self.root / "cases" / cid).exists():
                return cid
            n += 1

    def add_dicom(
        self,
        paths: Iterable[str | os.PathLike[str]],
        deidentify: bool = True,
        *,
        case_id: str | None = None,
        options: Iterable[str] = (),
        title: str | None = None,
        redactions: Sequence[Sequence[int | None]] | None = None,
        save: bool = False,
    ) -> list[dict[str, Any]]:
        """Copy DICOM files (one case each) or series folders (one case each) into the set.

        Parameters
        ----------
        paths
            DICOM files and/or folders of single-frame files (a series).
        deidentify
            Apply the PS3.15 Basic Profile (default). ``False`` copies the bytes as they are.
        case_id
            Id for the case (only with one path); default ``case-001``, ``case-002`` …
        options
            De-identification retain options (see :func:`flannot.deidentify`).
        title
            Case title (only with one path); default the case id.
        redactions
            Rectangles to blank, ``(frame | None, r0, c0, r1, c1)`` (single-file cases).
        save
            Also write ``flannot-set.json``; when that is refused (the file changed on
            disk since the set was opened) the new cases are taken back as well.

        Returns
        -------
        list[dict]
            Per case: ``case_id``, ``path``, ``files``, action counts (``removed``,
            ``emptied``, ``replaced``, ``private_removed``), ``burned_in_risk``.
            Without ``save``, call :meth:`save` to record the new cases in
            ``flannot-set.json``. Either every case is added or, on an error, none.
        """
        from flannot.deid.engine import normalize_options

        sources = [Path(p) for p in paths]
        if not sources:
            raise FlannotError("no DICOM given to add")
        if (case_id or title) and len(sources) != 1:
            raise FlannotError("--case-id/title need exactly one DICOM file or series folder")
        opts = normalize_options(options)
        taken = set(self.case_ids)
        # check every input before writing anything: a bad third file must not leave
        # two new cases behind
        plans: list[tuple[str, list[Path], str]] = []
        sop_index: dict[str, str] | None = None  # SOP Instance UID -> case id, when needed
        for src in sources:
            cid = case_id or self._next_case_id(taken)
            if not _CASE_ID.match(cid):
                raise FlannotError(
                    f"bad case id {cid!r} (letters, digits, '.', '_', '-'; up to 64)"
                )
            if cid in taken or (self.root / "cases" / cid).exists():
                raise FlannotError(f"case {cid!r} already exists in the set", self.root)
            if redactions and src.is_dir():
                raise FlannotError("redactions apply to single-file cases", src)
            files, sops, image_rel = _case_inputs(src)
            if sop_index is None:
                sop_index = self._sop_index()
            for sop in sops:
                # the UID this image will have in the set (remapping is deterministic)
                new = self.uid_map(sop) if deidentify and "uids" not in opts else sop
                if new and new in sop_index:
                    raise FlannotError(
                        f"this image is already in the set (case {sop_index[new]!r}, "
                        "same SOP Instance UID)",
                        src,
                    )
                sop_index[new] = cid
            taken.add(cid)
            plans.append((cid, files, image_rel))
        results: list[dict[str, Any]] = []
        added: list[str] = []
        try:
            for cid, files, image_rel in plans:
                results.append(
                    self._add_one(files, image_rel, cid, deidentify, opts, title or cid, redactions)
                )
                added.append(cid)
            if save:
                self.save()
        except BaseException:
            # all or nothing: take back the cases this call already moved into place
            self._take_back(added)
            raise
        return results

    def _sop_index(self) -> dict[str, str]:
        """SOP Instance UID of every image in the set's listed cases -> case id."""
        index: dict[str, str] = {}
        for cid in self.case_ids:
            try:
                image = _image_path(self.case_dir(cid) / CASE_FILE, self.root)
            except FlannotError:
                continue  # validate() reports it
            if image is None or not image.exists():
                continue
            for f in _image_files(image):
                try:
                    ds = pydicom.dcmread(f, stop_before_pixels=True, specific_tags=[_SOP])
                except Exception:  # unreadable: validate() reports it
                    continue
                sop = str(ds.get("SOPInstanceUID", "") or "")
                if sop:
                    index.setdefault(sop, cid)
        return index

    def _take_back(self, case_ids: list[str]) -> None:
        """Remove cases this object has just added (folders and entries), after a failure."""
        for cid in case_ids:
            shutil.rmtree(self.root / "cases" / cid, ignore_errors=True)
        self.data["cases"] = [
            c
            for c in self.data["cases"]
            if not (isinstance(c, dict) and c.get("case_id") in case_ids)
        ]

    def _add_one(
        self,
        files: list[Path],
        image_rel: str,
        case_id: str,
        deidentify: bool,
        opts: frozenset[str],
        title: str,
        redactions: Sequence[Sequence[int | None]] | None,
    ) -> dict[str, Any]:
        from flannot.deid.engine import deidentify_file

        cases = self.root / "cases"
        cases.mkdir(parents=True, exist_ok=True)
        # build the case in a temporary folder, then rename: never a half-written case
        tmp = fresh_dir(cases, f".{case_id}.", ".tmp")
        try:
            if image_rel == "image.dcm":
                targets = [(files[0], tmp / image_rel)]
            else:
                targets = [(p, tmp / image_rel / f"{i:04d}.dcm") for i, p in enumerate(files, 1)]
            reports = []
            for s, d in targets:
                d.parent.mkdir(parents=True, exist_ok=True)
                if deidentify:
                    reports.append(
                        deidentify_file(
                            s, d, options=opts, uid_map=self.uid_map, redactions=redactions
                        )
                    )
                else:
                    shutil.copyfile(s, d)
            provenance = self._provenance(targets, reports, deidentify, opts)
            source = files[0] if image_rel == "image.dcm" else files[0].parent
            image_info = _image_record(tmp / image_rel, image_rel, source)
            view = image_info.pop("view", "unknown")
            _write_case_file(tmp, case_id, self.protocol, image_info)
            final = cases / case_id
            if final.exists():  # another process took the id meanwhile
                raise FlannotError(f"case {case_id!r} already exists in the set", self.root)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        entry = {
            "case_id": case_id,
            "path": f"cases/{case_id}",
            "title": title,
            "view": view,
            "provenance": provenance,
        }
        self.data["cases"].append(entry)
        return _case_report(case_id, entry, reports, provenance)

    def _provenance(
        self,
        targets: list[tuple[Path, Path]],
        reports: list[Any],
        deidentify: bool,
        opts: frozenset[str],
    ) -> dict[str, Any]:
        from flannot import __version__
        from flannot.deid.burned_in import burned_in_risk

        risks = []
        for s, _ in targets:  # the input's risk, read before anything was changed
            try:
                risks.append(burned_in_risk(pydicom.dcmread(s, stop_before_pixels=True)))
            except Exception:
                risks.append("unknown")
        order = {"yes": 2, "unknown": 1, "no": 0}
        risk = max(risks, key=lambda r: order.get(r, 1)) if risks else "unknown"
        prov: dict[str, Any] = {
            "added": _now(),
            "flannot_version": __version__,
            "deidentified": deidentify,
            "files": len(targets),
            # keyed hash: the name may hold identifiers, and a plain hash can be guessed
            "source_name_hmac": [self.uid_map.keyed_hash(s.name) for s, _ in targets][:1000],
            "burned_in_risk": risk,
        }
        if deidentify:
            prov["profile"] = "DICOM PS3.15 E.1 Basic Application Level Confidentiality Profile"
            prov["options"] = sorted(opts)
            prov["method_codes"] = reports[0].method_codes if reports else []
            redacted = [r.redaction for r in reports if r.redaction]
            if redacted:
                prov["redaction"] = redacted
        return prov

    # ------------------------------------------------------------------ redaction
    def case_redactions(self, case_id: str) -> list[tuple[None, int, int, int, int]]:
        """Pixel rectangles of the case's ``redaction`` annotations, for every frame.

        A rectangle covers every pixel its corners touch (rounded outwards: blanking
        one pixel too many is the safe error). Burned-in text sits at the same place
        in every frame of a run, so each rectangle applies to all frames.
        """
        case_file = self.case_dir(case_id) / CASE_FILE
        try:
            data = json.loads(case_file.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as exc:
            raise FlannotError(f"cannot read: {exc}", case_file) from None
        rects: list[tuple[None, int, int, int, int]] = []
        for ann in data.get("annotations") or []:
            if not isinstance(ann, dict) or ann.get("type") != "redaction":
                continue
            pts = (ann.get("geometry") or {}).get("points") or []
            try:
                rows = [float(p[0]) for p in pts]
                cols = [float(p[1]) for p in pts]
            except (TypeError, ValueError, IndexError):
                raise FlannotError(
                    f"redaction {ann.get('id')!r} has bad points", case_file
                ) from None
            if len(rows) < 2:
                continue
            rects.append(
                (
                    None,
                    math.floor(min(rows)),
                    math.floor(min(cols)),
                    math.ceil(max(rows)) + 1,
                    math.ceil(max(cols)) + 1,
                )
            )
        return rects

    def redacted_files(self) -> dict[Path, list[tuple[None, int, int, int, int]]]:
        """Every case DICOM file that has redactions to apply, with its rectangles."""
        out: dict[Path, list[tuple[None, int, int, int, int]]] = {}
        for cid in self.case_ids:
            try:
                folder = self.case_dir(cid)
            except FlannotError:
                continue
            if not (folder / CASE_FILE).is_file():
                continue
            rects = self.case_redactions(cid)
            try:
                image = _image_path(folder / CASE_FILE, self.root)
            except FlannotError:
                continue  # validate() reports it; never touch files outside the set
            if not rects or image is None or not image.exists():
                continue
            for f in _image_files(image):
                out[f] = rects
        return out

    def apply_redactions(self) -> list[Path]:
        """Blank the redaction rectangles in the set's own images (atomic rewrites)."""
        from flannot.atomic import atomic_write_bytes

        done = []
        for path, rects in self.redacted_files().items():
            atomic_write_bytes(path, redacted_image_bytes(path, rects))
            done.append(path)
        return done

    def set_title(self, title: str, case_id: str | None = None) -> None:
        """Rename the set (``case_id=None``) or one of its cases; :meth:`save` writes it."""
        title = str(title).strip()
        if not title:
            raise FlannotError("a title cannot be empty", self.file)
        if case_id is None:
            self.data["name"] = title
        else:
            self.entry(case_id)["title"] = title

    # ------------------------------------------------------------------ saving
    def save(self, force: bool = False) -> Path:
        """Write ``flannot-set.json`` atomically.

        Refuses (``FlannotError``) when the file changed on disk since it was read,
        unless ``force``.
        """
        file = self.file
        if not force and file.exists():
            current = _digest(file.read_bytes())
            if self._disk_digest is None or current != self._disk_digest:
                raise FlannotError(
                    "changed on disk since the set was opened; reopen it (or save with force)",
                    file,
                )
        self.data["modified"] = _now()
        atomic_write_json(file, self.data)
        self._disk_digest = _digest(file.read_bytes())
        return file

    # ------------------------------------------------------------------ validation
    def validate(self) -> list[Problem]:
        """Check the set: files, case list, duplicate images, identifiers left, case files.

        Returns
        -------
        list[Problem]
            Problems with ``file`` set; empty when the set is clean.
        """
        problems: list[Problem] = []
        setf = str(self.file)

        def add(path: str, msg: str, severity: str = "error", file: str | None = None) -> None:
            problems.append(Problem(path, msg, severity, file or setf))

        for key in ("name", "protocol"):
            if not isinstance(self.data.get(key), str) or not self.data.get(key):
                add(f"$.{key}", f"missing {key}")
        protocol = self.data.get("protocol")
        if isinstance(protocol, str) and protocol:
            from flannot.protocols import available_protocols

            known = available_protocols()
            if protocol.lower() not in known:
                add("$.protocol", f"unknown protocol {protocol!r} (installed: {', '.join(known)})")
        tol = self.data.get("tolerances", {})
        if not isinstance(tol, dict) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in tol.values()
        ):
            add("$.tolerances", "tolerances must map names to numbers")

        listed: dict[str, int] = {}
        sop_seen: dict[str, str] = {}
        for i, entry in enumerate(self.data.get("cases", [])):
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
                folder = self.case_dir(cid)
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
            problems.extend(_case_file_problems(case_file))
            try:
                image = _image_path(case_file, self.root)
            except FlannotError as exc:
                add("$.image.path", exc.reason, file=str(case_file))
                continue
            if image is None or not image.exists():
                add("$.image.path", f"image of case {cid!r} is missing", file=str(case_file))
                continue
            for dcm in _image_files(image):
                problems.extend(_dicom_problems(dcm, cid, sop_seen))
        cases_dir = self.root / "cases"
        if cases_dir.is_dir():
            for child in sorted(cases_dir.iterdir()):
                if child.is_dir() and not child.name.startswith(".") and child.name not in listed:
                    add(
                        "$.cases",
                        f"case folder cases/{child.name} is not in the case list",
                        "warning",
                    )
        return problems


# ---------------------------------------------------------------------- helpers
def fresh_dir(parent: Path, prefix: str, suffix: str) -> Path:
    """Create a new, uniquely named folder in ``parent`` (mode from the umask, unlike
    :func:`tempfile.mkdtemp`'s 0700, so a renamed-into-place case reads like the rest)."""
    for _ in range(100):
        folder = parent / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise FlannotError("cannot create a temporary folder", parent)  # pragma: no cover


def _case_inputs(src: Path) -> tuple[list[Path], list[str], str]:
    """The DICOM image files one source becomes, their SOP Instance UIDs, the image path.

    A file must be a DICOM image (``image.dcm``). A folder is a series (``image/``):
    the DICOM images directly inside it (sub-folders and hidden files are not searched,
    as :func:`flannot.read_dicom` does), all of one Series Instance UID.
    """
    from flannot.deid.engine import read_dicom_file

    if not src.exists():
        raise FlannotError("no such file or folder", src)
    if src.is_file():
        ds = read_dicom_file(src, stop_before_pixels=True)
        if ds is None:
            raise FlannotError("not a DICOM file (no DICM marker)", src)
        if "Rows" not in ds:
            raise FlannotError("DICOM file holds no image", src)
        return [src], [str(ds.get("SOPInstanceUID", "") or "")], "image.dcm"
    from flannot.io.series import series_headers

    # the one folder rule (io.series): images of one series, in cine order
    items = series_headers(src)
    return (
        [p for p, _ in items],
        [str(ds.get("SOPInstanceUID", "") or "") for _, ds in items],
        "image",
    )


def _image_files(image: Path) -> list[Path]:
    """A case image's DICOM files (one file, or a series folder's images in cine order);
    empty when a folder holds no readable series (validation reports it)."""
    from flannot.io.series import image_files

    try:
        return image_files(image)
    except FlannotError:
        return []


def redacted_image_bytes(path: Path, rects: Sequence[Sequence[int | None]]) -> bytes:
    """The DICOM file at ``path`` with ``rects`` blanked (Clean Pixel Data recorded)."""
    from flannot.deid.engine import dataset_bytes, record_clean_pixel_data
    from flannot.deid.pixels import redact

    ds = pydicom.dcmread(path)
    if redact(ds, rects).frames_changed:
        record_clean_pixel_data(ds)
    return dataset_bytes(ds)


def _case_report(
    case_id: str, entry: dict[str, Any], reports: list[Any], prov: dict[str, Any]
) -> dict[str, Any]:
    def total(code: str) -> int:
        return sum(int(r.actions.get(code, 0)) for r in reports)

    removed = sorted({k for r in reports for k in r.removed})
    return {
        "case_id": case_id,
        "path": entry["path"],
        "files": prov["files"],
        "deidentified": prov["deidentified"],
        "removed": total("X") - total("private"),
        "emptied": total("Z"),
        "replaced": total("D") + total("U") + total("C"),
        "private_removed": total("private"),
        "attributes": removed,
        "uid_remaps": sum(r.uid_remaps for r in reports),
        "burned_in_risk": prov["burned_in_risk"],
        "burned_in_flagged": prov["burned_in_risk"] in ("yes", "unknown")
        and "redaction" not in prov,
    }


def _image_record(image: Path, rel: str, src: Path) -> dict[str, Any]:
    """The case file's ``image`` record, from :func:`flannot.read_dicom`.

    Raises
    ------
    FlannotError
        Naming ``src`` (the input) when flannot cannot read the copied image.
    """
    try:
        from flannot.io.reader import read_dicom

        img = read_dicom(image)
        spacing = img.spacing_mm
        return {
            "path": rel,
            "sop_instance_uid": img.sop_instance_uid,
            "frames": int(img.n_frames),
            "spacing_mm": None if spacing is None else [float(spacing[0]), float(spacing[1])],
            "calibration": img.calibration if spacing is not None else "uncalibrated",
            "rows": int(img.rows),
            "columns": int(img.cols),
            "view": getattr(img, "view", "unknown") or "unknown",
        }
    except ImportError:  # pragma: no cover - flannot.io being written concurrently
        pass
    except FlannotError as exc:
        # a case nobody can open is no teaching case: refuse it (the add is taken back)
        raise FlannotError(f"flannot cannot read this image: {exc.reason}", src) from None
    files = _image_files(image)
    first = files[0]
    ds = pydicom.dcmread(first, stop_before_pixels=True)
    spacing = ds.get("PixelSpacing")
    return {
        "path": rel,
        "sop_instance_uid": str(ds.get("SOPInstanceUID", "")) or None,
        "frames": int(ds.get("NumberOfFrames", 1) or 1) if image.is_file() else len(files),
        "spacing_mm": None if not spacing else [float(spacing[0]), float(spacing[1])],
        "calibration": "pixel_spacing" if spacing else "uncalibrated",
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "view": "unknown",
    }


def _write_case_file(folder: Path, case_id: str, protocol: str, image: dict[str, Any]) -> None:
    """A fresh, empty reference case (the model's Case when importable)."""
    try:
        from flannot.model.case import Case, ImageRef

        case = Case(
            case_id=case_id,
            image=ImageRef(
                path=image["path"],
                sop_instance_uid=image.get("sop_instance_uid"),
                frames=int(image.get("frames") or 1),
                spacing_mm=None if image.get("spacing_mm") is None else tuple(image["spacing_mm"]),
                calibration=image.get("calibration") or "uncalibrated",
                rows=image.get("rows"),
                columns=image.get("columns"),
            ),
            protocol=protocol,
        )
        case.save(folder / CASE_FILE)
    except ImportError:  # pragma: no cover - model being written concurrently
        now = _now()
        atomic_write_json(
            folder / CASE_FILE,
            {
                "flannot_version": 1,
                "case_id": case_id,
                "protocol": protocol,
                "image": image,
                "annotations": [],
                "notes": "",
                "created": now,
                "modified": now,
            },
        )


def _case_file_problems(case_file: Path) -> list[Problem]:
    try:
        from flannot.model.validate import validate_case_file
    except ImportError:  # pragma: no cover
        return []
    try:
        return list(validate_case_file(case_file))
    except FlannotError as exc:
        return [Problem("$", exc.reason, "error", str(case_file))]


def _image_path(case_file: Path, root: Path) -> Path | None:
    """The image a case file names; ``None`` when unreadable.

    Raises
    ------
    FlannotError
        When the path leaves the set folder ``root`` (a shared set must not make
        flannot read, or redact in place, files elsewhere on the disk).
    """
    try:
        data = json.loads(case_file.read_text(encoding="utf-8-sig"))
        rel = Path(str(data["image"]["path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    image = case_file.parent / rel
    base = root.resolve()
    if rel.is_absolute() or base not in image.resolve().parents:
        raise FlannotError(f"image path {str(rel)!r} leaves the set folder", case_file)
    return image


# identifiers the Basic Profile empties or removes: a pseudonym may stand in for the
# first kind, nothing for the second
_PSEUDONYM_ALLOWED = (("PatientName", "(0010,0010)"), ("PatientID", "(0010,0020)"))
_NEVER_LEFT = (
    ("PatientBirthDate", "(0010,0030)"),
    ("PatientAddress", "(0010,1040)"),
    ("PatientTelephoneNumbers", "(0010,2154)"),
    ("OtherPatientIDsSequence", "(0010,1002)"),
    ("OtherPatientNames", "(0010,1001)"),
    ("AccessionNumber", "(0008,0050)"),
    ("ReferringPhysicianName", "(0008,0090)"),
)


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (list, tuple)) or type(value).__name__ in ("Sequence", "MultiValue"):
        return len(value) == 0
    return not str(value).strip()


def _dicom_problems(path: Path, case_id: str, sop_seen: dict[str, str]) -> list[Problem]:
    out: list[Problem] = []
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:
        return [Problem("$", f"unreadable DICOM: {type(exc).__name__}", "error", str(path))]
    sop = str(ds.get("SOPInstanceUID", ""))
    if sop:
        if sop in sop_seen and sop_seen[sop] != case_id:
            out.append(
                Problem(
                    "(0008,0018)",
                    f"same SOP Instance UID as case {sop_seen[sop]!r}",
                    "error",
                    str(path),
                )
            )
        sop_seen.setdefault(sop, case_id)
    removed = str(ds.get("PatientIdentityRemoved", "")).upper() == "YES"
    if not removed:
        out.append(
            Problem(
                "(0012,0062)",
                "Patient Identity Removed is not YES: identifiers may be left "
                "(add the image with de-identification)",
                "error",
                str(path),
            )
        )
    for kw, tag in _PSEUDONYM_ALLOWED:
        if str(ds.get(kw, "") or "").strip():
            # after de-identification a name or ID can only be a pseudonym (PS3.15 allows one)
            name = dictionary_description(kw)
            out.append(
                Problem(
                    tag,
                    f"{name} is not empty" + ("; check it is a pseudonym" if removed else ""),
                    "warning" if removed else "error",
                    str(path),
                )
            )
    for kw, tag in _NEVER_LEFT:
        if kw in ds and not _empty(ds[kw].value):
            name = dictionary_description(kw)
            out.append(Problem(tag, f"identifier left: {name} is not empty", "error", str(path)))
    private = 0

    def count(_ds: Any, elem: Any) -> None:
        nonlocal private
        if elem.tag.is_private:
            private += 1

    ds.walk(count)
    if private:
        out.append(
            Problem("private", f"{private} private attribute(s) present", "error", str(path))
        )
    return out
