"""Parallelism policy: one BLAS thread per process, as many worker processes as cores.

Two BLAS threads in one process collapse as soon as anything else runs on the machine (measured in
issue 11: 18 instead of 271 encoder windows per second), while single-threaded processes degrade
gracefully, so the tool parallelises by processes only. OpenBLAS reads its thread count when numpy
loads it, so the command line applies the policy before anything imports numpy; where numpy is
already loaded (a forked worker, a library caller) threadpoolctl enforces it.

Worker pools fork from a parent that has already loaded the guideline, jieba's dictionary and the
encoder's weights (Linux), so a worker starts in milliseconds instead of repeating a two-second
start-up; elsewhere each worker rebuilds its state with the function it is given.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

# Read by OpenBLAS, OpenMP (used by some BLAS builds), MKL, BLIS and Accelerate.
BLAS_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

Item = TypeVar("Item")
Result = TypeVar("Result")


def apply_thread_policy(threads: int = 1) -> None:
    """One BLAS thread per process (or `threads`), unless the user set the standard variables.

    Call it before numpy is imported for it to take full effect; afterwards it limits the loaded
    BLAS libraries through threadpoolctl (for the whole process: call it only in a process the
    tool owns, such as the command line or a worker)."""
    user_set = any(os.environ.get(variable) for variable in BLAS_THREAD_VARIABLES)
    if not user_set:
        for variable in BLAS_THREAD_VARIABLES:
            os.environ[variable] = str(threads)
    if "numpy" in sys.modules and not user_set:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads)


def blas_threads() -> int:
    """The largest thread count of the BLAS/OpenMP libraries loaded in this process (1 if none)."""
    from threadpoolctl import threadpool_info

    return max([int(pool.get("num_threads") or 1) for pool in threadpool_info()] or [1])


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, which containers and taskset narrow)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_workers(jobs: int | None = None) -> int:
    """As many single-threaded workers as cores, never more than there are jobs."""
    cores = available_cores()
    return max(1, min(cores, jobs)) if jobs is not None else cores


def forking() -> bool:
    """Whether worker processes can inherit the parent's loaded state (fork is Linux-safe here:
    the parent holds no other threads when the pool starts, see WorkerPool)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


_STATE: dict[str, Any] = {}


def _start_worker(state: Any, build: Callable[[Any], Any] | None, hook: Callable[[], None] | None) -> None:
    apply_thread_policy(1)
    if hook is not None:
        hook()
    _STATE["state"] = build(state) if build is not None else state


def _call(function: Callable[[Any, Any], Any], item: Any) -> Any:
    return function(_STATE["state"], item)


class WorkerPool:
    """A process pool whose workers each hold one state object (an Analyzer, an encoder …).

    `state` is inherited by fork where possible; otherwise `build(options)` makes it in each
    worker (options must pickle). `hook` runs first in every worker (e.g. die with the parent).
    """

    def __init__(
        self,
        workers: int,
        state: Any = None,
        build: Callable[[Any], Any] | None = None,
        options: Any = None,
        hook: Callable[[], None] | None = None,
    ) -> None:
        if forking():
            context = multiprocessing.get_context("fork")
            initargs = (state, None, hook)
        else:
            if build is None:
                raise ValueError("a pool without fork needs a build function for its workers' state")
            context = multiprocessing.get_context()
            initargs = (options, build, hook)
        self._executor = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_start_worker, initargs=initargs
        )

    def submit(self, function: Callable[[Any, Item], Result], item: Item) -> Future[Result]:
        """function(state, item) in a worker; function must be a module-level function."""
        return self._executor.submit(_call, function, item)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


def map_in_workers(
    function: Callable[[Any, Item], Result],
    items: Iterable[Item],
    state: Any,
    workers: int,
    build: Callable[[Any], Any] | None = None,
    options: Any = None,
) -> Iterator[tuple[int, Result]]:
    """(index, function(state, item)) for every item, in completion order; in this process when
    one worker is enough, or where workers can neither fork nor `build` their state."""
    items = list(items)
    if workers <= 1 or len(items) <= 1 or (build is None and not forking()):
        for index, item in enumerate(items):
            yield index, function(state, item)
        return
    with WorkerPool(min(workers, len(items)), state, build, options) as pool:
        futures = {pool.submit(function, item): index for index, item in enumerate(items)}
        for future in as_completed(futures):
            yield futures[future], future.result()
