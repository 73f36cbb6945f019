"""Phantom v2: a seeded, labelled 3D lumbar spine (SPEC §10).

:func:`draw_patient` draws a patient's anatomy from a seed (lordosis, vertebral
size, ligamentum flavum thickness per level and side, transitional anatomy,
rotation and mild scoliosis, spondylolisthesis, habitus, the epidurogram, a
missing laminar shelf); :func:`build_volume` turns it into CT numbers and a
labelmap on a voxel grid, which the virtual C-arm (:mod:`flannot.sim`) renders.

Coordinates are DICOM patient LPS millimetres (+x left, +y posterior, +z head).
Each vertebra has a local frame (origin at the body centre; x left, y posterior,
z along its axis) tilted by the sagittal curve, the lateral lean and the axial
rotation; every structure is a superellipsoid (a box with rounded edges, an
ellipsoid, an elliptic cylinder) or a shell in such a frame, painted into the
grid in order (soft tissue, canal, ligament, contrast, bone), so each voxel
holds one label. The morphometry and its sources are in ``docs/phantom.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

Array = NDArray[Any]

# CT numbers (HU); docs/phantom.md gives the sources
HU_CORTEX = 1600.0
HU_TRABECULAR = 130.0  # elderly (MILD) patients: osteopenic cancellous bone
HU_BODY_CORTEX = 1000.0  # the thin shell of the body
HU_SACRUM_CORTEX = 850.0  # the sacrum's thin cortex
HU_POSTERIOR_CORE = 350.0  # cancellous core of the posterior elements
HU_SPINOUS_CORTEX = 900.0  # the spinous process's shell, seen end-on by the AP beam
SPINOUS_SHELL_MM = 0.8
HU_DISC = 85.0
HU_SOFT = 40.0
HU_MUSCLE = 55.0
HU_FAT = -95.0
HU_CSF = 10.0
HU_LF = 70.0
HU_GAS = -950.0
HU_BOWEL = 25.0
HU_SCAR = 60.0
HU_CONTRAST = {"good": 1500.0, "faint": 450.0, "interrupted": 1500.0}

SIDES = {"left": 1.0, "right": -1.0}


@dataclass(frozen=True)
class LevelSize:
    """Adult morphometry of one vertebra at size 1 (mm)."""

    name: str
    width: float  # body left-right
    depth: float  # body antero-posterior
    height: float  # body height
    ipd: float  # interpedicular distance (canal width)
    pedicle_w: float
    tp_len: float  # transverse process beyond the pedicle
    lamina_t: float
    disc_below: float


#: T12-S1 (L6 copies L5 when present); Panjabi et al. 1992, Zhou et al. 2000 (docs/phantom.md)
SIZES = {
    "T12": LevelSize("T12", 40, 29, 23, 20, 7, 6, 6.0, 7.5),
    "L1": LevelSize("L1", 42, 31, 25, 21, 7, 15, 6.0, 8.5),
    "L2": LevelSize("L2", 44, 32, 26, 22, 8, 19, 6.5, 9.0),
    "L3": LevelSize("L3", 46, 33, 27, 23, 9, 25, 7.0, 9.5),
    "L4": LevelSize("L4", 48, 35, 27, 24, 10, 21, 7.5, 10.0),
    "L5": LevelSize("L5", 50, 36, 27, 26, 12, 18, 8.0, 10.0),
    "L6": LevelSize("L6", 50, 36, 26, 26, 12, 16, 8.0, 9.0),
    "S1": LevelSize("S1", 48, 34, 26, 28, 14, 0, 7.0, 0.0),
}


@dataclass(frozen=True)
class PatientParams:
    """One phantom patient: everything :func:`build_volume` needs (mm, degrees).

    Attributes
    ----------
    seed
        The seed the parameters were drawn from (also seeds texture and gas).
    transitional
        ``"none"``, ``"l6"`` (six lumbar vertebrae) or ``"sacralised_l5"`` (L5 fused to
        the sacrum: no L5-S1 disc, wide transverse processes on the ala).
    lordosis_deg
        L1 superior endplate to S1 superior endplate (Cobb).
    sacral_slope_deg
        S1 superior endplate to the horizontal.
    size
        Scale of every vertebra.
    lf_mm
        Ligamentum flavum thickness per ``(interspace, side)``.
    lamina_angle_deg
        Angle of the laminae to the mid-sagittal plane (axial view).
    rotation_deg, scoliosis_deg
        Peak axial rotation and lateral lean of the lumbar vertebrae.
    slip
        ``(level, percent)``: that vertebra slipped forward on the one below, or ``None``.
    habitus
        ``"normal"`` or ``"obese"`` (thicker fat: more scatter and noise).
    epidurogram
        ``"good"``, ``"faint"`` or ``"interrupted"`` (no contrast at the target level and
        side).
    laminar_shelf
        ``False``: a previous laminotomy removed the target-side lamina of the target
        level's upper vertebra (no bone to dock on).
    target, side
        The MILD target interspace and side.
    """

    seed: int
    transitional: str = "none"
    lordosis_deg: float = 48.0
    sacral_slope_deg: float = 38.0
    size: float = 1.0
    lf_mm: dict[tuple[str, str], float] = field(default_factory=dict)
    lamina_angle_deg: float = 45.0
    rotation_deg: float = 0.0
    scoliosis_deg: float = 0.0
    slip: tuple[str, float] | None = None
    habitus: str = "normal"
    epidurogram: str = "good"
    laminar_shelf: bool = True
    target: str = "L4-L5"
    side: str = "left"

    @property
    def levels(self) -> tuple[str, ...]:
        """Vertebrae cranial to caudal."""
        lumbar = [f"L{n}" for n in range(1, 7 if self.transitional == "l6" else 6)]
        return ("T12", *lumbar, "S1")

    @property
    def interspaces(self) -> tuple[str, ...]:
        """Interspaces with a disc and ligamentum flavum (not a fused one)."""
        lv = self.levels
        out = [f"{a}-{b}" for a, b in zip(lv[:-1], lv[1:], strict=True)]
        if self.transitional == "sacralised_l5":
            out.remove("L5-S1")
        return tuple(out)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (for ``truth.json``)."""
        return {
            "seed": self.seed,
            "transitional": self.transitional,
            "lordosis_deg": round(self.lordosis_deg, 2),
            "sacral_slope_deg": round(self.sacral_slope_deg, 2),
            "size": round(self.size, 4),
            "lf_mm": {
                f"{k[0]} {k[1]}": round(v, 2)
                for k, v in sorted(self.lf_mm.items())
                if k[0] in self.interspaces
            },
            "lamina_angle_deg": round(self.lamina_angle_deg, 2),
            "rotation_deg": round(self.rotation_deg, 2),
            "scoliosis_deg": round(self.scoliosis_deg, 2),
            "slip": None if self.slip is None else [self.slip[0], round(self.slip[1], 2)],
            "habitus": self.habitus,
            "epidurogram": self.epidurogram,
            "laminar_shelf": self.laminar_shelf,
            "target": self.target,
            "side": self.side,
        }


