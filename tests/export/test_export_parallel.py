"""The same bytes out whether cases run serially, on local workers or on a Dask cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from flannot.export import export_set
from tests.export.export_helpers import small_set


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def three_cases(sample_set: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # three single-frame cases keep worker start-up the dominant cost and the test short
    return small_set(
        sample_set, tmp_path_factory.mktemp("p") / "set", ["ap", "lateral", "clo-left"]
    )


def test_two_local_workers_write_the_same_bytes(three_cases: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    export_set(three_cases, "coco", tmp_path / "one", workers=1)
    export_set(
        three_cases, "coco", tmp_path / "two", workers=2, progress=lambda d, t: seen.append((d, t))
    )
    one, two = _tree(tmp_path / "one"), _tree(tmp_path / "two")
    assert len(one) == 4  # three PNGs + annotations.json
    assert one == two
    assert seen[-1] == (3, 3) and [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("fmt", ["csv", "coco", "html", "dicom", "masks"])
def test_every_format_same_bytes_with_1_and_2_workers_and_chunks(
    three_cases: Path, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flannot.export import runner

    export_set(three_cases, fmt, tmp_path / "one", workers=1)
    export_set(three_cases, fmt, tmp_path / "two", workers=2)
    monkeypatch.setattr(runner, "chunk_size", lambda total, workers: 2)  # chunks of 2 and 1
    export_set(three_cases, fmt, tmp_path / "chunks", workers=2)
    one = _tree(tmp_path / "one")
    assert one and one == _tree(tmp_path / "two") == _tree(tmp_path / "chunks")
    assert not any(".flannot-staging-" in name for name in one)


def test_a_worker_writes_its_files_and_returns_only_records(three_cases: Path, tmp_path: Path):
    from flannot.atomic import StagingTree
    from flannot.export.jobs import case_job

    with StagingTree(tmp_path / "out") as tree:
        part = case_job("coco", str(three_cases), "ap", {}, tree.folder("c0"), str(tree.out))
        assert "files" not in part and part["staged"] == ["images/ap/frame-0000.png"]
        staged = Path(tree.folder("c0")) / "images" / "ap" / "frame-0000.png"
        assert staged.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert not (tmp_path / "out" / "images").exists()  # nothing in place before commit
        tree.add(part["staged"], tree.folder("c0"))
        assert tree.commit() == ["images/ap/frame-0000.png"]
    assert (tmp_path / "out" / "images" / "ap" / "frame-0000.png").is_file()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["images"]  # staging removed


def test_chunk_size_gives_each_worker_about_eight_chunks() -> None:
    from flannot.export.runner import chunk_size

    assert chunk_size(50, 2) == 4 and chunk_size(3, 2) == 1 and chunk_size(200, 2) == 13


@pytest.mark.parametrize("fmt", ["masks", "coco", "dicom"])
def test_dask_cluster_writes_the_same_bytes(three_cases: Path, tmp_path: Path, fmt: str) -> None:
    import distributed

    export_set(three_cases, fmt, tmp_path / "local", workers=2)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        result = export_set(
            three_cases, fmt, tmp_path / "cluster", scheduler=cluster.scheduler_address
        )
    assert result["cases"] == 3
    assert _tree(tmp_path / "local") == _tree(tmp_path / "cluster")


def test_unreachable_scheduler_is_one_line_error(three_cases: Path, tmp_path: Path) -> None:
    from flannot.errors import FlannotError

    with pytest.raises(FlannotError, match="scheduler address"):
        export_set(three_cases, "csv", tmp_path / "x", scheduler="localhost:1")


def test_chunks_cover_every_task_in_order_and_shrink_towards_the_end() -> None:
    from flannot.export.runner import chunk_size, chunks

    for total, workers in [(1, 2), (3, 2), (50, 2), (200, 2), (997, 3)]:
        spans = chunks(total, workers)
        assert spans[0][0] == 0 and spans[-1][1] == total
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        sizes = [b - a for a, b in spans]
        assert max(sizes) == chunk_size(total, workers) and sizes == sorted(sizes, reverse=True)
        assert sizes[-1] == 1  # the workers finish within one task of each other


def _pid_of_task(i: int) -> tuple[int, int]:
    import os

    return i, os.getpid()


def test_forked_workers_start_after_the_first_task_ran_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With forked workers the first task runs in this process, so what tasks import on
    first use is imported once, not again in every worker; order and progress hold."""
    import os

    from flannot.export import runner

    # fork as a single-threaded caller would (other tests leave threads running)
    monkeypatch.setattr(runner, "_start_method", lambda: "fork")
    seen: list[tuple[int, int]] = []
    out = runner.run_tasks(
        _pid_of_task, [(i,) for i in range(9)], workers=2, progress=lambda d, t: seen.append((d, t))
    )
    assert [i for i, _ in out] == list(range(9))
    assert out[0][1] == os.getpid()
    assert all(pid != os.getpid() for _, pid in out[1:])
    assert seen[0] == (1, 9) and seen[-1] == (9, 9)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
