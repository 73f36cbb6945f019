"""C-arm training mode, headless: turn, pan, collimate, preview and shoot (SPEC §15).

A :class:`TrainingSession` holds a prepared CT (:func:`flannot.sim.prepare`), the
target's landmarks from its labelmap, a :class:`Task` (``sim.json``: target level and
side, the protocol's views to obtain, a shot budget) and the C-arm's
:class:`CArmState`: DICOM positioner angles, table pan, collimation and magnification.
:meth:`TrainingSession.preview` is the fast 256² picture for turning
(:func:`flannot.sim.preview`, the prepared volume reused); :meth:`TrainingSession.shoot`
takes a full shot, counts it, estimates its dose (:mod:`flannot.sim.dose`) and records
it; :meth:`TrainingSession.score` scores the views (:mod:`flannot.sim.view_score`).

**Where shots are kept.** With ``out_dir`` (a teaching set's
``attempts/<trainee>/<case-id>-shots/``) every shot is written at once, atomically, as
``shot-NNN.dcm`` — an XA image (:mod:`flannot.sim.xa`) of one series, Instance Number
``NNN``, with its positioner angles, kVp, mAs and the estimated DAP in Image and
Fluoroscopy Area Dose Product (0018,115E) — and the record ``shots.json`` (task, every
shot's geometry, projection matrix, time and dose) is rewritten. The folder of files
opens as one multi-frame acquisition (SPEC §2: single-frame files of a series, ordered
by Instance Number): frame ``n`` is shot ``n + 1``, so an attempt's annotations on a
shot carry ``frame = index - 1``. :meth:`TrainingSession.resume` continues a recorded
session.

**The controls.** *Pan* moves the isocentre across the patient (the table moving under a
fixed C-arm), in patient mm toward the head and toward the patient's left from the start
position. *Collimation* is the open fraction of the field's side (square shutters,
0.2–1): outside it no ray is traced and the image is black, and the dose falls with the
area. *Magnification* is the detector's zoom mode (1–3×): a smaller field read out on
the same pixels, as the magnification modes of an image intensifier or flat panel.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flannot.errors import FlannotError
from flannot.sim.geometry import (
    DEFAULT_DETECTOR,
    DEFAULT_PIXEL,
    DEFAULT_SID,
    DEFAULT_SOD,
    HEAD,
    LEFT,
    CArm,
)

SHOTS_FILE = "shots.json"
SHOTS_VERSION = 1
#: the noise level of a shot at the default mAs (see :class:`flannot.sim.imaging.Exposure`)
DEFAULT_MAS = 2.0
#: tube current assumed for the DICOM record (a mobile C-arm's fluoroscopy current)
TUBE_CURRENT_MA = 4.0
PAN_LIMIT_MM = 250.0
COLLIMATION_RANGE = (0.2, 1.0)
ZOOM_RANGE = (1.0, 3.0)
MAS_RANGE = (0.1, 20.0)
MAX_BUDGET = 1000


@dataclass(frozen=True)
class Task:
    """What the trainee has to do with a CT-backed case (``sim.json``).

    Attributes
    ----------
    target
        Target level, a vertebra (``L4``) or an interspace (``L4-L5``).
    side
        Approach side (``left``/``right``) or ``None``.
    views
        The protocol's views to obtain, in order (``ap``, ``lateral``, ``clo-left`` …).
    shot_budget
        Largest number of shots that passes (``None``: no limit).
    dose_budget
        Largest estimated DAP (mGy·cm²) that passes (``None``: no limit).
    position
        ``prone`` (MILD) or ``supine``.
    protocol
        The protocol the views belong to.
    label_map
        The labelmap's convention (``totalsegmentator``, ``verse`` or a JSON file).
    kvp, mas
        Technique of a shot (the trainee may change the mAs).
    """

    target: str
    side: str | None = None
    views: tuple[str, ...] = ("ap",)
    shot_budget: int | None = None
    dose_budget: float | None = None
    position: str = "prone"
    protocol: str = "mild"
    label_map: str = "totalsegmentator"
    kvp: float = 80.0
    mas: float = DEFAULT_MAS

    def check(self) -> Task:
        """The task with its level spelt canonically, or a one-line :class:`FlannotError`."""
        from flannot.model.levels import normalize_level
        from flannot.sim.views import check_position, resolve_view

        try:
            target = normalize_level(str(self.target))
        except ValueError as exc:
            raise FlannotError(f"target: {exc}") from None
        if self.side not in (None, "left", "right"):
            raise FlannotError(f"side must be left or right, got {self.side!r}")
        if not self.views:
            raise FlannotError("views: name at least one view of the protocol")
        for v in self.views:
            resolve_view(v, self.protocol)
        check_position(self.position)
        if self.shot_budget is not None and not (
            isinstance(self.shot_budget, int) and 1 <= self.shot_budget <= MAX_BUDGET
        ):
            raise FlannotError(f"shot_budget must be a whole number 1-{MAX_BUDGET}")
        if self.dose_budget is not None and not float(self.dose_budget) > 0:
            raise FlannotError("dose_budget must be a positive DAP in mGy·cm²")
        if not 40 <= float(self.kvp) <= 150:
            raise FlannotError(f"kvp must be 40-150 kV, got {self.kvp}")
        if not MAS_RANGE[0] <= float(self.mas) <= MAS_RANGE[1]:
            raise FlannotError(f"mas must be {MAS_RANGE[0]}-{MAS_RANGE[1]}, got {self.mas}")
        return replace(self, target=target, views=tuple(str(v) for v in self.views))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["views"] = list(self.views)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        """From ``sim.json``'s object; unknown keys are an error (a typo must not pass)."""
        if not isinstance(data, Mapping):
            raise FlannotError("the task must be a JSON object")
        known = {f for f in cls.__dataclass_fields__}
        extra = sorted(k for k in data if k not in known and not str(k).startswith("x_"))
        if extra:
            raise FlannotError(f"unknown task field(s): {', '.join(extra)}")
        if "target" not in data:
            raise FlannotError("the task needs a target level")
        kw = {k: v for k, v in data.items() if k in known}
        views = kw.get("views", ("ap",))
        if isinstance(views, str) or not isinstance(views, Sequence):
            raise FlannotError("views must be a list of view names")
        kw["views"] = tuple(views)
        budget = kw.get("shot_budget")
        if isinstance(budget, bool) or (budget is not None and not isinstance(budget, int)):
            raise FlannotError("shot_budget must be a whole number")
        try:
            return cls(**kw).check()
        except (TypeError, ValueError) as exc:  # e.g. "kvp": "eighty"
            raise FlannotError(f"bad task value ({exc})") from None


