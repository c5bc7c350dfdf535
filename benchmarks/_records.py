"""What the benchmark scripts share: a record's provenance, writing its report, and the
cache of finished runs that lets a long experiment resume and run in parallel.

A record (benchmarks/NAME.json) starts with the same keys in every script, in this
order: date, hardware, torch, then command where the script records one. The report
(benchmarks/NAME.md) is rendered from the record; `--report -` prints it and writes
nothing.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Hashable

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from attention_course.runtime import cpu_name  # noqa: E402


def command_line(script: str, argv: list[str] | None = None) -> str:
    """The command as typed from the repository root: `python benchmarks/SCRIPT` and its
    arguments (sys.argv's unless given)."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join([f"python benchmarks/{script}", *args])


def provenance(command: str | None = None, *, per_run: bool = False) -> dict:
    """The keys a record starts with: date, hardware (the CPU and its thread count:
    every script runs one thread, per run where runs go to parallel processes), the
    torch version, and the command when one is given."""
    threads = "1 thread per run" if per_run else "1 thread"
    record = {"date": dt.date.today().isoformat(),
              "hardware": f"{cpu_name()}, {threads}", "torch": torch.__version__}
    if command is not None:
        record["command"] = command
    return record


def write_report(report: str, record: dict, path: str, *, indent: int = 1,
                 echo: bool = False) -> None:
    """`path` '-' prints the report and writes nothing; otherwise write the report there
    and the record next to it (.json), then print the report (echo) or say where."""
    if path == "-":
        print(report)
        return
    Path(path).write_text(report)
    Path(path).with_suffix(".json").write_text(json.dumps(record, indent=indent) + "\n")
    print(report if echo else f"wrote {path} and its .json")


def read_cache(cache: Path | None, key: Callable[[dict], Hashable],
               stamp: dict | None = None) -> dict:
    """{key(run): run} for the runs in a JSON-lines cache whose settings match `stamp`
    (a run trained with other settings is not reused). A later line wins."""
    stamp = stamp or {}
    found = {}
    if cache is not None and cache.exists():
        for line in cache.read_text().splitlines():
            run = json.loads(line)
            if all(run.get(k) == v for k, v in stamp.items()):
                found[key(run)] = run
    return found


def run_cached(fn: Callable, jobs: dict, key: Callable[[dict], Hashable], *,
               cache: Path | None = None, workers: int = 1, stamp: dict | None = None,
               found: dict | None = None, log: Callable[[dict], str] | None = None
               ) -> list[dict]:
    """fn(job) for every job of `jobs` ({key: job}, where key(fn(job)) is that key), in
    the order of `jobs`, without the stamp's keys.

    Runs already in `cache` (with the same `stamp`) or in `found` are reused, not run
    again; the others go to `workers` processes (fn sets its own thread count), and each
    finished run is appended to the cache at once, with the stamp, so that an
    interrupted experiment resumes where it stopped and several processes can share one
    cache. `log(run)` is printed for every new run."""
    stamp = stamp or {}
    done = {**read_cache(cache, key, stamp), **(found or {})}
    todo = [job for k, job in jobs.items() if k not in done]
    with ProcessPoolExecutor(workers) as pool:
        for run in pool.map(fn, todo):
            done[key(run)] = run
            if cache is not None:
                with cache.open("a") as f:
                    f.write(json.dumps({**run, **stamp}) + "\n")
            if log is not None:
                print(log(run), flush=True)
    return [{k: v for k, v in done[k_].items() if k not in stamp} for k_ in jobs]
