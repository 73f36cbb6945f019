"""Teaching sets as zip files: export, and an import that never writes outside its target.

Import checks every entry before extracting anything and again while extracting:

* names: no absolute paths, drive letters, backslashes, ``..`` components, NUL
  characters or duplicates;
* types: regular files and folders only (a symlink entry, ``S_IFLNK`` in the
  external attributes, or a device/FIFO is refused);
* size: at most ``max_entries`` entries and ``max_total_bytes`` uncompressed in total
  (declared sizes), no entry whose declared size is more than ``max_ratio`` times its
  compressed size (zip bomb), and while extracting the bytes really written are
  counted so a lying header aborts the import as soon as it shows;
* a ``.flannot-secret`` at the top is not extracted (the importer's set makes its own);
* a set zipped together with its folder (``my-set/flannot-set.json``) is unpacked from
  inside that folder;
* files go to a temporary folder next to the target and are renamed into place only
  when everything succeeded, so a set folder is never half-written.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from flannot.atomic import atomic_write
from flannot.errors import FlannotError
from flannot.safe_files import open_regular, walk_files
from flannot.teach.teaching_set import SECRET_FILE, SET_FILE, TeachingSet, fresh_dir

MAX_ENTRIES = 20_000
MAX_TOTAL_BYTES = 8 * 1024**3  # 8 GiB
MAX_RATIO = 100.0
MAX_DEPTH = 32  # folders in an entry's path (a set needs 4: cases/ID/series/file)
_RATIO_FLOOR = 1 << 20  # small files (JSON) may compress better than MAX_RATIO
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


def export_set(
    folder: str | os.PathLike[str],
    zip_path: str | os.PathLike[str],
    *,
    allow_identified: bool = False,
) -> Path:
    """Write the teaching set in ``folder`` to ``zip_path`` (atomically).

    The set's secret (``.flannot-secret``), hidden temporary files and symlinks are
    left out; entries are stored relative to the set folder. Case images with
    ``redaction`` annotations go into the zip with those rectangles blanked (see
    :meth:`TeachingSet.redacted_files`); the set's own copies are not changed.

    Raises
    ------
    FlannotError
        When a DICOM file in the set does not say Patient Identity Removed = YES (a
        case added with ``--no-deidentify``), unless ``allow_identified``.
    """
    ts = TeachingSet.open(folder)
    root = ts.root.resolve()
    target = Path(zip_path)
    if root == target.resolve().parent or root in target.resolve().parents:
        raise FlannotError("the zip must be written outside the set folder", target)
    files = []
    for p in walk_files(root):  # regular files, no symlink followed, any depth
        rel = p.relative_to(root)
        if rel.name == SECRET_FILE or any(part.startswith(".") for part in rel.parts):
            continue
        if rel.name.endswith(".recovery"):  # napari autosave (flannot.model.recovery): unsaved
            continue
        if not allow_identified and _identified_dicom(p):
            raise FlannotError(
                "Patient Identity Removed is not YES: refusing to share an image that was "
                "not de-identified (add it again without --no-deidentify)",
                p,
            )
        files.append((p, rel.as_posix()))

    redacted = {p.resolve(): rects for p, rects in ts.redacted_files().items()}

    def write(fh) -> None:
        from flannot.teach.teaching_set import redacted_image_bytes

        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for p, arc in files:
                rects = redacted.get(p.resolve())
                if rects:
                    zf.writestr(arc, redacted_image_bytes(p, rects))
                else:
                    zf.write(p, arc)

    if not target.parent.exists():
        raise FlannotError("folder does not exist", target.parent)
    return atomic_write(target, write)


def _identified_dicom(path: Path) -> bool:
    """Whether ``path`` is a DICOM file that does not declare its identity removed."""
    from flannot.deid.engine import read_dicom_file

    try:
        ds = read_dicom_file(path, stop_before_pixels=True)
    except FlannotError:
        return True  # unreadable: cannot tell, so do not ship it
    if ds is None:
        return False
    return str(ds.get("PatientIdentityRemoved", "")).strip().upper() != "YES"


def _check_name(name: str) -> PurePosixPath:
    if not name or "\x00" in name:
        raise FlannotError(f"zip entry {name!r} has an empty or NUL name")
    if "\\" in name:
        raise FlannotError(f"zip entry {name!r} uses backslashes (refusing to guess a path)")
    if name.startswith("/") or _DRIVE.match(name):
        raise FlannotError(f"zip entry {name!r} is an absolute path")
    parts = PurePosixPath(name).parts
    if any(part == ".." for part in parts):
        raise FlannotError(f"zip entry {name!r} leaves the target folder ('..')")
    if len(parts) > MAX_DEPTH + 1:
        short = name if len(name) <= 80 else f"{name[:60]}…{name[-15:]}"
        raise FlannotError(
            f"zip entry {short!r} is nested {len(parts) - 1} folders deep (at most {MAX_DEPTH})"
        )
    return PurePosixPath(*[p for p in parts if p not in ("", ".")])


def _check_type(info: zipfile.ZipInfo) -> None:
    mode = (info.external_attr >> 16) & 0xFFFF
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise FlannotError(f"zip entry {info.filename!r} is a symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise FlannotError(f"zip entry {info.filename!r} is not a regular file or folder")


def import_set(
    zip_path: str | os.PathLike[str],
    folder: str | os.PathLike[str],
    *,
    max_entries: int = MAX_ENTRIES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    max_ratio: float = MAX_RATIO,
) -> TeachingSet:
    """Unpack a zipped teaching set into ``folder`` (new, or an empty folder) safely.

    Raises
    ------
    FlannotError
        One line naming the zip and the reason; nothing is left behind.
    """
    src, dest = Path(zip_path), Path(folder)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FlannotError("target exists and is not an empty folder", dest)
    fh = open_regular(src, "zip")  # a FIFO would block, /dev/zero read forever
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError) as exc:
        fh.close()
        raise FlannotError(f"not a zip file: {exc}", src) from None
    with fh, zf:
        try:
            plan = _plan(zf, max_entries, max_total_bytes, max_ratio)
        except FlannotError as exc:
            raise FlannotError(exc.reason, src) from None
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = fresh_dir(dest.parent, f".{dest.name}.", ".import")
        except FileExistsError:  # mkdir met a file where a parent folder should be
            raise FlannotError("cannot create: a parent is a file, not a folder", dest) from None
        except OSError as exc:  # a read-only or missing parent: name the target, not tmp
            raise FlannotError(f"cannot create: {exc.strerror or exc}", dest) from None
        try:
            _extract(zf, plan, tmp, max_total_bytes)
            TeachingSet.open(tmp)  # a readable set, or refuse
            if dest.exists():
                dest.rmdir()  # empty (checked above)
            os.rename(tmp, dest)
        except FlannotError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FlannotError(exc.reason, src) from None
        except (zipfile.BadZipFile, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FlannotError(
                f"corrupt zip (an entry does not match its header's size or checksum): {exc}",
                src,
            ) from None
        except NotImplementedError as exc:  # a compression method zipfile cannot read
            shutil.rmtree(tmp, ignore_errors=True)
            raise FlannotError(f"cannot unpack: {exc}", src) from None
        except OSError as exc:  # disk full, a name too long for this file system …
            shutil.rmtree(tmp, ignore_errors=True)
            where = f" {Path(exc.filename).name}" if exc.filename else ""
            raise FlannotError(f"cannot extract{where}: {exc.strerror or exc}", src) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return TeachingSet.open(dest)


def _plan(
    zf: zipfile.ZipFile, max_entries: int, max_total: int, max_ratio: float
) -> list[tuple[zipfile.ZipInfo, PurePosixPath]]:
    infos = zf.infolist()
    if len(infos) > max_entries:
        raise FlannotError(f"too many entries ({len(infos)} > {max_entries})")
    seen: set[str] = set()
    total = 0
    plan = []
    for info in infos:
        rel = _check_name(info.filename)
        _check_type(info)
        key = rel.as_posix().lower()  # also catches case-only clashes on Windows/macOS
        if key in seen:
            raise FlannotError(f"zip entry {info.filename!r} appears twice")
        seen.add(key)
        if info.flag_bits & 0x1:
            raise FlannotError(f"zip entry {info.filename!r} is encrypted")
        total += info.file_size
        if total > max_total:
            raise FlannotError(f"uncompressed size exceeds the limit of {max_total} bytes")
        if info.file_size > _RATIO_FLOOR and info.file_size > max_ratio * max(
            info.compress_size, 1
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise FlannotError(
                f"zip entry {info.filename!r} expands {ratio:.0f}"
                f"-fold (limit {max_ratio:.0f}): refusing a possible zip bomb"
            )
        plan.append((info, rel))
    packed = sum(i.compress_size for i in infos)
    if total > 64 * _RATIO_FLOOR and total > max_ratio * max(packed, 1):
        # many small entries, each under the per-entry floor, can still add up to a bomb
        raise FlannotError(
            f"the zip expands {total / max(packed, 1):.0f}-fold overall "
            f"(limit {max_ratio:.0f}): refusing a possible zip bomb"
        )
    tops = {rel.parts[0] for _, rel in plan if rel.parts}
    if (
        len(tops) == 1
        and not any(rel.as_posix() == SET_FILE for _, rel in plan)
        and any(rel.as_posix() == f"{next(iter(tops))}/{SET_FILE}" for _, rel in plan)
    ):
        # `zip -r my-set.zip my-set`: the set sits in one top folder; unpack its content
        plan = [(info, PurePosixPath(*rel.parts[1:])) for info, rel in plan]
    # a secret shipped with a set would let its author recompute the UID mapping of
    # cases added here later: the imported set makes its own on first use
    plan = [(info, rel) for info, rel in plan if rel.as_posix() != SECRET_FILE]
    if not any(rel.as_posix() == SET_FILE for _, rel in plan):
        raise FlannotError(f"not a teaching set zip (no {SET_FILE} at the top)")
    return plan


def _extract(
    zf: zipfile.ZipFile,
    plan: list[tuple[zipfile.ZipInfo, PurePosixPath]],
    tmp: Path,
    max_total: int,
) -> None:
    root = tmp.resolve()
    written = 0
    for info, rel in plan:
        target = (tmp / rel) if rel.parts else tmp
        if root != target.resolve() and root not in target.resolve().parents:
            raise FlannotError(f"zip entry {info.filename!r} leaves the target folder")
        if info.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(target, flags, 0o644)
        count = 0
        with os.fdopen(fd, "wb") as out, zf.open(info) as data:
            while True:
                chunk = data.read(_CHUNK)
                if not chunk:
                    break
                count += len(chunk)
                written += len(chunk)
                if count > info.file_size:
                    raise FlannotError(
                        f"zip entry {info.filename!r} holds more than its declared size"
                    )
                if written > max_total:
                    raise FlannotError(f"uncompressed size exceeds the limit of {max_total} bytes")
                out.write(chunk)