def draw_patient(seed: int, **overrides: Any) -> PatientParams:
    """Draw a patient's anatomy from ``seed``; keyword arguments override any field.

    The same seed gives the same patient. About one patient in six has an L6 and one
    in six a sacralised L5; one in five a grade I slip at L4; one in four is obese.
    """
    rng = np.random.default_rng([int(seed), 20261121])
    u = rng.random(8)
    transitional = "l6" if u[0] < 1 / 6 else ("sacralised_l5" if u[0] < 1 / 3 else "none")
    base = PatientParams(seed=int(seed), transitional=transitional)
    # every interspace any transitional anatomy can have, so an override keeps them all
    lv = replace(base, transitional="l6").levels
    pairs = [*zip(lv[:-1], lv[1:], strict=True), ("L5", "S1")]
    lf: dict[tuple[str, str], float] = {}
    for a, b in pairs:
        caudal = min(lv.index(b), 6) / 6  # thicker LF low in the lumbar spine
        for side in ("left", "right"):
            lf[(f"{a}-{b}", side)] = float(np.clip(rng.normal(2.2 + 2.0 * caudal, 0.7), 1.5, 6.0))
    params = replace(
        base,
        lordosis_deg=float(35 + 25 * u[1]),
        sacral_slope_deg=float(32 + 12 * u[2]),
        size=float(0.9 + 0.22 * u[3]),
        lf_mm=lf,
        lamina_angle_deg=float(rng.uniform(40, 52)),
        rotation_deg=float(rng.uniform(-6, 6)),
        scoliosis_deg=float(rng.uniform(-5, 5)),
        slip=("L4", float(rng.uniform(10, 22))) if u[4] < 0.2 else None,
        habitus="obese" if u[5] < 0.25 else "normal",
        epidurogram=("faint" if u[6] < 0.2 else "good"),
    )
    if "lf_mm" in overrides:
        overrides = dict(overrides)
        lf = dict(params.lf_mm)
        lf.update(overrides.pop("lf_mm"))
        params = replace(params, lf_mm=lf)
    params = replace(params, **overrides)
    if params.target not in params.interspaces:
        raise ValueError(f"target {params.target} is not an interspace of this patient")
    return params


# ----------------------------------------------------------------------------- frames
def _rx(deg: float) -> Array:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], float)


def _ry(deg: float) -> Array:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], float)


def _rz(deg: float) -> Array:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], float)


@dataclass
class Vertebra:
    """A placed vertebra: size, frame and the derived posterior-element geometry."""

    level: str
    size: LevelSize
    centre: Array
    rot: Array  # columns: local left, posterior, up in LPS
    k: float  # size factor

    def world(self, local: Any) -> Array:
        return self.centre + np.asarray(local, float) @ self.rot.T

    def local(self, world: Any) -> Array:
        return (np.asarray(world, float) - self.centre) @ self.rot

    @property
    def up(self) -> Array:
        return self.rot[:, 2]

    # local dimensions (mm)
    @property
    def a(self) -> float:
        return self.size.width / 2 * self.k

    @property
    def b(self) -> float:
        return self.size.depth / 2 * self.k

    @property
    def h(self) -> float:
        return self.size.height / 2 * self.k

    @property
    def px(self) -> float:
        """Pedicle axis distance from the midline."""
        return (self.size.ipd / 2 + self.size.pedicle_w / 2) * self.k

    @property
    def lamina_t(self) -> float:
        return self.size.lamina_t * self.k

    def corners(self) -> Array:
        """Mid-sagittal body corners (LPS): superior-anterior, superior-posterior,
        inferior-posterior, inferior-anterior (SPEC §3)."""
        a, h = self.b, self.h
        return self.world([[0, -a, h], [0, a, h], [0, a, -h], [0, -a, -h]])


