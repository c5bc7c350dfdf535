"""Reading submissions, and turning one into what the sandbox runs (a plan).

The plan is fair to what students do to notebooks in Jupyter:

- the student's code cells run in the student's order, whatever their metadata says;
- the test cells are never taken from the submission: the originals from the source notebook
  run after all of the student's cells, in the source's order, so a test moved above its
  answer, deleted, edited, duplicated or converted to markdown changes nothing;
- a duplicated answer cell (copy and paste keeps the grade_id) is not an error: the last copy
  that differs from the untouched release runs, the other copies are left out, and the report
  says so;
- a cell marked as graded that is not one of the exercise's tests, or an answer cell that also
  carries `grade: true`, is run as the student's code and reported, never punished;
- read-only cells of the source (locked, not tests) run as the instructor wrote them;
- the install cell (tools/install_cell.py: it pip-installs the course where it is missing) is
  left out when the student did not change it: the sandbox has neither the network nor a
  reason to install anything, and its Python may not see an editable install of the course.
  An edited copy runs as the student's code, offline like every other cell.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import nbformat
from nbformat.notebooknode import NotebookNode

MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024
HIDDEN_BEGIN, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
#: The tag of the install cell in the source notebook (tools/install_cell.py).
INSTALL_TAG = "course-install"


def meta(cell) -> dict:
    data = cell.get("metadata", {}) if isinstance(cell, dict) else {}
    value = data.get("nbgrader", {}) if isinstance(data, dict) else {}
    return value if isinstance(value, dict) else {}


def is_test(cell) -> bool:
    return bool(meta(cell).get("grade")) and not meta(cell).get("solution")


def task_of(grade_id: str) -> str:
    return grade_id[len("test_"):] if grade_id.startswith("test_") else grade_id


def strip_hidden_tests(source: str, begin: str = HIDDEN_BEGIN, end: str = HIDDEN_END,
                       placeholder: Optional[str] = "# (hidden tests: not shown)") -> str:
    """`source` without its hidden-test regions (markers included), each replaced by `placeholder`."""
    kept, hiding = [], False
    for line in source.split("\n"):
        if begin in line:
            hiding = True
            if placeholder is not None:
                indent = line[: len(line) - len(line.lstrip())]
                kept.append(indent + placeholder)
        elif end in line and hiding:
            hiding = False
        elif not hiding:
            kept.append(line)
    return "\n".join(kept)


def hidden_region(source: str) -> str:
    match = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
    return match.group(1) if match else ""


def check_notebook(path: Path) -> Optional[str]:
    """None if `path` is a readable, valid notebook; else the reason it cannot be graded."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return f"the file is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB: clear the outputs and hand it in again"
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "not a notebook: the file is not UTF-8 text"
    except OSError as error:
        return f"cannot read the notebook: {error.strerror or error}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not a notebook: invalid JSON at line {error.lineno}, column {error.colno} ({error.msg})"
    except RecursionError:
        return "not a notebook: the JSON is nested too deeply"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return "not a notebook: the JSON has no list of cells"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a missing cell id: nbformat repairs it
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except Exception as error:  # nbformat raises several types; all mean "not gradable"
        message = getattr(error, "message", None) or str(error).splitlines()[0]
        return f"not a valid notebook (nbformat 4): {message[:300]}"
    return None


