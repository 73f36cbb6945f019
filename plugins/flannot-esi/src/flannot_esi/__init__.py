"""Interlaminar epidural steroid injection (ESI): a flannot protocol plugin (SPEC §11).

flannot finds :data:`ESI` through the ``flannot.protocols`` entry point this
package declares (``esi = "flannot_esi:ESI"``), so once the package is installed
``flannot.protocols.get_protocol("esi")`` returns it and a case file with
``"protocol": "esi"`` is validated, measured and annotated against it.

Only flannot's public extension API is used: :class:`flannot.protocols.Protocol`,
:class:`~flannot.protocols.AnnotationType`, :class:`~flannot.protocols.Measurement`,
:class:`~flannot.protocols.Scoring`, :class:`~flannot.protocols.Role`,
:class:`~flannot.protocols.Code` and :class:`~flannot.protocols.View`. Everything
flannot measures, scores and exports for an ESI case is declared below: the core
has no ESI name in it.

Conventions of this protocol
----------------------------
- The needle is the ``cannula`` type (a line from entry to tip), as in SPEC §3
  where ``needle`` is one of the cannula instruments; so flannot's cannula
  measurements (length, angle, tip-to-contrast margin) and scoring (tip, entry and
  angle error) apply to it unchanged. The instrument names the needle.
- ``side`` is the approach side of the needle (``midline`` for a midline
  approach). A ventral interlaminar line and a contrast line carry the side of the
  needle they guide, so annotations of one approach share level and side.

Examples
--------
>>> from flannot.protocols import get_protocol
>>> esi = get_protocol("esi")  # doctest: +SKIP
>>> esi.type("ventral_interlaminar_line").level_kind  # doctest: +SKIP
'interspace'
"""

from __future__ import annotations

from flannot.protocols import AnnotationType, Code, Measurement, Protocol, Role, Scoring, View

__all__ = ["ESI", "__version__"]

__version__ = "0.1.0"

ESI = Protocol(
    name="esi",
    title="Interlaminar ESI (epidural steroid injection)",
    description=(
        "A Tuohy needle is advanced through the interlaminar window chosen in the AP view, "
        "with loss of resistance, until its tip reaches the dorsal epidural space; in a "
        "contralateral-oblique (CLO, about 50°) view the tip should meet, not pass, the "
        "ventral interlaminar line (VILL). Contrast confirms an epidural spread before the "
        "steroid is injected."
    ),
    # T12 to S1; L6 is the transitional sixth lumbar vertebra (levels are counted, not assumed)
    vertebra_levels=("T12", "L1", "L2", "L3", "L4", "L5", "L6", "S1"),
    # paramedian approaches have a side; a midline approach has none of left or right
    sides=("left", "right", "midline"),
    instruments=("tuohy_17g", "tuohy_18g", "tuohy_20g", "tuohy_22g", "needle"),
    types=(
        AnnotationType(
            "vertebra",
            "Vertebra",
            ("point", "polygon"),
            ("level",),
            "vertebra",
            "#ffd92f",
            "counting levels up from the sacrum: an injection one interspace off is the "
            "commonest wrong-level error",
            measurements=(Measurement("vertebra_corners"),),
            scoring=Scoring.LANDMARK,
            roles=frozenset({Role.VERTEBRA}),
            code=Code("51282000", "SCT", "Vertebra"),
            short="v",
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
            "the AP-view target window the needle passes through",
            measurements=(Measurement("window"),),
            scoring=Scoring.REGION,
            code=Code("interlaminar_space", "99FLANNOT", "Interlaminar space"),
            short="ils",
            label_anchor="center",
            label_offset=8.0,
            label_measure=("width",),
            region_export=True,
        ),
        AnnotationType(
            "ventral_interlaminar_line",
            "Ventral interlaminar line (VILL)",
            ("path",),
            ("level", "side"),
            "interspace",
            "#fdb462",
            "the CLO-view line along the ventral margins of the laminae: the depth of the "
            "dorsal epidural space, where the needle tip should stop",
            scoring=Scoring.BOUNDARY,
            roles=frozenset({Role.SAFETY_BOUNDARY}),
            code=Code("ventral_interlaminar_line", "99FLANNOT", "Ventral interlaminar line"),
            short="vill",
            label_anchor="center",
            label_offset=-4.0,
        ),
        AnnotationType(
            "cannula",
            "Needle (entry → tip)",
            ("line",),
            ("level", "side", "instrument"),
            "interspace",
            "#a6d854",
            "trajectory and depth of the epidural needle: a tip beyond the VILL risks a "
            "dural puncture",
            measurements=(
                Measurement("trajectory"),
                Measurement("tip_to_line", "tip_to_vill", "ventral_interlaminar_line", "any"),
                Measurement("tip_to_line", "tip_to_contrast", "epidural_contrast", "any"),
            ),
            scoring=Scoring.TRAJECTORY,
            roles=frozenset({Role.INSTRUMENT}),
            code=Code("79068005", "SCT", "Needle"),
            short="n",
            label_anchor="lower_right",
            label_measure=("tip_to_vill", "length"),
            keypoints=("entry", "tip"),
        ),
        AnnotationType(
            "epidural_contrast",
            "Epidural contrast spread",
            ("path",),
            ("level", "side"),
            "interspace",
            "#e78ac3",
            "the contrast pattern that confirms an epidural (not intrathecal, intravascular "
            "or intraligamentous) tip before the steroid",
            scoring=Scoring.BOUNDARY,
            code=Code("385420005", "SCT", "Contrast media"),
            short="ec",
            label_anchor="center",
            label_offset=-4.0,
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
    views=(
        View("ap", "AP", "ap", 0.0, None, True, 5.0, "the interlaminar window at the level"),
        View(
            "clo-left",
            "Contralateral oblique (left approach)",
            "oblique",
            50.0,
            "right",
            True,
            10.0,
            "needle depth against the VILL",
        ),
        View(
            "clo-right",
            "Contralateral oblique (right approach)",
            "oblique",
            50.0,
            "left",
            True,
            10.0,
            "needle depth against the VILL",
        ),
    ),
    safety_message="the needle tip should meet, not pass, the ventral interlaminar line",
    # scoring defaults (educators override them per teaching set); same names as MILD's
    tolerances={
        "landmark_error_mm": 5.0,
        "dice": 0.7,
        "hd95_mm": 3.0,
        "msd_mm": 1.5,
        # the lumbar dorsal epidural space is only a few millimetres deep
        "tip_error_mm": 2.0,
        "entry_error_mm": 5.0,
        "angle_error_deg": 10.0,
        "measurement_error_mm": 1.0,
    },
)
