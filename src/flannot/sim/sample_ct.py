"""Real anatomy for the sample course: three views of a real CT through the virtual C-arm.

The TotalSegmentator 2.18.0 source distribution on PyPI ships an example abdominal CT
with a T12–S1 vertebra labelmap (SPEC §15). flannot does not ship or download it at
run time: the tests (``tests/sim/reference_ct.py``) and ``make sample`` fetch it once
into a cache, checksum-verified; :func:`reference_ct` finds it there, and
:func:`write_ct_cases` renders ``ct-totalseg-l4-ap``, ``-lateral`` and ``-clo-left``
(:data:`CT_CASES`) with :func:`flannot.sim.case.simulate`: image, answer key
(projected vertebra centres, spinous-process tips, pedicles) and ``truth.json``, with
the attribution the CT's licence asks for in every case's notes. ``make sample``
(``flannot sample sample_dicoms --with-ct``) adds them to the sample teaching set
after its phantom cases, and writes ``ATTRIBUTION.md`` beside ``flannot-set.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flannot.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from flannot.errors import FlannotError
from flannot.protocols.mild import MILD

__all__ = [
    "ATTRIBUTION",
    "CT_CASES",
    "CT_FILES",
    "CtCase",
    "ct_cache_dir",
    "reference_ct",
    "write_ct_cases",
    "write_ct_previews",
]

#: the PyPI source distribution holding the CT, and its SHA-256
SDIST = "totalsegmentator-2.18.0.tar.gz"
SDIST_SHA256 = "5d4223ef93973bc36d710869d11e7742ead2c154c72f7f9edcaaadd5b6c4bd03"
#: cache file name -> (member of the sdist, SHA-256 of the file)
CT_FILES: dict[str, tuple[str, str]] = {
    "example_ct.nii.gz": (
        "totalsegmentator-2.18.0/tests/reference_files/example_ct.nii.gz",
        "dbd3ae6d614d1d7ef3a46925c30c70038ed52da6b37fdd6afdc7b9b71387e3e1",
    ),
    "totalseg.nii.gz": (
        "totalsegmentator-2.18.0/tests/reference_files/spine_report/example_ct_report/"
        "totalseg.nii.gz",
        "1dee90b23f201480e42211527b1e3acefd99c22e21291ef319a95d0b460d7376",
    ),
}
CACHE_SUBDIR = "totalsegmentator-2.18.0"

ATTRIBUTION = (
    "Derived from the example CT and its vertebra labelmap shipped with TotalSegmentator "
    "2.18.0 (tests/reference_files/example_ct.nii.gz and "
    "tests/reference_files/spine_report/example_ct_report/totalseg.nii.gz of the PyPI "
    "source distribution; TotalSegmentator is Apache-2.0 licensed, "
    "github.com/wasserth/TotalSegmentator). Please cite: Wasserthal J, Breit H-C, "
    "Meyer MT, et al. TotalSegmentator: robust segmentation of 104 anatomic structures in "
    "CT images. Radiol Artif Intell 2023;5(5):e230024. The fluoroscopy is simulated by "
    "flannot's virtual C-arm; it is not a patient's fluoroscopy."
)

FETCH_HINT = (
    "run 'make sample' in a flannot checkout, or fetch it yourself: pip download "
    "--no-deps --no-binary :all: totalsegmentator==2.18.0 and extract "
    + " and ".join(m for m, _ in CT_FILES.values())
    + " into that folder"
)


@dataclass(frozen=True)
class CtCase:
    """One CT-derived sample case: its id, C-arm view, title and teaching notes."""

    case_id: str
    view: str
    title: str
    teaches: str


CT_CASES: tuple[CtCase, ...] = (
    CtCase(
        "ct-totalseg-l4-ap",
        "ap",
        "Real anatomy: true AP at L4 (CT-derived)",
        "**True AP at L4** (course step 1, docs/mild-course.md). A real spine, rendered from "
        "a CT by the virtual C-arm, centred on L4 with the C-arm tilted so that the beam runs "
        "along the L4 endplates. Count the levels up from the sacrum and find L4; check that "
        "its spinous process sits between its pedicles. The answer key marks each labelled "
        "vertebra's projected centre, its spinous-process tip and its pedicles, taken from "
        "the CT's labelmap.",
    ),
    CtCase(
        "ct-totalseg-l4-lateral",
        "lateral",
        "Real anatomy: lateral at L4 (CT-derived)",
        "**Lateral at L4** (course step 2). The same spine from the side: count the bodies "
        "and discs up from the sacrum to confirm L4; the beam runs along the L4 endplates, "
        "so they show as single lines. Mark the corners of neighbouring vertebral bodies "
        "and `flannot measure` reports the slip between them (Meyerding grade). Behind the "
        "bodies this rendering of a 3 mm CT shows the posterior elements only faintly: the "
        "answer key's pedicles and spinous-process tips mark where they project, but the "
        "image does not show how deep the laminae lie.",
    ),
    CtCase(
        "ct-totalseg-l4-clo-left",
        "clo-left",
        "Real anatomy: contralateral oblique, left approach at L4 (CT-derived)",
        "**Contralateral oblique for a left approach at L4** (course step 3): the C-arm "
        "turned 45° so that the detector faces the patient's right. On a real spine, see "
        "how the view moves the bodies, pedicles and spinous processes against each other "
        "and the iliac crest into the field; the answer key marks where L4's pedicles and "
        "spinous process project. This CT has no epidural contrast and its 3 mm voxels "
        "blur thin bone: the laminae, the facets and the interlaminar window are not "
        "resolved, so the image teaches how the view is set up only, not the laminar "
        "shelf, the epidurogram or the ventral interlaminar line (the phantom's "
        "p1-clo-left teaches those).",
    ),
)

SET_NAME = "MILD sample set: real anatomy from CT"
#: appended to the description of a set the cases are added to (once)
SET_NOTE = (
    " Three cases (ct-totalseg-l4-ap, -lateral, -clo-left) show real anatomy: views at L4 "
    "simulated by flannot's virtual C-arm from the TotalSegmentator example CT "
    "(attribution: ATTRIBUTION.md and each case's notes)."
)
SET_DESCRIPTION = (
    "Three views (AP, lateral, contralateral oblique for a left approach) at L4 of a real "
    "spine, simulated by flannot's virtual C-arm from the TotalSegmentator example CT. "
    + ATTRIBUTION
)
#: rendering settings (SPEC §15 defaults but a smaller, coarser detector: < 3 MB for three)
DETECTOR = 384
PIXEL_MM = 0.8
TARGET = "L4"


def ct_cache_dir() -> Path:
    """Where the fetched CT is looked for: ``$FLANNOT_TEST_DATA`` when set, else
    ``~/.cache/flannot-test-data`` (the tests' cache), then ``totalsegmentator-2.18.0/``."""
    env = os.environ.get("FLANNOT_TEST_DATA", "").strip()
    base = Path(env) if env else Path.home() / ".cache" / "flannot-test-data"
    return base / CACHE_SUBDIR


def sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def reference_ct(folder: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """Paths of the cached ``example_ct.nii.gz`` and ``totalseg.nii.gz``, checksums verified.

    Raises
    ------
    FlannotError
        A file is missing or its checksum is wrong — one line saying how to fetch it.
    """
    where = Path(folder) if folder is not None else ct_cache_dir()
    paths = {name: where / name for name in CT_FILES}
    for name, p in paths.items():
        if not p.is_file():
            raise FlannotError(
                f"the TotalSegmentator example CT is not cached ({name} missing); {FETCH_HINT}",
                where,
            )
        if sha256(p) != CT_FILES[name][1]:
            raise FlannotError(f"{name}: checksum mismatch; delete it and fetch it again", where)
    return paths["example_ct.nii.gz"], paths["totalseg.nii.gz"]


def render_ct_cases(
    folder: str | os.PathLike[str] | None = None, seed: int = 0
) -> dict[str, dict[str, bytes]]:
    """The files of every :data:`CT_CASES` case (case id -> file name -> bytes)."""
    from flannot.sim.case import SimRequest, simulate
    from flannot.sim.render import prepare
    from flannot.sim.volume import load_ct, load_labels

    ct_path, seg_path = reference_ct(folder)
    ct = load_ct(ct_path)
    labels = load_labels(seg_path, ct)
    prepared = (ct, labels, prepare(ct, 80.0))
    out: dict[str, dict[str, bytes]] = {}
    for c in CT_CASES:
        req = SimRequest(
            str(ct_path), str(seg_path), view=c.view, target=TARGET, detector=DETECTOR,
            pixel=PIXEL_MM, seed=seed, case_id=c.case_id,
        )  # fmt: skip
        sim = simulate(req, prepared=prepared)
        files = dict(sim.files)
        case = json.loads(files["annotations.json"])
        case["notes"] = _notes(c, case.get("notes", ""))
        case["x_attribution"] = ATTRIBUTION
        files["annotations.json"] = (json.dumps(case, indent=2, ensure_ascii=False) + "\n").encode()
        truth = json.loads(files["truth.json"])
        truth["attribution"] = ATTRIBUTION
        files["truth.json"] = (json.dumps(truth, indent=2, ensure_ascii=False) + "\n").encode()
        out[c.case_id] = files
    return out


def _notes(c: CtCase, sim_notes: str) -> str:
    return f"{c.teaches}\n\n{sim_notes}\n\n*Source:* {ATTRIBUTION}\n"


def _entries() -> list[dict[str, Any]]:
    return [
        {"case_id": c.case_id, "path": f"cases/{c.case_id}", "title": c.title, "view": c.view}
        for c in CT_CASES
    ]


def set_manifest() -> dict[str, Any]:
    """The ``flannot-set.json`` of a set holding only the CT-derived cases."""
    from flannot.sim.case import CREATED

    return {
        "flannot_set_version": 1,
        "name": SET_NAME,
        "description": SET_DESCRIPTION,
        "protocol": MILD.name,
        "tolerances": dict(MILD.tolerances),
        "cases": _entries(),
        "created": CREATED,
        "modified": CREATED,
    }


def write_ct_cases(
    out_dir: str | os.PathLike[str],
    ct_folder: str | os.PathLike[str] | None = None,
    seed: int = 0,
) -> list[str]:
    """Render the CT-derived cases into the teaching set in ``out_dir``.

    An existing ``flannot-set.json`` (the phantom set) gets the cases appended (an
    entry of the same id is replaced); otherwise a set of only these cases is written.
    The same CT and seed always write the same bytes.

    Returns
    -------
    list[str]
        The case ids written.

    Raises
    ------
    FlannotError
        The CT is not cached (:func:`reference_ct`), or ``out_dir`` is not a folder.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FlannotError("not a folder", out)
    rendered = render_ct_cases(ct_folder, seed)  # before touching out_dir: fail clean
    for cid, files in rendered.items():
        folder = out / "cases" / cid
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            atomic_write_bytes(folder / name, data)
    set_file = out / "flannot-set.json"
    if set_file.is_file():
        try:
            manifest = json.loads(set_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FlannotError(f"cannot read the set file: {exc}", set_file) from None
        ids = set(rendered)
        manifest["cases"] = [
            e for e in manifest.get("cases") or [] if e.get("case_id") not in ids
        ] + _entries()
        description = str(manifest.get("description") or "")
        if SET_NOTE not in description:
            manifest["description"] = (description + SET_NOTE).strip()
    else:
        manifest = set_manifest()
    atomic_write_json(set_file, manifest)
    atomic_write_text(out / "ATTRIBUTION.md", _attribution_md())
    return list(rendered)


def _attribution_md() -> str:
    cases = "\n".join(f"- `cases/{c.case_id}`: {c.title}" for c in CT_CASES)
    return (
        "# Attribution\n\n"
        "## The CT-derived cases (real anatomy)\n\n"
        f"{cases}\n\n{ATTRIBUTION}\n\n"
        "## Every other case\n\n"
        "The other cases of a set written by `flannot sample` are flannot's synthetic "
        "phantom (v1 diagrams and the v2 labelled 3D spine through the virtual C-arm): "
        "generated, no patient data, no third-party images.\n\n"
        "Regenerate with `make sample` (fetches the CT once into a checksum-verified "
        "cache, then runs `flannot sample sample_dicoms --with-ct --previews docs/images`).\n"
    )


def write_ct_previews(
    set_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str]
) -> list[Path]:
    """Write ``<case>.png`` and ``<case>_annotated.png`` for every CT-derived case.

    Drawn from the cases written into ``set_dir`` by :func:`write_ct_cases`: the image
    through the window of its header (what the viewer shows first) and the answer key
    in MILD colours, as the phantom's previews are.
    """
    import numpy as np
    import pydicom
    from PIL import Image

    from flannot.phantom.preview import _png, draw_annotations

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for c in CT_CASES:
        folder = Path(set_dir) / "cases" / c.case_id
        try:
            ds = pydicom.dcmread(folder / "image.dcm")
            anns = json.loads((folder / "annotations.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FlannotError(f"cannot read the CT-derived case: {exc}", folder) from None
        px = ds.pixel_array.astype(np.float64)
        centre, width = float(ds.WindowCenter), float(ds.WindowWidth)
        lo = centre - 0.5 - (width - 1) / 2  # PS3.3 C.11.2.1.2.1 linear window
        gray = np.clip((px - lo) / (width - 1) * 255.0, 0, 255).round().astype(np.uint8)
        pngs = {
            "": _png(Image.fromarray(gray)),
            "_annotated": _png(draw_annotations(gray, anns["annotations"])),
        }
        for suffix, data in pngs.items():
            written.append(atomic_write_bytes(out / f"{c.case_id}{suffix}.png", data))
    return written
