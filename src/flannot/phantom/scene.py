"""Phantom v2 through the virtual C-arm: views, the portal cine and the answer key.

A :class:`Scene` is one patient's volume (:mod:`flannot.phantom.volume`) converted
to attenuation once (:func:`flannot.sim.render.prepare`); :func:`view_carm` places
the C-arm for a protocol view at the target interspace (AP and lateral with the
endplates squared; the contralateral oblique turned until the beam runs along the
target-side lamina, which is what the operator does to see the lamina and the VILL
crisply); :func:`render` makes the image with the simulator's physics; the 6 G
portal of a cine is added analytically (a steel tube's chord length on every ray).

The answer key is the 3D model projected with the same C-arm matrix: landmark
points (vertebra centres and corners, pedicles, spinous tips), region outlines
(the silhouette of the labelled voxels, traced at half a millimetre of path
length), lines (the epidural contrast and the ventral interlaminar line as the
tangent curves of the dural sac and of the laminae's ventral faces) and the portal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from skimage import measure

from flannot.phantom.volume import SIDES, PatientParams, PhantomVolume, Vertebra, build_volume
from flannot.sim.geometry import CArm
from flannot.sim.imaging import Exposure, body_mask, detect, display
from flannot.sim.render import EXTEND_MM, PreparedCT, integrate, prepare
from flannot.sim.volume import CTVolume

Array = NDArray[Any]

KVP = 80.0
#: 6 G MILD portal: 5.1 mm outer diameter (SPEC intro), steel wall
PORTAL_RADIUS = 2.55
PORTAL_WALL = 0.45
MU_STEEL = 2.0  # 1/mm: saturating, as steel is in fluoroscopy
AUTHOR = "flannot phantom v2 (reference)"
CREATED = "2026-11-21T10:00:00Z"
DETECTOR = 512


@dataclass
class Scene:
    """A patient ready for the C-arm."""

    params: PatientParams
    vol: PhantomVolume
    prep: PreparedCT
    boxes: list[Any] = field(default_factory=list)

    @property
    def anatomy(self) -> Any:
        return self.vol.anatomy

    def vert(self, level: str) -> Vertebra:
        v: Vertebra = self.vol.anatomy.verts[level]
        return v


def make_scene(params: PatientParams, spacing: float = 1.0) -> Scene:
    """Build and prepare ``params``'s phantom."""
    vol = build_volume(params, spacing)
    prep = prepare(CTVolume(vol.hu, vol.affine, f"phantom-v2-{params.seed}"), KVP)
    boxes = ndimage.find_objects(vol.labels.astype(np.int32))
    return Scene(params, vol, prep, list(boxes))


def exposure_for(params: PatientParams) -> Exposure:
    """Image chain: an obese patient scatters more and gets fewer quanta (noisier)."""
    if params.habitus == "obese":
        return Exposure(quanta=700.0, spr=1.1)
    return Exposure()


# ----------------------------------------------------------------------------- geometry
def target_pair(scene: Scene) -> tuple[Vertebra, Vertebra]:
    up, lo = scene.params.target.split("-")
    return scene.vert(up), scene.vert(lo)


def isocentre(scene: Scene) -> Array:
    """The posterior disc margin at the target interspace, between the canal and body."""
    v, w = target_pair(scene)
    return 0.5 * (v.world([0, v.b + 6, -v.h]) + w.world([0, w.b + 6, w.h]))


def angles_for_direction(d: Array) -> tuple[float, float]:
    """DICOM positioner (primary, secondary) whose source→detector direction is ``d``.

    Inverts ``d = cos(s)(cos(p) A + sin(p) L) + sin(s) H`` (PS3.3 C.8.7.5.1.2).
    """
    d = np.asarray(d, float) / np.linalg.norm(d)
    s = math.degrees(math.asin(float(np.clip(d[2], -1, 1))))
    p = math.degrees(math.atan2(float(d[0]), float(-d[1])))
    return p, s


