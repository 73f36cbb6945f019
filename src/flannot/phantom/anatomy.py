"""The phantom's anatomy: a lumbar spine T12–S1 built from simple solids, in millimetres.

Patient coordinates are DICOM LPS: ``x`` toward the patient's left, ``y`` posterior,
``z`` superior (head). Every bone is a sum of solids (box, ellipsoid, elliptic
cylinder, wedge-shaped vertebral body) with a linear attenuation coefficient
given as the *excess over water* (bone displaces soft tissue), so the X-ray line
integral of the whole phantom is the soft-tissue body plus the sum of the solids'
projections (:mod:`flannot.phantom.project`). A hollow shape (cortical shell,
cannula tube) is an outer solid plus an inner solid with a negative coefficient.

The morphometry is adult and textbook (see ``docs/phantom.md``): L5 body anterior
height 30 mm, posterior 26 mm, depth 36 mm; bony canal AP 13–15 mm; interlaminar
width 17 mm (L1-L2) to 31 mm (L5-S1); lamina thickness up to 9 mm; discs ≈ 9 mm.
The geometry is deterministic; the seed only varies noise, bowel gas and texture.

The ligamentum flavum (LF) halves and the epidural contrast layer are modelled
at L3–L5 where the lumbar column is straight (zero tilt): each LF half is a slab
lining the ventral surface of its 45°-inclined lamina, so in a 45° oblique view
whose beam runs along that lamina the LF is seen edge-on and its thickness is
exactly the slab thickness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

# excess linear attenuation over water, 1/mm, at an effective energy of ~55 keV
MU_WATER = 0.020
MU_CORTICAL = 0.030
MU_TRABECULAR = 0.012
MU_POSTERIOR = 0.026  # laminae, pedicles, processes: mostly cortical bone
MU_DISC = 0.001
MU_LF = 0.0025
MU_PSOAS = 0.0012
MU_GAS = -0.019
MU_CONTRAST = 0.06  # iohexol ~240 mgI/ml diluted in the epidural space
MU_STEEL = 0.16

Array = NDArray[np.float64]


def rot_x(deg: float) -> Array:
    """Rotation about the x (left) axis; positive tilts local +z toward anterior (-y)."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_z(deg: float) -> Array:
    """Rotation about the z (superior) axis."""
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def frame_from_axes(a1: ArrayLike, a2: ArrayLike, a3: ArrayLike) -> Array:
    """Rotation whose columns are the given (orthonormal) local axes in world coordinates."""
    return np.stack([np.asarray(a1, float), np.asarray(a2, float), np.asarray(a3, float)], axis=1)


