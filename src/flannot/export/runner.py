"""Run one task per case: serially, on local Dask workers, or on a Dask cluster.

The tasks return everything they produce (records and file bytes) and the caller
writes the files in case order, so the output is byte-for-byte the same whichever
way the tasks ran — and a remote cluster needs no shared file system.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flannot.errors import FlannotError

Progress = Callable[[int, int], None]  # (done, total)

#: Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT_S = 10


def _key(i: int) -> str:
    return f"flannot-export-{i:06d}"


def run_tasks(
    fn: Callable[..., Any],
    args: Sequence[tuple[Any, ...]],
    *,
    scheduler: Any = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> list[Any]:
    """``[fn(*a) for a in args]``, in order, run serially or with Dask.

    Parameters
    ----------
    fn
        A module-level function (it is pickled by reference for worker processes).
    args
        One argument tuple per task.
    scheduler
        ``None`` to run locally, a Dask scheduler address (``tcp://host:8786``) or a
        ``distributed.Client``.
    workers
        Local worker processes (``None`` or 1: run serially in this process).
    progress
        Called with ``(done, total)`` as tasks finish.
    """
    total = len(args)
    if scheduler is not None:
        return _distributed(fn, args, scheduler, progress)
    if workers is not None and workers > 1 and total > 1:
        return _local(fn, args, workers, progress)
    out = []
    for i, a in enumerate(args, start=1):
        out.append(fn(*a))
        if progress:
            progress(i, total)
    return out


def _start_method() -> str:
    """``fork`` where it is safe and available (workers start without re-importing
    flannot, pydicom, scikit-image … — seconds saved per worker), else ``spawn``.

    Forking a process that runs other threads can deadlock the child, so a
    multi-threaded caller (napari, a Dask client) gets ``spawn``.
    """
    import multiprocessing as mp
    import threading

    if "fork" in mp.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _local(fn: Callable[..., Any], args: Sequence[tuple], workers: int, progress: Any) -> list:
    """Dask's local multiprocessing scheduler with a pool of ``workers`` processes."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(fn, pure=False)(*a, dask_key_name=_key(i)) for i, a in enumerate(args)]
    keys = {_key(i) for i in range(len(args))}
    done = [0]

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in keys:
            done[0] += 1
            if progress:
                progress(done[0], len(args))

    context = mp.get_context(_start_method())
    with ProcessPoolExecutor(workers, mp_context=context) as pool, Callback(posttask=posttask):
        return list(dask.compute(*tasks, scheduler="processes", pool=pool))


def _distributed(fn: Callable[..., Any], args: Sequence[tuple], scheduler: Any, progress: Any):
    """Run on a ``distributed`` cluster (an address or a Client)."""
    from distributed import Client

    own = not hasattr(scheduler, "submit")
    if own:
        address = str(scheduler)
        if "://" not in address:
            raise FlannotError(
                f"scheduler address {address!r} needs a protocol, e.g. tcp://host:8786"
            )
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise FlannotError(f"cannot reach the Dask scheduler {address}: {exc}") from None
    else:
        client = scheduler
    try:
        futures = [client.submit(fn, *a, key=_key(i), pure=False) for i, a in enumerate(args)]
        out = []
        for n, fut in enumerate(futures, start=1):  # in order: progress never runs ahead
            out.append(fut.result())
            if progress:
                progress(n, len(args))
        return out
    finally:
        if own:
            client.close()
