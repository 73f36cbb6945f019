"""Tolerant look-ups in a DICOM header, including Enhanced multi-frame functional groups.

Enhanced XA/XRF objects keep Pixel Spacing, Imager Pixel Spacing, positioner
angles and windows inside the Shared (5200,9229) or Per-frame (5200,9230)
Functional Groups; :func:`find` looks at the top level first, then in the shared
groups, then in the first frame's groups. Malformed values read as ``None``
rather than raising: a broken optional attribute must not stop the image opening.
"""

from __future__ import annotations

import functools
import math
import struct
import warnings
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset


@functools.lru_cache(maxsize=512)
def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(f"not a DICOM keyword: {keyword}")
    return int(tag)


_TEXT_VRS = {"CS", "DS", "IS", "UI"}
_U16_LE, _U16_BE = struct.Struct("<H"), struct.Struct(">H")
#: what :func:`fast_value` returns for a value it leaves to pydicom
MISSING = object()


def is_empty(value: Any) -> bool:
    """Absent, malformed (``None``) or empty: the reader treats all three as absent."""
    return value is None or value == "" or value == []


def fast_value(raw: RawDataElement) -> Any:
    """Decode the few simple VRs the reader asks about without pydicom's converters.

    Opening a file asks ~30 questions; pydicom's general conversion costs more
    than parsing the header. Anything unusual returns ``MISSING`` (the caller
    then uses pydicom).
    """
    if raw.value is None:
        return MISSING
    return decode_simple(raw.VR or dictionary_VR(raw.tag), raw.value, raw.is_little_endian)


def decode_simple(vr: str, data: bytes, little_endian: bool = True) -> Any:
    """A US, CS, DS, IS or UI value from its bytes (``None`` if malformed, else ``MISSING``)."""
    if vr == "US" and len(data) == 2:  # the usual single value
        return (_U16_LE if little_endian else _U16_BE).unpack(data)[0]
    if vr == "US" and len(data) % 2 == 0 and data:
        shorts = struct.unpack(("<" if little_endian else ">") + f"{len(data) // 2}H", data)
        return shorts[0] if len(shorts) == 1 else list(shorts)
    if vr in _TEXT_VRS:
        try:
            parts = [p.strip(" \0") for p in data.decode("ascii").split("\\")]
            values: Any
            if vr == "DS":
                values = [float(p) for p in parts]
            elif vr == "IS":
                values = [int(float(p)) for p in parts]
            else:
                values = parts
        except (UnicodeDecodeError, ValueError):
            return None  # malformed counts as absent
        return values[0] if len(values) == 1 else values
    return MISSING


def _get(ds: Dataset, keyword: str) -> Any:
    tag = _tag(keyword)
    if tag not in ds.keys():  # a dict lookup: cheaper than `keyword in ds`
        return None
    raw = ds.get_item(tag)
    if isinstance(raw, RawDataElement):
        value = fast_value(raw)
        if value is not MISSING:
            return None if is_empty(value) else value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ds[tag].value
    except Exception:  # malformed value (e.g. DS "abc")
        return None
    if value is None or value == "" or (hasattr(value, "__len__") and len(value) == 0):
        return None
    return value


def _group_items(ds: Dataset) -> list[Dataset]:
    """Items of the shared groups, then of the first frame's groups (nested one level)."""
    items: list[Dataset] = []
    for seq_kw in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        seq = _get(ds, seq_kw)
        if not seq:
            continue
        group = seq[0]
        for elem in group:
            if elem.VR == "SQ" and elem.value:
                items.extend(elem.value)
    return items


def find(ds: Dataset, keyword: str) -> Any:
    """Value of ``keyword`` at the top level or in the functional groups; ``None`` if absent.

    Results are memoised on the dataset (pydicom's element access is slow and
    opening a file asks ~30 questions); the reader never modifies a header.
    """
    memo = ds.__dict__.setdefault("_flannot_find", {})
    if keyword in memo:
        return memo[keyword]
    value = _get(ds, keyword)
    if value is None:
        for item in _group_items(ds):
            value = _get(item, keyword)
            if value is not None:
                break
    memo[keyword] = value
    return value


def find_item_with(ds: Dataset, keyword: str) -> Dataset | None:
    """The dataset (top level or a functional group item) that holds ``keyword``."""
    if _get(ds, keyword) is not None:
        return ds
    for item in _group_items(ds):
        if _get(item, keyword) is not None:
            return item
    return None


def as_floats(value: Any) -> list[float] | None:
    """All values as finite floats, or ``None`` when any is missing or malformed."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        values = [value]
    else:
        values = list(value)
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return None
    if not out or not all(math.isfinite(v) for v in out):
        return None
    return out


def positive_float(ds: Dataset, keyword: str) -> float | None:
    """A single finite value > 0, else ``None`` (zero/negative/malformed count as absent)."""
    values = as_floats(find(ds, keyword))
    if values is None or len(values) != 1 or values[0] <= 0:
        return None
    return values[0]


def positive_pair(ds: Dataset, keyword: str) -> tuple[float, float] | None:
    """Two finite values > 0 (a spacing), else ``None``."""
    values = as_floats(find(ds, keyword))
    if values is None or len(values) != 2 or min(values) <= 0:
        return None
    return (values[0], values[1])


def text(ds: Dataset, keyword: str) -> str:
    """A string attribute, stripped and upper-cased; ``""`` when absent."""
    return text_of(find(ds, keyword))


def text_of(value: Any) -> str:
    """A value as :func:`text` reports it (multiple values joined with a backslash)."""
    if value is None:
        return ""
    if not isinstance(value, str) and hasattr(value, "__iter__"):
        value = "\\".join(str(v) for v in value)
    return str(value).strip().upper()
