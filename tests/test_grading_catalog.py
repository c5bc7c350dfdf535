"""The graded exercises themselves, checked fast and in-process (no sandbox, no nbgrader run).

- every exercise has the shape CONTRIBUTING.md asks for (tasks, points, docstrings, visible
  assertions, hidden `check(...)` calls that only record values);
- the solutions pass, the untouched release fails every task;
- every wrong answer in the catalog (tests/catalog_*.py) loses its own task and nothing else,
  judged exactly as the grader judges (`grading_harness`), and `caught_by_visible` is true.
"""
from __future__ import annotations

import ast
import json
import textwrap

import nbformat
import pytest

from attention_course.grading.notebooks import hidden_region, strip_hidden_tests
from grading_catalog import ASSIGNMENTS, RIGHT_ANSWERS, WRONG_ANSWERS, RightAnswer, WrongAnswer
from grading_harness import ROOT, reference_records, run_in_process, source_notebook


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def release_notebook(assignment: str):
    return nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", as_version=4)


def tasks_of(nb) -> dict:
    """task -> points, in notebook order (a task is a solution cell with a test cell test_<task>)."""
    return {_nbgrader(c)["grade_id"][len("test_"):]: _nbgrader(c)["points"]
            for c in nb.cells if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")}


def cell_by_id(nb, grade_id):
    return next(c for c in nb.cells if _nbgrader(c).get("grade_id") == grade_id)


def without_solution_markers(source: str) -> str:
    return "\n".join(line for line in source.split("\n")
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def student_notebook(assignment: str, replace: dict | None = None):
    """The released notebook filled in with correct answers, except the cells in `replace`."""
    nb, source = release_notebook(assignment), source_notebook(assignment)
    for task in tasks_of(source):
        cell_by_id(nb, task).source = without_solution_markers(cell_by_id(source, task).source)
    for task, code in (replace or {}).items():
        cell_by_id(nb, task).source = code
    return nb


def _check_calls(region: str) -> list[ast.Call]:
    tree = ast.parse(textwrap.dedent(region))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
            and n.func.id == "check"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercise_structure(assignment):
    nb = source_notebook(assignment)
    tasks = tasks_of(nb)
    assert len(tasks) >= 4, f"{assignment}: at least four graded tasks"
    intro = nb.cells[0].source
    for task, points in tasks.items():
        solution, test = cell_by_id(nb, task), cell_by_id(nb, f"test_{task}")
        assert _nbgrader(solution) == {"grade": False, "grade_id": task, "locked": False,
                                       "schema_version": 3, "solution": True, "task": False}
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
        assert f"def {task}(" in solution.source, f"the solution cell of {task} defines {task}()"
        assert _nbgrader(test)["locked"] and 1 <= points <= 3, f"{task}: small task, locked test with 1-3 points"
        first = test.source.splitlines()[0]
        assert first.startswith('"""') and first.endswith('"""') and len(first) > 6, \
            f"{task}: the test cell opens with a one-line docstring"
        visible = strip_hidden_tests(test.source, placeholder=None)
        assert "assert " in visible, f"{task}: at least one visible assertion"
        assert f"`{task}`" in intro and f"| {points} |" in intro, f"{task}: listed with its points in the intro"
    assert f"**{sum(tasks.values())}**" in intro, "the intro states the total"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_only_record(assignment):
    # The verdict is taken outside the student's process, so a hidden test must not decide
    # anything itself: no assert, no comparison function; it computes the student's values
    # on its inputs and records them with check(name, value, message). Every message names
    # the task, and names are unique within a test.
    for task in tasks_of(source_notebook(assignment)):
        region = hidden_region(cell_by_id(source_notebook(assignment), f"test_{task}").source)
        tree = ast.parse(textwrap.dedent(region))
        assert not [n for n in ast.walk(tree) if isinstance(n, ast.Assert)], \
            f"{task}: a hidden test must not assert (record values with check(...) instead)"
        for banned in ("allclose", "equal(", "isclose", "assert_close"):
            assert banned not in region, f"{task}: hidden tests must not compare in the kernel ({banned})"
        calls = _check_calls(region)
        assert len(calls) >= 2, f"{task}: at least two check(...) calls in the hidden tests"
        names = []
        for call in calls:
            assert len(call.args) == 3 and isinstance(call.args[0], ast.Constant) \
                and isinstance(call.args[2], ast.Constant), \
                f"{task}: check(name, value, message) with a literal name and message: {ast.unparse(call)}"
            assert task in call.args[2].value, f"{task}: the message of check {call.args[0].value!r} names {task}"
            names.append(call.args[0].value)
        assert len(names) == len(set(names)), f"{task}: check names repeat: {names}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_records_tensors(assignment):
    # Every test records at least one tensor the student's code computed: a value a cheat
    # cannot guess, so that forging records is never worth it.
    for grade_id, records in reference_records(assignment).items():
        assert any(r["value"]["kind"] == "array" and r["value"]["dtype"].startswith("torch.float")
                   for r in records), f"{grade_id}: no float tensor recorded"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(assignment):
    nb, source = release_notebook(assignment), source_notebook(assignment)
    text = json.dumps(nb)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text and "check(" not in text
    for task in tasks_of(source):
        assert "raise NotImplementedError()" in cell_by_id(nb, task).source
        assert f"def {task}(" in cell_by_id(nb, task).source, f"{task}: the signature stays in the release"
        assert cell_by_id(nb, f"test_{task}").source.strip() == \
            strip_hidden_tests(cell_by_id(source, f"test_{task}").source, placeholder=None).strip()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_pass_and_release_fails_in_process(assignment):
    passed = {t: None for t in tasks_of(source_notebook(assignment))}
    assert run_in_process(source_notebook(assignment), assignment) == passed
    assert run_in_process(student_notebook(assignment), assignment) == passed
    for task, error in run_in_process(release_notebook(assignment), assignment).items():
        assert error and error.startswith("NotImplementedError"), f"{task}: the release must fail"


def test_catalog_covers_every_task():
    for assignment in ASSIGNMENTS:
        for task in tasks_of(source_notebook(assignment)):
            entries = [w for w in WRONG_ANSWERS if w.assignment == assignment and w.task == task]
            assert len(entries) >= 3, f"{assignment}/{task}: at least three wrong answers in the catalog"
            assert any(not w.caught_by_visible for w in entries), \
                f"{assignment}/{task}: some wrong answer must get past the visible test (the hidden tests catch it)"
    ids = [w.id for w in WRONG_ANSWERS]
    assert len(ids) == len(set(ids))
    assert all(w.task in tasks_of(source_notebook(w.assignment)) for w in WRONG_ANSWERS)


@pytest.mark.parametrize("wrong", WRONG_ANSWERS, ids=lambda w: w.id)
def test_wrong_answer_in_process(wrong: WrongAnswer):
    nb = student_notebook(wrong.assignment, {wrong.task: wrong.code})
    full = run_in_process(nb, wrong.assignment)
    assert full.pop(wrong.task) is not None, f"{wrong.id} ({wrong.mistake}) passes the tests"
    assert all(error is None for error in full.values()), f"{wrong.id} breaks other tasks: {full}"
    visible = run_in_process(nb, wrong.assignment, hidden=False)[wrong.task]
    assert (visible is not None) == wrong.caught_by_visible, \
        f"{wrong.id}: caught_by_visible is {wrong.caught_by_visible}, but the visible test gives {visible!r}"


def test_right_answers_are_unique_and_name_real_tasks():
    ids = [r.id for r in RIGHT_ANSWERS]
    assert len(ids) == len(set(ids))
    assert all(r.task in tasks_of(source_notebook(r.assignment)) for r in RIGHT_ANSWERS)


@pytest.mark.parametrize("right", RIGHT_ANSWERS, ids=lambda r: r.id)
def test_right_answer_keeps_every_point(right: RightAnswer):
    # A correct answer written another way passes the visible and the hidden checks: the
    # hidden tests judge what a function returns, not how it was written.
    nb = student_notebook(right.assignment, {right.task: right.code})
    verdicts = run_in_process(nb, right.assignment)
    assert all(error is None for error in verdicts.values()), \
        f"{right.id} ({right.how}) loses points: {verdicts}"
