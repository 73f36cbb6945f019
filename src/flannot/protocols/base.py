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
class View:
    """A fluoroscopic view the protocol asks the trainee to obtain (SPEC §11, §15).

    Angles are anatomical intent, not DICOM signs: the virtual C-arm
    (:mod:`flannot.sim`) turns them into Positioner Primary/Secondary Angles for
    the patient's position.

    Attributes
    ----------
    name
        Preset name used on the command line, e.g. ``"ap"``, ``"clo-left"``.
    title
        Human label.
    kind
        ``"ap"``, ``"lateral"`` or ``"oblique"``.
    oblique_deg
        Rotation of the beam away from AP about the patient's long axis (0 for AP,
        90 for a lateral).
    detector_toward
        Side of the patient the image detector is turned toward (``"left"``,
        ``"right"``) for a lateral or an oblique; ``None`` for AP. A contralateral
        oblique for a left-sided approach turns the detector to the right.
    square_endplates
        The cranio-caudal angle is not fixed but chosen so that the beam runs
        parallel to the target level's endplates (a "true" AP or lateral).
    tolerance_deg
        Largest angle error that still counts as the view.
    purpose
        One sentence on what the view shows, for feedback and notes.
    """

    name: str
    title: str
    kind: str
    oblique_deg: float = 0.0
    detector_toward: str | None = None
    square_endplates: bool = True
    tolerance_deg: float = 5.0
    purpose: str = ""


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
    views: tuple[View, ...] = ()

    def view(self, name: str) -> View:
        """The view called ``name``; ``KeyError`` when the protocol has none."""
        for v in self.views:
            if v.name == name:
                return v
        raise KeyError(name)

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
