"""npe2 sample data: each case of the synthetic sample teaching set (SPEC §10).

Each sample opens the case's image and its reference annotations into the
current viewer's flannot session, with the sample teaching set remembered so
the Teaching-set dock can browse the other cases. The set is the repository's
``sample_dicoms/``; an installed wheel without it generates the set once into
the user's cache folder (``flannot.phantom.write_sample_set``, seed 0), and adds the
CT-derived case there when it is first opened, if the TotalSegmentator example CT is
cached (``flannot.sim.sample_ct``; otherwise a one-line error saying how to fetch it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

__all__ = ["SAMPLE_CASES", "open_sample_case", "sample_set_dir"]

#: case ids of the sample set (``flannot.phantom.CASES``, then the v2 course
#: ``flannot.phantom.course.V2_CASES``, then one of the CT-derived cases of
#: ``flannot.sim.sample_ct.CT_CASES``), one npe2 sample each (napari.yaml)
SAMPLE_CASES = (
    "ap",
    "lateral",
    "clo-left",
    "clo-right-hypertrophic",
    "lateral-stenotic",
    "cine",
    "p1-ap",
    "p1-lateral",
    "p1-clo-left",
    "p1-cine-docked",
    "p2-lateral-slip",
    "p3-clo-right-interrupted",
    "p4-clo-left-no-shelf",
    "ct-totalseg-l4-ap",
)


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "flannot" / "sample-set-seed0"


def sample_set_dir() -> Path:
    """The sample teaching set folder (generated into the cache when not shipped)."""
    from flannot.phantom import sample_set_path, write_sample_set

    found = sample_set_path()
    if found is not None:
        return Path(found)
    cached = _cache_dir()
    if not (cached / "flannot-set.json").is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_sample_set(cached, seed=0)
    return cached


def open_sample_case(case_id: str, set_dir: str | os.PathLike[str] | None = None) -> list[tuple]:
    """Layer-data tuples for sample case ``case_id`` (the viewer's session adopts them)."""
    import napari

    from flannot.napari._reader import open_teaching_set
    from flannot.napari.session import get_session

    viewer = napari.current_viewer()
    session = None if viewer is None else get_session(viewer)
    folder = Path(set_dir) if set_dir is not None else sample_set_dir()
    if case_id.startswith("ct-") and not (folder / "cases" / case_id).is_dir():
        from flannot.sim.sample_ct import write_ct_cases

        write_ct_cases(folder)  # a generated set: render from the cached CT (or one line)
    return open_teaching_set(folder, session, case_id=case_id)


def _opener(case_id: str) -> Callable[[], list[tuple]]:
    def opener() -> list[tuple]:
        return open_sample_case(case_id)

    opener.__name__ = opener.__qualname__ = "sample_" + case_id.replace("-", "_")
    opener.__doc__ = f"Sample case {case_id!r} of the synthetic sample teaching set."
    return opener


# module attributes sample_ap, sample_lateral, sample_clo_left … named in napari.yaml
for _case_id in SAMPLE_CASES:
    _fn = _opener(_case_id)
    globals()[_fn.__name__] = _fn
    __all__.append(_fn.__name__)
del _case_id, _fn
