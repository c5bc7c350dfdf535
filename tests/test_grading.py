"""The graded exercises and their nbgrader pipeline, tested for real.

Fast tests (no kernel) check the shape of the exercises, the wrong-answer catalog (each entry is
run in-process against the full and the visible tests) and the helpers of
`attention_course.grading`. Slow tests copy the course into temporary course directories (their
own gradebook; the repository's is never touched), release it with nbgrader, submit many
students at once (the solutions, the untouched release, every catalog entry, and broken
submissions), run `python -m attention_course.grading autograde / feedback / grades` there, and
check scores, reasons, feedback and the CSV export. Each assignment gets its own course
directory so that the autograde runs can go side by side.
"""
from __future__ import annotations

import ast
import csv
import html
import json
import re
import shutil
import subprocess
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from attention_course import grading
from grading_catalog import WRONG_ANSWERS, WrongAnswer

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ["01_rnn", "02_lstm_gru", "03_seq2seq", "04_attention"]
TEST_TIMEOUT = 20          # seconds per cell in the graded runs: the infinite loop waits this long, and
                          # importing torch in the first cell stays well below it on a busy machine


# ============================================================================================
# Reading the exercises
# ============================================================================================

def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def source_notebook(assignment: str):
    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


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


def hidden_region(source: str) -> str:
    match = re.search(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)
    return match.group(1) if match else ""


def distinctive_hidden_lines(assignment: str) -> list[str]:
    """Lines of hidden tests that appear nowhere in the student's release: must never leak."""
    shown = [c.source for c in release_notebook(assignment).cells]          # what students see
    shown += [grading.strip_hidden_tests(c.source, placeholder=None) for c in source_notebook(assignment).cells]
    shown += [w.code for w in WRONG_ANSWERS]                                    # what feedback may quote
    release_lines = {line.strip() for text in shown for line in text.splitlines()}
    lines = []
    for cell in source_notebook(assignment).cells:
        for line in hidden_region(cell.source).splitlines():
            line = line.strip()
            if len(line) >= 12 and line not in release_lines and not line.startswith("#"):
                lines.append(line)
    return lines


def html_text(page: str) -> str:
    """The visible text of an HTML page: tags (syntax highlighting included) removed, entities decoded."""
    page = re.sub(r"(?is)<(style|script)\b.*?</\1>", "", page)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ============================================================================================
# Running a notebook in-process (like a kernel, without one): fast checks of the catalog
# ============================================================================================

def run_in_process(nb, assignment: str, hidden: bool = True) -> dict:
    """Execute the code cells in order in one namespace; task -> None (test passed) or the error.

    Like nbgrader, every test cell is first replaced by the original from the source notebook
    (hidden tests included), and a test cell fails when it raises or writes to stderr (here:
    warns). `hidden=False` runs the test cells as a student sees them (hidden tests removed).
    """
    originals = {_nbgrader(c)["grade_id"]: c.source for c in source_notebook(assignment).cells
                 if _nbgrader(c).get("grade")}
    namespace = {"__name__": "__main__"}
    results = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = _nbgrader(cell)
        is_test = bool(meta.get("grade")) and not meta.get("solution")
        source = originals[meta["grade_id"]] if is_test else cell.source
        if is_test and not hidden:
            source = grading.strip_hidden_tests(source, placeholder=None)
        error = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                exec(compile(source, f"<cell {meta.get('grade_id', '')}>", "exec"), namespace)
            except Exception as exc:  # a failing test, as nbgrader would record it
                error = f"{type(exc).__name__}: {exc}"
        if error is None and caught:
            error = f"warning: {caught[0].message}"
        if is_test:
            results[meta["grade_id"][len("test_"):]] = error
    return results


