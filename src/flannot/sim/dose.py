"""Estimated dose of a virtual C-arm shot: the dose–area product (DAP) (SPEC §15 training mode).

An **estimate** for teaching, not a dosimetry result. The air kerma a tube delivers per
mAs at 1 m from the focal spot (its *output*) grows roughly with the square of the tube
voltage (Bushberg et al., *The Essential Physics of Medical Imaging*, 3rd ed. 2012,
ch. 6: x-ray output ∝ kVp²). The constant is a fit to the measured output of about
40 radiographic units (2.5–3 mm Al total filtration): ``0.008373 · kVp^1.983`` µGy/mAs
at 40 in (101.6 cm) — about 50 µGy/mAs at 80 kVp — published by a medical physicist
(``imablog.net/archives/2015/07/radiation-output-from-radiographic-units.html``); it
agrees with the 0.05–0.13 mSv/mAs at 1 m of the University of Groningen's radiation
protection course tables for 70–90 kV and 2–3 mm Al. A real C-arm's output depends on
its filtration (copper filters lower it by half or more) and on the waveform.

The DAP is the air kerma times the field area in any plane across the beam: both
scale with the inverse square and the square of the distance, so the product does not
depend on where it is taken (the air kerma–area product P_KA of IAEA TRS 457, 2007;
ignoring air attenuation and scatter). It is computed at 1 m from the focus::

    K(1 m)  = Y(kVp) · mAs                            (µGy)
    A(1 m)  = A_detector · (1000 / SID)²              (cm², the collimated field)
    DAP     = K(1 m) · A(1 m)                         (µGy·cm²; / 1000 → mGy·cm²)

DICOM stores it as Image and Fluoroscopy Area Dose Product (0018,115E) in dGy·cm²
(PS3.3 C.8.7.2).
"""

from __future__ import annotations

#: output fit ``C · kVp**N`` in µGy/mAs at REFERENCE_MM from the focal spot (see above)
OUTPUT_C = 0.008373
OUTPUT_N = 1.983
REFERENCE_MM = 1016.0  # 40 inches


def tube_output(kvp: float) -> float:
    """Air kerma per mAs at 1 m from the focal spot (µGy/mAs), an estimate (module notes)."""
    if not 40.0 <= float(kvp) <= 150.0:
        raise ValueError(f"kVp must be 40-150, got {kvp}")
    return OUTPUT_C * float(kvp) ** OUTPUT_N * (REFERENCE_MM / 1000.0) ** 2


def dose_area_product(kvp: float, mas: float, field_mm: tuple[float, float], sid: float) -> float:
    """Estimated DAP of one exposure in mGy·cm².

    Parameters
    ----------
    kvp, mas
        Tube voltage (kV) and tube current–time product (mAs).
    field_mm
        Width and height of the exposed (collimated) field at the detector, mm.
    sid
        Source-to-detector distance, mm.
    """
    if mas < 0 or sid <= 0:
        raise ValueError("mAs must be >= 0 and SID > 0")
    area_cm2 = field_mm[0] * field_mm[1] / 100.0 * (1000.0 / sid) ** 2
    return tube_output(kvp) * float(mas) * area_cm2 / 1000.0


def entrance_kerma(kvp: float, mas: float, source_to_skin_mm: float) -> float:
    """Estimated incident air kerma (mGy) at ``source_to_skin_mm`` (no backscatter)."""
    return tube_output(kvp) * float(mas) * (1000.0 / source_to_skin_mm) ** 2 / 1000.0
