"""npe2 sample data: each case of the synthetic sample teaching set (SPEC §10).

Each sample opens the case's image and its reference annotations into the
current viewer's flannot session, with the sample teaching set remembered so
the Teaching-set dock can browse the other cases.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_CASES", "open_sample_case", "sample_set_dir"]

# case ids of the sample set (flannot.phantom), one npe2 sample each (see napari.yaml)
SAMPLE_CASES = ("lateral", "ap", "oblique", "cine")


def sample_set_dir() -> Path:
    """The sample teaching set folder (written by flannot.phantom when missing)."""
    from flannot.phantom import sample_set_path

    return Path(sample_set_path())


def open_sample_case(case_id: str) -> list[tuple]:
    """Layer-data tuples for sample case ``case_id`` (the session adopts them)."""
    import napari

    from flannot.napari._reader import open_teaching_set
    from flannot.napari.session import get_session

    viewer = napari.current_viewer()
    session = None if viewer is None else get_session(viewer)
    return open_teaching_set(sample_set_dir(), session, case_id=case_id)


def lateral() -> list[tuple]:
    """Lateral view L1–S1."""
    return open_sample_case("lateral")


def ap() -> list[tuple]:
    """AP view."""
    return open_sample_case("ap")


def oblique() -> list[tuple]:
    """Contralateral-oblique epidurogram."""
    return open_sample_case("oblique")


def cine() -> list[tuple]:
    """Cine of a portal advancing toward L4-L5."""
    return open_sample_case("cine")
