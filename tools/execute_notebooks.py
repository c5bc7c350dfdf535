"""Execute chapter notebooks top to bottom in one kernel each, save their outputs, time them.

    python tools/execute_notebooks.py book/01_rnn.ipynb ...             # run and save in place
    python tools/execute_notebooks.py --no-save --report FILE book/*.ipynb  # time only, write a report

Used by `make execute` (save) and `make bench` (time). The kernel is this Python's own
(the course's .venv), so the notebooks see exactly the installed package.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from attention_course.runtime import cpu_name

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path, save: bool, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    # record_timing=False: no per-cell timestamps, so a re-run changes only what the code prints.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if save:
        nbformat.write(nb, path)
    return seconds


def machine() -> str:
    cpu = cpu_name()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{os.cpu_count()} CPU cores ({cpu}), {gpu}, torch {torch.__version__}, Python {platform.python_version()}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--no-save", action="store_true", help="do not write outputs back")
    ap.add_argument("--report", type=Path, help="write a Markdown table of the times here")
    ap.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    ap.add_argument("--budget", type=float, default=90.0, help="seconds a chapter may take (reported)")
    args = ap.parse_args()
    rows = []
    for path in args.notebooks:
        seconds = execute(path, save=not args.no_save, timeout=args.timeout)
        verdict = "ok" if seconds <= args.budget else f"OVER the {args.budget:.0f} s budget"
        print(f"{path}: {seconds:.1f} s ({verdict})", flush=True)
        rows.append((path, seconds, verdict))
    if args.report:
        lines = [
            "# Chapter execution times",
            "",
            f"Measured {dt.date.today().isoformat()} on {machine()}.",
            "",
            f"Command: `{'make bench' if args.no_save else 'make execute'}` (runs `python "
            f"tools/execute_notebooks.py {'--no-save ' if args.no_save else ''}--report {args.report} "
            "book/*.ipynb`): each notebook top to bottom in a fresh kernel, kernel start-up included, "
            "nothing else running.",
            "",
            "| chapter | seconds | budget |",
            "| --- | ---: | --- |",
        ]
        lines += [f"| `{p}` | {s:.1f} | {v} |" for p, s, v in rows]
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.report}")
    return 0 if all(s <= args.budget for _, s, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
