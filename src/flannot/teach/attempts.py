"""Trainee attempts in a teaching set (SPEC §5): who, where, and an empty attempt to start.

``SET/attempts/<trainee>/<case-id>.json`` holds a trainee's annotations of one case; the
trainee name is a folder name, so it is checked here, once, for the Quiz dock and scripts.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from flannot.errors import FlannotError

if TYPE_CHECKING:  # pragma: no cover
    from flannot.model.case import Case

_TRAINEE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def default_trainee() -> str:
    """The login name made safe for a folder name (``trainee`` when there is none)."""
    try:
        name = getpass.getuser()
    except Exception:  # no login name (containers)
        name = ""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return name[:64] if name and _TRAINEE_RE.fullmatch(name[:64]) else "trainee"


def check_trainee(name: str) -> str:
    """``name`` stripped, or :class:`FlannotError` when it cannot be a folder name."""
    name = name.strip()
    if not _TRAINEE_RE.fullmatch(name):
        raise FlannotError(
            "the trainee name must be letters, digits, '.', '_' or '-' (up to 64), "
            "starting with a letter or digit"
        )
    return name


def attempt_path_in_set(set_root: str | os.PathLike[str], trainee: str, case_id: str) -> Path:
    """``SET/attempts/<trainee>/<case-id>.json`` (SPEC §5)."""
    return Path(set_root) / "attempts" / check_trainee(trainee) / f"{case_id}.json"


def empty_attempt(reference: Case, trainee: str) -> Case:
    """A case with the reference's image record and case id and no annotations.

    The image path is made absolute: the attempt is saved in another folder.
    """
    from flannot.model.case import Case, ImageRef

    image = ImageRef.from_dict(reference.image.to_dict())
    image.path = str(reference.image_path)
    return Case(
        case_id=reference.case_id,
        image=image,
        annotations=[],
        protocol=reference.protocol,
        author=trainee,
    )
