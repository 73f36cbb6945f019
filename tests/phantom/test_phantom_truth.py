"""truth.json agrees with the annotation geometry (recomputed independently) and the anatomy."""

from __future__ import annotations

import math

import numpy as np
import pydicom
from scipy import ndimage
from skimage.draw import polygon as fill_polygon

SUPER = 4  # raster supersampling for the region measures


def _rows(truth: dict, **match) -> list[dict]:
    return [r for r in truth["measurements"] if all(r.get(k) == v for k, v in match.items())]


def _value(truth: dict, ann_id: str, name: str):
    (row,) = _rows(truth, annotation_id=ann_id, name=name)
    return row["value"]


def _anns(case: dict, type_: str) -> list[dict]:
    return [a for a in case["annotations"]["annotations"] if a["type"] == type_]


def _raster(points: np.ndarray) -> np.ndarray:
    """Fill a polygon on a SUPER× finer grid (pixel centres at (i + 0.5) / SUPER - 0.5)."""
    p = (np.asarray(points) + 0.5) * SUPER - 0.5
    lo = np.floor(p.min(axis=0)).astype(int) - 3
    p = p - lo
    shape = tuple(np.ceil(p.max(axis=0)).astype(int) + 4)
    mask = np.zeros(shape, bool)
    rr, cc = fill_polygon(p[:, 0], p[:, 1], shape)
    mask[rr, cc] = True
    return mask


def test_spacing_and_calibration_follow_the_header(cases: dict) -> None:
    for c in cases.values():
        ds = pydicom.dcmread(c["dir"] / "image.dcm", stop_before_pixels=True)
        ips = float(ds.ImagerPixelSpacing[0])
        if "EstimatedRadiographicMagnificationFactor" in ds:
            expected = ips / float(ds.EstimatedRadiographicMagnificationFactor)
            cal = "magnification_corrected"
        elif "DistanceSourceToPatient" in ds:
            expected = ips * float(ds.DistanceSourceToPatient) / float(ds.DistanceSourceToDetector)
            cal = "magnification_corrected"
        else:
            expected, cal = ips, "detector_plane"
        image = c["annotations"]["image"]
        assert image["calibration"] == c["truth"]["calibration"] == cal
        assert image["spacing_mm"] == c["truth"]["spacing_mm"]
        assert abs(image["spacing_mm"][0] - expected) < 1e-9
        assert (image["rows"], image["columns"]) == (ds.Rows, ds.Columns)
        assert image["sop_instance_uid"] == ds.SOPInstanceUID
        assert image["frames"] == int(ds.get("NumberOfFrames", 1))


def test_lf_max_thickness_is_the_inscribed_diameter(cases: dict) -> None:
    checked = 0
    for c in cases.values():
        s = c["truth"]["spacing_mm"][0]
        for a in _anns(c, "ligamentum_flavum"):
            mask = _raster(a["geometry"]["points"])
            edt = ndimage.distance_transform_edt(mask, sampling=s / SUPER)
            thickness = 2 * edt.max()
            assert abs(thickness - _value(c["truth"], a["id"], "max_thickness")) < 0.5
            checked += 1
    assert checked >= 4


def test_lf_normal_and_hypertrophic_values(cases: dict) -> None:
    normal = _rows(cases["clo-left"]["truth"], type="ligamentum_flavum", name="max_thickness")
    hyper = _rows(
        cases["clo-right-hypertrophic"]["truth"], type="ligamentum_flavum", name="max_thickness"
    )
    assert normal and all(abs(r["value"] - 3.1) < 1e-9 for r in normal)
    assert hyper and all(4.9 <= r["value"] <= 5.3 for r in hyper)
    assert all(r["side"] == "left" for r in normal) and all(r["side"] == "right" for r in hyper)
    # MIST's 2.5 mm is an MRI criterion: no projection carries a hypertrophic flag (SPEC §4)
    assert not [r for c in cases.values() for r in _rows(c["truth"], name="hypertrophic")]