@dataclass
class Solid:
    """One homogeneous solid.

    Attributes
    ----------
    kind
        ``box`` (|u|≤a, |v|≤b, |w|≤c), ``ellipsoid``, ``cylinder`` (elliptic section
        in u–v, |w|≤c), ``body`` (super-elliptic section |u/a|^p+|v/b|^p≤1 between
        two planes: full height ``ha`` at v=-b (anterior) and ``hp`` at v=+b).
    mu
        Excess attenuation over water, 1/mm (negative for gas or a hollow's inside).
    center, rotation
        Local frame: ``world = center + rotation @ local``.
    size
        Half-sizes ``(a, b, c)`` in mm (for ``body`` c is the larger half-height).
    clips
        Half-spaces ``n · local <= d`` that cut the solid.
    """

    name: str
    kind: str
    mu: float
    center: Array
    rotation: Array
    size: tuple[float, float, float]
    ha: float = 0.0
    hp: float = 0.0
    exponent: float = 2.0
    waist: float = 0.0
    clips: list[tuple[tuple[float, float, float], float]] = field(default_factory=list)

    def to_local(self, points: Array) -> Array:
        """World points ``(..., 3)`` to local coordinates."""
        return (np.asarray(points) - self.center) @ self.rotation

    def corners_world(self) -> Array:
        """The 8 corners of the local bounding box, in world coordinates."""
        a, b, c = self.size
        signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], float)
        return self.center + (signs * (a, b, c)) @ self.rotation.T

    def inside(self, u: Array, v: Array, w: Array) -> NDArray[np.bool_]:
        """Indicator of the solid at local coordinates (broadcasting arrays)."""
        a, b, c = self.size
        if self.kind == "box":
            m = (np.abs(u) <= a) & (np.abs(v) <= b) & (np.abs(w) <= c)
        elif self.kind == "ellipsoid":
            m = (u / a) ** 2 + (v / b) ** 2 + (w / c) ** 2 <= 1.0
        elif self.kind == "cylinder":
            m = ((u / a) ** 2 + (v / b) ** 2 <= 1.0) & (np.abs(w) <= c)
        elif self.kind == "body":
            p = self.exponent
            half = 0.25 * (self.ha + self.hp) + 0.25 * (self.hp - self.ha) * (v / b)
            # concave waist: the section narrows toward mid-height (full size at endplates)
            f = 1.0 - self.waist * (1.0 - np.minimum((w / half) ** 2, 1.0))
            section = np.abs(u / (a * f)) ** p + np.abs(v / (b * f)) ** p <= 1.0
            m = section & (np.abs(w) <= half)
        else:  # pragma: no cover - programming error
            raise ValueError(f"unknown solid kind {self.kind!r}")
        for n, d in self.clips:
            m &= n[0] * u + n[1] * v + n[2] * w <= d
        return m


def _solid(name, kind, mu, frame_c, frame_r, center, rotation, size, **kw) -> Solid:
    """A solid given in a parent frame (``frame_c``, ``frame_r``) → world solid."""
    c = np.asarray(frame_c, float) + np.asarray(frame_r, float) @ np.asarray(center, float)
    r = np.asarray(frame_r, float) @ np.asarray(rotation, float)
    sx, sy, sz = (float(v) for v in size)
    return Solid(name, kind, mu, c, r, (sx, sy, sz), **kw)


@dataclass(frozen=True)
class LevelSpec:
    """Adult morphometry of one vertebra (mm, degrees)."""

    name: str
    ha: float  # anterior body height
    hp: float  # posterior body height
    depth: float  # body AP depth
    width: float  # body LR width
    canal_ap: float  # bony canal AP diameter (dry bone)
    canal_w: float  # interpedicular distance
    lamina_t: float  # lamina thickness
    pedicle_w: float
    tp_len: float  # transverse process length beyond the pedicle
    tilt: float  # sagittal tilt, + = superior endplate facing anterior
    disc_below: float  # disc height under this vertebra (posterior)
    il_width: float  # interlaminar width of the interspace below (mm); 0 = none


LEVELS: tuple[LevelSpec, ...] = (
    LevelSpec("T12", 23, 24, 29, 40, 16.0, 20, 6.0, 7, 4, -9, 8.0, 0.0),
    LevelSpec("L1", 25, 27, 31, 42, 15.0, 21, 6.0, 7, 15, -6, 8.5, 17.0),
    LevelSpec("L2", 26, 27, 32, 44, 14.5, 22, 6.5, 8, 19, -3, 9.0, 20.5),
    LevelSpec("L3", 27, 27, 33, 46, 14.0, 23, 7.0, 9, 25, 0, 9.0, 24.0),
    LevelSpec("L4", 28, 27, 35, 48, 14.0, 24, 8.0, 10, 21, 0, 9.0, 27.5),
    LevelSpec("L5", 30, 26, 36, 50, 14.0, 26, 9.0, 12, 22, 0, 10.0, 31.0),
    LevelSpec("S1", 28, 25, 34, 48, 14.0, 28, 8.0, 14, 0, 32, 0.0, 0.0),
)

#: vertebrae that carry reference annotations (T12 is only there for counting ribs)
ANNOTATED_LEVELS = ("L1", "L2", "L3", "L4", "L5", "S1")

