"""Grading throughput: a synthetic class graded with the fork server at 1 and 2
workers and with a bubblewrap sandbox per submission at 2, in one run.

    .venv/bin/python benchmarks/bench_grading.py [--students 200]
        [--assignment 04_attention]

Builds a temporary course (nothing in the repository is touched), releases the
assignment, submits `--students` notebooks cycling through the solution, the untouched
release and every wrong answer of tests/catalog_<assignment>.py, then times `autograde`
over the whole class with the fork server at 1 worker and at 2, and with a bubblewrap
sandbox per submission at 2 (each run starts from a fresh gradebook; the solution's
reference run is included in each time). Writes the table to benchmarks/grading.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
RUNS = [(1, True), (2, True), (2, False)]  # (workers, fork server)
sys.path.insert(0, str(ROOT / "tests"))

from attention_course.grading import autograde, release  # noqa: E402


def class_notebooks(root: Path, assignment: str, students: int) -> None:
    import importlib

    catalog = importlib.import_module(f"catalog_{assignment}").WRONG_ANSWERS
    source = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", 4)
    released = nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", 4)

    def filled(replace=None):
        nb = nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", 4)
        answers = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in source.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = "\n".join(
                    l for l in answers[grade_id].split("\n") if "### " not in l
                )
            if replace and grade_id == replace[0]:
                cell.source = replace[1]
        return nb

    kinds = [filled(), released] + [filled((w.task, w.code)) for w in catalog]
    for k in range(students):
        folder = root / "submitted" / f"student{k:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(kinds[k % len(kinds)], folder / f"{assignment}.ipynb")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--assignment", default="04_attention")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "grading.md"))
    args = parser.parse_args()
    rows, verdicts = [], []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        template = Path(scratch) / "template"
        template.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", template)
        shutil.copytree(ROOT / "solutions", template / "solutions")
        release(template, [args.assignment])
        class_notebooks(template, args.assignment, args.students)
        for workers, forked in RUNS:
            course = Path(scratch) / f"course-{workers}-{forked}"
            shutil.copytree(template, course)
            (course / "gradebook.db").unlink(missing_ok=True)
            with (course / "nbgrader_config.py").open("a") as config:
                config.write(f"\nc.Sandbox.fork_server = {forked}\n")
            load = os.getloadavg()[0]
            started = time.monotonic()
            reports = autograde(
                course,
                args.assignment,
                workers=workers,
                progress=False,
                log=lambda *_: None,
            )
            seconds = time.monotonic() - started
            statuses = {}
            for report in reports:
                statuses[report.status] = statuses.get(report.status, 0) + 1
            rows.append(
                (
                    workers,
                    forked,
                    len(reports),
                    seconds,
                    60 * len(reports) / seconds,
                    load,
                    statuses,
                )
            )
            verdicts.append(
                {
                    r.student: (r.score, r.status, sorted(r.tasks.items()), r.reasons)
                    for r in reports
                }
            )
            print(
                f"{workers} worker(s), fork server {forked}: {len(reports)} "
                f"submissions in {seconds:.0f} s = {60 * len(reports) / seconds:.1f}"
                f"/min (load before {load:.2f}) {statuses}",
                flush=True,
            )
    rate = {(workers, forked): r for workers, forked, _, _, r, _, _ in rows}
    cores = os.cpu_count()
    per_core = rate[2, True] / 60 / cores
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            l.split(":", 1)[1].strip()
            for l in open("/proc/cpuinfo")
            if l.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    lines = [
        "# Grading throughput",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {cores} CPU cores ({cpu}), Python "
        f"{platform.python_version()}. Every submission is confined alone (its own "
        "namespaces, private folders, uid and limits, no capabilities): forked from "
        "the fork server, which loaded torch once "
        "(attention_course/grading/forkserver.py), or, for comparison, in a bubblewrap "
        "sandbox started for it, which loads torch itself.",
        "",
        "Command: `.venv/bin/python benchmarks/bench_grading.py --students "
        f"{args.students} --assignment {args.assignment}` (`make bench-grading`). A "
        "synthetic class cycles through the solution, the untouched release and every "
        "catalogued wrong answer; each run grades the whole class from a fresh "
        "gradebook, the solution's reference run included, one run after the other on "
        "the same machine.",
        "",
        "| workers | sandboxes | submissions | seconds | submissions per minute "
        "| per second per core | load average before | statuses |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for workers, forked, count, seconds, rate_, load, statuses in rows:
        kind = "forked from the fork server" if forked else "a bubblewrap sandbox each"
        lines.append(
            f"| {workers} | {kind} | {count} | {seconds:.0f} | {rate_:.1f} | "
            f"{rate_ / 60 / cores:.2f} | {load:.2f} | "
            + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items()))
            + " |"
        )
    lines += [
        "",
        f"Fork server, 2 workers / 1 worker: **{rate[2, True] / rate[1, True]:.2f}**. "
        f"Fork server / a bubblewrap sandbox each, both at 2 workers: "
        f"**{rate[2, True] / rate[2, False]:.2f}**.",
        "",
        "Every run gave every submission the same score, status, task scores and "
        f"reasons: **{'yes' if all(v == verdicts[0] for v in verdicts) else 'NO'}**.",
        "",
        "Bar (issue 22: at least 1 submission per second per core at 2 workers): "
        f"{per_core:.2f} per second per core, "
        f"**{'met' if per_core >= 1 else 'not met'}**.",
        "",
    ]
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