def test_canal_min_width_across_the_long_axis(cases: dict) -> None:
    grades = {}
    for cid in ("lateral", "lateral-stenotic"):
        c = cases[cid]
        s = c["truth"]["spacing_mm"][0]
        for a in _anns(c, "spinal_canal"):
            pts = np.asarray(a["geometry"]["points"])
            # long axis from the principal component of the vertices
            centred = pts - pts.mean(axis=0)
            axis = np.linalg.eigh(centred.T @ centred)[1][:, -1]
            normal = np.array([-axis[1], axis[0]])
            along, across = centred @ axis, centred @ normal
            mask = _raster(np.stack([along, across], axis=1) + 50)  # axis along rows
            widths = mask.sum(axis=1) * s / SUPER
            rows = np.nonzero(widths)[0]
            keep = rows[(rows > rows[0] + 0.1 * len(rows)) & (rows < rows[-1] - 0.1 * len(rows))]
            truth = _value(c["truth"], a["id"], "min_width")
            assert abs(widths[keep].min() - truth) < 0.5
            grades[(cid, a["level"])] = truth
    # the widths that an axial CT/MR would grade normal / relative / absolute (Verbiest);
    # the projection itself carries no grade (SPEC §4)
    assert grades[("lateral", "L4-L5")] > 13
    assert 10 <= grades[("lateral-stenotic", "L3-L4")] <= 13
    assert grades[("lateral-stenotic", "L4-L5")] < 10
    assert not [r for c in cases.values() for r in _rows(c["truth"], name="stenosis_grade")]


def test_vertebra_heights_match_corners_and_morphometry(cases: dict) -> None:
    c = cases["lateral"]
    s = c["truth"]["spacing_mm"][0]
    for a in _anns(c, "vertebra"):
        p = np.asarray(a["geometry"]["points"]) * s
        ant = float(np.hypot(*(p[0] - p[3])))
        post = float(np.hypot(*(p[1] - p[2])))
        assert abs(ant - _value(c["truth"], a["id"], "anterior_height")) < 1e-3
        assert abs(post - _value(c["truth"], a["id"], "posterior_height")) < 1e-3
        # superior corners above inferior ones (rows grow downward), anterior on the left
        assert p[0][0] < p[3][0] and p[1][0] < p[2][0] and p[0][1] < p[1][1]
    assert _value(c["truth"], "v-L5", "anterior_height") == 30.0
    assert _value(c["truth"], "v-L5", "posterior_height") == 26.0
    centres = [np.mean(a["geometry"]["points"], axis=0)[0] for a in _anns(c, "vertebra")]
    assert centres == sorted(centres)  # cranio-caudal order


def test_interlaminar_window_detector_plane_magnified(cases: dict) -> None:
    c = cases["ap"]
    s = c["truth"]["spacing_mm"][0]
    widths = {}
    for a in _anns(c, "interlaminar_space"):
        p = np.asarray(a["geometry"]["points"]) * s
        w = p[:, 1].max() - p[:, 1].min()
        h = p[:, 0].max() - p[:, 0].min()
        assert abs(w - _value(c["truth"], a["id"], "width")) < 1e-3
        assert abs(h - _value(c["truth"], a["id"], "height")) < 1e-3
        widths[a["level"]] = w
    # detector-plane mm = patient mm × SID/SOD (1.25): 17 mm at L1-L2 … 31 mm at L5-S1
    assert abs(widths["L1-L2"] - 17 * 1.25) < 1e-3 and abs(widths["L5-S1"] - 31 * 1.25) < 1e-3
    assert list(widths.values()) == sorted(widths.values())


def _segment_distance(p: np.ndarray, line: np.ndarray) -> float:
    best = math.inf
    for a, b in zip(line[:-1], line[1:], strict=False):
        t = np.clip(np.dot(p - a, b - a) / np.dot(b - a, b - a), 0, 1)
        best = min(best, float(np.linalg.norm(p - (a + t * (b - a)))))
    return best


def test_cannula_length_angle_and_tip_to_contrast(cases: dict) -> None:
    c = cases["cine"]
    s = c["truth"]["spacing_mm"][0]
    contrast = {
        a["frame"]: np.asarray(a["geometry"]["points"]) * s for a in _anns(c, "epidural_contrast")
    }
    previous = math.inf
    for a in sorted(_anns(c, "cannula"), key=lambda a: a["frame"]):
        entry, tip = np.asarray(a["geometry"]["points"]) * s
        d = tip - entry
        assert abs(np.hypot(*d) - _value(c["truth"], a["id"], "length")) < 1e-3
        angle = math.degrees(math.atan2(abs(d[0]), abs(d[1])))
        assert abs(angle - _value(c["truth"], a["id"], "angle")) < 1e-3
        assert abs(angle - 40.0) < 0.05  # the portal is in the image plane at 40°
        dist = _value(c["truth"], a["id"], "tip_to_contrast")
        assert abs(dist - _segment_distance(tip, contrast[a["frame"]])) < 1e-3
        assert 0 < dist <= previous  # advancing, never across the contrast line
        previous = dist
        # the entry lies dorsal (toward larger columns) of the contrast line
        assert entry[1] > contrast[a["frame"]][:, 1].max()
    last = max(a["frame"] for a in _anns(c, "cannula"))
    assert _value(c["truth"], f"portal-f{last}", "tip_in_lf") is True
    assert _value(c["truth"], "portal-f0", "tip_in_lf") is False


