"""C-arm geometry against independent calculations (SPEC §15; DICOM PS3.3 C.8.7.5.1.2)."""

from __future__ import annotations

import numpy as np
import pytest

from flannot.errors import FlannotError
from flannot.protocols import get_protocol
from flannot.sim.geometry import CArm
from flannot.sim.views import ideal_angles, primary_angle, resolve_view, squaring_secondary

ISO = (10.0, -20.0, 300.0)


def _carm(p: float, s: float = 0.0, **kw) -> CArm:
    return CArm(p, s, ISO, sid=1000.0, sod=700.0, rows=101, cols=101, pixel_mm=0.5, **kw)


def test_zero_angles_put_the_detector_in_front_of_the_chest() -> None:
    # PS3.3 C.8.7.5.1.2: "At a 0 angle for both ... the patient faces the detector"
    c = _carm(0.0)
    assert np.allclose(c.detector_centre - c.source, [0, -1000, 0])  # toward anterior (-y)
    assert np.allclose(_carm(90.0).axes[0], [1, 0, 0])  # +90 LAO: detector at the left
    assert np.allclose(_carm(-90.0).axes[0], [-1, 0, 0])  # -90 RAO: at the right
    assert np.allclose(_carm(180.0).axes[0], [0, 1, 0])  # behind the back
    assert np.allclose(_carm(0.0, 90.0).axes[0], [0, 0, 1])  # +90 secondary: cranial


def test_projection_matches_similar_triangles() -> None:
    """Prone AP (primary 180): the source is anterior, the detector behind the back."""
    c = _carm(180.0)
    src = np.array(ISO) + [0.0, -700.0, 0.0]
    for offset in ([0, 0, 0], [25.0, 0, 0], [0, 40.0, -30.0], [-15.0, -60.0, 12.0]):
        p = np.array(ISO) + offset
        depth = p[1] - src[1]  # along +y from the source
        mag = 1000.0 / depth
        # image columns run toward the patient's right (seen from the detector,
        # looking at the source, from behind the prone patient), rows toward the feet
        col = 50 + (-(p[0] - ISO[0])) * mag / 0.5
        row = 50 + (-(p[2] - ISO[2])) * mag / 0.5
        assert np.allclose(c.project(p)[0], [row, col], atol=1e-9)
    assert c.patient_orientation() == ("R", "F")


@pytest.mark.parametrize(
    ("primary", "position", "left_is_at"),
    [(180.0, "prone", "smaller"), (0.0, "supine", "larger")],
)
def test_a_marker_left_of_the_spine_appears_on_the_side_dicom_says(
    primary: float, position: str, left_is_at: str
) -> None:
    spine = np.array(ISO)
    left = spine + [30.0, 0.0, 0.0]
    c = _carm(primary)
    d_col = c.project(left)[0, 1] - c.project(spine)[0, 1]
    assert (d_col < 0) == (left_is_at == "smaller")
    # the Patient Orientation written to DICOM says the same thing
    assert c.patient_orientation()[0] == ("R" if left_is_at == "smaller" else "L")


def test_lateral_and_obliques_orientation() -> None:
    lat = _carm(90.0)  # detector at the patient's left
    assert lat.patient_orientation() == ("P", "F")
    front = np.array(ISO) + [0, -30.0, 0]
    assert lat.project(front)[0, 1] < lat.project(np.array(ISO))[0, 1]  # anterior on the left
    clo = _carm(-135.0)  # prone, detector turned to the patient's right
    assert np.allclose(clo.axes[0], np.array([-1.0, 1.0, 0.0]) / np.sqrt(2))


def test_magnification_and_projection_matrix() -> None:
    c = _carm(-135.0, 12.0)
    assert np.allclose(c.project(np.array(ISO)), [[50.0, 50.0]])
    assert c.magnification == pytest.approx(1000 / 700)
    # two points at the isocentre's depth, 40 mm apart in the image plane
    d, u, v = c.axes
    a, b = np.array(ISO) + 20 * u, np.array(ISO) - 20 * u
    dist_px = np.linalg.norm(c.project(a) - c.project(b))
    assert dist_px * 0.5 == pytest.approx(40.0 * 1000 / 700)
    # P @ [X, 1] is proportional to [row, col, 1] for any point
    p = np.array([3.0, 7.0, 280.0])
    h = c.projection @ np.append(p, 1.0)
    assert np.allclose(h[:2] / h[2], c.project(p)[0])
    assert h[2] == pytest.approx((p - c.source) @ d)
    rot = np.stack([d, u, v])
    assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    # seen from the detector looking at the source (-d) with the head up (-v), the
    # viewer's right is (-d) x (-v) = d x v: the image columns
    assert np.allclose(np.cross(d, v), u)


def test_bad_geometry_is_refused() -> None:
    with pytest.raises(ValueError):
        CArm(0, 0, ISO, sid=500, sod=600)
    with pytest.raises(ValueError):
        CArm(200, 0, ISO)


def test_protocol_views_become_dicom_angles() -> None:
    mild = get_protocol("mild")
    assert primary_angle(mild.view("ap"), "prone") == 180.0
    assert primary_angle(mild.view("ap"), "supine") == 0.0
    assert primary_angle(mild.view("lateral"), "prone") == 90.0
    # contralateral oblique for a left approach: detector turned to the right
    assert primary_angle(mild.view("clo-left"), "prone") == -135.0
    assert primary_angle(mild.view("clo-right"), "prone") == 135.0
    assert primary_angle(resolve_view("clo-left:30"), "prone") == -150.0
    assert primary_angle(resolve_view("oblique-left:20"), "supine") == 20.0
    for bad in ("nope", "clo-left:abc", "ap:20", "clo-left:120"):
        with pytest.raises(FlannotError):
            resolve_view(bad)


@pytest.mark.parametrize("primary", [180.0, -135.0, 90.0, 0.0])
def test_squared_endplates_make_the_central_ray_parallel_to_them(primary: float) -> None:
    axis = np.array([0.05, 0.35, 0.94])  # lordotic tilt plus a little scoliosis
    axis /= np.linalg.norm(axis)
    s = squaring_secondary(primary, axis)
    d = _carm(primary, s).axes[0]
    assert abs(d @ axis) < 1e-9
    # a vertical spine needs no tilt; AP of a lordotic one tilts caudally (prone)
    assert squaring_secondary(primary, np.array([0, 0, 1.0])) == pytest.approx(0.0)
    p, s2 = ideal_angles(get_protocol("mild").view("ap"), axis, "prone")
    assert (p, s2 < 0) == (180.0, True)
