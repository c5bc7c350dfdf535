"""Grading throughput: a synthetic class graded with 1 and then 2 workers, in one run.

    .venv/bin/python benchmarks/bench_grading.py [--students 200] [--assignment 04_attention]

Builds a temporary course (nothing in the repository is touched), releases the assignment,
submits `--students` notebooks cycling through the solution, the untouched release and every
wrong answer of tests/catalog_<assignment>.py, then times `autograde` over the whole class
with 1 worker and with 2 (each run starts from a fresh gradebook; the solution's reference
run is included in each time). Writes the table to benchmarks/grading.md.
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
sys.path.insert(0, str(ROOT / "tests"))

from attention_course.grading import autograde, release  # noqa: E402


def class_notebooks(root: Path, assignment: str, students: int) -> None:
    import importlib

    catalog = importlib.import_module(f"catalog_{assignment}").WRONG_ANSWERS
    source = nbformat.read(root / "solutions" / assignment / f"{assignment}.ipynb", 4)
    released = nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", 4)

    def filled(replace=None):
        nb = nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", 4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = "\n".join(l for l in answers[grade_id].split("\n") if "### " not in l)
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
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        template = Path(scratch) / "template"
        template.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", template)
        shutil.copytree(ROOT / "solutions", template / "solutions")
        release(template, [args.assignment])
        class_notebooks(template, args.assignment, args.students)
        for workers in (1, 2):
            course = Path(scratch) / f"course-{workers}"
            shutil.copytree(template, course)
            (course / "gradebook.db").unlink(missing_ok=True)
            load = os.getloadavg()[0]
            started = time.monotonic()
            reports = autograde(course, args.assignment, workers=workers, progress=False, log=lambda *_: None)
            seconds = time.monotonic() - started
            statuses = {}
            for report in reports:
                statuses[report.status] = statuses.get(report.status, 0) + 1
            rows.append((workers, len(reports), seconds, 60 * len(reports) / seconds, load, statuses))
            print(f"{workers} worker(s): {len(reports)} submissions in {seconds:.0f} s "
                  f"= {60 * len(reports) / seconds:.1f}/min (load before {load:.2f}) {statuses}", flush=True)
    ratio = rows[1][3] / rows[0][3]
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        "# Grading throughput",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU cores ({cpu}), Python "
        f"{platform.python_version()}, each submission in its own bubblewrap sandbox.",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_grading.py --students {args.students} "
        f"--assignment {args.assignment}`. A synthetic class cycles through the solution, the untouched "
        "release and every catalogued wrong answer; each run grades the whole class from a fresh "
        "gradebook, the solution's reference run included.",
        "",
        "| workers | submissions | seconds | submissions per minute | load average before | statuses |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for workers, count, seconds, rate, load, statuses in rows:
        lines.append(f"| {workers} | {count} | {seconds:.0f} | {rate:.1f} | {load:.2f} | "
                     + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + " |")
    lines += ["", f"Ratio (2 workers / 1 worker), measured in one run: **{ratio:.2f}**.", ""]
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