@dataclass
class CArmState:
    """Where the C-arm is (see the module notes for pan, collimation and zoom)."""

    primary_deg: float = 180.0
    secondary_deg: float = 0.0
    pan_head_mm: float = 0.0
    pan_left_mm: float = 0.0
    collimation: float = 1.0
    zoom: float = 1.0


@dataclass
class Shot:
    """One recorded shot: the geometry that made it, its technique, dose and time."""

    index: int
    primary_deg: float
    secondary_deg: float
    isocentre_lps: list[float]
    pan_mm: list[float]
    collimation: float
    zoom: float
    sid: float
    sod: float
    rows: int
    cols: int
    pixel_mm: float
    kvp: float
    mas: float
    dap: float
    time: str
    elapsed_s: float
    projection: list[list[float]]
    file: str | None = None
    sop_instance_uid: str | None = None

    @property
    def id(self) -> str:
        return f"shot-{self.index:03d}"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["id"] = self.id
        out["dap_unit"] = "mGy·cm² (estimate)"
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shot:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


def _clip(value: float, lo: float, hi: float) -> float:
    return float(min(max(float(value), lo), hi))


def _wrap(angle: float) -> float:
    a = (float(angle) + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


@dataclass
class TrainingSession:
    """A trainee at the virtual C-arm (module notes).

    Parameters
    ----------
    prep
        The CT from :func:`flannot.sim.prepare` (at ``task.kvp``).
    vertebrae
        The labelled vertebrae (:func:`flannot.sim.find_vertebrae`, or
        :func:`flannot.sim.view_score.landmarks` dicts).
    task
        What to obtain.
    home
        Isocentre at zero pan (LPS mm); default the middle of the labelled lumbar spine,
        so the trainee has to find the level.
    detector, pixel_mm, sid, sod
        The C-arm (defaults of :class:`flannot.sim.CArm`).
    out_dir
        Where shots are written (``None``: kept in memory only).
    seed
        Noise seed of the first shot (shot ``n`` uses ``seed + n``).
    clock
        Returns seconds (default :func:`time.monotonic`; tests pass their own).
    """

    prep: Any
    vertebrae: Sequence[Any]
    task: Task
    home: NDArray[np.float64] | None = None
    detector: int = DEFAULT_DETECTOR
    pixel_mm: float = DEFAULT_PIXEL
    sid: float = DEFAULT_SID
    sod: float = DEFAULT_SOD
    out_dir: Path | None = None
    seed: int = 0
    clock: Callable[[], float] = time.monotonic
    state: CArmState = field(default_factory=CArmState)
    shots: list[Shot] = field(default_factory=list)
    case_id: str = "case"
    key: str = field(default_factory=lambda: secrets.token_hex(8))

    def __post_init__(self) -> None:
        from flannot.sim.view_score import find_target, landmarks
        from flannot.sim.views import primary_angle, resolve_view

        self.task = self.task.check()
        self.marks = landmarks(self.vertebrae)
        self.target = find_target(self.marks, self.task.target)
        self.views = [resolve_view(v, self.task.protocol) for v in self.task.views]
        if self.home is None:
            lumbar = [m.centroid for m in self.marks if m.level.startswith("L")] or [
                m.centroid for m in self.marks
            ]
            self.home = np.mean(lumbar, axis=0) if lumbar else self.prep.centre()
        self.home = np.asarray(self.home, float)
        if self.state == CArmState():  # start at the first view's nominal angle, not squared
            self.state.primary_deg = primary_angle(self.views[0], self.task.position)
        self.state.primary_deg = _wrap(self.state.primary_deg)
        self._t0 = self.clock()
        if self.out_dir is not None:
            self.out_dir = Path(self.out_dir)

    # ------------------------------------------------------------------ controls
    def set_angles(self, primary_deg: float, secondary_deg: float) -> None:
        """Set the positioner angles (primary wraps to -180..180, secondary clipped to ±90)."""
        self.state.primary_deg = _wrap(primary_deg)
        self.state.secondary_deg = _clip(secondary_deg, -90.0, 90.0)

    def rotate(self, d_primary: float = 0.0, d_secondary: float = 0.0) -> None:
        """Turn the C-arm by these angles (deg)."""
        self.set_angles(self.state.primary_deg + d_primary, self.state.secondary_deg + d_secondary)

    @property
    def rotation_left_deg(self) -> float:
        """How far the detector is turned from the nominal AP toward the patient's left
        (negative: the right), whatever the position: the dock's rotation control. Prone
        (AP at primary 180): ``180 - primary``; supine (AP at 0): ``primary``."""
        p = self.state.primary_deg
        return _wrap(180.0 - p) if self.task.position == "prone" else p

    def set_rotation_left(self, degrees: float) -> None:
        """Turn the detector ``degrees`` from the nominal AP toward the patient's left."""
        p = 180.0 - degrees if self.task.position == "prone" else degrees
        self.set_angles(p, self.state.secondary_deg)

    def pan(self, toward_head_mm: float = 0.0, toward_left_mm: float = 0.0) -> None:
        """Move the field over the patient (the table under the C-arm), mm."""
        lim = PAN_LIMIT_MM
        self.state.pan_head_mm = _clip(self.state.pan_head_mm + toward_head_mm, -lim, lim)
        self.state.pan_left_mm = _clip(self.state.pan_left_mm + toward_left_mm, -lim, lim)

    def set_collimation(self, fraction: float) -> None:
        """Open fraction of the field's side (0.2–1)."""
        self.state.collimation = _clip(fraction, *COLLIMATION_RANGE)

    def set_zoom(self, zoom: float) -> None:
        """Detector magnification mode (1–3×)."""
        self.state.zoom = _clip(zoom, *ZOOM_RANGE)

    def set_mas(self, mas: float) -> None:
        """Tube current–time product of the next shots (0.1–20 mAs)."""
        self.task = replace(self.task, mas=_clip(mas, *MAS_RANGE))

    # ------------------------------------------------------------------ geometry
    @property
    def isocentre(self) -> NDArray[np.float64]:
        s = self.state
        return self.home + s.pan_head_mm * HEAD + s.pan_left_mm * LEFT  # type: ignore[operator]

    @property
    def field_mm(self) -> float:
        """Width of the detector's field in this zoom mode (mm at the detector)."""
        return self.detector * self.pixel_mm / self.state.zoom

    def carm(self, size: int | None = None) -> CArm:
        """The C-arm now, with ``size`` pixels per side (default the full detector)."""
        n = int(size or self.detector)
        iso = self.isocentre
        return CArm(
            round(self.state.primary_deg, 2),
            round(self.state.secondary_deg, 2),
            (float(iso[0]), float(iso[1]), float(iso[2])),
            self.sid,
            self.sod,
            n,
            n,
            self.field_mm / n,
        )

    def collimated(self, size: int) -> tuple[int, int]:
        """The open rows/columns ``(start, stop)`` of a ``size``-pixel detector."""
        n = max(1, int(round(size * self.state.collimation)))
        start = (size - n) // 2
        return start, start + n

    # ------------------------------------------------------------------ pictures
    def preview(self, size: int = 256) -> NDArray[np.uint8]:
        """A fast noiseless picture at the current position (SPEC §13: ≤ 150 ms at 256²);
        the collimated-off border is shown dimmed so the shutters can be placed."""
        from flannot.sim.render import preview

        c = self.carm(size)
        img = preview(
            self.prep,
            c.primary_deg,
            c.secondary_deg,
            c.isocentre,
            size=size,
            sid=self.sid,
            sod=self.sod,
            field_mm=self.field_mm,
        )
        a, b = self.collimated(size)
        if b - a < size:
            mask = np.zeros(img.shape, bool)
            mask[a:b, a:b] = True
            img = np.where(mask, img, (img.astype(np.uint16) * 2 // 5).astype(np.uint8))
        return img

    def exposure_pixels(self, carm: CArm, seed: int | None) -> NDArray[np.uint16]:
        """A full shot's 12-bit pixels: rays only inside the collimation, black outside."""
        from flannot.sim.imaging import Exposure, body_mask, detect, display
        from flannot.sim.render import EXTEND_MM, STEP_FRACTION, integrate

        a, b = self.collimated(carm.rows)
        step = STEP_FRACTION * float(self.prep.spacing.min())
        p = np.full((carm.rows, carm.cols), 50.0, np.float32)  # no primary outside
        p[a:b, a:b] = integrate(
            self.prep.mu, self.prep.affine, carm, step, roi=(a, b, a, b), extend_mm=EXTEND_MM
        )
        open_ = np.zeros(p.shape, bool)
        open_[a:b, a:b] = True
        exp = Exposure(quanta=max(50.0, Exposure().quanta * self.task.mas / DEFAULT_MAS))
        body = body_mask(p) & open_
        rng = None if seed is None else np.random.default_rng(int(seed))
        log_img = detect(
            p, rng, exp, pixel_mm=carm.pixel_mm, sid=carm.sid,
            magnification=carm.magnification, body=body,
        )  # fmt: skip
        stored, _ = display(log_img, pixel_mm=carm.pixel_mm, exposure=exp, body=body)
        stored[~open_] = 0
        return stored

    def shoot(self) -> tuple[Shot, NDArray[np.uint16]]:
        """Take a full shot: render it, count it, estimate its dose, record it (and write
        it when the session has an ``out_dir``). Returns the record and the pixels."""
        from flannot.sim.dose import dose_area_product

        carm = self.carm()
        index = len(self.shots) + 1
        pixels = self.exposure_pixels(carm, self.seed + index)
        a, b = self.collimated(carm.rows)
        side_mm = (b - a) * carm.pixel_mm
        dap = dose_area_product(self.task.kvp, self.task.mas, (side_mm, side_mm), carm.sid)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        shot = Shot(
            index=index,
            primary_deg=carm.primary_deg,
            secondary_deg=carm.secondary_deg,
            isocentre_lps=[round(float(x), 4) for x in carm.isocentre],
            pan_mm=[self.state.pan_head_mm, self.state.pan_left_mm],
            collimation=self.state.collimation,
            zoom=self.state.zoom,
            sid=carm.sid,
            sod=carm.sod,
            rows=carm.rows,
            cols=carm.cols,
            pixel_mm=carm.pixel_mm,
            kvp=self.task.kvp,
            mas=self.task.mas,
            dap=round(dap, 4),
            time=now,
            elapsed_s=round(self.clock() - self._t0, 3),
            projection=[[float(f"{x:.10g}") for x in row] for row in carm.projection],
        )
        if self.out_dir is not None:
            self._write(shot, pixels, carm)
        self.shots.append(shot)
        if self.out_dir is not None:
            self.save_record()
        return shot, pixels

    # ------------------------------------------------------------------ counters
    @property
    def total_dap(self) -> float:
        """Estimated dose–area product of all shots (mGy·cm²)."""
        return float(sum(s.dap for s in self.shots))

    @property
    def shots_left(self) -> int | None:
        b = self.task.shot_budget
        return None if b is None else b - len(self.shots)

    def status(self) -> tuple[str, str]:
        """Two read-out lines: where the C-arm is, and shots, budget and dose so far."""
        st = self.state
        cc = "cranial" if st.secondary_deg > 0 else "caudal" if st.secondary_deg < 0 else ""
        position = (
            f"primary {st.primary_deg:+.0f}°, secondary {st.secondary_deg:+.0f}° {cc} · "
            f"field {self.field_mm * st.collimation / 10:.0f} cm · {self.task.kvp:g} kVp"
        )
        budget = self.task.shot_budget
        of = f" of {budget}" if budget else ""
        counter = f"Shots: {len(self.shots)}{of} · DAP {self.total_dap:.1f} mGy·cm² (estimate)"
        return position, counter

    def score(self, tolerances: Mapping[str, Any] | None = None) -> list[Any]:
        """The view-quality items of the shots so far
        (:func:`flannot.sim.view_score.score_views`)."""
        from flannot.sim.view_score import score_views

        return score_views(
            self.views,
            self.target,
            [s.to_dict() for s in self.shots],
            position=self.task.position,
            side=self.task.side,
            budget=self.task.shot_budget,
            dose_budget=self.task.dose_budget,
            tolerances=tolerances,
        )

    def current_metrics(self) -> dict[str, dict]:
        """Per task view, the metrics of the current position (for a live read-out)."""
        from flannot.sim.view_score import view_metrics

        c = self.carm(64)
        return {v.name: view_metrics(c, v, self.target, self.task.position) for v in self.views}

    # ------------------------------------------------------------------ files
    def _write(self, shot: Shot, pixels: NDArray[np.uint16], carm: CArm) -> None:
        from flannot.atomic import atomic_write_bytes
        from flannot.sim.views import POSITIONS
        from flannot.sim.xa import ShotInfo, build_xa, dataset_bytes, sim_uid

        assert self.out_dir is not None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        ms = self.task.mas / TUBE_CURRENT_MA * 1000.0
        info = ShotInfo(
            key=f"{self.key}-{shot.index}",
            case_id=self.case_id,
            description=(
                f"flannot C-arm training {self.case_id} shot {shot.index}: primary "
                f"{shot.primary_deg:.1f} secondary {shot.secondary_deg:.1f} deg"
            ),
            primary_deg=shot.primary_deg,
            secondary_deg=shot.secondary_deg,
            patient_orientation=carm.patient_orientation(),
            patient_position=POSITIONS[self.task.position],
            pixel_mm=carm.pixel_mm,
            sid=carm.sid,
            sod=carm.sod,
            kvp=self.task.kvp,
            window=(2047.5, 4096.0),
            tube_current_ma=int(round(TUBE_CURRENT_MA)),
            pulse_ms=max(1, int(round(ms))),
        )
        ds = build_xa(pixels, info)
        # one series for the whole session: the shots open as one acquisition
        ds.StudyInstanceUID = sim_uid(self.key, "study")
        ds.SeriesInstanceUID = sim_uid(self.key, "series")
        ds.FrameOfReferenceUID = sim_uid(self.key, "frame-of-reference")
        ds.SeriesDescription = f"flannot C-arm training {self.case_id}"[:64]
        ds.InstanceNumber = shot.index
        ds.ImageAndFluoroscopyAreaDoseProduct = f"{shot.dap / 100.0:.6g}"  # dGy·cm²
        stamp = shot.time.replace("-", "").replace(":", "")
        ds.AcquisitionDate, ds.AcquisitionTime = stamp[:8], stamp[9:15]
        ds.ContentDate, ds.ContentTime = stamp[:8], stamp[9:15]
        name = f"{shot.id}.dcm"
        atomic_write_bytes(self.out_dir / name, dataset_bytes(ds))
        shot.file = name
        shot.sop_instance_uid = str(ds.SOPInstanceUID)

    def record(self) -> dict[str, Any]:
        """The ``shots.json`` object."""
        return {
            "flannot_shots_version": SHOTS_VERSION,
            "case_id": self.case_id,
            "key": self.key,
            "task": self.task.to_dict(),
            "home_lps": [round(float(x), 4) for x in self.home],  # type: ignore[union-attr]
            "detector": self.detector,
            "pixel_mm": self.pixel_mm,
            "total_dap": round(self.total_dap, 4),
            "dap_unit": "mGy·cm² (estimate: docs/carm.md)",
            "shots": [s.to_dict() for s in self.shots],
        }

    def save_record(self) -> Path:
        """Write ``shots.json`` atomically into ``out_dir``."""
        from flannot.atomic import atomic_write_text

        if self.out_dir is None:
            raise FlannotError("this training session has no folder to save its shots in")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.record(), indent=2, ensure_ascii=False) + "\n"
        return atomic_write_text(self.out_dir / SHOTS_FILE, text)

    @classmethod
    def resume(cls, out_dir: str | Path, prep: Any, vertebrae: Sequence[Any], **kw: Any):
        """A session that continues the one recorded in ``out_dir/shots.json``."""
        rec = read_record(out_dir)
        session = cls(
            prep,
            vertebrae,
            Task.from_dict(rec["task"]),
            home=np.asarray(rec["home_lps"], float),
            detector=int(rec.get("detector", DEFAULT_DETECTOR)),
            pixel_mm=float(rec.get("pixel_mm", DEFAULT_PIXEL)),
            out_dir=Path(out_dir),
            case_id=str(rec.get("case_id", "case")),
            key=str(rec.get("key") or secrets.token_hex(8)),
            **kw,
        )
        session.shots = [Shot.from_dict(s) for s in rec["shots"]]
        if session.shots:
            last = session.shots[-1]  # where the C-arm was left
            session.set_angles(last.primary_deg, last.secondary_deg)
            session.state.pan_head_mm, session.state.pan_left_mm = map(float, last.pan_mm)
            session.set_collimation(last.collimation)
            session.set_zoom(last.zoom)
        return session


def read_record(out_dir: str | Path) -> dict[str, Any]:
    """``shots.json`` of a shots folder, checked enough to score it (one-line errors)."""
    path = Path(out_dir) / SHOTS_FILE
    from flannot.versioned_json import read_versioned

    missing = f"no {SHOTS_FILE}: not a folder of C-arm shots"
    rec, _ = read_versioned(path, "flannot_shots_version", SHOTS_VERSION, missing, Path(out_dir))
    if not isinstance(rec.get("shots"), list):
        raise FlannotError("must be an object with a 'shots' list", path)
    need = ("index", "primary_deg", "secondary_deg", "isocentre_lps", "sid", "sod", "rows")
    for i, s in enumerate(rec["shots"]):
        if not isinstance(s, dict) or any(k not in s for k in need):
            raise FlannotError(f"shot {i + 1} lacks its geometry ({', '.join(need)})", path)
    return rec