# ============================================================================================
# Fast tests
# ============================================================================================

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
        visible = grading.strip_hidden_tests(test.source, placeholder=None)
        assert "assert " in visible, f"{task}: at least one visible assertion"
        assert "assert " in hidden_region(test.source), f"{task}: value checks in the hidden tests"
        assert f"`{task}`" in intro and f"| {points} |" in intro, f"{task}: listed with its points in the intro"
    assert f"**{sum(tasks.values())}**" in intro, "the intro states the total"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_assertions_explain_themselves(assignment):
    # A failing hidden test shows the student only its message (the feedback hides the code),
    # so every assertion there needs one, and it must name the function it checks.
    for task in tasks_of(source_notebook(assignment)):
        region = hidden_region(cell_by_id(source_notebook(assignment), f"test_{task}").source)
        asserts = [node for node in ast.walk(ast.parse(textwrap.dedent(region))) if isinstance(node, ast.Assert)]
        assert asserts, f"{task}: no hidden assertion"
        for node in asserts:
            assert node.msg is not None, f"{task}: hidden assertion on line {node.lineno} has no message"
            assert task in ast.unparse(node.msg), f"{task}: hidden assertion message should name {task}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_hides_solutions_and_hidden_tests(assignment):
    nb, source = release_notebook(assignment), source_notebook(assignment)
    text = json.dumps(nb)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    for task in tasks_of(source):
        assert "raise NotImplementedError()" in cell_by_id(nb, task).source
        assert f"def {task}(" in cell_by_id(nb, task).source, f"{task}: the signature stays in the release"
        assert cell_by_id(nb, f"test_{task}").source.strip() == \
            grading.strip_hidden_tests(cell_by_id(source, f"test_{task}").source, placeholder=None).strip()
    for line in distinctive_hidden_lines(assignment):
        assert line not in text


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


def test_strip_hidden_tests_and_feedback_traceback():
    source = 'x = 1\nassert x\n    ### BEGIN HIDDEN TESTS\n    secret = 2\n    ### END HIDDEN TESTS\ny = 3'
    assert grading.strip_hidden_tests(source) == "x = 1\nassert x\n    # (hidden tests: not shown)\ny = 3"
    assert grading.strip_hidden_tests(source, placeholder=None) == "x = 1\nassert x\ny = 3"

    test = nbformat.v4.new_code_cell(source, execution_count=3)
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_f", "points": 1, "locked": True}
    own = nbformat.v4.new_code_cell("def f(): raise ValueError('bad')", execution_count=2)
    test.outputs = [nbformat.v4.new_output(
        "error", ename="ValueError", evalue="bad",
        traceback=["\x1b[0;31m----\x1b[0m ValueError  Traceback", "Cell \x1b[0;32mIn[3], line 4\x1b[0m\n---> 4 secret = f()",
                   "Cell \x1b[0;32mIn[2], line 1\x1b[0m\n----> 1 def f(): raise ValueError('bad')", "ValueError: bad"])]
    nb = nbformat.v4.new_notebook(cells=[own, test])
    nb, _ = grading.HideHiddenTests().preprocess(nb, {})
    assert "secret" not in nb.cells[1].source
    assert nb.cells[1].outputs[0].traceback == [
        "Cell \x1b[0;32mIn[2], line 1\x1b[0m\n----> 1 def f(): raise ValueError('bad')", "ValueError: bad"]