LAMINA_TOP = 6.0  # lamina top edge: this far below the posterior body top (local z)
LAMINA_BOTTOM = 3.0  # lamina bottom edge: this far below the posterior body bottom
S1_LAMINA_Z = -14.0  # S1 lamina centre (local z): the sacrum is tilted, its laminae sit low
S1_LAMINA_HALF = 11.0
CORTEX = 1.2  # cortical shell thickness of the bodies


@dataclass
class Vertebra:
    """A placed vertebra: its spec and local frame (origin at the body centre)."""

    spec: LevelSpec
    center: Array
    rotation: Array

    def world(self, local: Array) -> Array:
        return self.center + np.asarray(local, float) @ self.rotation.T

    @property
    def y_canal_dorsal(self) -> float:
        """Local y of the canal's dorsal boundary in the midline (ventral lamina surface)."""
        return self.spec.depth / 2 + self.spec.canal_ap

    def corners(self) -> Array:
        """Mid-sagittal body corners in world mm: SA, SP, IP, IA (SPEC §3 order)."""
        s = self.spec
        b = s.depth / 2
        local = np.array(
            [[0, -b, s.ha / 2], [0, b, s.hp / 2], [0, b, -s.hp / 2], [0, -b, -s.ha / 2]], float
        )
        return self.world(local)

    def lamina_z(self) -> tuple[float, float]:
        """Local z of the lamina's top and bottom edges."""
        return self.spec.hp / 2 - LAMINA_TOP, -self.spec.hp / 2 - LAMINA_BOTTOM


def place_vertebrae() -> dict[str, Vertebra]:
    """Stack the vertebrae: each hangs below the previous one's posterior-inferior corner."""
    out: dict[str, Vertebra] = {}
    center = np.zeros(3)
    prev: LevelSpec | None = None
    prev_rot = np.eye(3)
    for spec in LEVELS:
        rot = rot_x(spec.tilt)
        if prev is not None:
            mid_rot = rot_x(0.5 * (prev.tilt + spec.tilt))
            # posterior-inferior corner of the previous body, the disc, then this body's
            # posterior-superior corner, so the posterior wall line stays continuous
            pi = center + prev_rot @ np.array([0.0, prev.depth / 2, -prev.hp / 2])
            ps = pi + mid_rot @ np.array([0.0, 0.0, -prev.disc_below])
            center = ps - rot @ np.array([0.0, spec.depth / 2, spec.hp / 2])
        out[spec.name] = Vertebra(spec, center.copy(), rot)
        prev, prev_rot = spec, rot
    # origin of the patient frame: L3's body centre
    shift = out["L3"].center.copy()
    for v in out.values():
        v.center = v.center - shift
    return out


