"""Execute chapter notebooks top to bottom in one kernel each, save their outputs, time them.

    python tools/execute_notebooks.py book/01_rnn.ipynb ...             # run and save in place
    python tools/execute_notebooks.py --no-save --report FILE book/*.ipynb  # time only, write a report
    python tools/execute_notebooks.py --tidy-only book/*.ipynb          # tidy saved outputs, run nothing

Used by `make execute` (save) and `make bench` (time). The kernel is this Python's own
(the course's .venv), so the notebooks see exactly the installed package.

Saved outputs keep only the final state of each progress bar (collapse_progress_bars): tqdm
redraws its bar with carriage returns, and without that every redraw stays in the notebook.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from attention_course.runtime import cpu_name

ROOT = Path(__file__).resolve().parents[1]


# Everything on a line up to its last carriage return that more text follows: what a terminal
# overwrites. nbval resolves carriage returns with the same pattern before it compares streams.
_OVERWRITTEN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)


def collapse_progress_bars(nb) -> int:
    """Keep only the final state of each progress bar in the stream outputs of `nb`, in place.

    A progress bar (tqdm) redraws itself with "\r", and the kernel sends every redraw as its own
    stream output: hundreds of them in a training cell. Consecutive stream outputs of the same
    name (stdout or stderr) are merged, as Jupyter shows them, and each line keeps only what
    follows its last carriage return: what a terminal shows, since each redraw covers the one
    before. nbval merges streams and resolves carriage returns the same way before it compares,
    so a collapsed notebook compares as before. Returns how many outputs were merged away.
    """
    merged = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            prev = outputs[-1] if outputs else None
            if (out["output_type"] == "stream" and prev is not None
                    and prev["output_type"] == "stream" and prev["name"] == out["name"]):
                prev["text"] = _text(prev["text"]) + _text(out["text"])
                merged += 1
            else:
                outputs.append(out)
        for out in outputs:
            if out["output_type"] == "stream":
                out["text"] = _OVERWRITTEN.sub("", _text(out["text"]))
        cell["outputs"] = outputs
    return merged


def _text(text) -> str:
    return "".join(text) if isinstance(text, list) else text


def tidy(path: Path) -> int:
    """Collapse the progress bars of a saved notebook without running it."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    merged = collapse_progress_bars(nb)
    if nbformat.writes(nb) != before:
        nbformat.write(nb, path)
    return merged


def execute(path: Path, save: bool, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    # record_timing=False: no per-cell timestamps, so a re-run changes only what the code prints.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if save:
        collapse_progress_bars(nb)
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
    ap.add_argument("--tidy-only", action="store_true",
                    help="run nothing: only collapse the progress bars of the saved outputs")
    ap.add_argument("--report", type=Path, help="write a Markdown table of the times here")
    ap.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell")
    ap.add_argument("--budget", type=float, default=90.0, help="seconds a chapter may take (reported)")
    args = ap.parse_args()
    if args.tidy_only:
        for path in args.notebooks:
            print(f"{path}: {tidy(path)} progress-bar outputs merged", flush=True)
        return 0
    rows = []
    for path in args.notebooks:
        load = os.getloadavg()[0]       # how idle the machine was: the table says it
        seconds = execute(path, save=not args.no_save, timeout=args.timeout)
        verdict = "ok" if seconds <= args.budget else f"OVER the {args.budget:.0f} s budget"
        print(f"{path}: {seconds:.1f} s ({verdict})", flush=True)
        rows.append((path, seconds, verdict, load))
    if args.report:
        lines = [
            "# Chapter execution times",
            "",
            f"Measured {dt.date.today().isoformat()} on {machine()}.",
            "",
            f"Command: `{'make bench' if args.no_save else 'make execute'}` (runs `python "
            f"tools/execute_notebooks.py {'--no-save ' if args.no_save else ''}--report {args.report} "
            "book/*.ipynb`): each notebook top to bottom in a fresh kernel, kernel start-up included, "
            "on one thread (every chapter's setup cell pins it). The last column is the machine's "
            "one-minute load average when the chapter started: about 0 on an idle machine; the "
            "chapter run just before counts in it, so about 1 is a machine running nothing else.",
            "",
            "| chapter | seconds | budget | load average at start |",
            "| --- | ---: | --- | ---: |",
        ]
        lines += [f"| `{p}` | {s:.1f} | {v} | {a:.1f} |" for p, s, v, a in rows]
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text("\n".join(lines) + "\n")
        print(f"wrote {args.report}")
    return 0 if all(s <= args.budget for _, s, _, _ in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
