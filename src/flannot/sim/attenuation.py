"""CT numbers (HU) → linear attenuation at the fluoroscope's effective energy (SPEC §15).

A water–bone mixture model: below 0 HU a voxel is water of reduced density (air
and lung: ``mu = mu_water (1 + HU/1000)``); above 0 HU it is water plus a fraction
of cortical bone, the fraction being ``HU / HU_bone`` where ``HU_bone`` is the CT
number cortical bone has at the CT scanner's effective energy. Mass attenuation
coefficients are NIST XCOM / Hubbell & Seltzer (NIST Standard Reference Database
126) for liquid water and ICRU-44 cortical bone (density 1.92 g/cm³); see
``docs/carm.md`` for the table and the sources.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: photon energy (keV) → mass attenuation coefficient μ/ρ (cm²/g), with coherent
#: scattering, NIST X-ray mass attenuation coefficients tables 4 (Hubbell & Seltzer)
ENERGY_KEV = np.array([20.0, 30.0, 40.0, 50.0, 60.0, 80.0, 100.0, 150.0])
WATER_MU_RHO = np.array([0.8096, 0.3756, 0.2683, 0.2269, 0.2059, 0.1837, 0.1707, 0.1505])
BONE_MU_RHO = np.array([4.001, 1.331, 0.6655, 0.4242, 0.3148, 0.2229, 0.1855, 0.1480])
BONE_DENSITY = 1.92  # g/cm³, ICRU-44 cortical bone
WATER_DENSITY = 1.0

#: effective energy of a beam as a fraction of its peak kilovoltage: typically
#: one third to one half (Bushberg et al., The Essential Physics of Medical Imaging)
EFFECTIVE_FRACTION = 0.4
#: effective energy (keV) of a 120 kVp CT beam after its bow-tie filter, which
#: defines the CT numbers of the input
CT_EFFECTIVE_KEV = 70.0
#: CT numbers outside this range are clipped (air, metal artefacts)
HU_MIN, HU_MAX = -1000.0, 3000.0


def _mu_rho(table: NDArray[np.float64], kev: float) -> float:
    # log-log interpolation, as attenuation varies smoothly as a power of energy
    return float(np.exp(np.interp(np.log(kev), np.log(ENERGY_KEV), np.log(table))))


def effective_kev(kvp: float) -> float:
    """Effective photon energy (keV) of a fluoroscopy beam of peak voltage ``kvp``."""
    return EFFECTIVE_FRACTION * float(kvp)


def mu_water(kev: float) -> float:
    """Linear attenuation of water (1/mm) at ``kev``."""
    return _mu_rho(WATER_MU_RHO, kev) * WATER_DENSITY / 10.0


def mu_bone(kev: float) -> float:
    """Linear attenuation of cortical bone (1/mm) at ``kev``."""
    return _mu_rho(BONE_MU_RHO, kev) * BONE_DENSITY / 10.0


def hu_bone(ct_kev: float = CT_EFFECTIVE_KEV) -> float:
    """CT number of cortical bone at the CT's effective energy (about 1600 HU)."""
    return 1000.0 * (mu_bone(ct_kev) - mu_water(ct_kev)) / mu_water(ct_kev)


def hu_to_mu(hu: NDArray, kvp: float, out: NDArray | None = None) -> NDArray[np.float32]:
    """Linear attenuation (1/mm, float32) of CT numbers ``hu`` for a beam of ``kvp``.

    Parameters
    ----------
    hu
        CT numbers (any shape and dtype).
    kvp
        Peak tube voltage of the simulated fluoroscope.
    out
        Optional float32 array of ``hu``'s shape to write into.
    """
    kev = effective_kev(kvp)
    mw, mb = mu_water(kev), mu_bone(kev)
    slope_bone = (mb - mw) / hu_bone()
    res = np.empty(hu.shape, np.float32) if out is None else out
    np.clip(hu, HU_MIN, HU_MAX, out=res, casting="unsafe")
    neg = res < 0
    # HU > 0: water + bone fraction; HU <= 0: water of density 1 + HU/1000 (in place:
    # a CT-sized volume gets no float temporaries)
    np.multiply(res, np.float32(slope_bone), out=res, where=~neg)
    np.multiply(res, np.float32(mw / 1000.0), out=res, where=neg)
    res += np.float32(mw)
    np.maximum(res, 0.0, out=res)
    return res