def vertebra_solids(v: Vertebra) -> list[Solid]:
    """Bony solids of one vertebra in world coordinates."""
    s = v.spec
    c, r = v.center, v.rotation
    eye = np.eye(3)
    a, b = s.width / 2, s.depth / 2
    hmax = max(s.ha, s.hp) / 2
    out = [
        _solid(
            f"{s.name} body",
            "body",
            MU_CORTICAL,
            c,
            r,
            (0, 0, 0),
            eye,
            (a, b, hmax),
            ha=s.ha,
            hp=s.hp,
            exponent=2.6,
            waist=0.10,
        ),
        _solid(
            f"{s.name} body inside",
            "body",
            MU_TRABECULAR - MU_CORTICAL,
            c,
            r,
            (0, 0, 0),
            eye,
            (a - CORTEX, b - CORTEX, hmax - CORTEX),
            ha=s.ha - 2 * CORTEX,
            hp=s.hp - 2 * CORTEX,
            exponent=2.6,
            waist=0.10,
        ),
    ]
    if s.name == "S1":
        return out + sacrum_solids(v)
    yd = v.y_canal_dorsal
    lam_top, lam_bot = v.lamina_z()
    lam_zc, lam_hh = 0.5 * (lam_top + lam_bot), 0.5 * (lam_top - lam_bot)
    ped_x = s.canal_w / 2 + s.pedicle_w / 2
    ped_z = s.hp / 2 - 8.0
    ped_len = yd - s.pedicle_w / 2 - (b - 3.0)
    for side, sx in (("left", 1.0), ("right", -1.0)):
        # pedicle: an elliptic cylinder along y from the body to the lamina
        out.append(
            _solid(
                f"{s.name} pedicle {side}",
                "cylinder",
                MU_POSTERIOR,
                c,
                r,
                (sx * ped_x, b - 3.0 + ped_len / 2, ped_z),
                frame_from_axes([1, 0, 0], [0, 0, 1], [0, 1, 0]),
                (s.pedicle_w / 2, 7.5, ped_len / 2),
            )
        )
        # its cancellous core: the pedicle shows as a cortical ring (the "eye")
        out.append(
            _solid(
                f"{s.name} pedicle core {side}",
                "cylinder",
                MU_TRABECULAR - MU_POSTERIOR,
                c,
                r,
                (sx * ped_x, b - 3.0 + ped_len / 2, ped_z),
                frame_from_axes([1, 0, 0], [0, 0, 1], [0, 1, 0]),
                (s.pedicle_w / 2 - 1.6, 5.9, ped_len / 2 + 0.5),
            )
        )
        # lamina: a slab whose ventral face is the 45° line x·sx + y = yd (local)
        along = np.array([sx, -1.0, 0.0]) / math.sqrt(2)
        normal = np.array([sx, 1.0, 0.0]) / math.sqrt(2)
        half_len = (ped_x * math.sqrt(2)) / 2 + 2.0
        mid = np.array([0.0, yd, lam_zc]) + along * (ped_x * math.sqrt(2) / 2)
        centre = mid + normal * (s.lamina_t / 2)
        lam_rot = frame_from_axes(along, normal, [0, 0, 1])
        # cut at the midline so the two laminae do not overlap (local x·sx >= 0)
        n_local = lam_rot.T @ np.array([-sx, 0.0, 0.0])
        d = float(np.array([sx, 0, 0]) @ centre)
        out.append(
            _solid(
                f"{s.name} lamina {side}",
                "box",
                MU_POSTERIOR,
                c,
                r,
                centre,
                lam_rot,
                (half_len, s.lamina_t / 2, lam_hh),
                clips=[(tuple(n_local), d)],
            )
        )
        # transverse process: a bar running laterally (slightly backward) from the pedicle
        if s.tp_len > 0:
            tp_rot = rot_z(-sx * 8) @ frame_from_axes([0, 1, 0], [0, 0, 1], [1, 0, 0])
            out.append(
                _solid(
                    f"{s.name} transverse {side}",
                    "cylinder",
                    MU_POSTERIOR * 0.6,
                    c,
                    r,
                    (sx * (ped_x + s.tp_len / 2 + 2), yd - 8.0, ped_z),
                    tp_rot,
                    (2.2, 4.5, s.tp_len / 2 + 3),
                )
            )
            out.append(
                _solid(
                    f"{s.name} transverse tip {side}",
                    "ellipsoid",
                    MU_POSTERIOR * 0.6,
                    c,
                    r,
                    (sx * (ped_x + s.tp_len + 4.5), yd - 8.0, ped_z),
                    eye,
                    (3.0, 2.5, 5.5),
                )
            )
        # superior articular process (rises above the pedicle, lateral to the window)
        fx = s.canal_w / 2 + 5.0
        out.append(
            _solid(
                f"{s.name} superior articular {side}",
                "ellipsoid",
                MU_POSTERIOR * 0.7,
                c,
                r,
                (sx * (fx + 3.0), yd - 5.0, s.hp / 2 + 1.0),
                eye,
                (5.0, 6.5, 9.0),
            )
        )
        # inferior articular process: hangs below the lamina, bounds the window laterally
        iw = _il_width_below(s)
        out.append(
            _solid(
                f"{s.name} inferior articular {side}",
                "ellipsoid",
                MU_POSTERIOR,
                c,
                r,
                (sx * (iw / 2 + 4.5), yd + 2.0, lam_bot - 4.0),
                eye,
                (4.5, 6.0, 9.5),
            )
        )
        # pars interarticularis: joins pedicle, lamina and the articular processes
        out.append(
            _solid(
                f"{s.name} pars {side}",
                "box",
                MU_POSTERIOR,
                c,
                r,
                (sx * (ped_x + 1.0), yd - 3.0, lam_zc + 2.0),
                eye,
                (4.0, 4.5, lam_hh * 0.8),
            )
        )
    # spinous process: from the laminar junction backward and a little downward
    sp_rot = rot_x(-18)
    sp_len = 30.0
    sp_c = np.array([0.0, yd + s.lamina_t * math.sqrt(2) - 2.0, lam_zc - 2.0])
    sp_c = sp_c + sp_rot @ np.array([0.0, sp_len / 2, 0.0])
    out.append(
        _solid(f"{s.name} spinous", "box", MU_POSTERIOR, c, r, sp_c, sp_rot, (3.0, sp_len / 2, 6.0))
    )
    out.append(
        _solid(
            f"{s.name} spinous tip",
            "ellipsoid",
            MU_POSTERIOR,
            c,
            r,
            sp_c + sp_rot @ np.array([0.0, sp_len / 2, 0.0]),
            sp_rot,
            (4.5, 4.0, 9.0),
        )
    )
    if s.name == "T12":
        for side, sx in (("left", 1.0), ("right", -1.0)):
            # the 12th rib: slopes laterally and down from the T12 transverse region
            rib: Array = np.array(
                [sx * math.cos(math.radians(35)), 0.15, -math.sin(math.radians(35))]
            )
            rib = rib / np.linalg.norm(rib)
            ax2: Array = np.cross(rib, [0.0, 1.0, 0.0])
            ax2 = ax2 / np.linalg.norm(ax2)
            rib_rot = frame_from_axes(ax2, np.cross(rib, ax2), rib)
            out.append(
                _solid(
                    f"T12 rib {side}",
                    "cylinder",
                    MU_POSTERIOR * 0.8,
                    c,
                    r,
                    np.array([sx * 22.0, yd - 10.0, 0.0]) + rib * 55.0,
                    rib_rot,
                    (4.5, 6.0, 55.0),
                )
            )
    return out


