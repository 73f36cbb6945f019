"""What a protocol declares (SPEC §3, §11): annotation types, views, rubric, tolerances.

The core reads these declarations and holds no table of type names: measurement
(:mod:`flannot.measure`), scoring (:mod:`flannot.teach`), every exporter and the
napari layers take what they need from the case's protocol. A new landmark is a
new :class:`AnnotationType`; a new measurement is a :class:`Measurement` naming a
kind registered in :mod:`flannot.measure.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flannot.enums import StrEnum


class Scoring(StrEnum):
    """How an attempt's annotation of a type is compared with the reference (SPEC §6)."""

    #: matched by position, labels checked (vertebrae: level offset, landmark error)
    LANDMARK = "landmark"
    #: a region: Dice, IoU and HD95
    REGION = "region"
    #: a thin region: boundary distance (mean surface distance, HD95) and thickness error
    #: decide; Dice is reported (Dice punishes thin bands)
    BAND = "band"
    #: a line from entry to tip: tip, entry and angle errors; safety rules
    TRAJECTORY = "trajectory"
    #: a boundary line (path): mean surface distance and HD95
    BOUNDARY = "boundary"
    #: not scored (redactions, calibration lines)
    NONE = "none"


class Role(StrEnum):
    """What the core does with a type beyond measuring and scoring it."""

    #: a vertebra: counted for levels, ordered cranio-caudally, its corners give endplates
    VERTEBRA = "vertebra"
    #: a line of known length: user calibration (SPEC §2)
    CALIBRATION = "calibration"
    #: burned-in text blanked on export; never drawn in exports
    REDACTION = "redaction"
    #: a safety boundary: every trajectory tip must stay on its entry side (SPEC §6)
    SAFETY_BOUNDARY = "safety_boundary"
    #: an instrument trajectory whose tip the safety rules check
    INSTRUMENT = "instrument"


@dataclass(frozen=True)
class Code:
    """A coded concept for DICOM SEG/SR (SNOMED CT ``SCT``, DICOM ``DCM``, or ``99FLANNOT``).

    Use standard codes (``pydicom.sr.codedict``) where one exists; the private
    ``99FLANNOT`` scheme (PS3.16 §8.2: designators beginning with ``99``) only where
    none does.
    """

    value: str
    scheme: str
    meaning: str


@dataclass(frozen=True)
class Measurement:
    """One measurement a type takes part in.

    Attributes
    ----------
    kind
        Name of a measurement function registered in
        :mod:`flannot.measure.registry` (``band``, ``tip_to_line`` …).
    name
        Row name when the kind makes one named row (``tip_to_contrast``); kinds
        that make several rows name them themselves.
    target
        Annotation type the measurement relates to (the line a tip is measured
        against, the region a tip may be in).
    of
        Row a flag or grade is computed from (``max_thickness``).
    match
        Which targets count: ``"any"`` (any level or side), ``"level"`` (same
        level; for an interspace, either of its vertebrae too), ``"level_side"``.
    planning_only
        A diagnostic criterion defined on axial CT/MR: computed only on an axial
        planning slice, never on a projection (SPEC §4).
    params
        Numbers the kind needs (thresholds), with their source in ``source``.
    source
        Where a clinical threshold comes from (cited in ``docs/measurements.md``).
    """

    kind: str
    name: str | None = None
    target: str | None = None
    of: str | None = None
    match: str = "level_side"
    planning_only: bool = False
    params: tuple[tuple[str, float], ...] = ()
    source: str = ""

    def param(self, key: str, default: float | None = None) -> float | None:
        """A parameter by name (``default`` when not given)."""
        return dict(self.params).get(key, default)


@dataclass(frozen=True)
class AnnotationType:
    """One kind of structure a trainee annotates.

    The first seven fields are positional for backwards compatibility; the
    declarations the core reads follow as keywords.

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
    values
        Allowed values of attributes that are not protocol-wide (``part``:
        ``superior``/``inferior``); ``side`` and ``instrument`` use the protocol's.
    measurements
        What :func:`flannot.measure.measure` computes for it.
    scoring
        How :func:`flannot.teach.score.score_case` compares it.
    scored_measurement
        The measurement whose error is scored (``max_thickness`` of a band).
    roles
        What else the core does with it (:class:`Role`).
    code
        Segmented property / finding code for SEG and SR.
    value_codes
        ``(attribute, value, code)`` overrides of ``code`` (an inferior articular
        process has its own SNOMED CT code).
    short
        Short name for labels (``LF``) and new annotation ids (``lf1``).
    label_anchor
        Where its label sits (napari text anchor: ``upper_left``, ``center``,
        ``lower_right`` …), so labels of overlapping structures stay apart.
    label_offset
        Sideways shift of the label from its anchor in marker sizes (negative: to
        the left), so a line's label clears the band it runs along.
    label_measure
        Measurement names shown in its label, first one present wins.
    keypoints
        COCO keypoint names, when the type is exported as keypoints.
    region_export
        Whether exports rasterise it as a filled region (SEG, masks, COCO polygons).
    """

    name: str
    title: str
    geometries: tuple[str, ...]
    attributes: tuple[str, ...] = ()
    level_kind: str | None = None
    color: str = "#ffff00"
    teaches: str = ""
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    measurements: tuple[Measurement, ...] = ()
    scoring: Scoring = Scoring.NONE
    scored_measurement: str | None = None
    roles: frozenset[Role] = frozenset()
    code: Code | None = None
    value_codes: tuple[tuple[str, str, Code], ...] = ()
    short: str = ""
    label_anchor: str = "upper_left"
    label_offset: float | None = None
    label_measure: tuple[str, ...] = ()
    keypoints: tuple[str, ...] = ()
    region_export: bool = False

    def has(self, role: Role) -> bool:
        """Whether the type plays ``role``."""
        return role in self.roles

    def code_for(self, ann: Any) -> Code | None:
        """The code of one annotation of this type (``value_codes`` first)."""
        for attribute, value, code in self.value_codes:
            if getattr(ann, attribute, None) == value or (
                getattr(ann, "extra", {}).get(attribute) == value
            ):
                return code
        return self.code

    def allowed(self, attribute: str) -> tuple[str, ...] | None:
        """Allowed values of a type-specific attribute (``None``: not declared here)."""
        return dict(self.values).get(attribute)

    @property
    def abbreviation(self) -> str:
        """``short`` or, failing that, the initials of the name (``ligamentum_flavum`` → ``lf``)."""
        return self.short or "".join(w[0] for w in self.name.split("_") if w)


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
class RubricItem:
    """A checklist item of the protocol's rubric (SPEC §6).

    ``check`` names an automatic check (``views_in_order``, ``level_confirmed_ap``,
    ``contrast_at_level_side``, ``instrument_docked``) or is ``None`` for an item
    the educator ticks.
    """

    key: str
    text: str
    check: str | None = None


