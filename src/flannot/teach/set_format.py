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

This module is the set format: the manifest, its fields, opening, creating and saving.
Adding cases is :mod:`flannot.teach.case_import`, redaction :mod:`flannot.teach.redaction`,
checking a set :mod:`flannot.teach.set_validation`, the DICOM identifier checks
:mod:`flannot.deid.dicom_checks`; :class:`TeachingSet` delegates to them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flannot.atomic import atomic_write_json, atomic_write_text
from flannot.errors import FlannotError
from flannot.model.validate import Problem

SET_FILE = "flannot-set.json"
SECRET_FILE = ".flannot-secret"
SET_VERSION = 1
CASE_FILE = "annotations.json"
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def now_utc() -> str:
    """The time now as ISO 8601 UTC with a ``Z`` (the set's timestamps)."""
    return (
        _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def digest(data: bytes) -> str:
    """SHA-256 of the manifest's bytes (the save-conflict check)."""
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
        now = now_utc()
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
        atomic_write_text(root / ".gitignore", f"{SECRET_FILE}\n.*.tmp\n.*.lock\n")
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
        from flannot.versioned_json import read_versioned

        data, raw = read_versioned(
            file, "flannot_set_version", SET_VERSION, f"not a teaching set (no {SET_FILE})", root
        )
        if not isinstance(data.get("cases", []), list):
            raise FlannotError("'cases' must be a list", file)
        data.setdefault("cases", [])
        return cls(root, data, digest(raw))

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
    def next_case_id(self, taken: set[str] | None = None) -> str:
        """The first free ``case-NNN`` id (not in the list, ``taken`` or on disk)."""
        from flannot.teach.case_import import _next_case_id

        return _next_case_id(self, set(self.case_ids) | set(taken or ()))

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
        """Copy DICOM files or series folders into the set, one case each
        (:func:`flannot.teach.case_import.add_dicom` has the details)."""
        from flannot.teach.case_import import add_dicom

        return add_dicom(
            self,
            paths,
            deidentify,
            case_id=case_id,
            options=options,
            title=title,
            redactions=redactions,
            save=save,
        )

    # ------------------------------------------------------------------ redaction
    def case_redactions(self, case_id: str) -> list[tuple[None, int, int, int, int]]:
        """Pixel rectangles of the case's redaction annotations, for every frame."""
        from flannot.teach.redaction import case_redactions

        return case_redactions(self, case_id)

    def redacted_files(self) -> dict[Path, list[tuple[None, int, int, int, int]]]:
        """Every case DICOM file that has redactions to apply, with its rectangles."""
        from flannot.teach.redaction import redacted_files

        return redacted_files(self)

    def apply_redactions(self) -> list[Path]:
        """Blank the redaction rectangles in the set's own images (atomic rewrites)."""
        from flannot.teach.redaction import apply_redactions

        return apply_redactions(self)

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
            current = digest(file.read_bytes())
            if self._disk_digest is None or current != self._disk_digest:
                raise FlannotError(
                    "changed on disk since the set was opened; reopen it (or save with force)",
                    file,
                )
        self.data["modified"] = now_utc()
        atomic_write_json(file, self.data)
        self._disk_digest = digest(file.read_bytes())
        return file

    # ------------------------------------------------------------------ validation
    def validate(self) -> list[Problem]:
        """Check the set (:func:`flannot.teach.set_validation.validate_set`)."""
        from flannot.teach.set_validation import validate_set

        return validate_set(self)