def _il_width_below(s: LevelSpec) -> float:
    return s.il_width if s.il_width > 0 else s.canal_w - 4.0


def _ala_rotation(sx: float, slope_deg: float = 20.0) -> Array:
    """Local u runs laterally and down: the ala slopes toward the sacroiliac joint."""
    a = math.radians(slope_deg)
    u = np.array([sx * math.cos(a), 0.0, -math.sin(a)])
    return frame_from_axes(u, [0.0, 1.0, 0.0], np.cross(u, [0.0, 1.0, 0.0]))


def sacrum_solids(v: Vertebra) -> list[Solid]:
    """S1's extra parts: alae, the sacral mass below S1 and the dorsal sacral plate."""
    s = v.spec
    c, r = v.center, v.rotation
    eye = np.eye(3)
    yd = v.y_canal_dorsal
    out = []
    for side, sx in (("left", 1.0), ("right", -1.0)):
        out.append(
            _solid(
                f"S1 ala {side}",
                "ellipsoid",
                MU_POSTERIOR * 0.55,
                c,
                r,
                (sx * 36.0, 8.0, -6.0),
                _ala_rotation(sx),
                (25.0, 17.0, 11.0),
            )
        )
        out.append(
            _solid(
                f"S1 superior articular {side}",
                "ellipsoid",
                MU_POSTERIOR,
                c,
                r,
                (sx * (s.canal_w / 2 + 7.0), yd - 4.0, s.hp / 2 + 2.0),
                eye,
                (5.0, 6.5, 9.0),
            )
        )
        out.append(
            _solid(
                f"S1 lamina {side}",
                "box",
                MU_POSTERIOR,
                c,
                r,
                (sx * 11.0, yd + 4.0, S1_LAMINA_Z),
                rot_z(sx * 20),
                (11.0, 4.0, S1_LAMINA_HALF),
            )
        )
    out.append(
        _solid(
            "S2 body",
            "ellipsoid",
            MU_POSTERIOR * 0.45,
            c,
            r,
            (0.0, 8.0, -s.hp / 2 - 24.0),
            rot_x(-12),  # the sacrum curves backward below S1
            (28.0, 15.0, 26.0),
        )
    )
    out.append(
        _solid(
            "S1 median crest",
            "box",
            MU_POSTERIOR,
            c,
            r,
            (0.0, yd + 11.0, S1_LAMINA_Z - 8.0),
            eye,
            (4.0, 5.0, 16.0),
        )
    )
    return out