def test_check_notebook(tmp_path):
    good = tmp_path / "good.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), good)
    assert grading.check_notebook(good) is None
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{\n "cells": [\n  {"cell_type": "code",}\n')
    assert grading.check_notebook(broken).startswith("not a notebook: invalid JSON at line 3")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    assert grading.check_notebook(tmp_path / "list.ipynb") == "not a notebook: the JSON has no list of cells"
    (tmp_path / "bad.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code"}], "metadata": {},
                                                     "nbformat": 4, "nbformat_minor": 5}))
    assert grading.check_notebook(tmp_path / "bad.ipynb").startswith("not a valid notebook")
    (tmp_path / "binary.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    assert grading.check_notebook(tmp_path / "binary.ipynb") == "not a notebook: the file is not UTF-8 text"


def test_cli_explains_instructor_errors(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    run = subprocess.run([sys.executable, "-m", "attention_course.grading", "--root", str(tmp_path), "autograde"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "submitted/<student>/<assignment>/<assignment>.ipynb" in run.stderr
    (tmp_path / "submitted").mkdir()
    with pytest.raises(grading.GradingError, match="unknown assignment 'nope'"):
        grading.autograde(tmp_path, "nope")
    with pytest.raises(grading.GradingError, match="no nbgrader_config.py"):
        grading.load_config(tmp_path / "elsewhere")
    with pytest.raises(grading.GradingError, match="make autograde"):
        grading.feedback(tmp_path)


# ============================================================================================
# Slow tests: nbgrader for real
# ============================================================================================

def _bad_submissions(assignment: str) -> dict:
    """Students whose notebooks are broken the ways students break them: student -> (notebook, lost tasks).

    The cases are split between the assignments so that their autograde runs, which go side by
    side, take about as long; EXPECTED_BAD lists what each must record.
    """
    catalog = {w.id: w for w in WRONG_ANSWERS}
    tasks = set(tasks_of(source_notebook(assignment)))
    bad = {}
    if assignment == "01_rnn":
        bad["bad-syntax"] = (student_notebook(assignment, {"rnn_cell_step":
                             "def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                             "    return torch.tanh(x @ weight_ih.T + bias_ih +)\n"}), {"rnn_cell_step"})
        # An infinite loop; it sleeps rather than spins, to leave the CPU to the other run.
        bad["bad-loop"] = (student_notebook(assignment, {"clip_grad_norm":
                           "def clip_grad_norm(parameters, max_norm):\n    import time\n"
                           "    while True:\n        time.sleep(0.05)\n"}), {"clip_grad_norm"})
        wrong = catalog["01_rnn-rnn_cell_step-missing_bias_hh"]
        nb = student_notebook(assignment, {wrong.task: wrong.code})
        cell_by_id(nb, "test_rnn_cell_step").source = '"""rnn_cell_step: returns a tensor."""\nassert True\n'
        bad["bad-edited-test"] = (nb, {"rnn_cell_step"})
        text = nbformat.writes(student_notebook(assignment))
        bad["bad-json"] = (text[: len(text) // 2], tasks)                     # a file cut in half
        bad["bad-format"] = (json.dumps({"cells": [{"cell_type": "code", "source": 3}], "metadata": {},
                                         "nbformat": 4, "nbformat_minor": 5}), tasks)
    elif assignment == "02_lstm_gru":
        nb = student_notebook(assignment)
        nb.cells[1].source = "import nonexistent_module\n" + nb.cells[1].source
        bad["bad-import"] = (nb, tasks)
        wrong = catalog["02_lstm_gru-gru_cell_step-z_swapped"]
        nb = student_notebook(assignment, {wrong.task: wrong.code})
        nb.cells.remove(cell_by_id(nb, "test_gru_cell_step"))
        bad["bad-deleted-test"] = (nb, {"gru_cell_step"})
        nb = student_notebook(assignment)
        nb.cells[1].source = "import os\nos._exit(1)   # the kernel dies\n"
        bad["bad-crash"] = (nb, tasks)
    elif assignment == "03_seq2seq":
        # Right value, but torch warns (torch.tensor of a tensor): the warning goes to stderr in
        # the test cell that calls the function, and nbgrader gives no points to such a cell.
        bad["bad-warning"] = (student_notebook(assignment, {"masked_cross_entropy":
                              "def masked_cross_entropy(logits, tgt_out):\n"
                              "    nll = -torch.log_softmax(logits, dim=-1).gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)\n"
                              "    real = tgt_out != PAD\n"
                              "    return nll[real].sum() / torch.tensor(real.sum(), dtype=torch.float)\n"}),
                              {"masked_cross_entropy"})
    elif assignment == "04_attention":
        # A scratch cell of the student's own (no nbgrader metadata) that fails: reported, no points lost.
        nb = student_notebook(assignment)
        scratch = nbformat.v4.new_code_cell("weights_demo = masked_softmax(scores_demo, torch.ones(1, 3, dtype=torch.bool))")
        nb.cells.insert(nb.cells.index(cell_by_id(nb, "masked_softmax")) + 1, scratch)
        bad["bad-scratch-cell"] = (nb, set())
    return bad


#: (assignment, student) -> (score, status, a phrase the recorded reason must contain)
EXPECTED_BAD = {
    ("01_rnn", "bad-syntax"): ("8", "graded", "SyntaxError in your code cell for rnn_cell_step (line 2): invalid syntax"),
    ("01_rnn", "bad-loop"): ("7", "graded", "cell timed out after {timeout} s in task 'clip_grad_norm'"),
    ("01_rnn", "bad-edited-test"): ("8", "graded",
                                    "test cell for rnn_cell_step was edited: the original test was restored and used"),
    ("01_rnn", "bad-json"): ("0", "invalid", "not a notebook: invalid JSON at line"),
    ("01_rnn", "bad-format"): ("0", "invalid", "not a valid notebook"),
    ("01_rnn", "bad-filename"): ("0", "invalid", "no notebook named 01_rnn.ipynb in submitted/bad-filename/01_rnn/ "
                                                 "(found: 01_rnn (1).ipynb)"),
    ("02_lstm_gru", "bad-import"): ("0", "graded", "ModuleNotFoundError: No module named 'nonexistent_module' "
                                                   "in cell 2 (the setup cell)"),
    ("02_lstm_gru", "bad-deleted-test"): ("7", "graded", "test cell for gru_cell_step was deleted: "
                                                         "the original test was restored and used"),
    ("02_lstm_gru", "bad-crash"): ("0", "error", "nbgrader could not grade this submission, scored 0: the kernel died"),
    ("03_seq2seq", "bad-warning"): ("8", "graded", "task 'masked_cross_entropy' lost its points (0/2) because its "
                                                   "test cell wrote to stderr"),
    ("04_attention", "bad-scratch-cell"): ("10", "graded", "NameError: name 'scores_demo' is not defined "
                                                          "in cell 14 (a cell without a task)"),
}


@dataclass
class GradedCourse:
    """One temporary course directory after autograde, feedback and grades."""
    assignment: str
    root: Path
    students: list
    expected: dict = field(default_factory=dict)      # student -> {task: full marks?}
    logs: str = ""

    @property
    def report(self) -> dict:
        with (self.root / "autograded" / "report.csv").open(newline="") as handle:
            return {row["student"]: row for row in csv.DictReader(handle)}

    def task_scores(self, student) -> dict:
        from nbgrader.api import Gradebook
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            notebook = gb.find_submission_notebook(self.assignment, self.assignment, student)
            return {g.name[len("test_"):]: (g.score, g.max_score) for g in notebook.grades}

    def feedback_text(self, student) -> str:
        return html_text((self.root / "feedback" / student / self.assignment / f"{self.assignment}.html").read_text())


def _submit(root: Path, assignment: str, student: str, nb) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    if isinstance(nb, str):                  # raw text: a broken file
        (folder / f"{assignment}.ipynb").write_text(nb)
    else:
        nbformat.write(nb, folder / f"{assignment}.ipynb")


def _cli(root: Path, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "attention_course.grading", "--root", str(root), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_all(processes: dict) -> dict:
    outputs = {}
    for key, process in processes.items():
        out, _ = process.communicate(timeout=600)
        outputs[key] = out
        assert process.returncode == 0, f"{key} failed ({process.returncode}):\n{out[-4000:]}"
    return outputs


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> dict:
    """Every assignment released, submitted by many students, autograded, with feedback and grades."""
    started = time.monotonic()
    template = tmp_path_factory.mktemp("course-template")
    shutil.copy(ROOT / "nbgrader_config.py", template)
    shutil.copytree(ROOT / "solutions", template / "solutions")
    grading.release(template)            # the release and the gradebook every course starts from

    courses = {}
    for assignment in ASSIGNMENTS:
        root = tmp_path_factory.mktemp(f"course-{assignment}")
        shutil.copytree(template, root, dirs_exist_ok=True)
        tasks = list(tasks_of(source_notebook(assignment)))
        course = GradedCourse(assignment, root, [])

        def submit(student, nb, full_marks):
            _submit(root, assignment, student, nb)
            course.students.append(student)
            course.expected[student] = full_marks

        submit("solution", source_notebook(assignment), {t: True for t in tasks})
        submit("release", nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", 4),
               {t: False for t in tasks})
        for wrong in WRONG_ANSWERS:
            if wrong.assignment == assignment:
                submit(f"wrong-{wrong.task}-{wrong.name}", student_notebook(assignment, {wrong.task: wrong.code}),
                       {t: t != wrong.task for t in tasks})
        for student, (nb, lost) in _bad_submissions(assignment).items():
            submit(student, nb, {t: t not in lost for t in tasks})
        if assignment == "01_rnn":     # a notebook under the wrong name
            folder = root / "submitted" / "bad-filename" / assignment
            folder.mkdir(parents=True)
            nbformat.write(student_notebook(assignment), folder / f"{assignment} (1).ipynb")
            course.students.append("bad-filename")
            course.expected["bad-filename"] = {t: False for t in tasks}
        courses[assignment] = course

    # One autograde run per course grades all its students; the courses run side by side.
    phases, outputs = [f"release {time.monotonic() - started:.0f} s"], {}
    for command in (["autograde", "--timeout", str(TEST_TIMEOUT)], ["feedback"], ["grades"]):
        begun = time.monotonic()
        done = _wait_all({a: _cli(c.root, *command) for a, c in courses.items()})
        outputs.update({(a, command[0]): out for a, out in done.items()})
        phases.append(f"{command[0]} {time.monotonic() - begun:.0f} s")
    for assignment, course in courses.items():
        course.logs = "\n".join(out for (a, _), out in outputs.items() if a == assignment)
    print(f"\n[graded fixture] {sum(len(c.students) for c in courses.values())} submissions in "
          f"{time.monotonic() - started:.0f} s ({', '.join(phases)})")
    return courses


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_submission_gets_a_score_and_a_reason(graded, assignment):
    course = graded[assignment]
    report = course.report
    assert sorted(report) == sorted(course.students)
    for student, row in report.items():
        assert row["reason"].strip(), f"{student}: no reason recorded"
        assert float(row["max_score"]) == sum(tasks_of(source_notebook(assignment)).values())


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_scores_per_task(graded, assignment):
    course = graded[assignment]
    failures = []
    for student, expected in course.expected.items():
        scores = course.task_scores(student)
        for task, full in expected.items():
            score, maximum = scores[task]
            if full != (score == maximum) or (not full and score >= maximum):
                failures.append(f"{student}: {task} scored {score}/{maximum}, expected "
                                f"{'full marks' if full else 'less than full marks'}")
    assert not failures, "\n".join(failures) + f"\n{course.report}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_full_marks_and_release_zero(graded, assignment):
    report = graded[assignment].report
    assert report["solution"]["score"] == report["solution"]["max_score"] == "10"
    assert report["solution"]["reason"] == "all tasks passed"
    assert report["release"]["score"] == "0"
    for task in tasks_of(source_notebook(assignment)):
        assert f"task '{task}' not attempted" in report["release"]["reason"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_wrong_answers_are_named_in_report_and_feedback(graded, assignment):
    course = graded[assignment]
    report = course.report
    for wrong in (w for w in WRONG_ANSWERS if w.assignment == assignment):
        student = f"wrong-{wrong.task}-{wrong.name}"
        reason = report[student]["reason"]
        match = re.search(rf"task '{wrong.task}' failed \([\d.]+/[\d.]+\): (.*?)(; |$)", reason)
        assert match, f"{student}: the report does not say that {wrong.task} failed: {reason}"
        text = squeeze(course.feedback_text(student))
        maximum = float(tasks_of(source_notebook(assignment))[wrong.task])
        assert f"Grade cell: test_{wrong.task} Score: 0.0 / {maximum}" in text, f"{student}: feedback lacks the task's score"
        assert squeeze(match.group(1)) in text, f"{student}: feedback lacks the error: {match.group(1)}"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_never_shows_hidden_tests(graded, assignment):
    course = graded[assignment]
    secrets = distinctive_hidden_lines(assignment)
    assert len(secrets) >= 10
    pages = sorted((course.root / "feedback").rglob("*.html"))
    assert len(pages) == len(course.students)
    for page in pages:
        text = html_text(page.read_text())
        assert "HIDDEN TESTS" not in text, page
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{page.relative_to(course.root)} shows hidden test code: {leaked[:3]}"

    # The same search finds the hidden tests in a plain rendering of an autograded notebook
    # (hidden tests restored, full tracebacks), so the absence above means something.
    from nbconvert import HTMLExporter
    student = next(s for s in course.students if s.startswith("wrong-"))
    autograded = nbformat.read(course.root / "autograded" / student / assignment / f"{assignment}.ipynb", 4)
    plain = html_text(HTMLExporter().from_notebook_node(autograded)[0])
    assert all(line in plain for line in secrets)


@pytest.mark.slow
@pytest.mark.parametrize("assignment,student", sorted(EXPECTED_BAD))
def test_bad_submission_is_graded_with_a_clear_reason(graded, assignment, student):
    course = graded[assignment]
    score, status, reason = EXPECTED_BAD[assignment, student]
    row = course.report[student]
    assert (row["score"], row["status"]) == (score, status), f"{student}: {row}"
    assert reason.format(timeout=TEST_TIMEOUT) in row["reason"], f"{student}: reason {row['reason']!r}"
    if status != "graded":
        assert "could not be graded" in course.feedback_text(student)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_good_submission_in_a_bad_batch_keeps_full_marks(graded, assignment):
    course = graded[assignment]
    assert any(student.startswith("bad-") for student in course.students)
    assert course.report["solution"]["score"] == "10"
    assert course.report["solution"]["reason"] == "all tasks passed"


@pytest.mark.slow
def test_timeout_shows_in_feedback(graded):
    text = squeeze(graded["01_rnn"].feedback_text("bad-loop"))
    assert "Grade cell: test_clip_grad_norm Score: 0.0 / 3.0" in text
    assert "CellTimeoutError" in text


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_grades_csv(graded, assignment):
    course = graded[assignment]
    with (course.root / "grades.csv").open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["assignment"] == assignment]
    scores = {row["student_id"]: float(row["score"]) for row in rows}
    assert sorted(scores) == sorted(course.students)
    report = course.report
    for student, score in scores.items():
        assert score == float(report[student]["score"]), student
        assert float(next(r for r in rows if r["student_id"] == student)["max_score"]) == 10.0
    assert scores["solution"] == 10.0 and scores["release"] == 0.0