@dataclass
class Lamina:
    """A lamina plate in its vertebra's frame: axis, normal, centre, half sizes."""

    centre: Array  # local
    axes: Array  # 3×3 local: columns along the lamina, its dorsal normal, up
    half: Array  # half length, half thickness, half height


SHINGLE_DEG = 15.0  # laminae overlap like roof tiles: the lower edge is more dorsal
LAMINA_Z = -0.35  # lamina centre height as a fraction of the body half-height
PEDICLE_Y = 6.0  # lamina starts this far behind the posterior body wall
#: pedicle axis to the sagittal plane, anterior end medial (Zindrick et al. 1987), degrees
PEDICLE_CONVERGENCE = {"T12": 8.0, "L1": 12.0, "L2": 12.0, "L3": 15.0, "L4": 18.0, "L5": 25.0}


def lamina(v: Vertebra, side: str, angle_deg: float) -> Lamina:
    """The ``side`` lamina of ``v``: from the pedicle to the spinous base at the midline."""
    s = SIDES[side]
    al = math.radians(angle_deg)
    start = np.array([s * v.px, v.b + PEDICLE_Y * v.k, LAMINA_Z * v.h])
    along = np.array([-s * math.sin(al), math.cos(al), 0.0])
    normal = np.array([s * math.cos(al), math.sin(al), 0.0])  # dorsal, away from the canal
    length = v.px / math.sin(al) + 3.0
    tilt = _rot_about(along, -s * SHINGLE_DEG)
    axes = tilt @ np.stack([along, normal, [0.0, 0.0, 1.0]], axis=1)
    centre = start + along * (length / 2 - 1.5)
    half = np.array([length / 2, v.lamina_t / 2, 0.38 * v.size.height * v.k])
    return Lamina(centre, axes, half)


def _rot_about(axis: Array, deg: float) -> Array:
    ax = np.asarray(axis, float) / np.linalg.norm(axis)
    t = math.radians(deg)
    kx = np.array([[0, -ax[2], ax[1]], [ax[2], 0, -ax[0]], [-ax[1], ax[0], 0]])
    return np.eye(3) + math.sin(t) * kx + (1 - math.cos(t)) * kx @ kx


def place_vertebrae(p: PatientParams) -> dict[str, Vertebra]:
    """Stack the vertebrae from S1 up along the sagittal curve (LPS, target disc at 0)."""
    levels = list(p.levels)
    n = len(levels)
    # axis lean (degrees, + = top toward anterior): the sacral slope at S1, the lordosis
    # distributed mostly over the lower segments (Roussouly; docs/phantom.md)
    weights = np.array([0.38, 0.26, 0.18, 0.11, 0.07, 0.05, 0.05])
    lean = {"S1": p.sacral_slope_deg}
    share = weights[: n - 2] / weights[: n - 2].sum()  # lumbar segments up to L1
    acc = 0.0
    for i, lvl in enumerate(reversed(levels[1:-1])):  # L5 (or L6) up to L1
        acc += share[i]
        lean[lvl] = p.sacral_slope_deg - p.lordosis_deg * acc
    lean["T12"] = lean["L1"] - 3.0
    verts: dict[str, Vertebra] = {}
    lumbar = levels[1:-1]
    for i, lvl in enumerate(reversed(levels)):
        size = SIZES[lvl]
        j = lumbar.index(lvl) if lvl in lumbar else -1
        frac = (j + 0.5) / len(lumbar) if j >= 0 else 0.0
        lat = p.scoliosis_deg * math.sin(math.pi * frac)
        rot_ax = p.rotation_deg * math.sin(math.pi * frac)
        rot = _rx(lean[lvl]) @ _ry(lat) @ _rz(rot_ax)
        k = p.size
        if i == 0:
            centre = np.zeros(3)
        else:
            below = verts[levels[n - i]]
            up_mid = below.up + rot[:, 2]
            up_mid /= np.linalg.norm(up_mid)
            disc = size.disc_below * k
            if lvl == "L5" and p.transitional == "sacralised_l5":
                disc = 3.0
            centre = (
                below.centre + below.h * below.up + disc * up_mid + size.height / 2 * k * rot[:, 2]
            )
        verts[lvl] = Vertebra(lvl, size, centre, rot, k)
    if p.slip is not None:
        lvl, pct = p.slip
        lower = verts[levels[levels.index(lvl) + 1]]
        shift = -pct / 100.0 * 2 * lower.b * lower.rot[:, 1]  # forward (anterior)
        for name in levels[: levels.index(lvl) + 1]:
            verts[name].centre = verts[name].centre + shift
    up, lo = p.target.split("-")
    origin = 0.5 * (verts[up].centre + verts[lo].centre)
    for v in verts.values():
        v.centre = v.centre - origin
    return verts


