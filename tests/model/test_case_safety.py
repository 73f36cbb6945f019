"""Never lose work: clear one-line errors for bad files, conflict refusal, atomic saves."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flannot import FlannotError
from flannot.model import Case, ConcurrentChangeError


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert "\n" not in msg
    return msg


def test_corrupt_json_names_line_and_column(tmp_path: Path) -> None:
    f = _write(tmp_path / "annotations.json", '{\n  "flannot_version": 1,\n  "case_id": \n}\n')
    with pytest.raises(FlannotError) as info:
        Case.load(f)
    msg = _one_line(info.value)
    assert msg.startswith(str(f)) and "line 4, column 1" in msg and "not valid JSON" in msg


def test_not_utf8_and_not_an_object(tmp_path: Path) -> None:
    f = tmp_path / "annotations.json"
    f.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FlannotError, match="UTF-8"):
        Case.load(f)
    _write(f, "[1, 2, 3]")
    with pytest.raises(FlannotError, match="not an object"):
        Case.load(f)


def test_missing_file_and_folder_without_case(tmp_path: Path) -> None:
    with pytest.raises(FlannotError, match="no such case file"):
        Case.load(tmp_path / "nope.json")
    with pytest.raises(FlannotError, match="annotations.json"):
        Case.load(tmp_path)  # a folder without annotations.json


def test_newer_version_says_upgrade(case: Case, tmp_path: Path) -> None:
    data = case.to_dict()
    data["flannot_version"] = 2
    data["annotations"] = "a future layout the schema would reject"
    f = _write(tmp_path / "annotations.json", json.dumps(data))
    with pytest.raises(FlannotError) as info:
        Case.load(f)
    msg = _one_line(info.value)
    assert "newer flannot" in msg and "upgrade" in msg and "version 2" in msg


def test_schema_violation_is_one_line_with_json_path(case: Case, tmp_path: Path) -> None:
    data = case.to_dict()
    data["annotations"][3]["geometry"]["points"][1] = [1.0]
    del data["annotations"][5]["id"]
    f = _write(tmp_path / "annotations.json", json.dumps(data, indent=2))
    with pytest.raises(FlannotError) as info:
        Case.load(f)
    msg = _one_line(info.value)
    assert "$.annotations[3].geometry.points[1]" in msg
    assert "1 more" in msg and "flannot validate" in msg


def test_refuses_to_overwrite_a_file_changed_on_disk(case_dir: Path) -> None:
    mine = Case.load(case_dir)
    theirs = Case.load(case_dir)
    theirs.author = "dr. jones"
    theirs.notes = "their notes"
    theirs.save()
    mine.notes = "my notes"
    with pytest.raises(ConcurrentChangeError) as info:
        mine.save()
    msg = _one_line(info.value)
    assert isinstance(info.value, FlannotError)
    assert "changed on disk" in msg and "by dr. jones" in msg and theirs.modified in msg
    assert "save as" in msg.lower() and "force" in msg
    # nothing of mine was written
    assert Case.load(case_dir).notes == "their notes"
    # save-as elsewhere works, and force overwrites
    mine.save(case_dir.parent / "mine")
    assert Case.load(case_dir.parent / "mine").notes == "my notes"
    again = Case.load(case_dir)
    again.notes = "again"
    theirs.notes = "theirs, later"
    theirs.save()  # theirs is bound to case_dir and unchanged since its own save → fine
    with pytest.raises(ConcurrentChangeError):
        again.save()
    again.save(force=True)
    assert Case.load(case_dir).notes == "again"


def test_touching_the_file_without_changing_it_is_not_a_conflict(case_dir: Path) -> None:
    case = Case.load(case_dir)
    f = case_dir / "annotations.json"
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert not case.changed_on_disk()
    case.save()  # no error


def test_refuses_to_overwrite_a_file_it_was_not_loaded_from(case: Case, case_dir: Path) -> None:
    with pytest.raises(ConcurrentChangeError, match="not the file this case was loaded from"):
        case.save(case_dir)
    case.save(case_dir, force=True)


def test_save_without_any_path_is_a_clear_error(case: Case) -> None:
    with pytest.raises(FlannotError, match="give a path"):
        case.save()


def test_deleted_file_is_simply_recreated(case_dir: Path) -> None:
    case = Case.load(case_dir)
    (case_dir / "annotations.json").unlink()
    case.save()
    assert Case.load(case_dir).case_id == case.case_id


_SAVER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from flannot.model import Case
    case = Case.load(sys.argv[1])
    tag = sys.argv[2]
    rng = np.random.default_rng(int(sys.argv[3]))
    print("ready", flush=True)
    n = 0
    while True:
        for a in case.annotations:
            a.geometry.points = a.geometry.points + rng.normal(size=a.geometry.points.shape)
        n += 1
        case.notes = "%s save %d" % (tag, n)
        t = time.perf_counter()
        case.save()
        print("saved %d %.6f" % (n, time.perf_counter() - t), flush=True)
    """
)