def view_direction(scene: Scene, view: str) -> Array:
    """Source→detector direction of a view at the target (prone patient, detector up).

    ``ap``: along the target vertebrae's mean posterior axis (endplates squared);
    ``lateral``: along their mean left axis (detector on the left); ``clo-left`` /
    ``clo-right``: along the target-side lamina of the upper vertebra, from its
    pedicle end toward the spinous process, so the lamina is seen edge-on.
    """
    v, w = target_pair(scene)
    if view == "ap":
        d = v.rot[:, 1] + w.rot[:, 1]
    elif view == "lateral":
        d = v.rot[:, 0] + w.rot[:, 0]
    elif view in ("clo-left", "clo-right"):
        side = view.split("-")[1]
        lam = scene.anatomy.laminae[(v.level, side)]
        along = lam.axes[:, 0].copy()
        along[2] = 0.0  # in the vertebra's axial plane: the endplates stay square
        d = v.rot @ along
    else:
        raise ValueError(f"unknown view {view!r}")
    return np.asarray(d / np.linalg.norm(d), float)


def view_carm(scene: Scene, view: str, size: int = DETECTOR) -> CArm:
    """The C-arm of ``view`` (``ap``, ``lateral``, ``clo-left``, ``clo-right``)."""
    p, s = angles_for_direction(view_direction(scene, view))
    # the obliques centre on the target lamina: its rays there run along the lamina
    iso = dock_point(scene)[0] if view.startswith("clo") else isocentre(scene)
    pixel = 0.6 * DETECTOR / size
    return CArm(
        round(p, 3),
        round(s, 3),
        (float(iso[0]), float(iso[1]), float(iso[2])),
        rows=size,
        cols=size,
        pixel_mm=pixel,
    )


# ----------------------------------------------------------------------------- images
def line_integrals(scene: Scene, carm: CArm) -> Array:
    """``∫ mu dl`` of the patient for every pixel of ``carm``."""
    step = 0.75 * float(scene.prep.spacing.min())
    return np.asarray(
        integrate(scene.prep.mu, scene.prep.affine, carm, step, extend_mm=EXTEND_MM), np.float64
    )


def portal_chords(carm: CArm, entry: Array, tip: Array) -> Array:
    """Steel path length (mm) of a 6 G portal tube from ``entry`` to ``tip`` on every ray."""
    q0, du, dv = carm.pixel_positions()
    rr, cc = np.mgrid[0 : carm.rows, 0 : carm.cols]
    pix = q0 + cc[..., None] * du + rr[..., None] * dv
    src = carm.source
    ray = pix - src
    out = np.zeros((carm.rows, carm.cols))
    for radius, sign in ((PORTAL_RADIUS, 1.0), (PORTAL_RADIUS - PORTAL_WALL, -1.0)):
        out += sign * _cylinder_chord(src, ray, entry, tip, radius)
    return np.maximum(out, 0.0)


def _cylinder_chord(src: Array, ray: Array, p0: Array, p1: Array, r: float) -> Array:
    axis = p1 - p0
    length = float(np.linalg.norm(axis))
    a = axis / length
    w = src - p0
    d_perp = ray - (ray @ a)[..., None] * a
    w_perp = w - (w @ a) * a
    qa = np.einsum("...i,...i", d_perp, d_perp)
    qb = 2 * (d_perp @ w_perp)
    qc = float(w_perp @ w_perp) - r * r
    disc = qb * qb - 4 * qa * qc
    ok = (disc > 0) & (qa > 1e-12)
    sq = np.sqrt(np.where(ok, disc, 0.0))
    qa_safe = np.where(ok, qa, 1.0)
    t0, t1 = (-qb - sq) / (2 * qa_safe), (-qb + sq) / (2 * qa_safe)
    # clip to the slab between the end caps: 0 <= (src + t ray - p0)·a <= length
    da = ray @ a
    wa = float(w @ a)
    with np.errstate(divide="ignore", invalid="ignore"):
        s0 = np.where(np.abs(da) > 1e-12, (0 - wa) / da, -np.inf)
        s1 = np.where(np.abs(da) > 1e-12, (length - wa) / da, np.inf)
    lo, hi = np.minimum(s0, s1), np.maximum(s0, s1)
    t0, t1 = np.maximum(t0, lo), np.minimum(t1, hi)
    chord = np.where(ok & (t1 > t0), (t1 - t0) * np.linalg.norm(ray, axis=-1), 0.0)
    return np.asarray(chord, float)


