"""Run one task per case: serially, on local worker processes, or on a Dask cluster.

Results come back in task order whichever way the tasks ran, so the caller
assembles the same bytes. Local workers are a pool of warm processes fed chunks
of consecutive tasks (:func:`chunk_size`); a remote cluster needs no shared file
system (its tasks return their file bytes).
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
    """``[fn(*a) for a in args]``, in order: serially, on local processes or with Dask.

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
        Called with ``(done, total)`` as tasks finish (a chunk at a time with workers).
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


def chunk_size(total: int, workers: int) -> int:
    """Tasks a worker gets at a time: about eight chunks a worker, so a slow case at the
    end still leaves the other workers something to do, and few round trips."""
    return max(1, -(-total // (workers * 8)))


def chunks(total: int, workers: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the chunks of ``total`` tasks, in order: :func:`chunk_size`
    tasks at first, fewer and fewer towards the end (about a quarter of what is left
    per worker), so that the workers finish together instead of one waiting on the
    other's last big chunk (the cases of a set differ in cost)."""
    largest = chunk_size(total, workers)
    out = []
    start = 0
    while start < total:
        size = max(1, min(largest, -(-(total - start) // (workers * 4))))
        out.append((start, min(total, start + size)))
        start += size
    return out


def _run_chunk(fn: Callable[..., Any], chunk: Sequence[tuple[Any, ...]]) -> list[Any]:
    return [fn(*a) for a in chunk]


def _local(fn: Callable[..., Any], args: Sequence[tuple], workers: int, progress: Any) -> list:
    """A pool of ``workers`` processes, each running chunks of consecutive tasks.

    The workers stay up for the whole run (forked from this process where that is
    safe, after it ran the first task itself: what tasks import is then imported
    once); each chunk is one round trip.
    """
    import gc
    import multiprocessing as mp

    context = mp.get_context(_start_method())
    forked = context.get_start_method() == "fork"
    first: list[Any] = []
    if forked:
        # the first task runs here, before the fork: the modules a task imports on first
        # use (and compiles, without .pyc files) and its caches are then the workers'
        # too, instead of each worker paying for them (CSV of 200 cases: workers' CPU
        # 1.22x one process's without this)
        first = [fn(*args[0])]
        if progress:
            progress(1, len(args))
        if len(args) == 1:
            return first
        fn_args = args[1:]
    else:
        fn_args = args
    spans = chunks(len(fn_args), workers)
    if forked:  # the garbage collector leaves the parent's objects alone in the workers:
        gc.freeze()  # fewer copy-on-write page copies after the fork
    try:
        rest = _run_pool(fn, fn_args, workers, progress, context, spans, done=len(first))
    finally:
        if forked:
            gc.unfreeze()
    return first + rest


def _run_pool(
    fn: Callable[..., Any],
    args: Sequence[tuple],
    workers: int,
    progress: Any,
    context: Any,
    spans: list[tuple[int, int]],
    done: int = 0,
) -> list:
    """Run ``args`` in chunks ``spans`` on a pool; ``done`` tasks were run before them
    (progress counts them in)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    total = len(args) + done
    results: dict[int, list[Any]] = {}
    with ProcessPoolExecutor(min(workers, len(spans)), mp_context=context) as pool:
        pending = {pool.submit(_run_chunk, fn, args[a:b]): k for k, (a, b) in enumerate(spans)}
        try:
            ready = 0  # chunks finished in order: progress never runs ahead
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    results[pending.pop(fut)] = fut.result()
                moved = False
                while ready < len(spans) and ready in results:
                    ready += 1
                    moved = True
                if moved and progress:
                    progress(done + spans[ready - 1][1], total)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    return [r for k in range(len(spans)) for r in results[k]]


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
