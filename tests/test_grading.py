"""The grader (`attention_course.grading`): its pieces fast, and the real exercises for real.

Fast tests check the comparison (`checks`), the fair execution plan (`notebooks.make_plan`),
notebook validation, the feedback filter and the command line's errors. Slow tests release the
exercises into a temporary course (the repository's gradebook is never touched), submit
the solutions, the untouched releases, one catalogued wrong answer per task (SANDBOXED) and
broken notebooks, run
`python -m attention_course.grading autograde / feedback / grades` there — every submission in
its own bubblewrap sandbox — and check scores, statuses, reasons, feedback and both CSVs. One
more grades honest submissions while CPU burners load the machine. The hostile submissions
are in tests/test_grading_adversarial.py.
"""
from __future__ import annotations

import csv
import html
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
import pytest

from attention_course import grading
from attention_course.grading import checks, sandbox
from attention_course.grading.notebooks import Source, hidden_region, make_plan, strip_hidden_tests
from attention_course.grading.pool import SandboxPool
from attention_course.grading.runner import encode, make_check
from grading_catalog import ASSIGNMENTS, WRONG_ANSWERS
from test_grading_catalog import cell_by_id, source_notebook, student_notebook, tasks_of


def _one_per_task() -> list:
    """The catalogued wrong answers that go through the real sandboxed grader: one per task,
    one that passes the visible test where there is one (the hidden tests must catch it).
    tests/test_grading_catalog.py proves every entry of the catalog in-process with the
    grader's own judge; grading all of them in sandboxes (about 10 CPU-seconds each) would
    double the time of `make test`."""
    chosen = {}
    for wrong in WRONG_ANSWERS:
        key = (wrong.assignment, wrong.task)
        if key not in chosen or (chosen[key].caught_by_visible and not wrong.caught_by_visible):
            chosen[key] = wrong
    return list(chosen.values())


SANDBOXED = _one_per_task()

ROOT = Path(__file__).resolve().parents[1]
TEST_TIMEOUT = 20          # seconds per cell in the graded runs


# ============================================================================================
# Fast: the pieces
# ============================================================================================

def _record(value, name="v", message="f: wrong", atol=1e-5, rtol=1e-5):
    records = []
    make_check(records)(name, value, message, atol=atol, rtol=rtol)
    return records[0]


def test_compare_dtype_shape_values():
    import torch
    ref = _record(torch.tensor([1.0, 2.0]))["value"]
    assert checks.compare(ref, encode(torch.tensor([1.0, 2.0 + 1e-7])), 1e-5, 1e-5) is None
    assert checks.compare(ref, encode(torch.tensor([1.0, 2.0], dtype=torch.float64)), 1e-5, 1e-5) == \
        "expected dtype torch.float32, got torch.float64"
    assert checks.compare(ref, encode(torch.tensor([[1.0, 2.0]])), 1e-5, 1e-5) == "expected shape (2,), got (1, 2)"
    assert checks.compare(ref, encode(torch.tensor([1.0, 2.1])), 1e-5, 1e-5) == "wrong values"
    assert checks.compare(ref, encode(torch.tensor([1.0, float("nan")])), 1e-5, 1e-5).startswith("NaN")
    nan = encode(torch.tensor([float("nan")]))
    assert checks.compare(nan, encode(torch.tensor([float("nan")])), 1e-5, 1e-5) is None
    ints = encode(torch.tensor([3, 4]))
    assert checks.compare(ints, encode(torch.tensor([3, 5])), 1e9, 1e9) == "wrong values"     # ints exactly
    assert checks.compare(encode(True), encode(1), 0, 0) is not None                            # a bool is not an int
    assert checks.compare(encode((1, "a", None)), encode((1, "a", None)), 0, 0) is None
    assert checks.compare(encode([1.0, 2.0]), encode([1.0]), 0, 0) == "expected a list of 2 items"
    assert checks.compare(encode({"a": 1.0}), encode({"a": 1.5}), 0.1, 0) == "['a']: wrong value"


