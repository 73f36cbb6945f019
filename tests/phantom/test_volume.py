"""Phantom v2 volume: seeded anatomy, labels, ligament thickness, variants (SPEC §10)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from flannot.phantom.volume import build_volume, draw_patient


@pytest.fixture(scope="module")
def p0():
    params = draw_patient(0)
    return params, build_volume(params)


def test_same_seed_same_patient_and_voxels(p0) -> None:
    params, vol = p0
    again = draw_patient(0)
    assert again == params
    vol2 = build_volume(again)
    assert np.array_equal(vol.hu, vol2.hu)
    assert np.array_equal(vol.labels, vol2.labels)
    assert vol.table == vol2.table


def test_seeds_vary_the_anatomy() -> None:
    pats = [draw_patient(s) for s in range(12)]
    assert len({round(p.lordosis_deg, 3) for p in pats}) == 12
    assert len({round(p.size, 4) for p in pats}) == 12
    assert len({p.transitional for p in pats}) >= 2
    a, b = pats[0], pats[1]
    assert a.lf_mm != b.lf_mm
    for p in pats:
        assert 35 <= p.lordosis_deg <= 60
        assert all(1.5 <= t <= 6.0 for t in p.lf_mm.values())


def test_every_structure_is_labelled(p0) -> None:
    params, vol = p0
    names = set(vol.table.values())
    present = set(np.unique(vol.labels).tolist())
    for lvl in params.levels:
        for part in ("body", "spinous process"):
            assert f"{lvl} {part}" in names
        for side in ("left", "right"):
            assert f"{lvl} pedicle {side}" in names
            assert f"{lvl} lamina {side}" in names
            assert f"{lvl} superior articular process {side}" in names
    for lvl in params.levels[:-1]:
        assert f"{lvl} inferior articular process left" in names
    for isp in params.interspaces[1:]:
        for side in ("left", "right"):
            assert f"ligamentum flavum {isp} {side}" in names
    for name in (
        "dura",
        "epidural fat",
        "epidural contrast",
        "sacrum",
        "sacral foramen",
        "ilium left",
        "rib T12 right",
        "bowel gas",
        "subcutaneous fat",
        f"disc {params.target}",
    ):
        assert name in names, name
    assert {k for k, v in vol.table.items() if v != "air"} <= present
    # bone is bone, gas is gas
    bone = vol.labels == vol.ids("L4 body")[0]
    assert 150 < float(np.median(vol.hu[bone])) < 1500
    assert float(vol.hu[vol.labels == vol.ids("bowel gas")[0]].max()) < -500


def test_lf_thickness_in_the_volume_is_the_parameter(p0) -> None:
    """Twice the largest inscribed radius of an LF half is its drawn thickness."""
    params, vol = p0
    spacing = float(vol.affine[0, 2])
    for key in (("L4-L5", "left"), ("L4-L5", "right"), ("L3-L4", "right")):
        lid = vol.ids(f"ligamentum flavum {key[0]} {key[1]}")[0]
        mask = vol.labels == lid
        thick = 2 * float(ndimage.distance_transform_edt(mask, sampling=spacing).max())
        assert thick == pytest.approx(params.lf_mm[key], abs=1.5 * spacing)


def test_variants() -> None:
    l6 = draw_patient(3, transitional="l6")
    assert "L6" in l6.levels and "L5-L6" in l6.interspaces
    sac = draw_patient(3, transitional="sacralised_l5")
    assert "L5-S1" not in sac.interspaces
    vol = build_volume(draw_patient(3, transitional="sacralised_l5", laminar_shelf=False))
    names = set(vol.table.values())
    assert "disc L5-S1" not in names and "fused bone" in names
    assert "L4 lamina left" not in names and "scar" in names
    assert "L4 lamina right" in names


def test_interrupted_epidurogram_leaves_the_target_side_empty() -> None:
    good = build_volume(draw_patient(5, epidurogram="good"))
    cut = build_volume(draw_patient(5, epidurogram="interrupted"))
    for vol, expect in ((good, True), (cut, False)):
        an = vol.anatomy
        v = an.verts["L4"]
        contrast = np.argwhere(vol.labels == vol.ids("epidural contrast")[0])
        lps = contrast @ vol.affine[:3, :3].T + vol.affine[:3, 3]
        loc = v.local(lps)
        at_target = (loc[:, 0] > 0) & (loc[:, 2] < v.h) & (loc[:, 2] > -v.h - 8)
        assert bool(at_target.any()) is expect
        assert (loc[:, 0] < 0).any()  # the other side still fills


def test_slip_moves_the_upper_vertebra_forward() -> None:
    base = draw_patient(2, slip=None)
    slip = draw_patient(2, slip=("L4", 35.0))
    from flannot.phantom.volume import place_vertebrae

    a, b = place_vertebrae(base), place_vertebrae(slip)
    rel_a = a["L4"].centre - a["L5"].centre
    rel_b = b["L4"].centre - b["L5"].centre
    forward = -(rel_b - rel_a) @ b["L5"].rot[:, 1]
    assert forward == pytest.approx(0.35 * 2 * b["L5"].b, rel=1e-6)