@dataclass(frozen=True)
class DecisionReason:
    """Why the right answer for a case may be **do not proceed** (SPEC §6).

    A case's decision (:mod:`flannot.model.decision`) names one of these by
    ``key``; scoring words its feedback with ``label`` and ``action``.

    Attributes
    ----------
    key
        Name used in case files and ``truth.json`` (``no_laminar_shelf``).
    label
        Plain words for docks and feedback ("no laminar shelf to dock on").
    action
        What the operator does instead, written for the trainee.
    source
        Where the criterion comes from (cited in ``docs/protocols.md``).
    """

    key: str
    label: str
    action: str = ""
    source: str = ""


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
    rubric: tuple[RubricItem, ...] = ()
    #: global rating scale anchors (1 … n) and the entrustment (Zwisch) scale
    global_rating: tuple[str, ...] = ()
    entrustment: tuple[str, ...] = ()
    #: words the safety feedback uses: what the instrument must stay dorsal of
    safety_message: str = ""
    #: procedure code for the SR (a :class:`Code`), when one exists
    procedure_code: Code | None = None
    #: reasons a case's right answer may be "do not proceed" (SPEC §6 ``decision``)
    decision_reasons: tuple[DecisionReason, ...] = ()
    #: instruments used to work up the decision before any decompression (the
    #: epidurogram needle); one drawn by the trainee is not "proceeding"
    workup_instruments: tuple[str, ...] = ()

    def type(self, name: str) -> AnnotationType:
        """The annotation type called ``name``; ``KeyError`` when unknown."""
        for t in self.types:
            if t.name == name:
                return t
        raise KeyError(name)

    def find_type(self, name: str) -> AnnotationType | None:
        """The annotation type called ``name``, ``None`` when the protocol has none."""
        for t in self.types:
            if t.name == name:
                return t
        return None

    def with_role(self, role: Role) -> tuple[AnnotationType, ...]:
        """Types that play ``role``, in declaration order."""
        return tuple(t for t in self.types if role in t.roles)

    def names_with_role(self, role: Role) -> tuple[str, ...]:
        """Names of the types that play ``role``."""
        return tuple(t.name for t in self.with_role(role))

    def scored_as(self, *kinds: Scoring) -> tuple[AnnotationType, ...]:
        """Types scored as one of ``kinds``."""
        return tuple(t for t in self.types if t.scoring in kinds)

    def decision_reason(self, key: str) -> DecisionReason | None:
        """The do-not-proceed reason called ``key``, ``None`` when the protocol has none."""
        for r in self.decision_reasons:
            if r.key == key:
                return r
        return None

    def view(self, name: str) -> View:
        """The view called ``name``; ``KeyError`` when the protocol has none."""
        for v in self.views:
            if v.name == name:
                return v
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


def type_of(protocol: Protocol | None, name: str) -> AnnotationType | None:
    """``protocol.find_type(name)`` that accepts a missing protocol."""
    return None if protocol is None else protocol.find_type(name)


def describe(protocol: Any) -> dict[str, Any]:
    """A JSON-able summary of a protocol (types, views, rubric) for docs and ``--json``."""
    return {
        "name": protocol.name,
        "title": protocol.title,
        "types": [
            {
                "name": t.name,
                "title": t.title,
                "geometries": list(t.geometries),
                "measurements": [m.name or m.kind for m in t.measurements],
                "scoring": str(t.scoring),
                "roles": sorted(str(r) for r in t.roles),
            }
            for t in protocol.types
        ],
        "views": [v.name for v in protocol.views],
        "rubric": [r.key for r in protocol.rubric],
        "decision_reasons": [r.key for r in getattr(protocol, "decision_reasons", ())],
    }