# ----------------------------------------------------------------------------- painting
@dataclass
class Grid:
    """An axis-aligned voxel grid (z, y, x index order) in LPS mm."""

    origin: Array  # LPS of voxel [0, 0, 0]
    spacing: float
    shape: tuple[int, int, int]  # (nz, ny, nx)

    @property
    def affine(self) -> Array:
        s = self.spacing
        aff = np.zeros((4, 4))
        aff[2, 0] = s  # index 0 → z
        aff[1, 1] = s  # index 1 → y
        aff[0, 2] = s  # index 2 → x
        aff[:3, 3] = self.origin
        aff[3, 3] = 1.0
        return aff

    def box(self, lo: Array, hi: Array) -> tuple[slice, slice, slice] | None:
        """Index slices covering the LPS box ``lo``..``hi`` (``None`` when outside)."""
        out = []
        for ax, idx in ((2, 0), (1, 1), (0, 2)):
            a = int(math.floor((lo[ax] - self.origin[ax]) / self.spacing))
            b = int(math.ceil((hi[ax] - self.origin[ax]) / self.spacing)) + 1
            a, b = max(a, 0), min(b, self.shape[idx])
            if b <= a:
                return None
            out.append(slice(a, b))
        return out[0], out[1], out[2]

    def coords(self, box: tuple[slice, slice, slice]) -> tuple[Array, Array, Array]:
        """Broadcastable LPS ``x, y, z`` of the voxels in ``box``."""
        s, o = self.spacing, self.origin
        z = (o[2] + s * np.arange(box[0].start, box[0].stop))[:, None, None]
        y = (o[1] + s * np.arange(box[1].start, box[1].stop))[None, :, None]
        x = (o[0] + s * np.arange(box[2].start, box[2].stop))[None, None, :]
        return x, y, z


@dataclass
class Shape:
    """A superellipsoid ``(|x/a|^e + |y/b|^e)^(f/e) + |z/c|^f <= 1`` in a frame.

    ``axes`` columns are the shape's x, y, z in LPS; ``half`` = (a, b, c).
    """

    centre: Array
    axes: Array
    half: Array
    e: float = 2.0
    f: float = 2.0

    def shrink(self, mm: float) -> Shape:
        return replace(self, half=np.maximum(self.half - mm, 0.3))

    def bounds(self) -> tuple[Array, Array]:
        ext = np.abs(self.axes) @ self.half
        return self.centre - ext, self.centre + ext

    def level(self, x: Array, y: Array, z: Array) -> Array:
        """The superellipsoid function (≤ 1 inside) at broadcast LPS coordinates."""
        dx, dy, dz = x - self.centre[0], y - self.centre[1], z - self.centre[2]
        ax = self.axes
        u = (ax[0, 0] * dx + ax[1, 0] * dy + ax[2, 0] * dz) / self.half[0]
        v = (ax[0, 1] * dx + ax[1, 1] * dy + ax[2, 1] * dz) / self.half[1]
        w = (ax[0, 2] * dx + ax[1, 2] * dy + ax[2, 2] * dz) / self.half[2]
        e, f = self.e, self.f
        if e == 2.0 and f == 2.0:
            return u * u + v * v + w * w
        xy = np.abs(u) ** e + np.abs(v) ** e
        return xy ** (f / e) + np.abs(w) ** f


def local_shape(v: Vertebra, centre: Any, axes: Any, half: Any, e: float, f: float) -> Shape:
    """A :class:`Shape` given in ``v``'s local frame."""
    return Shape(v.world(centre), v.rot @ np.asarray(axes, float), np.asarray(half, float), e, f)


class Painter:
    """Paints shapes into the HU and label volumes, keeping the label table."""

    def __init__(self, grid: Grid, seed: int) -> None:
        self.grid = grid
        self.hu = np.full(grid.shape, -1000.0, np.float32)
        self.labels = np.zeros(grid.shape, np.uint16)
        self.table: dict[int, str] = {0: "air"}
        self._ids: dict[str, int] = {}
        rng = np.random.default_rng([seed, 7])
        tile = ndimage.gaussian_filter(rng.standard_normal((48, 48, 48)), 0.9, mode="wrap")
        self.texture = (tile / tile.std()).astype(np.float32)

    def label(self, name: str) -> int:
        if name not in self._ids:
            self._ids[name] = len(self._ids) + 1
            self.table[self._ids[name]] = name
        return self._ids[name]

    def paint(
        self,
        shape: Shape,
        name: str,
        hu: float,
        *,
        inner: tuple[float, float] | None = None,
        texture: float = 0.0,
        where: Any = None,
        keep: Any = None,
    ) -> None:
        """Set the voxels inside ``shape`` to ``hu`` and label ``name``.

        ``inner = (mm, hu)`` gives the core deeper than ``mm`` another value (cortex
        and trabecular bone); ``texture`` adds that many HU of smooth noise to it;
        ``where(x, y, z)`` restricts the region; ``keep`` lists labels not overwritten.
        """
        lo, hi = shape.bounds()
        box = self.grid.box(lo, hi)
        if box is None:
            return
        x, y, z = self.grid.coords(box)
        inside = shape.level(x, y, z) <= 1.0
        if where is not None:
            inside &= where(x, y, z)
        if keep:
            ids = [self._ids[k] for k in keep if k in self._ids]
            if ids:
                inside &= ~np.isin(self.labels[box], ids)
        if not inside.any():
            return
        val = np.full(inside.shape, hu, np.float32)
        if inner is not None:
            core = shape.shrink(inner[0]).level(x, y, z) <= 1.0
            core_val = np.float32(inner[1])
            if texture:
                t = self.texture
                zi, yi, xi = (np.arange(s.start, s.stop) % t.shape[0] for s in box)
                noise = t[np.ix_(zi, yi, xi)]
                core_val = core_val + np.float32(texture) * noise
            val = np.where(core, core_val, val)
        self.hu[box][inside] = val[inside]
        self.labels[box][inside] = self.label(name)


