"""Spinal level names: vertebrae (``L4``) and interspaces (``L4-L5``), SPEC §3.

Input is forgiving (``l4``, ``L4/L5``, ``l4_l5``, ``L4L5``, ``L4 – L5``, ``L4-5``); flannot
always writes the canonical spelling (``L4``, ``L4-L5``). ``L6`` is the
transitional sixth lumbar vertebra; when it is absent the lumbosacral
interspace is ``L5-S1``.
"""

from __future__ import annotations

import re

__all__ = [
    "INTERSPACE_LEVELS",
    "VERTEBRA_LEVELS",
    "adjacent_vertebrae",
    "caudal_neighbours",
    "interspace_of",
    "is_canonical",
    "level_index",
    "level_kind",
    "normalize_level",
]

#: Vertebral levels flannot knows, cranial to caudal.
VERTEBRA_LEVELS: tuple[str, ...] = ("T12", "L1", "L2", "L3", "L4", "L5", "L6", "S1")

# next vertebra caudally; L5 may be followed by L6 (transitional) or directly by S1
_CAUDAL_NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "T12": ("L1",),
    "L1": ("L2",),
    "L2": ("L3",),
    "L3": ("L4",),
    "L4": ("L5",),
    "L5": ("L6", "S1"),
    "L6": ("S1",),
    "S1": (),
}

#: Interspace levels, cranial to caudal (``L5-S1`` for the usual five lumbar vertebrae).
INTERSPACE_LEVELS: tuple[str, ...] = (
    "T12-L1",
    "L1-L2",
    "L2-L3",
    "L3-L4",
    "L4-L5",
    "L5-L6",
    "L5-S1",
    "L6-S1",
)

# one vertebra: a region letter and a number, tolerant of spaces and a leading zero
_VERT = r"([TLS])\s*0?(\d{1,2})"
_VERTEBRA_RE = re.compile(rf"^{_VERT}$")
# two vertebrae joined by -, –, —, /, _, \, space or nothing (L4L5)
_SEP = r"[-\u2010-\u2015/_\\ ]"
_INTERSPACE_RE = re.compile(rf"^{_VERT}\s*{_SEP}?\s*{_VERT}$")
# the clinical shorthand L4-5: the lower vertebra's letter left out (a separator required)
_SHORT_INTERSPACE_RE = re.compile(rf"^{_VERT}\s*{_SEP}\s*0?(\d{{1,2}})$")


def _vertebra(letter: str, number: str, raw: str) -> str:
    name = f"{letter}{int(number)}"
    if name not in VERTEBRA_LEVELS:
        raise ValueError(f"unknown vertebral level {raw!r} (known: {', '.join(VERTEBRA_LEVELS)})")
    return name


def normalize_level(level: str) -> str:
    """The canonical spelling of a vertebra or interspace level.

    Parameters
    ----------
    level
        ``"l4"``, ``"L4"``, ``"L4/L5"``, ``"l4_l5"``, ``"L4L5"``, ``"l4-l5"``, the
        shorthand ``"L4-5"`` …

    Returns
    -------
    str
        ``"L4"`` or ``"L4-L5"``.

    Raises
    ------
    ValueError
        Not a level name flannot knows, or an interspace between vertebrae that are
        not neighbours (``"L3-L5"``).

    Examples
    --------
    >>> normalize_level("l4_l5"), normalize_level("L5/S1"), normalize_level("t12")
    ('L4-L5', 'L5-S1', 'T12')
    """
    if not isinstance(level, str):
        raise ValueError(f"a level must be a string, not {type(level).__name__}")
    text = level.strip().upper()
    m = _VERTEBRA_RE.match(text)
    if m:
        return _vertebra(m.group(1), m.group(2), level)
    m = _INTERSPACE_RE.match(text)
    short = None if m else _SHORT_INTERSPACE_RE.match(text)
    if m or short:
        if m:
            upper = _vertebra(m.group(1), m.group(2), level)
            lower = _vertebra(m.group(3), m.group(4), level)
        else:
            assert short is not None
            upper = _vertebra(short.group(1), short.group(2), level)
            lower = _vertebra(short.group(1), short.group(3), level)
        if lower not in _CAUDAL_NEIGHBOURS[upper]:
            raise ValueError(
                f"{level!r} is not an interspace: {upper} and {lower} are not neighbours"
            )
        return f"{upper}-{lower}"
    raise ValueError(f"not a spinal level: {level!r} (expected e.g. 'L4' or 'L4-L5')")


def is_canonical(level: str) -> bool:
    """Whether ``level`` is already written the way flannot writes it."""
    return level in VERTEBRA_LEVELS or level in INTERSPACE_LEVELS


def level_kind(level: str) -> str:
    """``"vertebra"`` or ``"interspace"`` for a level (any accepted spelling).

    Raises
    ------
    ValueError
        Not a level.
    """
    return "vertebra" if normalize_level(level) in VERTEBRA_LEVELS else "interspace"


def level_index(level: str) -> int:
    """Cranio-caudal position of a level: index in :data:`VERTEBRA_LEVELS`.

    An interspace gets the index of the vertebra above it, so sorting by
    ``level_index`` orders both kinds from cranial to caudal.

    Raises
    ------
    ValueError
        Not a level.
    """
    name = normalize_level(level)
    return VERTEBRA_LEVELS.index(name.split("-")[0])


def adjacent_vertebrae(upper: str, lower: str) -> bool:
    """Whether ``lower`` directly follows ``upper`` caudally (``L5`` → ``L6`` or ``S1``)."""
    return normalize_level(lower) in _CAUDAL_NEIGHBOURS[normalize_level(upper)]


def caudal_neighbours(level: str | None) -> tuple[str, ...]:
    """The vertebrae that directly follow ``level`` caudally (``L5`` → ``L6``, ``S1``).

    Empty for ``S1``, for an interspace, for ``None`` and for anything that is not a level.
    """
    try:
        return _CAUDAL_NEIGHBOURS.get(normalize_level(level), ()) if level else ()
    except ValueError:
        return ()


def interspace_of(upper: str, lower: str) -> str:
    """The interspace between two neighbouring vertebrae, e.g. ``("L4", "L5")`` → ``"L4-L5"``."""
    return normalize_level(f"{normalize_level(upper)}-{normalize_level(lower)}")
