"""The data a protocol declares: annotation types, their attributes and allowed values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AnnotationType:
    """One kind of structure a trainee annotates.

    Attributes
    ----------
    name
        Type name used in case files, e.g. ``"ligamentum_flavum"``.
    title
        Human label for docks and reports.
    geometries
        Allowed geometry kinds, first one is what the napari tool draws.
    attributes
        Attribute names this type carries besides the common ones.
    level_kind
        ``"vertebra"`` (``L4``), ``"interspace"`` (``L4-L5``) or ``None``.
    color
        Display colour (hex) for layers and renderings.
    teaches
        One sentence on why a trainee annotates it.
    """

    name: str
    title: str
    geometries: tuple[str, ...]
    attributes: tuple[str, ...] = ()
    level_kind: str | None = None
    color: str = "#ffff00"
    teaches: str = ""


@dataclass(frozen=True)
class Protocol:
    """A procedure protocol (MILD is the built-in one)."""

    name: str
    title: str
    types: tuple[AnnotationType, ...]
    vertebra_levels: tuple[str, ...]
    sides: tuple[str, ...] = ("left", "right")
    instruments: tuple[str, ...] = ()
    tolerances: dict[str, float] = field(default_factory=dict)
    description: str = ""

    def type(self, name: str) -> AnnotationType:
        """The annotation type called ``name``; ``KeyError`` when unknown."""
        for t in self.types:
            if t.name == name:
                return t
        raise KeyError(name)

    @property
    def type_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.types)

    @property
    def interspace_levels(self) -> tuple[str, ...]:
        """Interspaces between neighbouring levels, cranial first.

        Most spines have five lumbar vertebrae, so ``L5-S1`` is listed (before the
        transitional ``L5-L6``/``L6-S1`` of a sixth lumbar vertebra).
        """
        lv = self.vertebra_levels
        pairs = [f"{a}-{b}" for a, b in zip(lv[:-1], lv[1:], strict=True)]
        if {"L4", "L5", "S1"} <= set(lv) and "L5-S1" not in pairs:
            pairs.insert(pairs.index("L4-L5") + 1, "L5-S1")
        return tuple(pairs)