def test_judge_uses_the_references_tolerance_and_message():
    import torch
    reference = [_record(torch.ones(3), "a", "f: first", atol=0, rtol=0), _record(torch.zeros(2), "b", "f: second")]
    good = [_record(torch.ones(3), "a", "forged", atol=1e9), _record(torch.zeros(2), "b")]
    assert checks.judge(reference, good) is None
    forged = [_record(torch.ones(3) * 1.001, "a", "f: anything", atol=1e9, rtol=1e9), good[1]]
    assert checks.judge(reference, forged) == ("f: first", "wrong values")
    assert checks.judge(reference, good[:1]) == ("f: second", "this check was not reached")
    twice = good + [_record(torch.ones(2), "b")]            # every record of a name must match
    assert checks.judge(reference, twice) == ("f: second", "wrong values")


def test_forged_records_do_not_crash_the_comparison():
    import torch
    reference = [_record(torch.ones(2), "a")]
    for junk in [None, 3, "x", {"name": 5}, {"name": "a", "value": None},
                 {"name": "a", "value": {"kind": "array", "dtype": "torch.float32", "shape": [10**9], "data": "AAAA"}},
                 {"name": "a", "value": {"kind": "array", "dtype": "object", "shape": [1], "data": "AAAA"}},
                 {"name": "a", "value": {"kind": "array", "dtype": "torch.float32", "shape": [2], "data": "!!"}},
                 {"name": "a", "value": {"kind": "list", "items": [[[]]] * 3}}]:
        assert checks.judge(reference, [junk]) is not None


def test_encode_looks_under_tensor_subclasses():
    import torch

    class Liar(torch.Tensor):
        def numpy(self):
            return np.ones(2, dtype=np.float32)

    value = encode(torch.zeros(2).as_subclass(Liar))
    assert np.array_equal(checks.decode_array(value), np.zeros(2, dtype=np.float32))
    assert encode(object())["kind"] == "unsupported"


def _probe(cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    return nb


def _graded(kind, source, grade_id, **flags):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, **flags}
    return cell


def test_plan_is_fair_to_edited_notebooks():
    source_nb = _probe([nbformat.v4.new_code_cell("import torch"),
                        _graded("code", "def f():\n    return 1", "f", solution=True, grade=False, locked=False),
                        _graded("code", '"""f"""\nassert f() == 1', "test_f", solution=False, grade=True, locked=True,
                                points=1)])
    release_nb = _probe([nbformat.v4.new_code_cell("import torch"),
                         _graded("code", "def f():\n    raise NotImplementedError()", "f", solution=True, grade=False),
                         _graded("code", '"""f"""\nassert f() == 1', "test_f", solution=False, grade=True, locked=True)])
    source = Source.from_notebooks("p", source_nb, release_nb)
    submitted = _probe([
        _graded("code", '"""f"""\nassert True', "test_f", solution=False, grade=True),   # edited, moved up
        nbformat.v4.new_code_cell("import torch"),
        _graded("code", "def f():\n    return 1", "f", solution=True, grade=True),      # a stray grade flag
        _graded("code", "def f():\n    raise NotImplementedError()", "f", solution=True), # a pasted stub copy
        _graded("code", "x = 1", "test_mine", grade=True, solution=False),               # an extra grade cell
    ])
    plan = make_plan(submitted, source)
    assert [c["source"] for c in plan.cells] == ["import torch", "def f():\n    return 1", "x = 1"]
    assert [t["id"] for t in plan.tests] == ["test_f"] and "assert f() == 1" in plan.tests[0]["source"]
    notes = " | ".join(plan.notes)
    for phrase in ("appears 2 times", "cell 3 was graded", "was edited", "marked as a graded test cell"):
        assert phrase in notes, notes


