"""Projector and image chain on the synthetic CT: line integrals, marker positions, noise."""

from __future__ import annotations

import numpy as np
import pytest

from flannot.sim.attenuation import hu_bone, hu_to_mu, mu_bone, mu_water
from flannot.sim.geometry import CArm
from flannot.sim.render import line_integral_image, prepare, preview, preview_carm, shot
from flannot.sim.volume import CTVolume, load_ct
from tests.sim.synthetic_ct import SyntheticCT


def test_hu_to_mu_is_the_water_bone_mixture() -> None:
    kev = 32.0  # 80 kVp
    mu = hu_to_mu(np.array([-1000.0, 0.0, hu_bone(), -5000.0, 9000.0]), 80.0)
    assert mu[0] == pytest.approx(0.0, abs=1e-7)
    assert mu[1] == pytest.approx(mu_water(kev), rel=1e-5)
    assert mu[2] == pytest.approx(mu_bone(kev), rel=1e-5)
    assert mu[3] == 0.0 and mu[4] > mu[2]
    # NIST XCOM water at 30 and 40 keV brackets 32 keV (0.3756, 0.2683 cm²/g)
    assert 0.02683 < mu_water(kev) < 0.03756
    # bone contrast falls with energy: the reason fluoroscopy uses 70-90 kVp, not CT's 120
    assert mu_bone(32) / mu_water(32) > mu_bone(48) / mu_water(48)


def test_line_integral_through_a_water_slab_is_mu_times_thickness() -> None:
    hu = np.full((40, 40, 40), -1000.0, np.float32)
    hu[5:35, 10:30, 5:35] = 0.0  # 20 voxels of water along j
    affine = np.eye(4)
    affine[:3, 3] = [-20.0, -20.0, -20.0]
    prep = prepare(CTVolume(hu, affine), kvp=80)
    carm = CArm(180.0, 0.0, (0.0, 0.0, 0.0), rows=9, cols=9, pixel_mm=0.5)  # beam along +y
    p = line_integral_image(prep, carm)
    # the central ray crosses 20 mm of water; trilinear edges cost at most one voxel
    assert p[4, 4] == pytest.approx(20.0 * mu_water(32.0), rel=0.06)


def test_the_marker_appears_where_the_projection_matrix_puts_it(synth: SyntheticCT) -> None:
    ct = load_ct(synth.ct_path)
    assert np.allclose(ct.affine, synth.affine_lps)  # RAS on disk, LPS in memory
    prep = prepare(ct, kvp=80)
    no_bead = ct.hu.copy()
    no_bead[ct.hu >= 2000] = 30.0
    prep0 = prepare(CTVolume(no_bead, ct.affine), kvp=80)
    for primary, secondary in ((180.0, 0.0), (-135.0, 10.0), (135.0, -8.0), (90.0, 20.0)):
        carm = CArm(
            primary, secondary, tuple(synth.centroids["L3"]), rows=160, cols=160, pixel_mm=0.6
        )
        # the bead's own shadow: the difference of the images with and without it
        excess = line_integral_image(prep, carm) - line_integral_image(prep0, carm)
        rr, cc = np.mgrid[: excess.shape[0], : excess.shape[1]]
        com = np.array([(excess * rr).sum(), (excess * cc).sum()]) / excess.sum()
        r, c = carm.project(synth.marker)[0]
        assert np.hypot(*(com - [r, c])) <= 0.5, (primary, com, (r, c))


def test_same_seed_same_pixels_other_seed_other_noise(synth: SyntheticCT) -> None:
    prep = prepare(load_ct(synth.ct_path), kvp=80)
    carm = CArm(180.0, 0.0, tuple(synth.centroids["L3"]), rows=96, cols=96, pixel_mm=1.0)
    a, _ = shot(prep, carm, seed=3)
    b, _ = shot(prep, carm, seed=3)
    c, _ = shot(prep, carm, seed=4)
    assert a.dtype == np.uint16 and a.max() <= 4095
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bone_is_bright_and_preview_is_fast_enough_to_call(synth: SyntheticCT) -> None:
    prep = prepare(load_ct(synth.ct_path), kvp=80)
    iso = synth.centroids["L3"]
    carm = CArm(180.0, 0.0, tuple(iso), rows=128, cols=128, pixel_mm=1.0)
    img, _ = shot(prep, carm, seed=1)
    r, c = np.rint(carm.project(iso)[0]).astype(int)
    side = np.rint(carm.project(iso + [-30.0, 0, 0])[0]).astype(int)  # paraspinal, right
    assert (
        img[r - 2 : r + 3, c - 2 : c + 3].mean()
        > img[side[0] - 2 : side[0] + 3, side[1] - 2 : side[1] + 3].mean() + 400
    )
    pv = preview(prep, 180.0, 0.0, iso, size=64)
    assert pv.shape == (64, 64) and pv.dtype == np.uint8
    small = preview_carm(prep, 180.0, 0.0, iso, size=64)
    assert small.pixel_mm == pytest.approx(512 * 0.6 / 64)
    pr = np.rint(small.project(iso)[0]).astype(int)
    beside = np.rint(small.project(iso + [-30.0, 0, 0])[0]).astype(int)
    assert pv[pr[0], pr[1]] > pv[beside[0], beside[1]] + 40
