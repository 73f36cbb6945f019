"""Interlaminar epidural steroid injection (ESI): a flannot protocol plugin (SPEC §11).

flannot finds :data:`ESI` through the ``flannot.protocols`` entry point this
package declares (``esi = "flannot_esi:ESI"``), so once the package is installed
``flannot.protocols.get_protocol("esi")`` returns it and a case file with
``"protocol": "esi"`` is validated, measured and annotated against it.

Only flannot's public extension API is used: :class:`flannot.protocols.Protocol`
and :class:`flannot.protocols.AnnotationType`.

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

from flannot.protocols import AnnotationType, Protocol

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
        ),
        AnnotationType(
            "interlaminar_space",
            "Interlaminar space",
            ("polygon",),
            ("level",),
            "interspace",
            "#66c2a5",
            "the AP-view target window the needle passes through",
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
    # scoring defaults (educators override them per teaching set); same names as MILD's
    tolerances={
        "landmark_error_mm": 5.0,
        "dice": 0.7,
        "hd95_mm": 3.0,
        # the lumbar dorsal epidural space is only a few millimetres deep
        "tip_error_mm": 2.0,
        "entry_error_mm": 5.0,
        "angle_error_deg": 10.0,
        "measurement_error_mm": 1.0,
    },
)