def expose(
    scene: Scene, carm: CArm, p: Array, seed: int, exposure: Exposure
) -> tuple[NDArray[np.uint16], tuple[float, float]]:
    """Line integrals → stored 12-bit MONOCHROME2 pixels (the simulator's chain)."""
    rng = np.random.default_rng(int(seed))
    body = body_mask(p)
    log_img = detect(
        p,
        rng,
        exposure,
        pixel_mm=carm.pixel_mm,
        sid=carm.sid,
        magnification=carm.magnification,
        body=body,
    )
    return display(log_img, pixel_mm=carm.pixel_mm, exposure=exposure, body=body)


# ----------------------------------------------------------------------------- projection
def silhouette(
    scene: Scene, names: tuple[str, ...], carm: CArm, keep: Any = None, edge_on: bool = False
) -> list[list[float]]:
    """Outline ``[[row, col], ...]`` of the labelled voxels ``names`` as the C-arm sees them.

    The indicator volume is forward-projected with the image's rays over the
    detector region it covers; the outline is the largest contour at 0.5 mm of path
    length, simplified to 0.3 px. ``keep(lps) -> bool`` restricts the voxels (a slab).
    ``edge_on``: a plate seen along its plane (a lamina in its oblique) is traced at half
    its longest path instead, where a voxelised face that the rays graze really is.
    """
    ids = scene.vol.ids(*names)
    boxes = [scene.boxes[i - 1] for i in ids if i - 1 < len(scene.boxes) and scene.boxes[i - 1]]
    if not boxes:
        return []
    box = tuple(
        slice(
            max(min(b[a].start for b in boxes) - 1, 0),
            min(max(b[a].stop for b in boxes) + 1, scene.vol.labels.shape[a]),
        )
        for a in range(3)
    )
    sub = np.isin(scene.vol.labels[box], ids)
    shift = np.eye(4)
    shift[:3, 3] = [s.start for s in box]
    aff = scene.vol.affine @ shift
    if keep is not None:
        idx = np.argwhere(sub)
        lps = idx @ aff[:3, :3].T + aff[:3, 3]
        ok = keep(lps)
        sub[tuple(idx[~ok].T)] = False
    if not sub.any() or min(sub.shape) < 2:
        return []
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
    if r1 - r0 < 3 or c1 - c0 < 3:
        return []
    step = 0.4 * float(np.linalg.norm(aff[:3, :3], axis=0).min())
    path = np.asarray(integrate(sub.astype(np.float32), aff, carm, step, roi=(r0, r1, c0, c1)))
    level = max(0.5, 0.5 * float(np.percentile(path, 99.5))) if edge_on else 0.5
    return _outline(path.astype(float), level, (r0, c0))


def _outline(img: Array, level: float, origin: tuple[int, int]) -> list[list[float]]:
    padded = np.pad(img, 1)
    contours = measure.find_contours(padded, level)
    if not contours:
        return []
    best = max(contours, key=_area)
    if _area(best) < 4.0:
        return []
    poly = measure.approximate_polygon(best, tolerance=0.3)
    if len(poly) > 1 and np.allclose(poly[0], poly[-1]):
        poly = poly[:-1]
    poly = poly + [origin[0] - 1, origin[1] - 1]
    return [[round(float(r), 2), round(float(c), 2)] for r, c in poly]


def _area(c: Array) -> float:
    x, y = c[:, 0], c[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))