# ----------------------------------------------------------------------------- anatomy
@dataclass
class Anatomy:
    """The placed model: vertebrae, laminae, torso; used for the volume and the truth."""

    params: PatientParams
    verts: dict[str, Vertebra]
    laminae: dict[tuple[str, str], Lamina]
    torso_centre_y: float
    torso_half: tuple[float, float]
    fat_mm: float

    def lamina_shape(self, level: str, side: str) -> Shape:
        v = self.verts[level]
        lam = self.laminae[(level, side)]
        return local_shape(v, lam.centre, lam.axes, lam.half, 4.0, 4.0)

    def lf_shape(self, interspace: str, side: str) -> Shape:
        """Ligamentum flavum half: a plate lining the upper lamina's ventral surface down
        to the lower lamina (its thickness is the plate's, ``lf_mm``)."""
        up, lo = interspace.split("-")
        v, w = self.verts[up], self.verts[lo]
        lam = self.laminae[(up, side)]
        lam_lo = self.laminae[(lo, side)] if (lo, side) in self.laminae else None
        t = self.params.lf_mm[(interspace, side)]
        top = lam.centre[2]
        if lam_lo is not None:
            bottom_w = w.world(lam_lo.centre + lam_lo.axes[:, 2] * lam_lo.half[2] * 0.9)
        else:
            bottom_w = w.world([0, w.b, w.h])
        bottom = float(v.local(bottom_w)[2])
        half_h = max((top - bottom) / 2, 3.0)
        normal = lam.axes[:, 1]
        zc = (top + bottom) / 2
        centre = lam.centre + lam.axes[:, 2] * (zc - lam.centre[2]) / lam.axes[2, 2]
        centre = centre - normal * (lam.half[1] + t / 2)
        half = np.array([lam.half[0] * 0.95, t / 2, half_h])
        return local_shape(v, centre, lam.axes, half, 6.0, 6.0)

    def spinous_shape(self, level: str) -> Shape:
        """The spinous process: a blade from the laminae's junction, sloping caudally."""
        v = self.verts[level]
        plate = self.laminae[(level, "left")]
        base_y = plate.centre[1] + plate.axes[1, 0] * plate.half[0]
        sl = (40 if level != "S1" else 18) * v.k
        centre = [0, base_y + sl / 2 - 3, LAMINA_Z * v.h - 3]
        return local_shape(v, centre, _rx(-12), [2.6 * v.k, sl / 2, 9 * v.k], 2.5, 3.0)

    def spinous_tip(self, level: str) -> Array:
        """LPS of the spinous process's dorsal tip."""
        sh = self.spinous_shape(level)
        return np.asarray(sh.centre + sh.axes[:, 1] * sh.half[1], float)

    def pedicle_centre(self, level: str, side: str) -> Array:
        """LPS of the pedicle's centre (the AP view's 'eye')."""
        v = self.verts[level]
        return v.world([SIDES[side] * v.px, v.b + (PEDICLE_Y / 2 - 2) * v.k, 0.2 * v.h])

    def dura_centre(self, v: Vertebra) -> Array:
        """Local centre of the thecal sac in ``v``."""
        return np.array([0.0, v.b + 8.0 * v.k, 0.0])


def make_anatomy(p: PatientParams) -> Anatomy:
    verts = place_vertebrae(p)
    laminae = {}
    for lvl, v in verts.items():
        for side in SIDES:
            laminae[(lvl, side)] = lamina(v, side, p.lamina_angle_deg)
    spin = max(float(v.world([0, v.b + 45 * v.k, 0])[1]) for v in verts.values())
    fat = 45.0 if p.habitus == "obese" else 15.0
    half = (190.0, 150.0) if p.habitus == "obese" else (155.0, 112.0)
    skin = spin + fat + 25.0
    return Anatomy(p, verts, laminae, skin - half[1], half, fat)


def _grid_for(an: Anatomy, spacing: float) -> Grid:
    zs = np.array([v.centre[2] for v in an.verts.values()])
    top = zs.max() + 25.0
    bottom = an.verts["S1"].world([0, 0, -95])[2] - 5.0
    lo = np.array([-110.0, an.torso_centre_y - an.torso_half[1] - 2, min(bottom, zs.min() - 60)])
    hi = np.array([110.0, an.torso_centre_y + an.torso_half[1] + 2, top])
    shape = tuple(int(math.ceil((hi[a] - lo[a]) / spacing)) + 1 for a in (2, 1, 0))
    return Grid(lo, float(spacing), (shape[0], shape[1], shape[2]))


