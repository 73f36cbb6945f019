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


def test_dask_cluster_writes_the_same_bytes(three_cases: Path, tmp_path: Path) -> None:
    import distributed

    export_set(three_cases, "masks", tmp_path / "local")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        result = export_set(
            three_cases, "masks", tmp_path / "cluster", scheduler=cluster.scheduler_address
        )
    assert result["cases"] == 3
    assert _tree(tmp_path / "local") == _tree(tmp_path / "cluster")


def test_unreachable_scheduler_is_one_line_error(three_cases: Path, tmp_path: Path) -> None:
    from flannot.errors import FlannotError

    with pytest.raises(FlannotError, match="scheduler address"):
        export_set(three_cases, "csv", tmp_path / "x", scheduler="localhost:1")