def pelvis_solids(verts: dict[str, Vertebra]) -> list[Solid]:
    """Iliac wings lateral to L5–S1: thin curved plates, ~35° off the coronal plane, whose
    crest rises to the L4-L5 level and whose lower part runs out of the field as in a
    real lumbar view (seen nearly en face in AP, as a faint overlap in lateral)."""
    s1 = verts["S1"].center
    out = []
    for side, sx in (("left", 1.0), ("right", -1.0)):
        # local v (the wing's breadth) runs laterally and anteriorly from the SI joint
        rot = rot_z(sx * -55)
        centre = np.array([sx * 105.0, s1[1] + 10.0, s1[2] - 15.0])
        out.append(
            Solid(f"ilium {side}", "ellipsoid", MU_CORTICAL * 0.9, centre, rot, (9.0, 70.0, 80.0))
        )
        out.append(
            Solid(
                f"ilium {side} inside",
                "ellipsoid",
                -MU_CORTICAL * 0.75,
                centre,
                rot,
                (6.5, 67.0, 77.0),
            )
        )
    return out


def disc_solids(verts: dict[str, Vertebra]) -> list[Solid]:
    """Intervertebral discs: slightly denser than water, filling the gap between bodies."""
    names = [s.name for s in LEVELS]
    out = []
    for up, lo in zip(names[:-1], names[1:], strict=True):
        a, b = verts[up], verts[lo]
        centre = 0.5 * (a.center + b.center)
        rot = rot_x(0.5 * (a.spec.tilt + b.spec.tilt))
        out.append(
            Solid(
                f"{up}-{lo} disc",
                "cylinder",
                MU_DISC,
                centre,
                rot,
                (a.spec.width / 2 - 1, a.spec.depth / 2 - 1, a.spec.disc_below / 2 + 2),
            )
        )
    return out


def psoas_solids(verts: dict[str, Vertebra]) -> list[Solid]:
    """Psoas muscles: the faint oblique shadows lateral to the spine in AP."""
    z1, z5 = verts["L1"].center[2], verts["L5"].center[2]
    out = []
    for side, sx in (("left", 1.0), ("right", -1.0)):
        top = np.array([sx * 30.0, 0.0, z1 + 10])
        bot = np.array([sx * 58.0, -8.0, z5 - 25])
        d = bot - top
        length = float(np.linalg.norm(d))
        d /= length
        ax1 = np.cross(d, [0.0, 1.0, 0.0])
        ax1 /= np.linalg.norm(ax1)
        rot = frame_from_axes(ax1, np.cross(d, ax1), d)
        out.append(
            Solid(
                f"psoas {side}",
                "ellipsoid",
                MU_PSOAS,
                0.5 * (top + bot),
                rot,
                (17.0, 19.0, length / 2 + 15),
            )
        )
    return out