def dock_point(scene: Scene) -> tuple[Array, Array]:
    """Where the portal docks (LPS) and the unit direction it arrives along.

    The dorsal surface of the target-side lamina of the upper vertebra, toward its
    caudal edge and medial of the facet; the portal arrives from dorsal, lateral and
    caudal, in the plane the contralateral oblique shows.
    """
    p = scene.params
    v, _ = target_pair(scene)
    lam = scene.anatomy.laminae[(v.level, p.side)]
    along, normal, up = lam.axes[:, 0], lam.axes[:, 1], lam.axes[:, 2]
    local = lam.centre + along * 0.2 * lam.half[0] + normal * lam.half[1] - up * 0.5 * lam.half[2]
    gamma = math.radians(35.0)
    arrive = -(normal * math.cos(gamma) - up * math.sin(gamma))  # travelling direction
    return v.world(local), v.rot @ arrive


def contrast_line(scene: Scene, carm: CArm, interspace: str, side: str) -> Array:
    """The epidural contrast line (LPS points, cranial first) seen by ``carm``.

    The contrast coats the dural sac dorsally; seen in an oblique, the layer is
    tangent to the beam where the sac's outline is, on the ``side`` dorsolateral
    aspect: the line is that tangent curve, 1.2 mm outside the sac.
    """
    up, lo = interspace.split("-")
    v, w = scene.vert(up), scene.vert(lo)
    dc = scene.anatomy.dura_centre(v)
    a, b = 8.0 + 1.2, 5.6 + 1.2  # dural sac semi-axes + half the layer
    d_loc = v.rot.T @ carm.axes[0]
    bx, by = d_loc[0], d_loc[1]
    s = SIDES[side]
    t = math.atan2(-bx * b * s, by * a * s) if abs(by) > 1e-9 else math.pi / 2
    # choose the dorsal solution (+y)
    cands = [t, t + math.pi]
    pts2 = [(a * math.cos(c), b * math.sin(c)) for c in cands]
    x, y = max(pts2, key=lambda q: q[1] + 0.01 * s * q[0])
    z_top = v.h - 2.0
    z_bot = float(v.local(w.world([0, 0, 0.2 * w.h]))[2])
    zs = np.linspace(z_top, z_bot, 9)
    local = np.stack([np.full_like(zs, x), np.full_like(zs, dc[1] + y), zs], axis=1)
    return v.world(local)


def vill_line(scene: Scene, interspace: str, side: str) -> Array:
    """The ventral interlaminar line (LPS): along the ventral faces of the ``side``
    laminae of the interspace's two vertebrae, cranial first."""
    up, lo = interspace.split("-")
    out = []
    for level, fr in ((up, (0.6, -0.9)), (lo, (0.9, -0.2))):
        v = scene.vert(level)
        lam = scene.anatomy.laminae[(level, side)]
        along, normal, upv = lam.axes[:, 0], lam.axes[:, 1], lam.axes[:, 2]
        for f in fr:
            loc = lam.centre + along * 0.2 * lam.half[0] - normal * lam.half[1]
            out.append(v.world(loc + upv * f * lam.half[2]))
    return np.array(out)


# ----------------------------------------------------------------------------- answer key
class Key:
    """Collects annotations in image pixels, dropping any that leave the image."""

    def __init__(self, carm: CArm) -> None:
        self.carm = carm
        self.annotations: list[dict[str, Any]] = []

    def inside(self, pts: Any) -> bool:
        a = np.asarray(pts, float)
        if a.size == 0:
            return False
        return bool(
            (a[:, 0] >= -0.5).all()
            and (a[:, 0] <= self.carm.rows - 0.5).all()
            and (a[:, 1] >= -0.5).all()
            and (a[:, 1] <= self.carm.cols - 0.5).all()
        )

    def add(
        self,
        ann_id: str,
        type_: str,
        kind: str,
        points: Any,
        note: str,
        *,
        frame: int = 0,
        **attrs: Any,
    ) -> bool:
        pts = [[round(float(r), 2), round(float(c), 2)] for r, c in np.asarray(points, float)]
        if not self.inside(pts):
            return False
        ann: dict[str, Any] = {"id": ann_id, "type": type_}
        ann.update({k: v for k, v in attrs.items() if v is not None})
        ann["frame"] = frame
        ann["geometry"] = {"kind": kind, "points": pts}
        ann["note"] = note
        ann["author"] = AUTHOR
        ann["created"] = CREATED
        ann["modified"] = CREATED
        self.annotations.append(ann)
        return True

    def project(self, lps: Any) -> Array:
        return self.carm.project(np.atleast_2d(np.asarray(lps, float)))


