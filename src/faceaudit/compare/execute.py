"""Where blocks are computed: in this process (the default) or on a Dask cluster, same map/merge.

A *job* is ``task(block_id) -> product`` for a list of block ids plus the accumulator's exact,
associative ``merge``. :class:`InProcess` runs it on threads of this process (BLAS limited to one
thread each, so the cores are not oversubscribed) and never imports Dask. :class:`DaskCluster`
submits one task per block to an existing scheduler (``address``) or to a ``LocalCluster`` of
``n_workers`` processes it starts and stops, and merges the products in a tree on the workers as
they complete; only the final product travels to the client. Tasks carry paths, not arrays:
workers read the embedding blocks from shared storage (:class:`~faceaudit.compare.stream.
EmbeddingFiles`).

Faults: a task is a pure function of its block (its product is deterministic, and merges are
exact), so the blocks a lost worker held are simply recomputed by Dask and the result is the
same. With a work folder, every block's product is also written atomically to disk as it is made,
and a rerun reads it back instead of recomputing (an interrupted client resumes).

Progress: ``progress(done, total)`` in comparisons, on the client, as blocks complete. Ctrl-C
cancels the pending tasks (and stops a LocalCluster) before the KeyboardInterrupt propagates.

The executor in force is a context variable (:func:`use_executor`, :func:`current_executor`), so
the commands put a whole audit on a cluster without the analyses knowing.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from faceaudit.errors import InputError

__all__ = [
    "DaskCluster",
    "Executor",
    "InProcess",
    "Progress",
    "current_executor",
    "executor_for",
    "use_executor",
]

Progress = Callable[[int, int], None]


def _blas_one_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _store_path(store: str | None, block_id: int) -> Path | None:
    return None if store is None else Path(store) / f"{block_id:08d}.pkl"


def run_task(task, block_id: int, store: str | None):
    """Product of one block: read back from ``store`` if there, else computed and written there."""
    path = _store_path(store, block_id)
    if path is not None and path.exists():
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # a torn or foreign file: recompute it
            pass
    if getattr(task, "parallel_inside", False):  # the task sets its own threads
        product = task(block_id)
    else:
        with _blas_one_thread():
            product = task(block_id)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(product, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    return product


class Executor:
    """Runs ``task`` over blocks and merges the products (see the module docstring)."""

    #: Whether tasks must read their data from files (a separate process or machine).
    needs_files = False
    #: Where files for the workers go (shared storage); None: a temporary folder if local.
    work_dir: str | None = None
    #: Whether the workers may read this machine's temporary folders (a local cluster).
    local = True

    def files_dir(self) -> Path:
        """A folder the workers can read: ``work_dir``, or a temporary one for a local cluster."""
        if self.work_dir is not None:
            Path(self.work_dir).mkdir(parents=True, exist_ok=True)
            return Path(self.work_dir)
        if not self.local:
            raise InputError(
                "the workers of a remote cluster read the embeddings from shared storage: give a "
                "work folder they can all read (--work-dir)."
            )
        if getattr(self, "_tmpdir", None) is None:
            self._tmpdir = tempfile.mkdtemp(prefix="faceaudit-work-")
        return Path(self._tmpdir)

    def _remove_tmp(self) -> None:
        import shutil

        tmp = getattr(self, "_tmpdir", None)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            self._tmpdir = None

    def map_reduce(
        self,
        task: Callable[[int], Any],
        block_ids: Sequence[int],
        merge: Callable[[Any, Any], Any],
        *,
        weights: Sequence[int] | None = None,
        store: str | None = None,
        progress: Progress | None = None,
    ) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        self._remove_tmp()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcess(Executor):
    """Threads of this process (``threads`` defaults to the CPUs, at most 2 per the machine)."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = max(1, int(threads or min(2, os.cpu_count() or 1)))

    def __repr__(self) -> str:
        return f"InProcess(threads={self.threads})"

    def map_reduce(self, task, block_ids, merge, *, weights=None, store=None, progress=None):
        # BLAS's thread setting is one per process: set it once for the whole pass. Limits
        # entered and left by each worker thread race (one thread's exit restores the setting
        # while another's product runs, whose bits then change).
        if getattr(task, "parallel_inside", False):
            return self._map_reduce(task, block_ids, merge, weights, store, progress)
        with _blas_one_thread():
            return self._map_reduce(task, block_ids, merge, weights, store, progress)

    def _map_reduce(self, task, block_ids, merge, weights, store, progress):
        ids = list(block_ids)
        w = list(weights) if weights is not None else [1] * len(ids)
        total, done = int(sum(w)), 0
        if progress:
            progress(0, total)
        acc = None
        if self.threads == 1 or len(ids) < 2 or getattr(task, "parallel_inside", False):
            for bid, wt in zip(ids, w, strict=True):
                p = run_task(task, bid, store)
                acc = p if acc is None else merge(acc, p)
                done += wt
                if progress:
                    progress(done, total)
            return acc
        weight = dict(zip(ids, w, strict=True))
        pool = ThreadPoolExecutor(self.threads)
        pending: dict = {}
        it = iter(ids)
        try:
            for bid in it:
                pending[pool.submit(run_task, task, bid, store)] = bid
                if len(pending) >= 2 * self.threads:
                    break
            while pending:
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in finished:
                    bid = pending.pop(fut)
                    p = fut.result()
                    acc = p if acc is None else merge(acc, p)
                    done += weight[bid]
                    if progress:
                        progress(done, total)
                    nxt = next(it, None)
                    if nxt is not None:
                        pending[pool.submit(run_task, task, nxt, store)] = nxt
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return acc