def _normalise(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


@dataclass
class Source:
    """What the grader needs from the instructor's notebook and its release."""
    name: str
    tests: dict                     # test grade_id -> (source, points)
    answers: dict                   # answer grade_id -> release stub source
    locked: dict                    # other locked grade_id -> source
    order: list                     # grade_ids in the source's order
    install: tuple = ()             # normalised sources of the source's install cells

    @classmethod
    def from_notebooks(cls, name: str, source_nb: NotebookNode, release_nb: Optional[NotebookNode]) -> "Source":
        stubs = {meta(c).get("grade_id"): c.source for c in (release_nb.cells if release_nb else [])
                 if meta(c).get("solution")}
        tests, answers, locked, order = {}, {}, {}, []
        install = tuple(_normalise(c.source) for c in source_nb.cells
                        if c.cell_type == "code" and INSTALL_TAG in c.get("metadata", {}).get("tags", []))
        for cell in source_nb.cells:
            grade_id = meta(cell).get("grade_id")
            if not grade_id:
                continue
            order.append(grade_id)
            if is_test(cell):
                tests[grade_id] = (cell.source, float(meta(cell).get("points", 0)))
            elif meta(cell).get("solution"):
                answers[grade_id] = stubs.get(grade_id, "")
            elif meta(cell).get("locked") and cell.cell_type == "code":
                locked[grade_id] = cell.source
        return cls(name, tests, answers, locked, order, install)


@dataclass
class Plan:
    cells: list = field(default_factory=list)      # [{"id", "source"}] the student's cells, in order
    tests: list = field(default_factory=list)      # [{"id", "source"}] the original tests, in order
    notes: list = field(default_factory=list)      # things reported, never punished
    positions: dict = field(default_factory=dict)  # cell id -> index of the cell in the submission
    chosen: dict = field(default_factory=dict)     # answer grade_id -> index of the copy that ran


def make_plan(submission: NotebookNode, source: Source) -> Plan:
    plan = Plan()
    copies: dict = {}
    for index, cell in enumerate(submission.cells):
        grade_id = meta(cell).get("grade_id")
        if cell.cell_type == "code" and grade_id in source.answers:
            copies.setdefault(grade_id, []).append(index)
    for grade_id, indices in copies.items():
        edited = [i for i in indices
                  if _normalise(submission.cells[i].source) != _normalise(source.answers[grade_id])]
        plan.chosen[grade_id] = (edited or indices)[-1]
        if len(indices) > 1:
            plan.notes.append(f"your code cell for {task_of(grade_id)} appears {len(indices)} times "
                              f"(cells {', '.join(str(i + 1) for i in indices)}): cell "
                              f"{plan.chosen[grade_id] + 1} was graded")
    for grade_id in source.answers:
        if grade_id not in copies:
            plan.notes.append(f"no code cell is marked as your answer for {task_of(grade_id)} "
                              "(deleted, split, or its metadata lost): your other cells were run as they are")
    seen_tests = set()
    for index, cell in enumerate(submission.cells):
        if cell.cell_type != "code":
            continue
        if _normalise(cell.source) in source.install:
            continue                                  # the untouched install cell: nothing to run
        info = meta(cell)
        grade_id = info.get("grade_id")
        if grade_id in source.tests:
            seen_tests.add(grade_id)
            original = source.tests[grade_id][0]
            if _normalise(cell.source) not in (_normalise(strip_hidden_tests(original, placeholder=None)),
                                               _normalise(original)):
                plan.notes.append(f"test cell for {task_of(grade_id)} was edited: the original test was used")
            continue                                  # the original runs after the student's cells
        if grade_id in copies and plan.chosen[grade_id] != index:
            continue                                  # another copy of this answer is graded
        if grade_id in source.locked:
            body = source.locked[grade_id]            # read-only cells run as the instructor wrote them
        else:
            body = cell.source
        if info.get("grade") and grade_id not in source.tests:
            what = f"your answer for {task_of(grade_id)}" if grade_id in source.answers else f"cell {index + 1}"
            plan.notes.append(f"{what} is marked as a graded test cell, which it is not: it ran as your code")
        ident = f"c{index + 1}"
        plan.cells.append({"id": ident, "source": body})
        plan.positions[ident] = index
    for grade_id, (body, _) in source.tests.items():
        plan.tests.append({"id": grade_id, "source": body})
        if grade_id not in seen_tests:
            plan.notes.append(f"test cell for {task_of(grade_id)} was missing: the original test was used")
    return plan
