"""A ceiling on the sequence items flannot lets pydicom parse from one file.

pydicom parses a sequence item in ~40 µs and writes one in ~20 µs and offers no
limit, so a 4.5 MB file holding one sequence of 500,000 empty items took 20–28 s
and 450 MB to de-identify (issue 16). Two guards, both one-line errors naming the
sequence:

- :func:`check_raw_items` counts the item tags in the still-raw bytes of every
  defined-length sequence right after ``dcmread`` (pydicom parses those lazily,
  on first access) — a string search, milliseconds for 500,000 items;
- :func:`item_budget` bounds the items parsed while it is active — pydicom parses
  an undefined-length sequence inside ``dcmread`` already — by wrapping
  ``pydicom.filereader.read_sequence_item`` (the one function every sequence
  parse of pydicom 3 goes through: ``read_sequence`` looks it up at call time).
  Outside a budget the wrapper only passes the call on.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from os import PathLike
from typing import Any, BinaryIO

from flannot.errors import FlannotError

#: most sequence items (at every depth) parsed from one file: ~3 s of pydicom at most.
#: An Enhanced XA cine of 5,000 frames holds ~45,000 items in its functional groups.
MAX_SEQUENCE_ITEMS = 50_000

_ITEM_LE, _ITEM_BE = b"\xfe\xff\x00\xe0", b"\xff\xfe\xe0\x00"  # (FFFE,E000)
_budget: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "flannot_item_budget", default=None
)


class SequenceItemLimit(FlannotError):
    """A file holds more sequence items than flannot parses."""


def _message(limit: int, found: str) -> str:
    return f"{found}: flannot parses at most {limit:,} sequence items in a file"


def _install() -> None:
    import pydicom.filereader as fr

    if getattr(fr.read_sequence_item, "_flannot_budget", False):
        return
    original = fr.read_sequence_item

    def read_sequence_item(*args: Any, **kwargs: Any) -> Any:
        left = _budget.get()
        if left is not None:
            left[0] -= 1
            if left[0] < 0:
                raise SequenceItemLimit(
                    _message(left[1], f"holds more than {left[1]:,} sequence items")
                )
        return original(*args, **kwargs)

    read_sequence_item._flannot_budget = True  # type: ignore[attr-defined]
    fr.read_sequence_item = read_sequence_item


@contextlib.contextmanager
def item_budget(path: str | PathLike[str], limit: int = MAX_SEQUENCE_ITEMS) -> Iterator[None]:
    """Let pydicom parse at most ``limit`` sequence items while the block runs.

    Raises
    ------
    FlannotError
        (:class:`SequenceItemLimit`) naming ``path`` when the budget runs out.
    """
    _install()
    token = _budget.set([limit, limit])
    try:
        yield
    except SequenceItemLimit as exc:
        raise SequenceItemLimit(exc.reason, path) from None
    finally:
        _budget.reset(token)


def _holds_items(elem: Any) -> bool:
    """A raw element that holds items: SQ, or an unknown VR of undefined length."""
    vr = elem.VR
    if vr is None or vr == "UN":
        from pydicom.datadict import dictionary_VR

        try:
            vr = dictionary_VR(elem.tag)
        except KeyError:
            vr = None
    return vr == "SQ" or (vr in (None, "UN") and elem.length == 0xFFFFFFFF)


def _count_deferred(fh: BinaryIO, elem: Any, item: bytes) -> int:
    """Item tags in a deferred (not yet read) value, read in bounded chunks."""
    chunk, n, left, tail = 8 << 20, 0, int(elem.length), b""
    fh.seek(elem.value_tell)
    while left > 0:
        data = fh.read(min(chunk, left))
        if not data:
            break
        left -= len(data)
        block = tail + data
        n += block.count(item)
        tail = block[-3:]
        n -= tail.count(item)  # counted again with the next block
    return n + tail.count(item)


def check_raw_items(
    ds: Any,
    path: str | PathLike[str],
    limit: int = MAX_SEQUENCE_ITEMS,
    fh: BinaryIO | None = None,
) -> int:
    """Refuse a just-read data set whose unparsed sequences hold over ``limit`` items.

    Counts item tags (at any depth) in the raw value of each top-level sequence
    pydicom has not parsed yet; an upper bound (an item tag inside a binary value
    of an item counts too). A value pydicom deferred (``defer_size``) is read from
    ``fh`` when it is long enough to hold more items than the budget has left.
    Returns the count.

    Raises
    ------
    FlannotError
        Naming the largest sequence, its count and the limit.
    """
    item = _ITEM_LE if getattr(ds, "is_little_endian", True) is not False else _ITEM_BE
    total, worst, worst_n = 0, None, 0
    # the stored elements as they are: ds.elements() would read deferred values
    for elem in list(getattr(ds, "_dict", {}).values()):
        if not hasattr(elem, "value_tell") or not _holds_items(elem):
            continue  # a parsed DataElement, or no sequence
        value = elem.value
        if isinstance(value, bytes | bytearray):
            n = value.count(item)
        elif value is None and fh is not None and 0 < elem.length < 0xFFFFFFFF:
            if elem.length // 8 <= limit - total:
                continue  # too short to break the budget
            n = _count_deferred(fh, elem, item)
        else:
            continue
        total += n
        if n > worst_n:
            worst, worst_n = elem.tag, n
    if total > limit and worst is not None:
        from pydicom.datadict import keyword_for_tag

        name = keyword_for_tag(worst) or "private sequence"
        found = f"{name} {worst} holds {worst_n:,} items ({total:,} in the file)"
        raise SequenceItemLimit(_message(limit, found), path)
    return total
