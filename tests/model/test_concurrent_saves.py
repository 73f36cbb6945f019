"""Two processes saving one case file lose nothing; killed saves leave no debris behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import flannot
from flannot import FlannotError
from flannot.atomic import lock_path, save_lock, sweep_temporaries
from flannot.model import Case, ConcurrentChangeError
from flannot.model.annotation import Annotation, Geometry
from tests.model.conftest import build_case

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(flannot.__file__).resolve().parents[1]  # the flannot under test, in subprocesses too
COUNT = 80  # saves per writer; unlocked, main lost 2-150 of them

# each writer adds its own annotations one at a time; on a conflict it reloads and retries
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from flannot.model import Case, ConcurrentChangeError
    from flannot.model.annotation import Annotation, Geometry

    file, name, count, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.001)
    case = Case.load(file)
    confirmed = []
    for i in range(count):
        ident = f"{name}-{i}"
        while True:
            if ident not in {a.id for a in case.annotations}:
                case.annotations.append(
                    Annotation(ident, "redaction", Geometry("rectangle", [[0.0, 0.0], [4.0, 4.0]]))
                )
            try:
                case.save()
                confirmed.append(ident)
                break
            except ConcurrentChangeError:
                case = Case.load(file)
    print(" ".join(confirmed))
    """
)


def test_two_writers_that_retry_lose_no_confirmed_annotation(tmp_path: Path) -> None:
    case = build_case()
    # a few hundred annotations: serialising takes long enough to widen any unlocked window
    case.annotations.extend(
        Annotation(
            f"pad{i}", "redaction", Geometry("polygon", [[0.0, 0.0], [4.0, 4.0], [0.0, 4.0]])
        )
        for i in range(300)
    )
    file = case.save(tmp_path / "annotations.json")
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{ROOT}"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(file), name, str(COUNT), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for name in ("a", "b")
    ]
    for proc in procs:  # both imported flannot: start them together
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    go.touch()
    confirmed: set[str] = set()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        confirmed |= set(out.split())
    assert len(confirmed) == 2 * COUNT
    on_disk = {a["id"] for a in json.loads(file.read_text())["annotations"]}
    assert confirmed - on_disk == set()
    assert not list(tmp_path.glob(".annotations.json.*.tmp"))


def test_a_refused_save_keeps_the_edits_in_memory(tmp_path: Path) -> None:
    file = build_case().save(tmp_path / "annotations.json")
    mine, theirs = Case.load(file), Case.load(file)
    theirs.notes = "theirs"
    theirs.save()
    mine.notes = "mine"
    with pytest.raises(ConcurrentChangeError):
        mine.save()
    assert mine.notes == "mine"
    assert json.loads(file.read_text())["notes"] == "theirs"


def test_same_size_same_time_change_is_still_seen(tmp_path: Path) -> None:
    # a save within the timestamp granularity keeps mtime; equal size must not fool the check
    file = build_case().save(tmp_path / "annotations.json")
    mine = Case.load(file)
    st = file.stat()
    text = file.read_text().replace("Work dorsal", "Work DORSAL")
    file.write_text(text)
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file.stat().st_size == st.st_size
    mine.notes = "mine"
    with pytest.raises(ConcurrentChangeError):
        mine.save()


def test_debris_of_killed_saves_is_swept_on_the_next_save(tmp_path: Path) -> None:
    file = build_case().save(tmp_path / "annotations.json")
    for i in range(3):  # what SIGKILL mid-save leaves: fresh, not an hour old
        (tmp_path / f".annotations.json.{i}abc.tmp").write_text("{")
    case = Case.load(file)
    case.notes = "again"
    case.save()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_lock_is_exclusive_between_processes(tmp_path: Path) -> None:
    target = tmp_path / "annotations.json"
    code = (
        "import sys, time; from flannot.atomic import save_lock\n"
        "with save_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(1.0)\n"
    )
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{ROOT}"}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    with pytest.raises(OSError, match="held the lock"):
        with save_lock(target, timeout=0.1):
            pass
    proc.wait(timeout=30)
    with save_lock(target, timeout=5):
        pass


def test_lock_file_that_is_a_symlink_or_fifo_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "annotations.json"
    lock_path(target).symlink_to(tmp_path / "elsewhere")
    case = build_case()
    with pytest.raises(FlannotError, match="cannot save"):
        case.save(target)
    assert not (tmp_path / "elsewhere").exists()
    lock_path(target).unlink()
    os.mkfifo(lock_path(target))
    with pytest.raises(FlannotError, match="not a regular file"):
        case.save(target)


def test_sweep_leaves_other_files(tmp_path: Path) -> None:
    target = tmp_path / "annotations.json"
    (tmp_path / ".annotations.json.x.tmp").write_text("")
    (tmp_path / ".other.json.x.tmp").write_text("")
    assert sweep_temporaries(target) == 1
    assert (tmp_path / ".other.json.x.tmp").exists()