def _dask():
    try:
        import distributed
    except ImportError:
        raise InputError(
            "running on a Dask cluster needs the optional dependencies dask and distributed: "
            "install them with pip install 'faceaudit[dask]' (use the versions your cluster "
            "runs)."
        ) from None
    return distributed


class DaskCluster(Executor):
    """A Dask cluster: an existing scheduler (``address``) or a LocalCluster of ``n_workers``.

    ``address`` may be ``"local"`` or ``"local:N"`` (a LocalCluster of N workers). Workers run one
    task at a time each (``threads_per_worker=1``) with single-threaded BLAS.
    """

    needs_files = True

    def __init__(
        self,
        address: str | None = None,
        *,
        n_workers: int | None = None,
        work_dir: str | os.PathLike | None = None,
    ) -> None:
        self.work_dir = None if work_dir is None else str(work_dir)
        if address is not None and address.startswith("local"):
            _, _, k = address.partition(":")
            n_workers = int(k) if k else (n_workers or 2)
            address = None
        if address is None and not n_workers:
            raise ValueError("give a scheduler address or a number of workers")
        self.address = address
        self.local = address is None
        self.n_workers = n_workers
        self._client = None
        self._cluster = None

    def __repr__(self) -> str:
        return (
            f"DaskCluster({self.address!r})"
            if self.address
            else f"DaskCluster(local, n_workers={self.n_workers})"
        )

    @property
    def client(self):
        if self._client is None:
            distributed = _dask()
            if self.address:
                self._client = distributed.Client(self.address, set_as_default=False)
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=int(self.n_workers),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    silence_logs=40,
                )
                self._client = distributed.Client(self._cluster, set_as_default=False)
        return self._client

    def close(self) -> None:
        self._remove_tmp()
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
        self._client = self._cluster = None

    def map_reduce(self, task, block_ids, merge, *, weights=None, store=None, progress=None):
        distributed = _dask()
        client = self.client
        ids = list(block_ids)
        w = list(weights) if weights is not None else [1] * len(ids)
        total, done = int(sum(w)), 0
        if progress:
            progress(0, total)
        if not ids:
            return None
        task_f = client.scatter(task, broadcast=True, hash=False) if ids else None
        futures = [
            client.submit(run_task, task_f, bid, store, key=f"faceaudit-block-{_tok(task)}-{bid}")
            for bid in ids
        ]
        weight = {f.key: wt for f, wt in zip(futures, w, strict=True)}
        alive = {f.key: f for f in futures}  # for cancelling; merged inputs are let go
        ac = distributed.as_completed(futures, loop=client.loop)
        del futures
        try:
            ready: list = []
            for fut in ac:
                if fut.key in weight:
                    done += weight.pop(fut.key)
                    if progress:
                        progress(done, total)
                ready.append(fut)
                while len(ready) >= 2:
                    a, b = ready.pop(), ready.pop()
                    m = client.submit(merge, a, b, pure=False)
                    alive[m.key] = m
                    ac.add(m)
                    alive.pop(a.key, None)
                    alive.pop(b.key, None)
                    del a, b
            return ready[0].result()
        except BaseException:
            with contextlib.suppress(Exception):
                client.cancel(list(alive.values()), force=True)
            raise


def _tok(task) -> str:
    key = getattr(task, "key", None)
    return key() if callable(key) else str(id(task))


_CURRENT: contextvars.ContextVar[Executor | None] = contextvars.ContextVar(
    "faceaudit_executor", default=None
)


def current_executor() -> Executor:
    """The executor in force (in-process unless :func:`use_executor` says otherwise)."""
    ex = _CURRENT.get()
    return ex if ex is not None else InProcess()


@contextlib.contextmanager
def use_executor(executor: Executor | None, *, close: bool = True) -> Iterator[Executor]:
    """Run everything inside on ``executor`` (closed on exit unless ``close=False``); ``None``
    keeps the current one."""
    if executor is None:
        yield current_executor()
        return
    token = _CURRENT.set(executor)
    try:
        yield executor
    finally:
        _CURRENT.reset(token)
        if close:
            executor.close()


def executor_for(
    scheduler: str | None = None, workers: int | None = None, work_dir=None
) -> Executor | None:
    """The executor the options ask for: ``scheduler`` (address, or ``local[:N]``) or a
    LocalCluster of ``workers``; ``None`` for neither (in-process, no Dask start-up)."""
    if scheduler is not None and workers is not None and not scheduler.startswith("local"):
        raise InputError(
            "give either a scheduler address (an existing cluster) or a number of workers (a "
            "local cluster), not both."
        )
    if scheduler is not None:
        return DaskCluster(scheduler, n_workers=workers, work_dir=work_dir)
    if workers is not None:
        if workers < 1:
            raise InputError(f"workers = {workers}: give at least 1 worker.")
        return DaskCluster(n_workers=workers, work_dir=work_dir)
    return None
