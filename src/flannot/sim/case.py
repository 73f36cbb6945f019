"""A simulated case: image, answer key and truth from one C-arm shot (SPEC §15 output).

:func:`simulate` renders a CT (with its vertebra labelmap) at a named view or at
given positioner angles and returns the case folder's files as bytes
(``image.dcm``, ``annotations.json``, ``truth.json``), so that batch runs write
the same bytes however they ran. The answer key is projected from 3D with the
very matrix that made the image (``image.projection`` in the case file).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from flannot.errors import FlannotError
from flannot.sim.geometry import DEFAULT_DETECTOR, DEFAULT_PIXEL, DEFAULT_SID, DEFAULT_SOD, CArm

CREATED = "2026-11-21T10:00:00Z"
AUTHOR = "flannot sim"
FILES = ("image.dcm", "annotations.json", "truth.json")
#: largest detector accepted (pixels per side)
MAX_DETECTOR = 4096


@dataclass
class SimRequest:
    """Everything ``flannot sim`` takes (SPEC §8, §15)."""

    ct: str
    labels: str | None = None
    label_map: str = "totalsegmentator"
    view: str | None = None
    angles: tuple[float, float] | None = None
    target: str | None = None
    sid: float = DEFAULT_SID
    sod: float = DEFAULT_SOD
    detector: int = DEFAULT_DETECTOR
    pixel: float = DEFAULT_PIXEL
    kvp: float = 80.0
    seed: int = 0
    position: str = "prone"
    case_id: str | None = None
    protocol: str = "mild"
    quanta: float | None = None

    def check(self) -> None:
        """Refuse impossible settings with one line (exit 2 on the command line)."""
        if (self.view is None) == (self.angles is None):
            raise FlannotError(
                "give either a view (--view NAME[:DEG]) or --angles PRIMARY,SECONDARY"
            )
        if not 1 <= int(self.detector) <= MAX_DETECTOR:
            raise FlannotError(f"--detector must be 1-{MAX_DETECTOR} pixels, got {self.detector}")
        if not (0 < self.pixel <= 5):
            raise FlannotError(f"--pixel must be a pitch in mm (0-5], got {self.pixel}")
        if not (0 < self.sod < self.sid <= 5000):
            raise FlannotError(f"need 0 < SOD < SID <= 5000 mm, got SOD {self.sod}, SID {self.sid}")
        if not (40 <= self.kvp <= 150):
            raise FlannotError(f"--kvp must be 40-150 kV, got {self.kvp}")
        if self.angles is not None:
            p, s = self.angles
            if not (-180 <= p <= 180 and -90 <= s <= 90):
                raise FlannotError(
                    f"--angles {p},{s}: the primary angle runs -180..180 and the secondary "
                    "-90..90 degrees (DICOM PS3.3 C.8.7.5.1.2)"
                )


@dataclass
class SimCase:
    """The files of one simulated case, in memory."""

    files: dict[str, bytes]
    annotations: dict[str, Any]
    truth: dict[str, Any]
    pixels: NDArray[np.uint16]


def _r(x: float, nd: int = 3) -> float:
    return float(round(float(x), nd))


def _pt(p: NDArray, nd: int = 3) -> list[float]:
    return [_r(v, nd) for v in np.asarray(p, float).ravel()]


def _content_key(req: SimRequest, hu: NDArray, affine: NDArray, labels: NDArray | None) -> str:
    h = hashlib.sha256()
    h.update(Path(req.ct).name.encode())
    h.update(repr(tuple(hu.shape)).encode())
    h.update(np.round(np.asarray(affine, float), 4).tobytes())
    h.update(np.ascontiguousarray(hu[::7, ::7, ::7], dtype=np.float32).tobytes())
    if labels is not None:
        h.update(np.ascontiguousarray(labels[::3, ::3, ::3], dtype=np.int32).tobytes())
    settings = {k: v for k, v in asdict(req).items() if k not in ("ct", "labels")}
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


def simulate(req: SimRequest, *, prepared: Any = None) -> SimCase:
    """Render one case (see the module docstring).

    Parameters
    ----------
    req
        The request.
    prepared
        Optional ``(ct, labels, PreparedCT)`` already loaded for this CT and kVp
        (batch runs reuse it across views).
    """
    from flannot.sim import anatomy, views
    from flannot.sim.imaging import Exposure
    from flannot.sim.render import prepare, shot
    from flannot.sim.volume import label_convention, load_ct, load_labels
    from flannot.sim.xa import ShotInfo, build_xa, dataset_bytes

    req.check()
    if prepared is not None:
        ct, labels, prep = prepared
    else:
        ct = load_ct(req.ct)
        labels = load_labels(req.labels, ct) if req.labels else None
        prep = prepare(ct, req.kvp)
    convention = label_convention(req.label_map) if labels is not None else {}
    verts = anatomy.find_vertebrae(labels, ct, convention) if labels is not None else []
    by_level = {v.level: v for v in verts}

    target = None
    if req.target:
        from flannot.model.levels import normalize_level

        try:
            level = normalize_level(req.target)
        except ValueError:
            level = str(req.target).upper()
        if labels is None:
            raise FlannotError(f"--target {req.target} needs a labelmap (--labels)")
        if level not in by_level:
            have = ", ".join(v.level for v in verts) or "none"
            raise FlannotError(
                f"--target {req.target}: no such vertebra in the labelmap (labelled: {have})",
                req.labels,
            )
        target = by_level[level]
    iso = target.centroid if target is not None else ct.centre()
    nearest: Any = target
    if target is None and verts:  # square the endplates of the vertebra at the isocentre
        nearest = min(verts, key=lambda v: float(np.linalg.norm(v.centroid - iso)))

    view = None
    if req.view is not None:
        view = views.resolve_view(req.view, req.protocol)
        primary, secondary = views.ideal_angles(
            view, nearest.axis if nearest is not None else None, req.position
        )
        label = view.name.upper()
    else:
        primary, secondary = (float(a) for a in req.angles)  # type: ignore[union-attr]
        views.check_position(req.position)
        label = f"P{primary:+.0f} S{secondary:+.0f}"
    # the header holds 2 decimals: the geometry uses exactly what the header says
    primary, secondary = round(primary, 2), round(secondary, 2)
    carm = CArm(
        primary,
        secondary,
        (float(iso[0]), float(iso[1]), float(iso[2])),
        float(req.sid),
        float(req.sod),
        int(req.detector),
        int(req.detector),
        float(req.pixel),
    )
    exposure = Exposure() if req.quanta is None else Exposure(quanta=float(req.quanta))
    pixels, info = shot(prep, carm, seed=req.seed, exposure=exposure)

    key = _content_key(req, np.asarray(ct.hu), ct.affine, labels)
    case_id = (
        req.case_id or f"sim-{Path(req.ct).name.split('.')[0]}-{label.lower().replace(' ', '')}"
    )
    description = (
        f"flannot virtual C-arm: {label}, primary {primary:.1f} secondary {secondary:.1f} deg, "
        f"{req.position}, {req.kvp:g} kVp, seed {req.seed}"
    )
    shot_info = ShotInfo(
        key=key,
        case_id=case_id,
        description=description,
        primary_deg=primary,
        secondary_deg=secondary,
        patient_orientation=carm.patient_orientation(),
        patient_position=views.POSITIONS[req.position],
        pixel_mm=carm.pixel_mm,
        sid=carm.sid,
        sod=carm.sod,
        kvp=req.kvp,
        window=info["window"],
        bits=exposure.bits,
        focal_spot_mm=exposure.focal_spot_mm,
    )
    ds = build_xa(pixels, shot_info)
    dicom = dataset_bytes(ds)

    spacing = carm.pixel_mm / carm.magnification
    annotations, vert_truth = _answer_key(carm, verts, labels, ct, req.protocol)
    case = {
        "flannot_version": 1,
        "case_id": case_id,
        "protocol": req.protocol,
        "image": {
            "path": "image.dcm",
            "sop_instance_uid": str(ds.SOPInstanceUID),
            "frames": 1,
            "spacing_mm": [_r(spacing, 6), _r(spacing, 6)],
            "calibration": "magnification_corrected",
            "rows": carm.rows,
            "columns": carm.cols,
            "projection": [[float(f"{x:.10g}") for x in row] for row in carm.projection],
        },
        "annotations": annotations,
        "notes": _notes(label, primary, secondary, req, target),
        "created": CREATED,
        "modified": CREATED,
        "x_sim": {
            "view": req.view,
            "primary_deg": _r(primary, 2),
            "secondary_deg": _r(secondary, 2),
            "position": req.position,
            "target": target.level if target is not None else None,
            "seed": int(req.seed),
            "source_ct": Path(req.ct).name,
        },
    }
    from flannot.sim.attenuation import effective_kev, mu_bone, mu_water

    kev = effective_kev(req.kvp)
    truth = {
        "case_id": case_id,
        "seed": int(req.seed),
        "source_ct": Path(req.ct).name,
        "source_labels": Path(req.labels).name if req.labels else None,
        "label_map": req.label_map if labels is not None else None,
        "units": "patient LPS mm (DICOM), detector [row, col] pixels",
        "geometry": {
            "primary_deg": _r(primary, 4),
            "secondary_deg": _r(secondary, 4),
            "patient_position": views.POSITIONS[req.position],
            "isocentre_lps": _pt(iso),
            "sid_mm": carm.sid,
            "sod_mm": carm.sod,
            "magnification_isocentre": _r(carm.magnification, 6),
            "detector": [carm.rows, carm.cols],
            "pixel_mm": carm.pixel_mm,
            "source_lps": _pt(carm.source),
            "detector_centre_lps": _pt(carm.detector_centre),
            "towards_detector": _pt(carm.axes[0], 9),
            "column_direction": _pt(carm.axes[1], 9),
            "row_direction": _pt(carm.axes[2], 9),
            "patient_orientation": list(carm.patient_orientation()),
            "projection": cast(dict, case["image"])["projection"],
        },
        "physics": {
            "kvp": req.kvp,
            "effective_kev": _r(kev, 2),
            "mu_water_per_mm": _r(mu_water(kev), 6),
            "mu_bone_per_mm": _r(mu_bone(kev), 6),
            **{k: v for k, v in asdict(exposure).items()},
        },
        "vertebrae": vert_truth,
    }
    files = {
        "image.dcm": dicom,
        "annotations.json": (json.dumps(case, indent=2, ensure_ascii=False) + "\n").encode(),
        "truth.json": (json.dumps(truth, indent=2, ensure_ascii=False) + "\n").encode(),
    }
    return SimCase(files, case, truth, pixels)


def _notes(label: str, primary: float, secondary: float, req: SimRequest, target: Any) -> str:
    where = f" centred on {target.level}" if target is not None else ""
    return (
        f"Simulated fluoroscopy ({label}{where}): DICOM positioner primary {primary:.1f}, "
        f"secondary {secondary:.1f} degrees, patient {req.position}. Reference: projected "
        "vertebra centroids (with the outline of the projected vertebra in x_outline), the "
        "spinous process tips and the pedicles where the labelmap allows."
    )


def _answer_key(
    carm: CArm, verts: list, labels: NDArray | None, ct: Any, protocol: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from flannot.protocols import get_protocol

    proto = get_protocol(protocol)
    levels = set(proto.vertebra_levels)
    # the landmarks the protocol declares get annotations of their own (drawn, scored)
    has_spinous = proto.find_type("spinous_process") is not None
    has_pedicle = proto.find_type("pedicle") is not None
    anns: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []

    def add(ann_id: str, type_: str, level: str, points: list, note: str, **extra: Any) -> None:
        ann: dict[str, Any] = {"id": ann_id, "type": type_, "level": level, "frame": 0}
        ann["geometry"] = {"kind": "point", "points": points}
        ann.update(extra)
        ann["note"] = note
        ann["author"] = AUTHOR
        ann["created"] = CREATED
        ann["modified"] = CREATED
        anns.append(ann)

    def inside(rc: NDArray) -> bool:
        return bool(-0.5 <= rc[0] <= carm.rows - 0.5 and -0.5 <= rc[1] <= carm.cols - 0.5)

    for v in verts:
        rc = carm.project(v.centroid)[0]
        outline = projected_outline(carm, labels, ct, v) if labels is not None else []
        row: dict[str, Any] = {
            "level": v.level,
            "label": v.label,
            "voxels": v.voxels,
            "centroid_lps": _pt(v.centroid),
            "centroid_rc": _pt(rc),
            "magnification": _r(carm.magnification_at(v.centroid)[0], 6),
            "axis_lps": _pt(v.axis, 6),
            "in_image": inside(rc),
            "outline_points": len(outline),
        }
        extra: dict[str, Any] = {}
        if outline:
            extra["x_outline"] = outline
        if v.pedicles:
            ped = {s: _pt(carm.project(p)[0]) for s, p in sorted(v.pedicles.items())}
            extra["x_pedicles"] = ped
            row["pedicles_lps"] = {s: _pt(p) for s, p in sorted(v.pedicles.items())}
            row["pedicles_rc"] = ped
        if v.spinous_tip is not None:
            tip = _pt(carm.project(v.spinous_tip)[0])
            row["spinous_tip_lps"] = _pt(v.spinous_tip)
            row["spinous_tip_rc"] = tip
            extra["x_spinous_tip"] = tip
        truth.append(row)
        if v.level not in levels or not inside(rc):
            continue
        add(
            f"v-{v.level}",
            "vertebra",
            v.level,
            [_pt(rc)],
            f"{v.level}: projected centroid of the labelled vertebra",
            **extra,
        )
        if has_spinous and "x_spinous_tip" in extra and inside(np.asarray(extra["x_spinous_tip"])):
            add(
                f"sp-{v.level}",
                "spinous_process",
                v.level,
                [extra["x_spinous_tip"]],
                f"{v.level}: projected tip of the spinous process",
            )
        for side, point in sorted(extra.get("x_pedicles", {}).items()) if has_pedicle else ():
            if inside(np.asarray(point)):
                add(
                    f"ped-{v.level}-{side}",
                    "pedicle",
                    v.level,
                    [point],
                    f"{v.level} {side} pedicle: projected centre",
                    side=side,
                )
    return anns, truth


def projected_outline(carm: CArm, labels: NDArray, ct: Any, v: Any) -> list[list[float]]:
    """Outline polygon ``[[row, col], ...]`` of the vertebra's projected mask.

    The label's indicator is forward-projected with the same rays as the image over
    the detector region its bounding box covers; the silhouette is where the ray
    crosses at least 0.5 mm of the vertebra; its largest contour, simplified to
    0.5 px, is the outline.
    """
    from skimage import measure

    from flannot.sim.render import integrate

    box = tuple(
        slice(max(s.start - 1, 0), min(s.stop + 1, n))
        for s, n in zip(v.bbox, labels.shape, strict=False)
    )
    sub = (labels[box] == v.label).astype(np.float32)
    if min(sub.shape) < 2:
        return []
    shift = np.eye(4)
    shift[:3, 3] = [s.start for s in box]
    aff = ct.affine @ shift
    corners = np.array(
        [
            [i, j, k]
            for i in (0, sub.shape[0] - 1)
            for j in (0, sub.shape[1] - 1)
            for k in (0, sub.shape[2] - 1)
        ],
        float,
    )
    rc = carm.project(corners @ aff[:3, :3].T + aff[:3, 3])
    r0 = int(np.clip(np.floor(rc[:, 0].min()) - 2, 0, carm.rows))
    r1 = int(np.clip(np.ceil(rc[:, 0].max()) + 3, 0, carm.rows))
    c0 = int(np.clip(np.floor(rc[:, 1].min()) - 2, 0, carm.cols))
    c1 = int(np.clip(np.ceil(rc[:, 1].max()) + 3, 0, carm.cols))
    if r1 - r0 < 2 or c1 - c0 < 2:
        return []
    step = 0.5 * float(np.linalg.norm(ct.affine[:3, :3], axis=0).min())
    path = integrate(sub, aff, carm, step, roi=(r0, r1, c0, c1))
    mask = path >= 0.5
    if not mask.any():
        return []
    padded = np.pad(mask, 1).astype(float)
    contours = measure.find_contours(padded, 0.5)
    best = max(contours, key=lambda c: _area(c))
    poly = measure.approximate_polygon(best, tolerance=0.5)
    if len(poly) > 1 and np.allclose(poly[0], poly[-1]):
        poly = poly[:-1]
    poly = poly + [r0 - 1, c0 - 1]
    return [[_r(r, 2), _r(c, 2)] for r, c in poly]


def _area(c: NDArray) -> float:
    x, y = c[:, 0], c[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def write_case(files: dict[str, bytes], out_dir: str | Path) -> Path:
    """Write a case's files atomically into ``out_dir`` (created)."""
    from flannot.atomic import atomic_write_bytes

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        atomic_write_bytes(out / name, files[name])
    return out
