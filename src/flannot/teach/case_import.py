"""Adding cases to a teaching set: DICOM files or series folders, de-identified on the way
in (SPEC §5, §7), all or nothing.

Every input is checked before anything is written; each case is built in a temporary
folder and renamed into place; a failure takes back the cases this call added.
"""

from __future__ import annotations

import os
import secrets
import shutil
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydicom

from flannot.errors import FlannotError
from flannot.teach.set_format import CASE_FILE, CASE_ID, now_utc
from flannot.teach.set_validation import image_path as _image_path

if TYPE_CHECKING:  # pragma: no cover
    from flannot.teach.set_format import TeachingSet

_SOP = "SOPInstanceUID"


def _next_case_id(ts: TeachingSet, taken: set[str]) -> str:
    n = 1
    while True:
        cid = f"case-{n:03d}"
        if cid not in taken and not (ts.root / "cases" / cid).exists():
            return cid
        n += 1


def add_dicom(
    ts: TeachingSet,
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
    taken = set(ts.case_ids)
    # check every input before writing anything: a bad third file must not leave
    # two new cases behind
    plans: list[tuple[str, list[Path], str]] = []
    sop_index: dict[str, str] | None = None  # SOP Instance UID -> case id, when needed
    for src in sources:
        cid = case_id or _next_case_id(ts, taken)
        if not CASE_ID.match(cid):
            raise FlannotError(f"bad case id {cid!r} (letters, digits, '.', '_', '-'; up to 64)")
        if cid in taken or (ts.root / "cases" / cid).exists():
            raise FlannotError(f"case {cid!r} already exists in the set", ts.root)
        if redactions and src.is_dir():
            raise FlannotError("redactions apply to single-file cases", src)
        files, sops, image_rel = _case_inputs(src)
        if sop_index is None:
            sop_index = _sop_index(ts)
        for sop in sops:
            # the UID this image will have in the set (remapping is deterministic)
            new = ts.uid_map(sop) if deidentify and "uids" not in opts else sop
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
                _add_one(ts, files, image_rel, cid, deidentify, opts, title or cid, redactions)
            )
            added.append(cid)
        if save:
            ts.save()
    except BaseException:
        # all or nothing: take back the cases this call already moved into place
        _take_back(ts, added)
        raise
    return results


def _sop_index(ts: TeachingSet) -> dict[str, str]:
    """SOP Instance UID of every image in the set's listed cases -> case id."""
    index: dict[str, str] = {}
    for cid in ts.case_ids:
        try:
            image = _image_path(ts.case_dir(cid) / CASE_FILE, ts.root)
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


def _take_back(ts: TeachingSet, case_ids: list[str]) -> None:
    """Remove cases this object has just added (folders and entries), after a failure."""
    for cid in case_ids:
        shutil.rmtree(ts.root / "cases" / cid, ignore_errors=True)
    ts.data["cases"] = [
        c for c in ts.data["cases"] if not (isinstance(c, dict) and c.get("case_id") in case_ids)
    ]


def _add_one(
    ts: TeachingSet,
    files: list[Path],
    image_rel: str,
    case_id: str,
    deidentify: bool,
    opts: frozenset[str],
    title: str,
    redactions: Sequence[Sequence[int | None]] | None,
) -> dict[str, Any]:
    from flannot.deid.engine import deidentify_file

    cases = ts.root / "cases"
    if cases.is_symlink():  # writing through it would put the case outside the set
        raise FlannotError("cases/ is a symlink; a set's cases stay inside the set", cases)
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
                    deidentify_file(s, d, options=opts, uid_map=ts.uid_map, redactions=redactions)
                )
            else:
                shutil.copyfile(s, d)
        provenance = _provenance(ts, targets, reports, deidentify, opts)
        source = files[0] if image_rel == "image.dcm" else files[0].parent
        image_info = _image_record(tmp / image_rel, image_rel, source)
        view = image_info.pop("view", "unknown")
        _write_case_file(tmp, case_id, ts.protocol, image_info)
        final = cases / case_id
        if final.exists():  # another process took the id meanwhile
            raise FlannotError(f"case {case_id!r} already exists in the set", ts.root)
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
    ts.data["cases"].append(entry)
    return _case_report(case_id, entry, reports, provenance)


def _provenance(
    ts: TeachingSet,
    targets: list[tuple[Path, Path]],
    reports: list[Any],
    deidentify: bool,
    opts: frozenset[str],
) -> dict[str, Any]:
    from flannot import __version__
    from flannot.deid.burned_in import burned_in_risk
    from flannot.deid.engine import read_dicom_file

    risks = []
    for s, _ in targets:  # the input's risk, read before anything was changed
        try:  # the guarded reader (bounded inflation and items), its values quietly
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = read_dicom_file(s, stop_before_pixels=True)
                risks.append("unknown" if ds is None else burned_in_risk(ds))
        except Exception:
            risks.append("unknown")
    order = {"yes": 2, "unknown": 1, "no": 0}
    risk = max(risks, key=lambda r: order.get(r, 1)) if risks else "unknown"
    prov: dict[str, Any] = {
        "added": now_utc(),
        "flannot_version": __version__,
        "deidentified": deidentify,
        "files": len(targets),
        # keyed hash: the name may hold identifiers, and a plain hash can be guessed
        "source_name_hmac": [ts.uid_map.keyed_hash(s.name) for s, _ in targets][:1000],
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
        with warnings.catch_warnings():  # a malformed UI: de-identification reports it
            warnings.simplefilter("ignore")
            sop = str(ds.get("SOPInstanceUID", "") or "")
        return [src], [sop], "image.dcm"
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
    from flannot.io.reader import read_dicom

    try:  # the image's facts are read lazily: each may refuse the header
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
    except FlannotError as exc:
        # a case nobody can open is no teaching case: refuse it (the add is taken back),
        # naming the input, not the staging copy that is gone by the time it is printed
        raise FlannotError(f"flannot cannot read this image: {exc.reason}", src) from None


def _write_case_file(folder: Path, case_id: str, protocol: str, image: dict[str, Any]) -> None:
    """A fresh, empty reference case."""
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