def test_annotations_sit_on_the_rendered_anatomy(cases: dict) -> None:
    """The contrast line is bright in the image, the calibration sphere too."""
    c = cases["clo-left"]
    px = pydicom.dcmread(c["dir"] / "image.dcm").pixel_array.astype(float)
    for a in _anns(c, "epidural_contrast"):
        (r0, c0), (r1, c1), (r2, c2) = np.asarray(a["geometry"]["points"])
        col = round(c1)
        rows = slice(round(r0) + 3, round(r2) - 3)
        on_line = px[rows, col].mean()
        beside = px[rows, col - 12].mean()  # ~6 mm ventral: vertebral body or foramen
        assert on_line > beside + 200
    lat = cases["lateral"]
    img = pydicom.dcmread(lat["dir"] / "image.dcm").pixel_array.astype(float)
    (cal,) = _anns(lat, "calibration")
    (ra, ca), (rb, cb) = np.asarray(cal["geometry"]["points"])
    s = lat["truth"]["spacing_mm"][0]
    assert abs(np.hypot(rb - ra, cb - ca) * s - cal["length_mm"]) < 1e-3
    centre = img[round(ra) - 3 : round(ra) + 4, round((ca + cb) / 2) - 3 : round((ca + cb) / 2) + 4]
    assert centre.mean() > np.percentile(img, 95)


def test_redaction_covers_the_burned_in_text(cases: dict) -> None:
    for cid, c in cases.items():
        ds = pydicom.dcmread(c["dir"] / "image.dcm")
        red = _anns(c, "redaction")
        assert (ds.BurnedInAnnotation == "YES") == bool(red), cid
        if not red:
            continue
        px = ds.pixel_array
        ink = 0 if ds.PhotometricInterpretation == "MONOCHROME1" else 2**ds.BitsStored - 1
        text = px == ink
        (r0, c0), _, (r1, c1), _ = np.asarray(red[0]["geometry"]["points"]).astype(int)
        inside = text[r0 : r1 + 1, c0 : c1 + 1].sum()
        assert inside > 100 and inside >= 0.99 * text[: r1 + 20, : c1 + 20].sum()


def test_vertebra_corners_frame_bright_bodies_and_dark_discs(cases: dict) -> None:
    """In the lateral image each annotated body is brighter than the disc below it."""
    from skimage.draw import polygon2mask

    c = cases["lateral"]
    img = pydicom.dcmread(c["dir"] / "image.dcm").pixel_array.astype(float)
    verts = sorted(_anns(c, "vertebra"), key=lambda a: np.mean(a["geometry"]["points"], 0)[0])
    for upper, lower in zip(verts[:-1], verts[1:], strict=True):
        up, lo = np.asarray(upper["geometry"]["points"]), np.asarray(lower["geometry"]["points"])
        body = polygon2mask(img.shape, up)
        # SA, SP, IP, IA corners: the disc lies between upper IA-IP and lower SP-SA
        disc = polygon2mask(img.shape, np.array([up[3], up[2], lo[1], lo[0]]))
        assert body.sum() > 500 and disc.sum() > 50, upper["level"]
        assert img[body].mean() > img[disc].mean() + 100, upper["level"]


def test_flannot_reads_what_the_answer_key_assumes(cases: dict) -> None:
    """The reader and the phantom agree on calibration, spacing, size, frames and view."""
    import flannot

    for cid, c in cases.items():
        image = flannot.read_dicom(c["dir"] / "image.dcm")
        ref = c["annotations"]["image"]
        assert image.calibration == ref["calibration"] == c["truth"]["calibration"], cid
        assert image.spacing_mm == tuple(ref["spacing_mm"]), cid
        assert (image.n_frames, image.rows, image.cols) == (
            ref["frames"],
            ref["rows"],
            ref["columns"],
        ), cid
        assert image.view == c["truth"]["view"], cid
        assert image.inverted == (cid == "lateral-stenotic"), cid
