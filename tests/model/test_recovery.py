"""Autosave recovery files: found only when newer than the case and different from it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flannot import FlannotError
from flannot.model import (
    Case,
    ConcurrentChangeError,
    discard_recovery,
    find_recovery,
    recovery_path,
    write_recovery,
)


def _age(path: Path, seconds: float) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def test_recovery_path_is_a_hidden_sibling(tmp_path: Path) -> None:
    f = tmp_path / "annotations.json"
    assert recovery_path(f) == tmp_path / ".annotations.json.recovery"
    (tmp_path / "case").mkdir()
    assert recovery_path(tmp_path / "case") == tmp_path / "case" / ".annotations.json.recovery"


def test_crash_then_recover_then_save(case_dir: Path) -> None:
    case = Case.load(case_dir)
    case.notes = "unsaved edit"
    case.get("v1").geometry.points[0] = [33.25, 101.5]
    rec = write_recovery(case)
    assert rec == case_dir / ".annotations.json.recovery"
    _age(case_dir / "annotations.json", 10)  # the case file was saved before the autosave
    # the case file itself is untouched by the autosave
    assert Case.load(case_dir).notes != "unsaved edit"
    recovered = find_recovery(case_dir)
    assert recovered is not None
    assert recovered.notes == "unsaved edit"
    assert recovered.get("v1").geometry.points.tolist() == [[33.25, 101.5]]
    # the recovered case saves over the case file (it is bound to it, not to the recovery)
    assert recovered.path == (case_dir / "annotations.json").absolute()
    recovered.save()
    assert Case.load(case_dir).notes == "unsaved edit"
    assert discard_recovery(case_dir) is True
    assert not rec.exists() and discard_recovery(case_dir) is False
    assert find_recovery(case_dir) is None


def test_recovery_older_than_the_case_is_ignored(case_dir: Path) -> None:
    case = Case.load(case_dir)
    case.notes = "autosaved"
    rec = write_recovery(case)
    _age(rec, 10)  # then the user saved: the case file is newer
    assert find_recovery(case_dir) is None


def test_recovery_equal_to_the_case_is_ignored(case_dir: Path) -> None:
    case = Case.load(case_dir)
    write_recovery(case)  # nothing changed
    _age(case_dir / "annotations.json", 10)
    assert find_recovery(case_dir) is None


def test_recovered_case_still_refuses_to_overwrite_someone_elses_save(case_dir: Path) -> None:
    case = Case.load(case_dir)
    case.notes = "mine"
    write_recovery(case)
    _age(case_dir / "annotations.json", 10)
    recovered = find_recovery(case_dir)
    assert recovered is not None
    other = Case.load(case_dir)
    other.notes = "theirs"
    other.save()
    with pytest.raises(ConcurrentChangeError):
        recovered.save()


def test_recovery_without_a_case_file(case: Case, tmp_path: Path) -> None:
    with pytest.raises(FlannotError, match="no file yet"):
        write_recovery(case)
    write_recovery(case, tmp_path / "new" / "annotations.json")
    recovered = find_recovery(tmp_path / "new" / "annotations.json")
    assert recovered is not None and recovered == case
    recovered.save()  # creates the case file
    assert Case.load(tmp_path / "new") == recovered


def test_unreadable_recovery_warns_and_is_ignored(case_dir: Path) -> None:
    rec = recovery_path(case_dir)
    rec.write_text("{ half a file")
    with pytest.warns(UserWarning, match="unreadable recovery"):
        assert find_recovery(case_dir) is None


def test_recovery_differing_only_in_spelling_is_ignored(case_dir: Path) -> None:
    f = case_dir / "annotations.json"
    data = json.loads(f.read_text())
    data["annotations"][6]["level"] = "L4/L5"  # hand-edited spelling on disk
    f.write_text(json.dumps(data))
    case = Case.load(case_dir)
    write_recovery(case)  # same content, canonical spelling
    _age(f, 10)
    assert find_recovery(case_dir) is None


def test_file_created_after_a_recovery_without_case_file_is_not_overwritten(
    case: Case, tmp_path: Path
) -> None:
    target = tmp_path / "new" / "annotations.json"
    write_recovery(case, target)
    recovered = find_recovery(target)
    assert recovered is not None
    case.copy().save(target)  # someone saves a case there first
    with pytest.raises(ConcurrentChangeError):
        recovered.save()
