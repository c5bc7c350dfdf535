"""Run a graded notebook in this process, the way the sandboxed grader does, for fast tests.

Trusted notebooks only (the solutions, the release, catalog entries): nothing is isolated.
The semantics are the grader's (`attention_course.grading`):

1. the notebook's own code cells run in their order, test cells left out;
2. then every test cell of the *source* notebook runs, in the source's order, each from a
   shallow copy of the namespace that step 1 left (the grader forks a process per test), with
   `check` recording values;
3. a test passes when it raised nothing and every `check` of the solution's run is matched
   (`attention_course.grading.checks.judge`). Warnings never cost points.

`hidden=False` runs the test cells as the student sees them (hidden tests removed) and passes
when they raise nothing: what the student learns from the visible checks.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from functools import lru_cache
from pathlib import Path

import nbformat

from attention_course.grading import notebooks
from attention_course.grading.checks import judge
from attention_course.grading.runner import make_check

ROOT = Path(__file__).resolve().parents[1]


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def source_notebook(assignment: str):
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def _tests(assignment: str) -> list[tuple[str, str]]:
    return [(_meta(c)["grade_id"], c.source) for c in source_notebook(assignment).cells
            if _meta(c).get("grade") and not _meta(c).get("solution")]


def _run(nb, assignment: str, hidden: bool) -> dict:
    """test id -> (error or None, records)."""
    test_ids = {grade_id for grade_id, _ in _tests(assignment)}
    namespace: dict = {"__name__": "__main__"}
    results = {}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        for cell in nb.cells:
            if cell.cell_type != "code" or _meta(cell).get("grade_id") in test_ids:
                continue
            try:
                exec(compile(cell.source, "<cell>", "exec"), namespace)
            except Exception:
                pass                            # the grader goes on too; the tests will tell
        for grade_id, source in _tests(assignment):
            if not hidden:
                source = notebooks.strip_hidden_tests(source, placeholder=None)
            records: list = []
            scope = dict(namespace)
            scope["check"] = make_check(records)
            error = None
            try:
                exec(compile(source, f"<{grade_id}>", "exec"), scope)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            results[grade_id] = (error, records)
    return results


@lru_cache(maxsize=None)
def reference_records(assignment: str) -> dict:
    """test id -> the solution's records (the grader's reference)."""
    results = _run(source_notebook(assignment), assignment, hidden=True)
    for grade_id, (error, records) in results.items():
        assert error is None, f"{assignment}: the solution fails its own test {grade_id}: {error}"
        assert records, f"{assignment}: {grade_id} records no check(...) in its hidden tests"
    return {grade_id: records for grade_id, (_, records) in results.items()}


def run_in_process(nb, assignment: str, hidden: bool = True) -> dict:
    """task -> None (passed) or why it failed."""
    reference = reference_records(assignment) if hidden else None
    verdicts = {}
    for grade_id, (error, records) in _run(nb, assignment, hidden).items():
        task = grade_id[len("test_"):]
        if error is not None:
            verdicts[task] = error
        elif hidden:
            failed = judge(reference[grade_id], records)
            verdicts[task] = None if failed is None else f"{failed[0]} ({failed[1]})"
        else:
            verdicts[task] = None
    return verdicts