def answer_key(scene: Scene, carm: CArm, view: str, frame: int = 0) -> list[dict[str, Any]]:
    """The reference annotations of ``view`` (see the module docstring)."""
    p = scene.params
    key = Key(carm)
    an = scene.anatomy
    sfx = f"-f{frame}" if frame else ""
    lumbar = [lv for lv in p.levels]
    up_t, lo_t = p.target.split("-")
    for lvl in lumbar:
        v = scene.vert(lvl)
        if view == "lateral":
            key.add(
                f"v-{lvl}{sfx}",
                "vertebra",
                "polygon",
                key.project(v.corners()),
                f"{lvl}: body corners (SA, SP, IP, IA)",
                frame=frame,
                level=lvl,
            )
        else:
            key.add(
                f"v-{lvl}{sfx}",
                "vertebra",
                "point",
                key.project(v.centre),
                f"{lvl}: centre of the body",
                frame=frame,
                level=lvl,
            )
        if view in ("ap", "lateral") and lvl != "S1":
            tip = an.spinous_tip(lvl)
            key.add(
                f"sp-{lvl}{sfx}",
                "spinous_process",
                "point",
                key.project(tip),
                f"{lvl}: tip of the spinous process",
                frame=frame,
                level=lvl,
            )
        if view == "ap" or (view.startswith("clo") and lvl in (up_t, lo_t)):
            for side in ("left", "right"):
                if view.startswith("clo") and side != p.side:
                    continue
                ped = an.pedicle_centre(lvl, side)
                key.add(
                    f"ped-{lvl}-{side}{sfx}",
                    "pedicle",
                    "point",
                    key.project(ped),
                    f"{lvl} {side} pedicle",
                    frame=frame,
                    level=lvl,
                    side=side,
                )
    if view == "ap":
        for isp in p.interspaces:
            if isp.startswith("T12"):
                continue
            poly = interlaminar_window(scene, carm, isp)
            key.add(
                f"ils-{isp}{sfx}",
                "interlaminar_space",
                "polygon",
                poly,
                f"{isp}: the interlaminar window (ligament not covered by bone)",
                frame=frame,
                level=isp,
            )
    if view == "lateral":
        poly = canal_outline(scene, carm, p.target)
        key.add(
            f"sc-{p.target}{sfx}",
            "spinal_canal",
            "polygon",
            poly,
            f"{p.target}: the canal (sac, epidural space and ligament)",
            frame=frame,
            level=p.target,
        )
    if view.startswith("clo"):
        side = view.split("-")[1]
        for lvl in (up_t, lo_t):
            poly = silhouette(scene, (f"{lvl} lamina {side}",), carm, edge_on=True)
            key.add(
                f"lam-{lvl}-{side}{sfx}",
                "lamina",
                "polygon",
                poly,
                f"{lvl} {side} lamina, seen edge-on",
                frame=frame,
                level=lvl,
                side=side,
            )
            for part, word in (
                ("superior", "superior articular process"),
                ("inferior", "inferior articular process"),
            ):
                poly = silhouette(scene, (f"{lvl} {word} {side}",), carm)
                key.add(
                    f"ap-{lvl}-{side}-{part[:3]}{sfx}",
                    "articular_process",
                    "polygon",
                    poly,
                    f"{lvl} {side} {word}",
                    frame=frame,
                    level=lvl,
                    side=side,
                    part=part,
                )
        if (p.target, side) in p.lf_mm:
            poly = silhouette(scene, (f"ligamentum flavum {p.target} {side}",), carm)
            key.add(
                f"lf-{p.target}-{side}{sfx}",
                "ligamentum_flavum",
                "polygon",
                poly,
                f"{p.target} {side} ligamentum flavum (projection: thickness, no flag)",
                frame=frame,
                level=p.target,
                side=side,
            )
        if contrast_seen(scene, p.target, side):
            line = key.project(contrast_line(scene, carm, p.target, side))
            key.add(
                f"ec-{p.target}-{side}{sfx}",
                "epidural_contrast",
                "path",
                line,
                f"{p.target} {side}: dorsal epidural contrast",
                frame=frame,
                level=p.target,
                side=side,
            )
        line = key.project(vill_line(scene, p.target, side))
        key.add(
            f"vill-{p.target}-{side}{sfx}",
            "ventral_interlaminar_line",
            "path",
            line,
            f"{p.target} {side}: ventral interlaminar line",
            frame=frame,
            level=p.target,
            side=side,
        )
    return key.annotations


