"""Grading on a Dask cluster: the same `grade_submission`, mapped over dask.distributed.

    python -m attention_course.grading autograde --scheduler tcp://scheduler:8786
    python -m attention_course.grading autograde --dask-local 2   # a LocalCluster here

Every worker grades each submission confined alone, exactly as `run_jobs` does on one
machine (`autograding.grade_safely`), so a result does not depend on where it was
computed: forked from a fork server that the worker process starts once and keeps
(`worker_pool`), or, if that cannot start, in a bubblewrap sandbox of its own. What a
worker needs (README, "Grading a large class"): bubblewrap, the course's pinned Python
environment, and read access to the submissions at the same path as here. The
solution's reference records travel inside each `Job`, so no worker needs solutions/.
Results come back here, in the order of the jobs, and only this process writes the
gradebook and the reports.

`distributed` is an instructor dependency (`pip install -e ".[instructor]"`); it is
imported only when a cluster is asked for.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import sys
import threading
from pathlib import Path
from typing import Iterator, Optional

from .autograding import Job, Result, grade_safely
from .config import GradingError
from .pool import SandboxPool

_POOLS: dict = {}                 # (limits, course root) -> this worker's SandboxPool
_POOLS_LOCK = threading.Lock()

#: What must be the same on every worker as here for its results to be the grader's.
PACKAGES = ("torch", "numpy", "nbformat", "ipython")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise GradingError(
            "grading on a cluster needs dask.distributed: "
            "pip install -e \".[instructor]\" (or pip install distributed)") from None
    return distributed


def environment(unsafe_no_sandbox: bool = False) -> dict:
    """This machine's grading environment, which `check_workers` compares."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": sys.version.split()[0], "executable": sys.executable,
            "packages": versions, "cores": os.cpu_count(),
            "bwrap": unsafe_no_sandbox or shutil.which("bwrap") is not None}


def check_workers(client, unsafe_no_sandbox: bool = False) -> dict:
    """Refuse a cluster whose workers could grade differently from this machine (another
    torch, another Python) or not at all (no bubblewrap).

    Returns worker address -> its environment.
    """
    here = environment(unsafe_no_sandbox)
    workers = client.run(environment, unsafe_no_sandbox)
    if not workers:
        raise GradingError(
            "the Dask cluster has no workers: start some with `dask worker ADDRESS`")
    problems = []
    for address, there in sorted(workers.items()):
        if not there["bwrap"]:
            problems.append(
                f"{address}: bubblewrap is not installed (apt-get install bubblewrap)")
        if there["python"] != here["python"]:
            problems.append(
                f"{address}: Python {there['python']}, here {here['python']}")
        for name, version in here["packages"].items():
            if there["packages"].get(name) != version:
                problems.append(
                    f"{address}: {name} {there['packages'].get(name)}, here {version}")
    if problems:
        raise GradingError(
            "these Dask workers cannot grade like this machine (install the course's "
            "pinned environment, constraints.txt, on them):\n  "
            + "\n  ".join(problems))
    return workers


@contextlib.contextmanager
def connect(scheduler: Optional[str] = None, local_workers: Optional[int] = None,
            unsafe_no_sandbox: bool = False) -> Iterator:
    """A Dask client: of the cluster at `scheduler`, or of a LocalCluster of
    `local_workers` processes (one thread each, which drives one sandbox at a time)."""
    if (scheduler is None) == (local_workers is None):
        raise GradingError(
            "give either a scheduler address or a number of local Dask workers")
    if local_workers is not None and local_workers < 1:
        raise GradingError(
            f"--dask-local needs at least one worker, not {local_workers}")
    distributed = _distributed()
    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            try:
                client = stack.enter_context(
                    distributed.Client(scheduler, timeout="30s"))
            except OSError as error:
                why = f"cannot reach the Dask scheduler at {scheduler}: {error}"
                raise GradingError(why) from None
        else:
            cluster = stack.enter_context(distributed.LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=True,
                dashboard_address=None))
            client = stack.enter_context(distributed.Client(cluster))
        check_workers(client, unsafe_no_sandbox)
        yield client


def grade_on_cluster(jobs: list, client, progress: bool = True,
                     description: str = "grading") -> list:
    """Grade `jobs` on the cluster behind `client`; the results in the order of `jobs`.

    A submission whose task the cluster lost (a worker died, the scheduler cancelled it)
    is `regrade`: the grader's failure is never a student's zero.
    """
    distributed = _distributed()
    if not jobs:
        return []
    # pure=False: two jobs that pickle alike (a resubmission) are still graded twice,
    # and a result is never taken from the scheduler's memory of an earlier run.
    futures = client.map(grade_on_worker, jobs, pure=False)
    index = {future.key: k for k, future in enumerate(futures)}
    results: list = [None] * len(jobs)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(jobs), desc=description, unit="submission")
    for future in distributed.as_completed(futures):
        k = index[future.key]
        try:
            results[k] = future.result()
        except Exception as error:
            results[k] = _lost(jobs[k], error)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return results


def worker_pool(job: Job) -> SandboxPool:
    """This worker process's pool for `job`'s limits: one fork server, kept for the
    worker's life (a new one if it has died), one child ready ahead.

    The server is started from a thread of its own that never ends: bubblewrap's
    --die-with-parent follows the thread that started it, and Dask may retire the
    thread that runs a task. It dies with the worker process.
    """
    key = (repr(job.limits), str(job.course_root))
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None or (pool.server is not None
                            and pool.server.process.poll() is not None):
            made, ready = {}, threading.Event()

            def hold() -> None:
                try:
                    made["pool"] = SandboxPool(job.limits, Path(job.course_root), 1)
                finally:
                    ready.set()
                threading.Event().wait()         # forever: the server lives with it

            threading.Thread(target=hold, name="fork-server", daemon=True).start()
            ready.wait()
            if "pool" not in made:
                raise GradingError("the worker could not prepare its sandboxes")
            pool = _POOLS[key] = made["pool"]
    return pool


def grade_on_worker(job: Job) -> Result:
    """What each Dask task runs: `grade_safely` with this worker's pool."""
    try:
        pool = worker_pool(job)
    except Exception:
        pool = None                  # a bubblewrap sandbox per submission instead
    return grade_safely(job, pool)


def _lost(job: Job, error: BaseException) -> Result:
    why = f"{type(error).__name__}: {error}"
    return Result(job.assignment, job.student, "regrade",
                  reasons=[f"not graded, grade again: the cluster lost it ({why})"])
