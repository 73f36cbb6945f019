"""MILD — minimally invasive lumbar decompression (the built-in protocol, SPEC §3).

Everything flannot does with a MILD annotation is declared here: which
measurements apply, how it is scored, its safety role, its export codes, its
colour and label placement. The sources of the clinical numbers are in
``docs/measurements.md`` and ``docs/protocols.md``.
"""

from __future__ import annotations

from flannot.protocols.base import (
    AnnotationType,
    Code,
    DecisionReason,
    Measurement,
    Protocol,
    Role,
    RubricItem,
    Scoring,
    View,
)

#: Private codes (PS3.16 §8.2 "99" designator) for concepts with no SNOMED CT code in
#: pydicom's code dictionary; docs/exports.md lists them.
PRIVATE = "99FLANNOT"

# Codes from pydicom.sr.codedict (SNOMED CT), checked by tests/protocols/test_codes.py.
SCT_VERTEBRA = Code("51282000", "SCT", "Vertebra")
SCT_SPINAL_CANAL = Code("61853006", "SCT", "Vertebral canal")
SCT_LAMINA = Code("89340005", "SCT", "Lamina of vertebra")
SCT_SPINOUS = Code("55678000", "SCT", "Spinous process of vertebra")
SCT_PEDICLE = Code("78972004", "SCT", "Pedicle of vertebra")
SCT_SUPERIOR_ARTICULAR = Code("317665004", "SCT", "Superior articular process of vertebra")
SCT_INFERIOR_ARTICULAR = Code("317766009", "SCT", "Inferior articular process of vertebra")
SCT_CONTRAST = Code("385420005", "SCT", "Contrast media")

#: Brown LL, "Minimally invasive lumbar decompression (MILD procedure)", ch. 38 of an
#: interventional pain atlas (as published at aneskey.com): relevant clinical
#: contraindications; docs/mild-course.md and docs/protocols.md cite it in full.
_BROWN = "Brown LL, Minimally invasive lumbar decompression (MILD procedure), atlas ch. 38"

#: The do-not-proceed criteria a MILD operator checks on the images (docs/mild-course.md).
DECISION_REASONS = (
    DecisionReason(
        "no_laminar_shelf",
        "no laminar shelf at the target level",
        "do not proceed: without a laminar shelf the portal has no bone to dock on and the "
        "rongeur no lamina to remove; choose another level or another treatment",
        f"{_BROWN} (contraindication: absence of a laminar shelf at the level to be treated)",
    ),
    DecisionReason(
        "epidurogram_not_at_target",
        "epidurogram not seen at the target level and side",
        "do not proceed: without contrast at the level and side there is no ventral safety "
        "line on the contralateral oblique; repeat the epidurogram or stop",
        f"{_BROWN} (contraindication: inability to appreciate the epidurogram at level and "
        "side to be treated); Vertos mild IFU",
    ),
    DecisionReason(
        "spondylolisthesis_grade2",
        "grade II or higher spondylolisthesis",
        "do not proceed: a slip of 25 % or more (Meyerding grade II+) is outside the "
        "indication for MILD; refer for a surgical opinion",
        f"{_BROWN} (indication: absence of grade II or greater spondylolisthesis); "
        "Meyerding HW, Surg Gynecol Obstet 1932;54:371-377 (grades)",
    ),
)

TIP_TO_CONTRAST = Measurement("tip_to_line", "tip_to_contrast", "epidural_contrast", match="any")
TIP_TO_VILL = Measurement("tip_to_line", "tip_to_vill", "ventral_interlaminar_line", match="any")