def contrast_seen(scene: Scene, interspace: str, side: str) -> bool:
    p = scene.params
    if p.epidurogram == "interrupted" and interspace == p.target and side == p.side:
        return False
    return interspace == p.target


def interlaminar_window(scene: Scene, carm: CArm, interspace: str) -> list[list[float]]:
    """AP interlaminar window: where the interspace's ligament is seen through no bone."""
    up, lo = interspace.split("-")
    names = tuple(f"ligamentum flavum {interspace} {s}" for s in SIDES)
    lf = _path_image(scene, names, carm)
    bone_names = tuple(
        f"{lvl} {part} {s}"
        for lvl in (up, lo)
        for s in SIDES
        for part in ("lamina", "inferior articular process", "superior articular process")
    ) + (f"{up} spinous process", f"{lo} spinous process")
    bone = _path_image(scene, bone_names, carm)
    win = (lf > 0.5) & (bone < 0.5)
    lab, n = ndimage.label(win)
    if n == 0:
        return []
    sizes = ndimage.sum(win, lab, range(1, n + 1))
    best = lab == (int(np.argmax(sizes)) + 1)
    return _outline(best.astype(float), 0.5, (0, 0))


def _path_image(scene: Scene, names: tuple[str, ...], carm: CArm) -> Array:
    ids = scene.vol.ids(*names)
    out = np.zeros((carm.rows, carm.cols))
    if not ids:
        return out
    boxes = [scene.boxes[i - 1] for i in ids if scene.boxes[i - 1]]
    box = tuple(
        slice(min(b[a].start for b in boxes), max(b[a].stop for b in boxes)) for a in range(3)
    )
    sub = np.isin(scene.vol.labels[box], ids).astype(np.float32)
    shift = np.eye(4)
    shift[:3, 3] = [s.start for s in box]
    if min(sub.shape) < 2:
        return out
    step = 0.5 * float(scene.vol.affine[0, 2])
    return np.asarray(integrate(sub, scene.vol.affine @ shift, carm, step), float)


def canal_outline(scene: Scene, carm: CArm, interspace: str) -> list[list[float]]:
    """Lateral-view canal at ``interspace``: sac, epidural space and ligament between the
    two vertebrae's mid-heights."""
    up, lo = interspace.split("-")
    v, w = scene.vert(up), scene.vert(lo)
    names = ("dura", "epidural fat", "epidural contrast") + tuple(
        f"ligamentum flavum {interspace} {s}" for s in SIDES
    )

    def slab(lps: Array) -> Array:
        z_up = (lps - v.centre) @ v.up
        z_lo = (lps - w.centre) @ w.up
        return (z_up < 0) & (z_lo > 0)

    return silhouette(scene, names, carm, keep=slab)