def gas_solids(rng: np.random.Generator, verts: dict[str, Vertebra]) -> list[Solid]:
    """Bowel gas: random lucent ellipsoids in the abdomen, anterior to the spine (seeded)."""
    zlo, zhi = verts["S1"].center[2] - 10, verts["T12"].center[2]
    out = []
    for i in range(7):
        centre = np.array([rng.uniform(-95, 95), rng.uniform(-110, -45), rng.uniform(zlo, zhi)])
        size = np.array([rng.uniform(8, 20), rng.uniform(6, 12), rng.uniform(7, 16)])
        rot = rot_z(rng.uniform(0, 180))
        out.append(Solid(f"gas {i}", "ellipsoid", MU_GAS, centre, rot, tuple(size)))
        # a second, smaller lobe: bowel loops are not ellipsoids
        lobe = centre + rot @ np.array([size[0] * 0.9, 0.0, rng.uniform(-0.5, 0.5) * size[2]])
        out.append(Solid(f"gas {i}b", "ellipsoid", MU_GAS * 0.8, lobe, rot, tuple(size * 0.6)))
    return out


# --- ligamentum flavum and epidural contrast (L3–S1, the straight part of the column) ---


@dataclass(frozen=True)
class Flavum:
    """One LF half at an interspace, as a slab in world coordinates.

    The slab lies in the plane spanned by ``along`` (horizontal, along the lamina) and z;
    ``normal`` points dorsally (toward the lamina). ``s_dorsal`` is the dorsal face's
    coordinate along ``normal``; the slab occupies ``[s_dorsal - thickness, s_dorsal]``.
    """

    level: str
    side: str
    thickness: float
    normal: Array
    along: Array
    s_dorsal: float
    along_range: tuple[float, float]
    z_range: tuple[float, float]

    def solid(self) -> Solid:
        mid_s = self.s_dorsal - self.thickness / 2
        mid_a = 0.5 * sum(self.along_range)
        mid_z = 0.5 * sum(self.z_range)
        centre = self.normal * mid_s + self.along * mid_a + np.array([0.0, 0.0, mid_z])
        rot = frame_from_axes(self.along, self.normal, [0, 0, 1])
        half = (
            0.5 * (self.along_range[1] - self.along_range[0]),
            self.thickness / 2,
            0.5 * (self.z_range[1] - self.z_range[0]),
        )
        return Solid(f"LF {self.level} {self.side}", "box", MU_LF, centre, rot, half)

    def contrast_solid(self, gap: float, thickness: float) -> Solid:
        """The epidural contrast layer ``gap`` mm ventral to this LF half."""
        s_mid = self.s_dorsal - self.thickness - gap - thickness / 2
        mid_a = 0.5 * sum(self.along_range)
        z0, z1 = self.z_range
        centre = self.normal * s_mid + self.along * mid_a + np.array([0.0, 0.0, 0.5 * (z0 + z1)])
        rot = frame_from_axes(self.along, self.normal, [0, 0, 1])
        half = (
            0.5 * (self.along_range[1] - self.along_range[0]) + 3.0,
            thickness / 2,
            0.5 * (z1 - z0) + 2.0,
        )
        return Solid(f"contrast {self.level} {self.side}", "box", MU_CONTRAST, centre, rot, half)


def flavum(
    verts: dict[str, Vertebra], upper: str, lower: str, side: str, thickness: float
) -> Flavum:
    """The LF half of ``side`` between ``upper`` and ``lower`` (both zero-tilt levels)."""
    up, lo = verts[upper], verts[lower]
    sx = 1.0 if side == "left" else -1.0
    normal = np.array([sx, 1.0, 0.0]) / math.sqrt(2)
    along = np.array([sx, -1.0, 0.0]) / math.sqrt(2)
    # ventral lamina line in world: points p with normal·(p - centre) = yd / sqrt(2)
    s_dorsal = float(normal @ up.center) + up.y_canal_dorsal / math.sqrt(2)
    top_up, bot_up = (up.center[2] + z for z in up.lamina_z())
    top_lo = lo.center[2] + lo.lamina_z()[0]
    z_range = (top_lo - 3.0, 0.5 * (top_up + bot_up) - 2.0)  # lower lamina top … upper mid
    # along-lamina coordinate of the midline junction, then out toward the facet
    a0 = float(along @ up.center) - up.y_canal_dorsal / math.sqrt(2)
    ext = up.spec.canal_w / 2 * math.sqrt(2)
    return Flavum(
        f"{upper}-{lower}", side, thickness, normal, along, s_dorsal, (a0 - 1.0, a0 + ext), z_range
    )


