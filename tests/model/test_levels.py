"""Level names: forgiving input, one canonical spelling (SPEC §3)."""

from __future__ import annotations

import pytest

from flannot.model.levels import (
    INTERSPACE_LEVELS,
    VERTEBRA_LEVELS,
    adjacent_vertebrae,
    interspace_of,
    is_canonical,
    level_index,
    level_kind,
    normalize_level,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("L4", "L4"),
        ("l4", "L4"),
        (" L4 ", "L4"),
        ("L04", "L4"),
        ("t12", "T12"),
        ("s1", "S1"),
        ("L6", "L6"),
        ("L4-L5", "L4-L5"),
        ("L4/L5", "L4-L5"),
        ("l4_l5", "L4-L5"),
        ("L4L5", "L4-L5"),
        ("l4-l5", "L4-L5"),
        ("L4 - L5", "L4-L5"),
        ("L4\u2013L5", "L4-L5"),  # en dash, as typed in teaching notes
        ("L4 L5", "L4-L5"),
        ("T12-L1", "T12-L1"),
        ("t12/l1", "T12-L1"),
        ("L5/S1", "L5-S1"),
        ("L5-L6", "L5-L6"),
        ("L6_S1", "L6-S1"),
        ("L4-5", "L4-L5"),  # the clinical shorthand
        ("l4/5", "L4-L5"),
        ("L5 - 6", "L5-L6"),
    ],
)
def test_normalize_level_table(raw: str, canonical: str) -> None:
    assert normalize_level(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "L9",
        "C5",
        "T11",
        "S2",
        "L3-L5",
        "L5-L4",
        "S1-L5",
        "",
        "L",
        "lumbar 4",
        "L4-",
        "4",
        "L45",  # no separator: not read as L4-5
        "L3-5",
        "L5-1",
    ],
)
def test_normalize_level_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_level(raw)


def test_normalize_level_rejects_non_strings() -> None:
    with pytest.raises(ValueError):
        normalize_level(4)  # type: ignore[arg-type]


def test_canonical_spellings_are_fixed_points() -> None:
    for level in VERTEBRA_LEVELS + INTERSPACE_LEVELS:
        assert normalize_level(level) == level
        assert is_canonical(level)
    assert not is_canonical("L4/L5") and not is_canonical("l4")


def test_kind_and_index_order_cranio_caudally() -> None:
    assert level_kind("L4") == "vertebra" and level_kind("l4/l5") == "interspace"
    assert [level_index(v) for v in VERTEBRA_LEVELS] == list(range(len(VERTEBRA_LEVELS)))
    # an interspace sorts with the vertebra above it
    assert level_index("L4") < level_index("L4-L5") + 1 <= level_index("L5")
    assert level_index("T12") < level_index("L1") < level_index("S1")


def test_adjacency_allows_l5_s1_and_transitional_l6() -> None:
    assert adjacent_vertebrae("L4", "L5")
    assert adjacent_vertebrae("L5", "S1") and adjacent_vertebrae("L5", "L6")
    assert adjacent_vertebrae("L6", "S1")
    assert not adjacent_vertebrae("L3", "L5")
    assert not adjacent_vertebrae("L5", "L4")
    assert interspace_of("l4", "L5") == "L4-L5"
    with pytest.raises(ValueError):
        interspace_of("L2", "L4")


def test_caudal_neighbours() -> None:
    from flannot.model.levels import caudal_neighbours

    assert caudal_neighbours("l4") == ("L5",)
    assert caudal_neighbours("L5") == ("L6", "S1")
    assert caudal_neighbours("S1") == ()
    assert caudal_neighbours("L4-L5") == () and caudal_neighbours(None) == ()
    assert caudal_neighbours("nonsense") == ()