MILD = Protocol(
    name="mild",
    title="MILD (minimally invasive lumbar decompression)",
    description=(
        "A 5.1 mm (6 G) portal is docked under fluoroscopy on the dorsal surface of the "
        "lamina; a bone rongeur removes lamina (laminotomy), then tissue sculpters remove "
        "hypertrophic ligamentum flavum, all working dorsal to the epidural contrast line "
        "and the ventral interlaminar line seen in a contralateral-oblique view."
    ),
    vertebra_levels=("T12", "L1", "L2", "L3", "L4", "L5", "L6", "S1"),
    instruments=("portal", "trocar", "bone_rongeur", "tissue_sculpter", "needle"),
    # declaration order is the order of the Annotate list (Alt+1 … Alt+8 pick the first
    # eight: the structures every MILD case has), of feedback, and the paint order of
    # region exports (a later region is drawn over an earlier one: LF over the canal)
    types=(
        AnnotationType(
            "vertebra",
            "Vertebra",
            ("point", "polygon"),
            ("level",),
            "vertebra",
            "#ffd92f",
            "counting levels; wrong-level errors",
            measurements=(Measurement("vertebra_corners"),),
            scoring=Scoring.LANDMARK,
            roles=frozenset({Role.VERTEBRA}),
            code=SCT_VERTEBRA,
            short="v",
            label_anchor="upper_left",
            keypoints=(
                "superior_anterior",
                "superior_posterior",
                "inferior_posterior",
                "inferior_anterior",
                "centre",
            ),
            region_export=True,
        ),
        AnnotationType(
            "interlaminar_space",
            "Interlaminar space",
            ("polygon",),
            ("level",),
            "interspace",
            "#66c2a5",
            "the AP-view target window",
            measurements=(Measurement("window"),),
            scoring=Scoring.REGION,
            code=Code("interlaminar_space", PRIVATE, "Interlaminar space"),
            short="ils",
            label_anchor="center",
            label_offset=8.0,  # beside the window, not over the spinous process
            label_measure=("width",),
            region_export=True,
        ),
        AnnotationType(
            "spinal_canal",
            "Spinal canal",
            ("polygon", "mask"),
            ("level",),
            "interspace",
            "#8da0cb",
            "canal dimensions",
            measurements=(
                Measurement("canal"),
                Measurement("encroachment", "lf_encroachment", "ligamentum_flavum", match="level"),
                Measurement(
                    "width_grade",
                    "stenosis_grade",
                    of="min_width",
                    planning_only=True,
                    params=(("relative_mm", 13.0), ("absolute_mm", 10.0)),
                    source="Verbiest (J Bone Joint Surg Br 1954;36:230-237), canal diameter",
                ),
            ),
            scoring=Scoring.REGION,
            scored_measurement="min_width",
            code=SCT_SPINAL_CANAL,
            short="sc",
            label_anchor="upper_left",
            label_offset=1.0,
            label_measure=("min_width",),
            region_export=True,
        ),
        AnnotationType(
            "ligamentum_flavum",
            "Ligamentum flavum",
            ("polygon", "mask"),
            ("level", "side"),
            "interspace",
            "#fc8d62",
            "the tissue MILD removes",
            measurements=(
                Measurement("band"),
                # MIST consensus: LF >= 2.5 mm on MRI (Deer et al., Pain Pract 2019)
                Measurement(
                    "at_least",
                    "hypertrophic",
                    of="max_thickness",
                    planning_only=True,
                    params=(("mm", 2.5),),
                    source="MIST consensus (Deer et al., Pain Pract 2019;19:250-274), MRI",
                ),
            ),
            scoring=Scoring.BAND,
            scored_measurement="max_thickness",
            code=Code("ligamentum_flavum", PRIVATE, "Ligamentum flavum"),
            short="lf",
            label_anchor="upper_left",
            label_offset=1.0,  # clear of the band's own outline
            label_measure=("max_thickness",),
            region_export=True,
        ),
        AnnotationType(
            "epidural_contrast",
            "Epidural contrast line",
            ("path",),
            ("level", "side"),
            "interspace",
            "#e78ac3",
            "the ventral safety boundary on the CLO epidurogram",
            scoring=Scoring.BOUNDARY,
            roles=frozenset({Role.SAFETY_BOUNDARY}),
            code=SCT_CONTRAST,
            short="ec",
            label_anchor="center",
            label_offset=-4.0,  # left of the line: the LF label is on its right
        ),
        AnnotationType(
            "cannula",
            "Cannula",
            ("line",),
            ("level", "side", "instrument"),
            "interspace",
            "#a6d854",
            "trajectory, depth and safety margin",
            measurements=(
                Measurement("trajectory"),
                TIP_TO_CONTRAST,
                TIP_TO_VILL,
                Measurement("tip_to_region_edge", "tip_to_lamina", "lamina", match="level"),
                Measurement("tip_in_region", "tip_in_lf", "ligamentum_flavum"),
            ),
            scoring=Scoring.TRAJECTORY,
            roles=frozenset({Role.INSTRUMENT}),
            code=Code("cannula", PRIVATE, "Cannula"),
            short="c",
            label_anchor="lower_right",
            label_measure=("tip_to_lamina", "tip_to_contrast", "length"),
            keypoints=("entry", "tip"),
        ),
        AnnotationType(
            "lamina",
            "Lamina",
            ("polygon",),
            ("level", "side"),
            "vertebra",
            "#e5c494",
            "the bone the portal docks on and the rongeur removes",
            scoring=Scoring.REGION,
            code=SCT_LAMINA,
            short="lam",
            label_anchor="lower_left",
            region_export=True,
        ),
        AnnotationType(
            "spinous_process",
            "Spinous process",
            ("polygon", "point"),
            ("level",),
            "vertebra",
            "#b3b3b3",
            "midline: centred between the pedicles on a true AP",
            scoring=Scoring.LANDMARK,
            code=SCT_SPINOUS,
            short="sp",
            label_anchor="upper_right",
            region_export=True,
        ),
        AnnotationType(
            "ventral_interlaminar_line",
            "Ventral interlaminar line (VILL)",
            ("path",),
            ("level", "side"),
            "interspace",
            "#fdb462",
            "the CLO-view line along the ventral margins of the laminae: the depth limit",
            scoring=Scoring.BOUNDARY,
            roles=frozenset({Role.SAFETY_BOUNDARY}),
            code=Code("ventral_interlaminar_line", PRIVATE, "Ventral interlaminar line"),
            short="vill",
            label_anchor="center",
            label_offset=-4.0,
        ),
        AnnotationType(
            "articular_process",
            "Articular process",
            ("polygon",),
            ("level", "side", "part"),
            "vertebra",
            "#bc80bd",
            "the facet joint: the oblique view's 'scottie dog' ear and leg",
            values=(("part", ("superior", "inferior")),),
            scoring=Scoring.REGION,
            code=SCT_SUPERIOR_ARTICULAR,
            value_codes=(("part", "inferior", SCT_INFERIOR_ARTICULAR),),
            short="ap",
            label_anchor="upper_right",
            region_export=True,
        ),
        AnnotationType(
            "pedicle",
            "Pedicle",
            ("point", "polygon"),
            ("level", "side"),
            "vertebra",
            "#80b1d3",
            "the AP view's 'eyes': a true AP centres the spinous process between them",
            scoring=Scoring.LANDMARK,
            code=SCT_PEDICLE,
            short="ped",
            label_anchor="upper_right",
        ),
        AnnotationType(
            "calibration",
            "Calibration line",
            ("line",),
            ("length_mm",),
            None,
            "#00e5ff",
            "user calibration against an object of known length",
            roles=frozenset({Role.CALIBRATION}),
            short="cal",
            label_anchor="lower_right",
        ),
        AnnotationType(
            "redaction",
            "Redaction",
            ("rectangle",),
            (),
            None,
            "#ff0000",
            "burned-in text to blank on export",
            roles=frozenset({Role.REDACTION}),
            short="red",
            label_anchor="lower_right",
        ),
    ),
    # The sequence of views a MILD operator works through (docs/carm.md cites the sources):
    # a true AP at the target level, a lateral, then the contralateral oblique (CLO) about
    # 45 degrees in which the laminae, the interlaminar window and the VILL/epidurogram are
    # seen (Furman et al., Pain Med 2012;13:1389).
    views=(
        View(
            "ap",
            "True AP",
            "ap",
            0.0,
            None,
            True,
            5.0,
            "level counting; endplates squared, spinous process midway between the pedicles",
        ),
        View(
            "lateral",
            "Lateral",
            "lateral",
            90.0,
            "left",
            True,
            5.0,
            "depth of the laminae and the spinolaminar line",
        ),
        *(
            View(
                f"clo-{side}",
                f"Contralateral oblique ({side} approach)",
                "oblique",
                45.0,
                other,  # the detector turns to the side opposite the portal
                True,
                10.0,
                f"portal depth against the epidurogram and the VILL, {side} approach",
            )
            for side, other in (("left", "right"), ("right", "left"))
        ),
    ),
    rubric=(
        RubricItem("views_in_order", "true AP, lateral and contralateral-oblique views obtained"),
        RubricItem("level_confirmed_ap", "target level counted and confirmed on the AP view"),
        RubricItem(
            "contrast_at_level_side",
            "epidurogram seen at the target level and side",
            "contrast_at_level_side",
        ),
        RubricItem(
            "instrument_docked",
            "portal docked on the dorsal lamina before decompression",
            "instrument_docked",
        ),
    ),
    decision_reasons=DECISION_REASONS,
    workup_instruments=("needle",),
    global_rating=("1 novice", "2", "3 competent", "4", "5 expert"),
    # Zwisch scale of intraoperative autonomy (George et al., J Surg Educ 2014;71:e90-e96)
    entrustment=("show and tell", "active help", "passive help", "supervision only"),
    safety_message=(
        "the MILD instruments work only dorsal to the epidural contrast line and the VILL"
    ),
    # scoring tolerances (educator-configurable per set; these are the defaults)
    tolerances={
        "landmark_error_mm": 5.0,
        "dice": 0.7,
        "hd95_mm": 3.0,
        "msd_mm": 1.5,
        "tip_error_mm": 3.0,
        "entry_error_mm": 5.0,
        "angle_error_deg": 10.0,
        "measurement_error_mm": 1.0,
    },
)