@dataclass(frozen=True)
class PhantomSpec:
    """What a phantom contains (the anatomy variant and the objects in the field)."""

    lf_thickness: dict[tuple[str, str], float]  # (interspace, side) -> mm
    contrast_sides: tuple[str, ...] = ()
    contrast_gap: float = 0.4
    contrast_thickness: float = 1.2
    ball_center: tuple[float, float, float] | None = None  # calibration sphere
    ball_diameter: float = 25.0


NORMAL_LF = 3.1
HYPERTROPHIC_LF = {"L3-L4": 4.9, "L4-L5": 5.3, "L5-S1": 5.1}


def lf_spec(variant: str) -> dict[tuple[str, str], float]:
    """LF thickness per (interspace, side) for ``normal`` or ``hypertrophic``."""
    out = {}
    for level in ("L3-L4", "L4-L5"):
        for side in ("left", "right"):
            out[(level, side)] = NORMAL_LF if variant == "normal" else HYPERTROPHIC_LF[level]
    return out


@dataclass
class Phantom:
    """The assembled phantom: placed vertebrae, LF halves and all solids."""

    spec: PhantomSpec
    vertebrae: dict[str, Vertebra]
    flava: dict[tuple[str, str], Flavum]
    solids: list[Solid]


def build_phantom(spec: PhantomSpec, rng: np.random.Generator) -> Phantom:
    """Assemble the phantom for ``spec``; ``rng`` places the bowel gas."""
    verts = place_vertebrae()
    solids: list[Solid] = []
    for v in verts.values():
        solids += vertebra_solids(v)
    solids += disc_solids(verts) + pelvis_solids(verts) + psoas_solids(verts)
    solids += gas_solids(rng, verts)
    flava = {}
    for (level, side), t in sorted(spec.lf_thickness.items()):
        upper, lower = level.split("-")
        f = flavum(verts, upper, lower, side, t)
        flava[(level, side)] = f
        solids.append(f.solid())
        if side in spec.contrast_sides:
            solids.append(f.contrast_solid(spec.contrast_gap, spec.contrast_thickness))
    if spec.ball_center is not None:
        r = spec.ball_diameter / 2
        solids.append(
            Solid(
                "calibration sphere",
                "ellipsoid",
                MU_STEEL,
                np.asarray(spec.ball_center, float),
                np.eye(3),
                (r, r, r),
            )
        )
    return Phantom(spec, verts, flava, solids)


def cannula_solids(
    entry: Array, tip: Array, outer_d: float = 5.1, inner_d: float = 4.3, outside: float = 40.0
) -> list[Solid]:
    """A MILD portal (5.1 mm, 6 G): a steel tube from ``tip`` back past ``entry``."""
    entry, tip = np.asarray(entry, float), np.asarray(tip, float)
    d = entry - tip
    length = float(np.linalg.norm(d)) + outside
    d /= np.linalg.norm(d)
    ax1 = np.cross(d, [0.0, 0.0, 1.0])
    if np.linalg.norm(ax1) < 1e-6:
        ax1 = np.array([1.0, 0.0, 0.0])
    ax1 /= np.linalg.norm(ax1)
    rot = frame_from_axes(ax1, np.cross(d, ax1), d)
    centre = tip + d * length / 2
    ro, ri = outer_d / 2, inner_d / 2
    return [
        Solid("portal", "cylinder", MU_STEEL, centre, rot, (ro, ro, length / 2)),
        Solid("portal lumen", "cylinder", -MU_STEEL, centre, rot, (ri, ri, length / 2)),
    ]