def test_the_untouched_install_cell_never_runs_in_the_sandbox():
    # The sandbox has no network, and its Python may not see an editable install of the
    # course: running the install cell there would only fail (or try pip). An edited copy is
    # the student's code and runs like any other cell.
    sys.path.insert(0, str(ROOT / "tools"))
    from install_cell import cell_source, new_cell

    install = new_cell(cell_source())
    source_nb = _probe([install, nbformat.v4.new_code_cell("import torch"),
                        _graded("code", '"""f"""\nassert True', "test_f", solution=False, grade=True,
                                locked=True, points=1)])
    source = Source.from_notebooks("p", source_nb, source_nb)
    plan = make_plan(_probe([new_cell(cell_source()), nbformat.v4.new_code_cell("import torch")]), source)
    assert [c["source"] for c in plan.cells] == ["import torch"]
    assert plan.positions[plan.cells[0]["id"]] == 1          # reasons still name the cell's real place
    untagged = nbformat.v4.new_code_cell(cell_source() + "\n")     # tags lost, code the same
    assert [c["source"] for c in make_plan(_probe([untagged]), source).cells] == []
    edited = nbformat.v4.new_code_cell("print('mine')\n" + cell_source())
    assert [c["source"] for c in make_plan(_probe([edited]), source).cells] == [edited.source]


def test_strip_hidden_tests():
    source = 'x = 1\nassert x\n    ### BEGIN HIDDEN TESTS\n    secret = 2\n    ### END HIDDEN TESTS\ny = 3'
    assert strip_hidden_tests(source) == "x = 1\nassert x\n    # (hidden tests: not shown)\ny = 3"
    assert strip_hidden_tests(source, placeholder=None) == "x = 1\nassert x\ny = 3"


def test_feedback_filter_keeps_only_the_verdict():
    test = nbformat.v4.new_code_cell('"""t"""\nassert 1\n### BEGIN HIDDEN TESTS\nsecret = 2\n### END HIDDEN TESTS')
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_f", "points": 1, "locked": True}
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="secret = 2\n"),
                    nbformat.v4.new_output("error", ename="Failed", evalue="f: wrong", traceback=["Failed: f: wrong"]),
                    nbformat.v4.new_output("error", ename="ValueError", evalue="secret", traceback=["secret"])]
    nb, _ = grading.HideHiddenTests().preprocess(nbformat.v4.new_notebook(cells=[test]), {})
    assert "secret" not in nb.cells[0].source
    assert [o.get("ename") for o in nb.cells[0].outputs] == ["Failed"]