def _paint_soft(pt: Painter, an: Anatomy, rng: np.random.Generator) -> None:
    g = pt.grid
    eye = np.eye(3)
    a, b = an.torso_half
    f = an.fat_mm
    x, y, _ = g.coords((slice(0, 1), slice(0, g.shape[1]), slice(0, g.shape[2])))
    # a superellipse (exponent 3): the back and flanks are broader than an ellipse's
    dy = np.abs(y[0] - an.torso_centre_y)
    outer = np.abs(x[0] / a) ** 3 + (dy / b) ** 3 <= 1.0
    inner = np.abs(x[0] / (a - f)) ** 3 + (dy / (b - f)) ** 3 <= 1.0
    for mask, name, hu in ((outer, "subcutaneous fat", HU_FAT), (inner, "soft tissue", HU_SOFT)):
        pt.hu[:, mask] = hu
        pt.labels[:, mask] = pt.label(name)
    # bowel with gas, anterior to the spine
    for i in range(int(rng.integers(10, 18))):
        c = np.array([rng.uniform(-90, 90), rng.uniform(-120, -45), rng.uniform(-110, 90)])
        c[1] = max(c[1], an.torso_centre_y - b + an.fat_mm + 25)
        r = rng.uniform(8, 22, 3)
        r[2] *= 1.5
        pt.paint(Shape(c, _rz(rng.uniform(0, 180)), r), "bowel", HU_BOWEL)
        if i % 3 != 2:
            pt.paint(
                Shape(c, _rz(rng.uniform(0, 180)), r * rng.uniform(0.4, 0.8)), "bowel gas", HU_GAS
            )
    for v in an.verts.values():
        if v.level in ("T12", "S1"):
            continue
        # paraspinal muscles and psoas
        for s in (1.0, -1.0):
            pt.paint(
                local_shape(v, [s * 32 * v.k, v.b + 38 * v.k, 0], eye, [26, 24, v.h * 2], 2.0, 4.0),
                "paraspinal muscle",
                HU_MUSCLE,
            )
            rp = 8 + 6 * list(an.verts).index(v.level) / len(an.verts)
            pt.paint(
                local_shape(v, [s * (v.a + rp * 0.7), -2, 0], eye, [rp, rp * 1.1, 2 * v.h], 2, 4),
                "psoas",
                HU_MUSCLE,
            )


def _paint_canal(pt: Painter, an: Anatomy) -> None:
    p = an.params
    eye = np.eye(3)
    for lvl, v in an.verts.items():
        if lvl == "S1":
            continue
        dc = an.dura_centre(v)
        reach = v.h + 7.0
        pt.paint(
            local_shape(v, dc + [0, 1.5, 0], eye, [v.size.ipd / 2 * v.k + 1, 9.0, reach], 2.0, 8.0),
            "epidural fat",
            HU_FAT,
        )
        pt.paint(local_shape(v, dc, eye, [9.5, 6.5, reach + 1], 2.0, 8.0), "dura", HU_CSF)
    # the epidurogram: contrast in the dorsal epidural space around the target
    up, lo = p.target.split("-")
    v, w = an.verts[up], an.verts[lo]
    dc = an.dura_centre(v)
    z_lo = float(v.local(w.world([0, 0, -w.h * 0.5]))[2])
    span = (v.h + 6.0 - z_lo) / 2
    zc = v.h + 6.0 - span
    outer = local_shape(v, dc + [0, 0, zc], eye, [12.5, 9.0, span], 2.0, 6.0)
    inner = local_shape(v, dc + [0, 0, zc], eye, [9.6, 6.6, span + 30], 2.0, 6.0)
    rng = np.random.default_rng([p.seed, 11])
    field_ = ndimage.gaussian_filter(rng.standard_normal((24, 24)), 2.5, mode="wrap")
    field_ = (field_ - field_.mean()) / field_.std()
    s_target = SIDES[p.side]
    zgap = float(v.local(w.world([0, 0, w.h]))[2])

    def where(x: Array, y: Array, z: Array) -> Array:
        lx = (x - v.centre[0]) * v.rot[0, 0] + (y - v.centre[1]) * v.rot[1, 0]
        lx = lx + (z - v.centre[2]) * v.rot[2, 0]
        ly = (x - v.centre[0]) * v.rot[0, 1] + (y - v.centre[1]) * v.rot[1, 1]
        ly = ly + (z - v.centre[2]) * v.rot[2, 1]
        lz = (x - v.centre[0]) * v.rot[0, 2] + (y - v.centre[1]) * v.rot[1, 2]
        lz = lz + (z - v.centre[2]) * v.rot[2, 2]
        ok = (inner.level(x, y, z) > 1.0) & (ly > dc[1] - 1.5)
        # irregular spread: a smooth random field thins and breaks the layer
        n = field_.shape[0]
        fi = (np.floor(lx / 3.0).astype(int) % n, np.floor(lz / 3.0).astype(int) % n)
        ok &= field_[fi[0], fi[1]] > -1.1
        if p.epidurogram == "interrupted":
            ok &= ~((s_target * lx > -2.0) & (lz < v.h + 2.0) & (lz > zgap - 4.0))
        return ok

    pt.paint(outer, "epidural contrast", HU_CONTRAST[p.epidurogram], where=where)