# Generous limits: they only stop a hung child from hanging the suite and never decide
# whether the test passes on a slow machine.
_STARTUP_S = 120.0
_CATCH_S = 20.0


class _Lines:
    """Lines of a child's stdout, read with a timeout (no blocking on a buffered pipe)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def next(self, timeout: float) -> str:
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"the saver printed no line within {timeout:.0f} s")
            chunk = os.read(self.fd, 65536)
            if not chunk:
                raise AssertionError("the saver died: " + self.buf.decode(errors="replace"))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def _stop_mid_write(proc: subprocess.Popen[bytes], folder: Path, old: set[str]) -> bool:
    """Freeze the saver while a temporary of a save is on disk (the write is in progress).

    Polls for a new ``.annotations.json.*.tmp``, stops the child with SIGSTOP and checks
    the temporary is still there, i.e. the rename has not happened. ``False`` when no
    write was caught within ``_CATCH_S`` (the child is then left running).
    """
    end = time.monotonic() + _CATCH_S
    while time.monotonic() < end:
        if any(e.name.endswith(".tmp") and e.name not in old for e in os.scandir(folder)):
            proc.send_signal(signal.SIGSTOP)
            if any(e.name.endswith(".tmp") and e.name not in old for e in os.scandir(folder)):
                return True
            proc.send_signal(signal.SIGCONT)  # the rename won the race: try the next save
    return False


@pytest.mark.slow
def test_atomic_save_survives_sigkill(case: Case, tmp_path: Path) -> None:
    """SIGKILL during saves, some verified mid-write, always leaves the old or new file.

    Each round waits until the saver has finished one save (so a new version exists),
    then kills it either while a save's temporary file is on disk (caught by polling
    and frozen with SIGSTOP before the kill) or after a random delay of up to two
    save durations. Nothing depends on the machine's speed: the waits are events with
    generous timeouts, not fixed sleeps.
    """
    # a large case: ~1 MB of points, so a save takes long enough to be caught mid-way
    big = case.copy()
    base = big.get("ec1")
    for n in range(40):
        g = base.geometry.copy()
        g.points = g.points[:1] + [[float(i) / 7.0, float(i) / 3.0] for i in range(900)]
        big.add(type(base)(f"path{n}", "epidural_contrast", g, level="L4-L5", side="left"))
    folder = tmp_path / "big"
    big.save(folder)
    target = folder / "annotations.json"
    assert target.stat().st_size > 900_000
    script = _write(tmp_path / "saver.py", _SAVER)
    rng = random.Random(0)
    versions = {big.notes}
    mid_write = 0
    for round_ in range(8):
        tag = f"round {round_}"
        proc = subprocess.Popen(
            [sys.executable, str(script), str(folder), tag, str(rng.randrange(1000))],
            stdout=subprocess.PIPE,
        )
        try:
            lines = _Lines(proc)
            assert lines.next(_STARTUP_S) == "ready"
            first = lines.next(_STARTUP_S).split()
            assert first[:2] == ["saved", "1"], first
            seconds = float(first[2])
            old = {p.name for p in folder.iterdir()}
            if round_ % 2 == 0 and _stop_mid_write(proc, folder, old):
                mid_write += 1
            else:
                time.sleep(rng.uniform(0.0, 2.0 * seconds))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            proc.stdout.close()
        loaded = Case.load(folder)  # the old version or a new one, never half of one
        assert len(loaded.annotations) == len(big.annotations)
        assert loaded.notes in versions or loaded.notes.startswith(f"{tag} save ")
        versions.add(loaded.notes)
        skip = {"annotations.json", ".annotations.json.lock"}  # the lock file stays by design
        leftovers = [p.name for p in folder.iterdir() if p.name not in skip]
        assert all(n.startswith(".annotations.json.") and n.endswith(".tmp") for n in leftovers)
    assert len(versions) > 1  # saves completed: kills did not only hit the first save
    assert mid_write >= 1, "no save was ever caught mid-write; the test proved less than it says"


def test_newer_version_written_as_float_is_still_refused(case: Case, tmp_path: Path) -> None:
    data = case.to_dict()
    data["flannot_version"] = 2.0  # JSON Schema counts 2.0 as an integer
    f = _write(tmp_path / "annotations.json", json.dumps(data))
    with pytest.raises(FlannotError, match="newer flannot"):
        Case.load(f)


def test_save_sweeps_stale_temporaries_of_killed_saves(case_dir: Path) -> None:
    old = case_dir / ".annotations.json.abc123.tmp"
    # fresh debris too: a save in progress elsewhere would hold the save lock we take
    fresh = case_dir / ".annotations.json.def456.tmp"
    other = case_dir / ".image.dcm.zzz.tmp"
    for f in (old, fresh, other):
        f.write_text("{ half")
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    Case.load(case_dir).save()
    assert not old.exists() and not fresh.exists() and other.exists()


def test_repr_is_short(case: Case) -> None:
    text = repr(case)
    assert text.startswith("Case(case_id='case-001'") and "annotations=13" in text
    assert len(text) < 200