def test_check_notebook(tmp_path):
    good = tmp_path / "good.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), good)
    assert grading.check_notebook(good) is None
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{\n "cells": [\n  {"cell_type": "code",}\n')
    assert grading.check_notebook(broken).startswith("not a notebook: invalid JSON at line 3")
    (tmp_path / "list.ipynb").write_text("[1, 2]")
    assert grading.check_notebook(tmp_path / "list.ipynb") == "not a notebook: the JSON has no list of cells"
    (tmp_path / "bad.ipynb").write_text('{"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, '
                                        '"nbformat_minor": 5}')
    assert grading.check_notebook(tmp_path / "bad.ipynb").startswith("not a valid notebook")
    (tmp_path / "binary.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    assert grading.check_notebook(tmp_path / "binary.ipynb") == "not a notebook: the file is not UTF-8 text"
    (tmp_path / "deep.ipynb").write_text("[" * 100_000)
    assert grading.check_notebook(tmp_path / "deep.ipynb").startswith("not a notebook")
    (tmp_path / "huge.ipynb").write_bytes(b" " * (21 * 2**20))
    assert "larger than 20 MB" in grading.check_notebook(tmp_path / "huge.ipynb")


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


def test_sandbox_limits_come_from_the_config(tmp_path):
    from attention_course.grading.config import Sandbox
    (tmp_path / "nbgrader_config.py").write_text(
        (ROOT / "nbgrader_config.py").read_text() + "\nc.Sandbox.memory_mb = 1234\nc.Sandbox.workers = 3\n")
    settings = Sandbox(config=grading.load_config(tmp_path))
    assert settings.limits().memory_mb == 1234 and settings.workers == 3
    assert Sandbox(config=grading.load_config(ROOT)).limits().processes == sandbox.Limits().processes


# ============================================================================================
# Slow: the four exercises, graded for real
# ============================================================================================

def _setup_cell(nb):
    """The exercise's setup cell (imports): the first code cell after the install cell."""
    return next(c for c in nb.cells if c.cell_type == "code"
                and "course-install" not in c.metadata.get("tags", []))


def _bad_submissions(assignment: str) -> dict:
    """student -> (notebook or raw text, tasks lost). Broken the ways students break notebooks."""
    catalog = {w.id: w for w in WRONG_ANSWERS}
    tasks = set(tasks_of(source_notebook(assignment)))
    bad = {}
    if assignment == "01_rnn":
        bad["bad-syntax"] = (student_notebook(assignment, {"rnn_cell_step":
                             "def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):\n"
                             "    return torch.tanh(x @ weight_ih.T + bias_ih +)\n"}), {"rnn_cell_step"})
        bad["bad-loop"] = (student_notebook(assignment, {"clip_grad_norm":
                           "def clip_grad_norm(parameters, max_norm):\n    import time\n"
                           "    while True:\n        time.sleep(0.05)\n"}), {"clip_grad_norm"})
        wrong = catalog["01_rnn-rnn_cell_step-missing_bias_hh"]
        nb = student_notebook(assignment, {wrong.task: wrong.code})
        cell_by_id(nb, "test_rnn_cell_step").source = '"""rnn_cell_step: returns a tensor."""\nassert True\n'
        bad["bad-edited-test"] = (nb, {"rnn_cell_step"})
        text = nbformat.writes(student_notebook(assignment))
        bad["bad-json"] = (text[: len(text) // 2], tasks)
        bad["bad-format"] = ('{"cells": [{"cell_type": "code", "source": 3}], "metadata": {}, '
                             '"nbformat": 4, "nbformat_minor": 5}', tasks)
    elif assignment == "02_lstm_gru":
        nb = student_notebook(assignment)
        setup = _setup_cell(nb)
        setup.source = "import nonexistent_module\n" + setup.source
        bad["bad-import"] = (nb, tasks)
        wrong = catalog["02_lstm_gru-gru_cell_step-z_swapped"]
        nb = student_notebook(assignment, {wrong.task: wrong.code})
        nb.cells.remove(cell_by_id(nb, "test_gru_cell_step"))
        bad["bad-deleted-test"] = (nb, {"gru_cell_step"})
        nb = student_notebook(assignment)
        _setup_cell(nb).source = "import os\nos._exit(1)   # the process dies\n"
        bad["bad-crash"] = (nb, tasks)
    elif assignment == "03_seq2seq":
        # Right value, and torch warns (torch.tensor of a tensor): warnings never cost points.
        bad["ok-warning"] = (student_notebook(assignment, {"masked_cross_entropy":
                             "def masked_cross_entropy(logits, tgt_out):\n"
                             "    nll = -torch.log_softmax(logits, dim=-1).gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)\n"
                             "    real = tgt_out != PAD\n"
                             "    return nll[real].sum() / torch.tensor(real.sum(), dtype=logits.dtype)\n"}), set())
    elif assignment == "04_attention":
        nb = student_notebook(assignment)
        scratch = nbformat.v4.new_code_cell("weights_demo = masked_softmax(scores_demo, torch.ones(1, 3, dtype=torch.bool))")
        nb.cells.insert(nb.cells.index(cell_by_id(nb, "masked_softmax")) + 1, scratch)
        bad["ok-scratch-cell"] = (nb, set())
    return bad


#: (assignment, student) -> (score, status, a phrase the recorded reason must contain)
EXPECTED_BAD = {
    ("01_rnn", "bad-syntax"): ("8", "graded", "SyntaxError in your code cell for rnn_cell_step (line 2): invalid syntax"),
    ("01_rnn", "bad-loop"): ("7", "timeout", "task 'clip_grad_norm' failed (0/3): your code did not finish within"),
    ("01_rnn", "bad-edited-test"): ("8", "graded", "test cell for rnn_cell_step was edited: the original test was used"),
    ("01_rnn", "bad-json"): ("0", "invalid", "not a notebook: invalid JSON at line"),
    ("01_rnn", "bad-format"): ("0", "invalid", "not a valid notebook"),
    ("01_rnn", "bad-filename"): ("0", "invalid", "no notebook named 01_rnn.ipynb in submitted/bad-filename/01_rnn/ "
                                                 "(found: 01_rnn (1).ipynb)"),
    ("02_lstm_gru", "bad-import"): ("0", "graded", "ModuleNotFoundError: No module named 'nonexistent_module' "
                                                   "in cell 3 (the setup cell)"),
    ("02_lstm_gru", "bad-deleted-test"): ("7", "graded", "test cell for gru_cell_step was missing: "
                                                         "the original test was used"),
    ("02_lstm_gru", "bad-crash"): ("0", "killed", "cell 3 was left out: the notebook's process ended"),
    ("03_seq2seq", "ok-warning"): ("10", "graded", "all tasks passed"),
    ("04_attention", "ok-scratch-cell"): ("10", "graded", "NameError: name 'scores_demo' is not defined in cell 15 "
                                                          "(a cell without a task)"),
}


@dataclass
class GradedCourse:
    root: Path
    students: dict = field(default_factory=dict)      # assignment -> student -> {task: full marks?}
    seconds: float = 0.0

    def report(self, assignment) -> dict:
        with (self.root / "autograded" / "report.csv").open(newline="") as handle:
            return {row["student"]: row for row in csv.DictReader(handle) if row["assignment"] == assignment}

    def task_scores(self, assignment, student) -> dict:
        from nbgrader.api import Gradebook
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            notebook = gb.find_submission_notebook(assignment, assignment, student)
            return {g.name[len("test_"):]: (g.score, g.max_score) for g in notebook.grades}

    def feedback_text(self, assignment, student) -> str:
        return html_text((self.root / "feedback" / student / assignment / f"{assignment}.html").read_text())


def html_text(page: str) -> str:
    page = re.sub(r"(?is)<(style|script)\b.*?</\1>", "", page)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _submit(root: Path, assignment: str, student: str, nb) -> None:
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    if isinstance(nb, str):
        (folder / f"{assignment}.ipynb").write_text(nb)
    else:
        nbformat.write(nb, folder / f"{assignment}.ipynb")


def _cli(root: Path, *args) -> str:
    run = subprocess.run([sys.executable, "-m", "attention_course.grading", "--root", str(root), *args],
                         capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, f"{args} failed ({run.returncode}):\n{(run.stdout + run.stderr)[-4000:]}"
    return run.stdout + run.stderr


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> GradedCourse:
    """Every assignment released, submitted by many students, autograded, with feedback and grades."""
    if sandbox.bwrap_path() is None:
        pytest.skip("needs bubblewrap (apt-get install bubblewrap)")
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "solutions", root / "solutions")
    grading.release(root)
    course = GradedCourse(root)
    for assignment in ASSIGNMENTS:
        tasks = list(tasks_of(source_notebook(assignment)))
        expected = course.students.setdefault(assignment, {})

        def submit(student, nb, full_marks):
            _submit(root, assignment, student, nb)
            expected[student] = full_marks

        submit("solution", source_notebook(assignment), {t: True for t in tasks})
        submit("release", nbformat.read(root / "exercises" / assignment / f"{assignment}.ipynb", 4),
               {t: False for t in tasks})
        for wrong in SANDBOXED:
            if wrong.assignment == assignment:
                submit(f"wrong-{wrong.task}-{wrong.name}", student_notebook(assignment, {wrong.task: wrong.code}),
                       {t: t != wrong.task for t in tasks})
        for student, (nb, lost) in _bad_submissions(assignment).items():
            submit(student, nb, {t: t not in lost for t in tasks})
        if assignment == "01_rnn":
            folder = root / "submitted" / "bad-filename" / assignment
            folder.mkdir(parents=True)
            nbformat.write(student_notebook(assignment), folder / f"{assignment} (1).ipynb")
            expected["bad-filename"] = {t: False for t in tasks}
    started = time.monotonic()
    _cli(root, "autograde", "--timeout", str(TEST_TIMEOUT), "--quiet")
    _cli(root, "feedback")
    _cli(root, "grades")
    course.seconds = time.monotonic() - started
    count = sum(len(s) for s in course.students.values())
    print(f"\n[graded fixture] {count} submissions graded, with feedback and grades, in {course.seconds:.0f} s")
    return course


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_scores_per_task(graded, assignment):
    failures = []
    for student, expected in graded.students[assignment].items():
        scores = graded.task_scores(assignment, student)
        for task, full in expected.items():
            score, maximum = scores[task]
            if full != (score == maximum):
                failures.append(f"{student}: {task} scored {score}/{maximum}, expected "
                                f"{'full marks' if full else 'less than full marks'}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_full_marks_and_release_zero(graded, assignment):
    report = graded.report(assignment)
    assert sorted(report) == sorted(graded.students[assignment])
    assert report["solution"]["score"] == report["solution"]["max_score"] == "10"
    assert (report["solution"]["status"], report["solution"]["reason"]) == ("graded", "all tasks passed")
    assert report["release"]["score"] == "0"
    for task in tasks_of(source_notebook(assignment)):
        assert f"task '{task}' not attempted" in report["release"]["reason"]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_wrong_answers_are_named_in_report_and_feedback(graded, assignment):
    report = graded.report(assignment)
    for wrong in (w for w in SANDBOXED if w.assignment == assignment):
        student = f"wrong-{wrong.task}-{wrong.name}"
        reason = report[student]["reason"]
        match = re.search(rf"task '{wrong.task}' failed \([\d.]+/[\d.]+\): (.*?)(; task|$)", reason)
        assert match, f"{student}: the report does not say that {wrong.task} failed: {reason}"
        text = squeeze(graded.feedback_text(assignment, student))
        maximum = float(tasks_of(source_notebook(assignment))[wrong.task])
        assert f"Grade cell: test_{wrong.task} Score: 0.0 / {maximum}" in text, f"{student}: feedback lacks the score"
        assert squeeze(match.group(1)).split(" (")[0] in text, f"{student}: feedback lacks the reason"


def distinctive_hidden_lines(assignment: str) -> list[str]:
    """Lines of hidden tests that are not shown to students anywhere: must never reach them."""
    release = nbformat.read(ROOT / "exercises" / assignment / f"{assignment}.ipynb", 4)
    solution = source_notebook(assignment)
    # what a student sees anyway: the release, the catalogued answers, and code a student
    # may write (the solution's answer cells); a hidden line wrapped at 88 columns can be a
    # fragment such as `lstm_cell_step(` that also occurs there
    shown = ([c.source for c in release.cells] + [w.code for w in WRONG_ANSWERS]
             + [c.source for c in solution.cells if not hidden_region(c.source)])
    shown_text = "\n".join(shown)
    lines = []
    for cell in solution.cells:
        for line in hidden_region(cell.source).splitlines():
            line = line.strip()
            if len(line) >= 12 and line not in shown_text and not line.startswith(("#", "check(")):
                lines.append(line)
    return lines


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_and_reports_never_show_hidden_tests(graded, assignment):
    secrets = distinctive_hidden_lines(assignment)
    assert len(secrets) >= 10
    pages = sorted((graded.root / "feedback").glob(f"*/{assignment}/*.html"))
    assert len(pages) == len(graded.students[assignment])
    texts = {str(p): html_text(p.read_text()) for p in pages}
    texts["report.csv"] = (graded.root / "autograded" / "report.csv").read_text()
    for name, text in texts.items():
        assert "HIDDEN TESTS" not in text, name
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{name} shows hidden test code: {leaked[:3]}"
    # The same search finds them in an autograded notebook (the instructor's copy): it can see.
    autograded = (graded.root / "autograded" / "release" / assignment / f"{assignment}.ipynb").read_text()
    assert any(json_line in autograded for json_line in secrets[:5])


@pytest.mark.slow
@pytest.mark.parametrize("assignment,student", sorted(EXPECTED_BAD))
def test_bad_submission_is_graded_with_a_clear_reason(graded, assignment, student):
    score, status, reason = EXPECTED_BAD[assignment, student]
    row = graded.report(assignment)[student]
    assert (row["score"], row["status"]) == (score, status), f"{student}: {row}"
    assert reason in row["reason"], f"{student}: reason {row['reason']!r}"
    if status == "invalid":
        assert "could not be graded" in graded.feedback_text(assignment, student)


@pytest.mark.slow
def test_timeout_shows_in_feedback(graded):
    text = squeeze(graded.feedback_text("01_rnn", "bad-loop"))
    assert "Grade cell: test_clip_grad_norm Score: 0.0 / 3.0" in text
    assert "did not finish within" in text


@pytest.mark.slow
def test_grades_csv_agrees_with_the_report(graded):
    with (graded.root / "grades.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    everyone = {s for students in graded.students.values() for s in students}
    for assignment in ASSIGNMENTS:
        report = graded.report(assignment)
        mine = {row["student_id"]: row for row in rows if row["assignment"] == assignment}
        assert set(mine) == everyone                  # every student in the gradebook, every assignment
        for student, row in mine.items():
            if student in report:
                assert (row["status"], row["timestamp"]) == (report[student]["status"], report[student]["timestamp"])
                assert float(row["score"]) == float(report[student]["score"]), (assignment, student)
                assert row["timestamp"].startswith("20")
            else:
                assert (row["status"], row["score"]) == ("missing", "0"), (assignment, student)
        assert float(mine["solution"]["max_score"]) == 10.0


@pytest.mark.slow
def test_honest_work_survives_a_busy_machine(tmp_path):
    """Graded while CPU burners keep the load far above the core count: no honest point is lost."""
    if sandbox.bwrap_path() is None:
        pytest.skip("needs bubblewrap")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    grading.release(tmp_path, ["04_attention"])
    for k in range(6):
        _submit(tmp_path, "04_attention", f"student{k}", student_notebook("04_attention"))
    burner = "import time\nend = time.time() + 240\nwhile time.time() < end:\n    pass\n"
    burners = [subprocess.Popen([sys.executable, "-c", burner]) for _ in range(4)]
    try:
        time.sleep(1)
        _cli(tmp_path, "autograde", "04_attention", "--quiet")
    finally:
        for process in burners:
            process.kill()
            process.wait()
    with (tmp_path / "autograded" / "report.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    for row in rows:
        assert (row["score"], row["status"]) == ("10", "graded"), row


def test_the_sandbox_binds_python_but_never_a_folder_holding_the_course(monkeypatch, tmp_path):
    # The grader's working folder and editable installs are on sys.path; binding them into the
    # sandbox would show it the repository, solutions included.
    monkeypatch.setattr(sys, "path", [str(ROOT), str(ROOT / "tests"), ""] + sys.path)
    roots = sandbox._python_roots(tmp_path)
    assert str(ROOT) not in roots and str(ROOT / "tests") not in roots
    assert all(not str(tmp_path).startswith(root) for root in roots)
    assert any(Path(sys.prefix).resolve() == Path(root) or str(Path(sys.prefix).resolve()).startswith(root)
               for root in roots)


@pytest.mark.slow
def test_a_sandbox_that_never_starts_is_left_for_regrading(tmp_path):
    """The grader's failure is not the student's zero: no score, status regrade, and it says so."""
    if sandbox.bwrap_path() is None:
        pytest.skip("needs bubblewrap")
    from attention_course.grading import autograding
    from attention_course.grading.reports import SubmissionReport

    source_nb = source_notebook("04_attention")
    release_nb = nbformat.read(ROOT / "exercises" / "04_attention" / "04_attention.ipynb", 4)
    source = Source.from_notebooks("04_attention", source_nb, release_nb)
    folder = tmp_path / "submitted" / "alice" / "04_attention"
    folder.mkdir(parents=True)
    nbformat.write(student_notebook("04_attention"), folder / "04_attention.ipynb")
    limits = sandbox.Limits(startup_timeout=0.001, start_attempts=2)     # Python never "starts" in time
    job = autograding.Job("04_attention", "alice", str(folder / "04_attention.ipynb"), source, {}, limits,
                          str(tmp_path))
    result = autograding.grade_submission(job)
    assert result.status == "regrade" and result.scores == {} and result.autograded is None
    assert "grade again" in result.reasons[0] and "did not start" in result.reasons[0]
    row = SubmissionReport("alice", "04_attention", None, 10, result.status, result.timestamp, {}, result.reasons).row()
    assert row["score"] == "" and row["status"] == "regrade"


def test_python_is_bound_after_the_private_tmp(monkeypatch):
    # A course cloned under /tmp has its venv there: the sandbox's private /tmp must not hide it.
    monkeypatch.setattr(sandbox, "_python_roots", lambda course_root: ["/tmp/clone/.venv", "/opt/python"])
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: "/usr/bin/bwrap")
    cmd = sandbox._sandbox_command(sandbox.Limits(), Path("/tmp/clone"), 1, 3, 4)
    tmpfs = cmd.index("/tmp", cmd.index("--tmpfs"))
    venv = cmd.index("/tmp/clone/.venv")
    assert tmpfs < venv and cmd[venv - 1] == "--ro-bind"


@pytest.mark.slow
@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "bubblewrap"])
def test_a_pooled_sandbox_serves_one_submission_and_keeps_nothing(tmp_path, fork_server):
    """Sandboxes started ahead (torch loaded: forked from the fork server, or each a
    bubblewrap sandbox of its own) are each used once: what one submission plants in
    its process, its /tmp or its environment is gone for the next one."""
    if sandbox.bwrap_path() is None:
        pytest.skip("needs bubblewrap")
    limits = sandbox.Limits(cell_timeout=20)
    plant = ("import os, sys, torch\ntorch.planted = 1\nopen('/tmp/planted', 'w').write('x')\n"
             "os.environ['PLANTED'] = '1'\nprint('planted')")
    look = ("import os, sys\nprint('torch' in sys.modules, hasattr(sys.modules['torch'], "
            "'planted'), os.path.exists('/tmp/planted'), 'PLANTED' in os.environ)")
    with SandboxPool(limits, tmp_path, size=1, total=3, fork_server=fork_server) as pool:
        assert (pool.server is not None) == fork_server, pool.server_error
        waiting = list(pool._waiting)
        first = sandbox.execute([{"id": "a", "source": plant}], [], limits, tmp_path,
                                pool=pool)
        second = sandbox.execute([{"id": "b", "source": look}], [], limits, tmp_path,
                                 pool=pool)
        assert waiting[0] not in pool._waiting
        left = list(pool._waiting)
    assert first.cells["a"]["stdout"] == "planted\n"
    # torch was loaded before the cell ran (the warm start), and nothing was planted in it
    assert second.cells["b"]["stdout"] == "True False False False\n", second.log[-2000:]
    assert left and all(box.claim._fd is None for box in left)   # closed: killed
