"""A folder of single-frame files of one series, opened as one cine.

Decision (SPEC §2 leaves it open): a folder whose images belong to more than one
series is **refused** with a FlannotError that lists the series, rather than one
being picked silently — a teaching case must never mix images (or pixel
spacings) without the user knowing. Files that are not DICOM, or DICOM without
an image (DICOMDIR, reports), are skipped. Only the folder itself is searched,
not sub-folders. Frames are ordered by Instance Number, then Acquisition (or
Content) Date/Time, then file name; a multi-frame file in the series contributes
all its frames in place.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset

from flannot.errors import FlannotError
from flannot.io import header as hdr
from flannot.io.calibration import Calibration
from flannot.io.deflate import is_deflated, read_deflated
from flannot.io.image import FluoroImage
from flannot.io.reader import open_file
from flannot.io.view import view_from_header


def _quick_header(path: Path) -> Dataset | None:
    """The header of an image file, or ``None`` for anything else (skipped)."""
    try:
        if path.stat().st_size == 0:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open(path, "rb") as fh:
                if is_deflated(fh):  # pydicom would inflate it whole
                    ds = read_deflated(fh, path).dataset
                else:
                    ds = pydicom.dcmread(fh, stop_before_pixels=True, force=False, defer_size=1024)
    except Exception:  # not DICOM or unreadable: not part of the series
        return None
    return ds if "Rows" in ds or "SharedFunctionalGroupsSequence" in ds else None


def _overflows(raw: object) -> bool:
    try:
        values: list[Any] = raw if isinstance(raw, list) else [raw]
        return not all(math.isfinite(float(v)) for v in values)
    except (TypeError, ValueError):
        return False


def _sort_key(item: tuple[Path, Dataset]) -> tuple[float, str, str]:
    path, ds = item
    raw = hdr.find(ds, "InstanceNumber")
    number = hdr.as_floats(raw)
    if raw is not None and (number is None or not all(-(2**31) <= n < 2**31 for n in number)):
        if number is not None or _overflows(raw):  # IS holds a signed 32-bit integer (PS3.5 6.2)
            raise FlannotError(f"Instance Number {raw} is outside the IS range", path)
    when = ""
    pairs = (("AcquisitionDate", "AcquisitionTime"), ("ContentDate", "ContentTime"))
    for date_kw, time_kw in pairs:
        t = hdr.text(ds, time_kw)
        if t:
            when = hdr.text(ds, date_kw) + t
            break
    if not when:
        when = hdr.text(ds, "AcquisitionDateTime")
    return (number[0] if number and len(number) == 1 else float("inf"), when, path.name)


def series_headers(folder: Path) -> list[tuple[Path, Dataset]]:
    """The images directly inside ``folder``, in cine order: the one folder-scanning rule.

    Files that are not DICOM images are skipped; the rest must be one series and are
    ordered by Instance Number, then acquisition/content time, then file name (SPEC §2).
    Returns ``(path, header)`` pairs (headers read without pixels).

    Raises
    ------
    FlannotError
        No image in the folder, or images of more than one series.
    """
    folder = Path(folder)
    files = sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and not p.is_symlink() and p.is_file()
    )
    found = [(p, ds) for p in files if (ds := _quick_header(p)) is not None]
    if not found:
        raise FlannotError("no DICOM images in this folder (sub-folders are not searched)", folder)
    series: dict[str, list[tuple[Path, Dataset]]] = {}
    for p, ds in found:
        series.setdefault(str(ds.get("SeriesInstanceUID", "") or ""), []).append((p, ds))
    if len(series) > 1:
        first, second = (v[0][0].name for v in list(series.values())[:2])
        raise FlannotError(
            f"folder mixes {len(series)} series (e.g. {first} and {second});"
            " open one file or split the folder by series",
            folder,
        )
    return sorted(found, key=_sort_key)


def image_files(path: Path) -> list[Path]:
    """The DICOM files an image path stands for: the file itself, or a series folder's
    images in cine order (:func:`series_headers`)."""
    path = Path(path)
    if path.is_dir():
        return [p for p, _ in series_headers(path)]
    return [path]


def read_series(folder: Path) -> FluoroImage:
    """Open the DICOM images directly inside ``folder`` as one cine (see module notes)."""
    ordered = series_headers(folder)
    parts = [open_file(p) for p, _ in ordered]
    shapes = {p.source.frame_shape for p in parts}
    if len(shapes) > 1:
        raise FlannotError(
            f"files of the series differ in image size ({', '.join(map(str, sorted(shapes)))})",
            folder,
        )
    cals = [Calibration.from_header(p.header) for p in parts]
    cal = cals[0]
    if any((c.kind, c.spacing_mm) != (cal.kind, cal.spacing_mm) for c in cals[1:]):
        # correct millimetres or none: a series whose files disagree gets none
        why = "the files of this series disagree on pixel spacing"
        cal = Calibration("uncalibrated", None, why)
    view, why = view_from_header(parts[0].header)
    return FluoroImage(folder, parts, cal, view, why)
