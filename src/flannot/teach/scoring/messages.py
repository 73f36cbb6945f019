"""Feedback sentences written for the trainee.

Level words: the spine is counted from the top, so a label *above* the right
one in the L1 → S1 order (L3 for L4) is a level counted too **high** — too
cranial — and a label below it (L5 for L4) one counted too **low** — too caudal.
"""

from __future__ import annotations

from collections.abc import Sequence

from flannot.model.levels import VERTEBRA_LEVELS

_NUMBER = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
#: small numbers in words, for feedback sentences
NUMBER_WORDS = _NUMBER


def vertebra_sequence(levels: Sequence[str | None]) -> tuple[str, ...]:
    """Vertebra order used to count level offsets.

    The transitional ``L6`` only counts as a level when one of ``levels`` uses
    it; otherwise ``L5`` is followed directly by ``S1`` (labelling S1 as L5 is
    one level off, not two).
    """
    if "L6" in levels:
        return VERTEBRA_LEVELS
    return tuple(v for v in VERTEBRA_LEVELS if v != "L6")


def level_offset(reference: str, attempt: str, sequence: Sequence[str]) -> int | None:
    """Attempt level minus reference level in ``sequence`` (−1 = one level too cranial)."""
    if reference not in sequence or attempt not in sequence:
        return None
    return sequence.index(attempt) - sequence.index(reference)


def _levels(n: int) -> str:
    word = _NUMBER.get(n, str(n))
    return f"{word} level" if n == 1 else f"{word} levels"


def level_message(reference: str, attempt: str | None, offset: int | None) -> str:
    """``"L4 labelled as L3: you counted one level too high (too cranial)"`` and friends."""
    if attempt is None:
        return (
            f"the {reference} vertebra was marked but not labelled: give every vertebra its level"
        )
    if offset is None:
        return f"{reference} labelled as {attempt!r}, which is not a vertebral level"
    if offset == 0:
        return f"{reference} labelled correctly"
    if offset < 0:
        return (
            f"{reference} labelled as {attempt}: you counted {_levels(-offset)} too high "
            f"(too cranial) — recount from the sacrum or the last rib-bearing vertebra"
        )
    return (
        f"{reference} labelled as {attempt}: you counted {_levels(offset)} too low "
        f"(too caudal) — recount from the sacrum or the last rib-bearing vertebra"
    )


def describe(type_: str, level: str | None, side: str | None, part: str | None = None) -> str:
    """``"left ligamentum flavum at L4-L5"``: an annotation named for a sentence.

    ``part`` tells two of one type, level and side apart ("left superior articular
    process at L4").
    """
    words = [w for w in (side, part) if w]
    words.append(type_.replace("_", " "))
    text = " ".join(words)
    return f"{text} at {level}" if level else text


def fmt(value: float, unit: str) -> str:
    """A value with its unit for a sentence (``2.3 mm``, ``12°``)."""
    if unit == "deg":
        return f"{value:.1f}°"
    return f"{value:.2f} {unit}".rstrip()
