"""MILD — minimally invasive lumbar decompression (the built-in protocol, SPEC §3)."""

from __future__ import annotations

from flannot.protocols.base import AnnotationType, Protocol, View

MILD = Protocol(
    name="mild",
    title="MILD (minimally invasive lumbar decompression)",
    description=(
        "A 5.1 mm (6 G) portal is placed under fluoroscopy onto the lamina and hypertrophic "
        "ligamentum flavum is removed, working dorsal to the epidural contrast line seen in "
        "a contralateral-oblique view."
    ),
    vertebra_levels=("T12", "L1", "L2", "L3", "L4", "L5", "L6", "S1"),
    instruments=("portal", "trocar", "bone_rongeur", "tissue_sculpter", "needle"),
    types=(
        AnnotationType(
            "vertebra",
            "Vertebra",
            ("point", "polygon"),
            ("level",),
            "vertebra",
            "#ffd92f",
            "counting levels; wrong-level errors",
        ),
        AnnotationType(
            "interlaminar_space",
            "Interlaminar space",
            ("polygon",),
            ("level",),
            "interspace",
            "#66c2a5",
            "the AP-view target window",
        ),
        AnnotationType(
            "ligamentum_flavum",
            "Ligamentum flavum",
            ("polygon", "mask"),
            ("level", "side"),
            "interspace",
            "#fc8d62",
            "the tissue MILD removes",
        ),
        AnnotationType(
            "spinal_canal",
            "Spinal canal",
            ("polygon", "mask"),
            ("level",),
            "interspace",
            "#8da0cb",
            "canal dimensions",
        ),
        AnnotationType(
            "epidural_contrast",
            "Epidural contrast line",
            ("path",),
            ("level", "side"),
            "interspace",
            "#e78ac3",
            "the ventral safety boundary on the CLO epidurogram",
        ),
        AnnotationType(
            "cannula",
            "Cannula",
            ("line",),
            ("level", "side", "instrument"),
            "interspace",
            "#a6d854",
            "trajectory, depth and safety margin",
        ),
        AnnotationType(
            "calibration",
            "Calibration line",
            ("line",),
            ("length_mm",),
            None,
            "#00e5ff",
            "user calibration against an object of known length",
        ),
        AnnotationType(
            "redaction",
            "Redaction",
            ("rectangle",),
            (),
            None,
            "#ff0000",
            "burned-in text to blank on export",
        ),
    ),
    # The sequence of views a MILD operator works through (docs/carm.md cites the sources):
    # a true AP at the target level, a lateral, then the contralateral oblique (CLO) about
    # 45 degrees in which the laminae, the interlaminar window and the VILL/epidurogram are
    # seen (Furman et al., Pain Med 2012; 13:1389).
    views=(
        View("ap", "True AP", "ap", 0.0, None, True, 5.0,
             "level counting; endplates squared, spinous process midway between the pedicles"),
        View("lateral", "Lateral", "lateral", 90.0, "left", True, 5.0,
             "depth of the laminae and the spinolaminar line"),
        View("clo-left", "Contralateral oblique (left approach)", "oblique", 45.0, "right",
             True, 10.0, "portal depth against the epidurogram and the VILL, left approach"),
        View("clo-right", "Contralateral oblique (right approach)", "oblique", 45.0, "left",
             True, 10.0, "portal depth against the epidurogram and the VILL, right approach"),
    ),
    # scoring tolerances (educator-configurable per set; these are the defaults)
    tolerances={
        "landmark_error_mm": 5.0,
        "dice": 0.7,
        "hd95_mm": 3.0,
        "tip_error_mm": 3.0,
        "entry_error_mm": 5.0,
        "angle_error_deg": 10.0,
        "measurement_error_mm": 1.0,
    },
)