def _paint_lf(pt: Painter, an: Anatomy) -> None:
    for isp in an.params.interspaces:
        up = isp.split("-")[0]
        if up == "T12":
            continue
        for side in SIDES:
            pt.paint(an.lf_shape(isp, side), f"ligamentum flavum {isp} {side}", HU_LF)


def _paint_vertebra(pt: Painter, an: Anatomy, v: Vertebra) -> None:
    p = an.params
    eye = np.eye(3)
    k = v.k
    lvl = v.level
    bone: dict[str, Any] = {"inner": (1.8, HU_POSTERIOR_CORE), "texture": 60.0}
    up_t, _ = p.target.split("-")
    for side, s in SIDES.items():
        # transverse process (the scottie dog's nose); at T12 short, with a rib
        tl = v.size.tp_len * k
        if lvl == "L5" and p.transitional == "sacralised_l5":
            tl += 12
        if tl > 0:
            pt.paint(
                local_shape(
                    v,
                    [s * (v.px + tl / 2 + 2), v.b + 6 * k, 0.15 * v.h],
                    _rz(s * 8),
                    [tl / 2 + 4, 3.2 * k, 4.0 * k],
                    2.5,
                    2.5,
                ),
                f"{lvl} transverse process {side}",
                HU_CORTEX,
                **bone,
            )
        # superior articular process (the ear) and inferior articular process (front leg)
        sap_c = [s * (v.px + 2.5 * k), v.b + (PEDICLE_Y + 3) * k, v.h + 3.0 * k]
        pt.paint(
            local_shape(v, sap_c, _rz(s * 20), [3.6 * k, 5.0 * k, 9.0 * k], 2.4, 2.4),
            f"{lvl} superior articular process {side}",
            HU_CORTEX,
            **bone,
        )
        if lvl != "S1":
            iap_c = [s * (v.px - 5.5 * k), v.b + (PEDICLE_Y + 9) * k, -v.h - 7.0 * k]
            pt.paint(
                local_shape(v, iap_c, _rz(s * 20), [3.4 * k, 4.5 * k, 9.0 * k], 2.4, 2.4),
                f"{lvl} inferior articular process {side}",
                HU_CORTEX,
                **bone,
            )
        # pedicle (the eye): an elliptic cylinder running back from the body
        pw = v.size.pedicle_w * k
        pt.paint(
            local_shape(
                v,
                v.local(an.pedicle_centre(lvl, side)),
                _rz(-s * PEDICLE_CONVERGENCE.get(lvl, 15.0)) @ _rx(90),
                [pw / 2, 7.5 * k, (PEDICLE_Y / 2 + 4) * k],
                2.0,
                6.0,
            ),
            f"{lvl} pedicle {side}",
            HU_CORTEX,
            inner=(2.0, HU_TRABECULAR),
            texture=60.0,
        )
        # lamina; a previous laminotomy leaves scar where the shelf was
        lam = an.lamina_shape(lvl, side)
        if not p.laminar_shelf and lvl == up_t and side == p.side:
            pt.paint(lam, "scar", HU_SCAR)
        else:
            pt.paint(lam, f"{lvl} lamina {side}", HU_CORTEX, **bone)
    # spinous process from the laminae's meeting point: mostly cancellous bone in a thin
    # shell; the AP beam runs along its length, so a thick dense shell made it a white bar
    pt.paint(
        an.spinous_shape(lvl),
        f"{lvl} spinous process",
        HU_SPINOUS_CORTEX,
        inner=(SPINOUS_SHELL_MM, HU_POSTERIOR_CORE - 100.0),
        texture=60.0,
    )
    # the body: cortex, endplates and trabecular bone
    pt.paint(
        local_shape(v, [0, 0, 0], eye, [v.a, v.b, v.h], 2.3, 10.0),
        f"{lvl} body",
        HU_BODY_CORTEX,
        inner=(1.2, HU_TRABECULAR),
        texture=70.0,
    )


def _paint_discs(pt: Painter, an: Anatomy) -> None:
    levels = an.params.levels
    for up, lo in zip(levels[:-1], levels[1:], strict=True):
        v, w = an.verts[up], an.verts[lo]
        name = f"disc {up}-{lo}"
        hu = HU_DISC
        if f"{up}-{lo}" not in an.params.interspaces:
            name, hu = "fused bone", HU_TRABECULAR
        top = v.world([0, 0, -v.h])
        bot = w.world([0, 0, w.h])
        centre = (top + bot) / 2
        axis = top - bot
        gap = float(np.linalg.norm(axis))
        axis /= gap
        rot = np.stack([v.rot[:, 0], np.cross(axis, v.rot[:, 0]), axis], axis=1)
        sh = Shape(
            centre, rot, np.array([0.5 * (v.a + w.a), 0.5 * (v.b + w.b), gap / 2 + 6]), 2.3, 10
        )

        def between(x: Array, y: Array, z: Array, v: Vertebra = v, w: Vertebra = w) -> Array:
            def height(vv: Vertebra) -> Array:
                return (
                    (x - vv.centre[0]) * vv.rot[0, 2]
                    + (y - vv.centre[1]) * vv.rot[1, 2]
                    + (z - vv.centre[2]) * vv.rot[2, 2]
                )

            return (height(v) < -v.h) & (height(w) > w.h)

        pt.paint(sh, name, hu, where=between)


def _paint_sacrum_pelvis(pt: Painter, an: Anatomy) -> None:
    v = an.verts["S1"]
    k = v.k
    # the sacral mass below S1 with its ala, tapering caudally
    for i, (w, d, zc) in enumerate(((95, 30, -v.h - 12), (70, 24, -v.h - 40), (45, 18, -v.h - 66))):
        pt.paint(
            local_shape(
                v, [0, 4 * (i + 1) * k, zc * k], np.eye(3), [w / 2 * k, d / 2 * k, 15 * k], 2.6, 3.0
            ),
            "sacrum",
            HU_SACRUM_CORTEX,
            inner=(2.0, HU_TRABECULAR),
            texture=60.0,
            keep=("S1 body",),
        )
    # ala beside S1
    for s in (1.0, -1.0):
        pt.paint(
            local_shape(
                v, [s * 36 * k, 4 * k, -2 * k], _rz(s * 10), [22 * k, 15 * k, 14 * k], 2.5, 3.0
            ),
            "sacrum",
            HU_SACRUM_CORTEX,
            inner=(2.0, HU_TRABECULAR),
            texture=60.0,
        )
    # anterior sacral foramina: four pairs, lucent holes through the sacrum
    for j in range(4):
        for s in (1.0, -1.0):
            pt.paint(
                local_shape(
                    v,
                    [s * (16 - 1.5 * j) * k, 6 * k, (-v.h - 8 - 16 * j) * k],
                    _rx(90),
                    [3.6, 3.6, 20],
                    2.0,
                    6.0,
                ),
                "sacral foramen",
                HU_SOFT,
                where=None,
                keep=None,
            )
    # iliac wings: curved plates lateral to the sacrum, the crests near L4-L5
    z_crest = float(an.verts[an.params.target.split("-")[1]].centre[2]) + 8.0
    for s in (1.0, -1.0):
        centre = np.array([s * (v.a + 38.0 * k), v.centre[1] + 5.0, z_crest - 50.0 * k])
        shell_o = Shape(centre, _rz(-s * 35), np.array([14.0, 48.0, 50.0]) * k, 2.0, 2.0)
        shell_i = shell_o.shrink(3.5)

        def wing(x: Array, y: Array, z: Array, shell_i: Shape = shell_i) -> Array:
            return shell_i.level(x, y, z) > 1.0

        pt.paint(shell_o, f"ilium {'left' if s > 0 else 'right'}", 900.0, where=wing)


def _paint_ribs(pt: Painter, an: Anatomy) -> None:
    v = an.verts["T12"]
    for side, s in SIDES.items():
        pts = [
            v.world([s * (v.px + 8), v.b + 6, 0.2 * v.h]),
            v.world([s * 55, v.b - 4, -12]),
            v.world([s * 85, -10, -40]),
            v.world([s * 100, -40, -70]),
        ]
        for p0, p1 in zip(pts[:-1], pts[1:], strict=True):
            d = p1 - p0
            length = float(np.linalg.norm(d))
            z = d / length
            x = np.cross([0.0, 1.0, 0.0], z)
            x /= np.linalg.norm(x)
            y = np.cross(z, x)
            sh = Shape(
                (p0 + p1) / 2,
                np.stack([x, y, z], axis=1),
                np.array([4.5, 6.0, length / 2 + 3]),
                2.0,
                4.0,
            )
            pt.paint(sh, f"rib T12 {side}", HU_CORTEX, inner=(1.2, HU_TRABECULAR))


@dataclass
class PhantomVolume:
    """:func:`build_volume`'s result."""

    hu: NDArray[np.float32]  # (z, y, x)
    labels: NDArray[np.uint16]
    table: dict[int, str]
    affine: Array  # index (z, y, x) → LPS mm
    anatomy: Anatomy

    def ids(self, *names: str) -> list[int]:
        """Label ids of ``names`` (absent names skipped)."""
        inv = {v: k for k, v in self.table.items()}
        return [inv[n] for n in names if n in inv]

    def __iter__(self) -> Any:  # hu, labels, table, affine = build_volume(...)
        return iter((self.hu, self.labels, self.table, self.affine))


def build_volume(params: PatientParams, spacing: float = 1.0) -> PhantomVolume:
    """CT numbers (HU, float32, z-y-x) and labels of ``params``'s phantom.

    Parameters
    ----------
    params
        From :func:`draw_patient`.
    spacing
        Isotropic voxel size, mm.

    Returns
    -------
    PhantomVolume
        ``hu``, ``labels`` (uint16), ``table`` (label id → name), ``affine`` (voxel
        index → LPS) and the placed :class:`Anatomy`; it unpacks as
        ``hu, labels, table, affine``.
    """
    an = make_anatomy(params)
    grid = _grid_for(an, spacing)
    pt = Painter(grid, params.seed)
    rng = np.random.default_rng([params.seed, 3])
    _paint_soft(pt, an, rng)
    _paint_canal(pt, an)
    _paint_lf(pt, an)
    _paint_discs(pt, an)
    _paint_sacrum_pelvis(pt, an)
    for v in an.verts.values():
        _paint_vertebra(pt, an, v)
    _paint_ribs(pt, an)
    return PhantomVolume(pt.hu, pt.labels, pt.table, grid.affine, an)
