"""Hostile and broken submissions against the sandboxed grader.

A two-task probe assignment (`double`, 2 points; `row_softmax`, 2 points) is released in a
temporary course. Every hostile submission attacks through `double` (its answer cell, or cells
of its own) while its `row_softmax` is correct, and must:

- earn nothing for `double` (the cheat gets no point it should not),
- keep both points of `row_softmax` (the honest task in the same notebook keeps its points),
- and not stop the batch (every submission gets a report row).

Honest variants (copied, moved, split, re-flagged cells, warnings, prints) keep full marks.
Reports, grades and feedback never contain hidden-test source, and nothing outlives grading.
"""
from __future__ import annotations

import csv
import html
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from attention_course.grading import sandbox

ROOT = Path(__file__).resolve().parents[1]
PROBE = "00_probe"
TIMEOUT = 8                                   # seconds per cell in these runs
GRADING_ENDED = float("inf")                 # set by probe_course
SENTINELS = ["SENTINEL_HIDDEN_INPUT_7f3a", "SENTINEL_HIDDEN_MESSAGE_91c2", "SENTINEL_HIDDEN_LINE_c0de"]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap")]


def _cell(kind, source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "task": False, **nbgrader}
    return cell


DOUBLE_SOLUTION = 'def double(x):\n    """2 x."""\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION'
SOFTMAX_SOLUTION = ('def row_softmax(scores):\n    """Softmax over the last axis."""\n    ### BEGIN SOLUTION\n'
                    '    return torch.softmax(scores, dim=-1)\n    ### END SOLUTION')
DOUBLE_TEST = textwrap.dedent(f'''\
    """double: doubles a tensor."""
    assert torch.equal(double(torch.ones(2)), torch.full((2,), 2.0)), "double: 1 must give 2"
    ### BEGIN HIDDEN TESTS
    {SENTINELS[0]} = torch.Generator().manual_seed(1)
    x_hidden = torch.randn(4, 3, generator={SENTINELS[0]})
    check("visible", double(torch.ones(2)), "double: wrong for the example above")
    check("random", double(x_hidden), "double: wrong for a random matrix {SENTINELS[1]}")
    ### END HIDDEN TESTS''')
SOFTMAX_TEST = textwrap.dedent(f'''\
    """row_softmax: rows sum to 1."""
    assert torch.allclose(row_softmax(torch.zeros(1, 2)), torch.full((1, 2), 0.5)), "row_softmax: equal scores"
    ### BEGIN HIDDEN TESTS
    g = torch.Generator().manual_seed(2)
    scores_hidden = torch.randn(3, 5, generator=g) * 10  # {SENTINELS[2]}
    check("random", row_softmax(scores_hidden), "row_softmax: wrong weights for random scores")
    check("big", row_softmax(torch.tensor([[1000.0, 0.0]])), "row_softmax: large scores must not overflow")
    ### END HIDDEN TESTS''')


def probe_source():
    cells = [
        _cell("markdown", "# Probe\n\n| task | function | points |\n| --- | --- | --- |\n"
                          "| 1 | `double` | 2 |\n| 2 | `row_softmax` | 2 |\n| | **total** | **4** |"),
        _cell("code", "import torch"),
        _cell("code", DOUBLE_SOLUTION, grade=False, grade_id="double", locked=False, solution=True),
        _cell("code", DOUBLE_TEST, grade=True, grade_id="test_double", locked=True, points=2, solution=False),
        _cell("code", SOFTMAX_SOLUTION, grade=False, grade_id="row_softmax", locked=False, solution=True),
        _cell("code", SOFTMAX_TEST, grade=True, grade_id="test_row_softmax", locked=True, points=2, solution=False),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return nb


def _answer(source: str) -> str:
    return "\n".join(l for l in source.split("\n") if "### " not in l)


def submission(root: Path, double: str | None = None, before: list | None = None, after: list | None = None,
               edit=None):
    """The released probe with a correct row_softmax, `double`'s cell replaced, extra code cells."""
    nb = nbformat.read(root / "exercises" / PROBE / f"{PROBE}.ipynb", 4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "row_softmax":
            cell.source = _answer(SOFTMAX_SOLUTION)
        if grade_id == "double":
            cell.source = _answer(DOUBLE_SOLUTION) if double is None else textwrap.dedent(double)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "double")
    for offset, code in enumerate(before or []):
        nb.cells.insert(index + offset, nbformat.v4.new_code_cell(textwrap.dedent(code)))
    for code in after or []:
        nb.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(code)))
    if edit:
        edit(nb)
    return nb


def attacks(root: Path) -> dict:
    """student -> submission (a notebook, or raw bytes). Each attacks `double`."""
    course = str(root)
    wrong = "def double(x):\n    return x\n"
    a = {}
    # --- reaching the course from the kernel ---------------------------------------------------
    a["read-solutions"] = submission(root, f'''
        import glob, json, os
        found = glob.glob("{course}/solutions/**/*.ipynb", recursive=True)
        for top, folders, files in os.walk("/"):
            folders[:] = [f for f in folders if os.path.join(top, f) not in ("/proc", "/sys", "/usr", "/dev")
                          and f != "site-packages"]
            found += [os.path.join(top, f) for f in files if f.endswith(".ipynb")]
        course_files = [f for f in found if "00_probe" in f or "/solutions/" in f]
        print("found", len(course_files), "solution notebooks;", "gradebook visible:", os.path.exists("{course}/gradebook.db"))
        for path in found:
            for cell in json.load(open(path))["cells"]:
                if "def double" in "".join(cell["source"]):
                    exec("".join(cell["source"]))
        if "double" not in globals():
            def double(x):
                return x
        ''')
    a["read-gradebook"] = submission(root, textwrap.dedent(f'''
        import sqlite3
        try:
            rows = sqlite3.connect("{course}/gradebook.db").execute("select source from grade_cells").fetchall()
            print(rows)
        except Exception as error:
            print("no gradebook", error)
        ''') + wrong)
    a["run-solution-notebook"] = submission(root, textwrap.dedent(f'''
        import subprocess, sys
        out = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                              "{course}/solutions/00_probe/00_probe.ipynb", "--stdout"], capture_output=True, text=True)
        print("nbconvert exit", out.returncode)
        if "def double" in out.stdout:
            exec("def double(x):\\n    return 2 * x")
        ''') + wrong)
    a["background-rewrites-gradebook"] = submission(root, textwrap.dedent(f'''
        import subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time, sqlite3\\ntime.sleep(4)\\n"
                          "db = sqlite3.connect('{course}/gradebook.db')\\n"
                          "db.execute('update grade set auto_score = 99')\\ndb.commit()"],
                         start_new_session=True)
        ''') + wrong)
    a["double-fork-daemon"] = submission(root, textwrap.dedent(f'''
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(4)
                open("{course}/autograded/report.csv", "w").write("student,assignment,score\\nx,y,99\\n")
            os._exit(0)
        ''') + wrong)
    a["write-outside"] = submission(root, textwrap.dedent(f'''
        for path in ["{course}/pwned.txt", "/tmp/../{course}/pwned.txt", "{ROOT}/pwned.txt", "/etc/pwned"]:
            try:
                open(path, "w").write("x")
            except Exception as error:
                print(type(error).__name__)
        ''') + wrong)
    a["network"] = submission(root, textwrap.dedent('''
        import socket
        for host in [("127.0.0.1", 22), ("10.0.0.1", 80)]:
            s = socket.socket(); s.settimeout(1)
            print("connect", host[0], "errno", s.connect_ex(host))
        ''') + wrong)
    # --- disabling the checks from inside the kernel -------------------------------------------
    a["patch-allclose"] = submission(root, '''
        import torch
        torch.allclose = lambda *args, **kwargs: True
        torch.equal = lambda *args, **kwargs: True
        def double(x):
            return x
        ''')
    a["input-transformer"] = submission(root, "def double(x):\n    raise NotImplementedError()", after=['''
        get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
        '''])
    a["ast-transformer"] = submission(root, '''
        import ast
        class NoAsserts(ast.NodeTransformer):
            def visit_Assert(self, node):
                return ast.Pass()
        get_ipython().ast_transformers.append(NoAsserts())
        def double(x):
            return x
        ''')
    a["tensor-subclass"] = submission(root, '''
        import torch
        class Liar(torch.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                if func in (torch.equal, torch.allclose, torch.Tensor.__eq__):
                    return True
                return super().__torch_function__(func, types, args, kwargs or {})
            def numpy(self):
                return (2 * torch.ones(4, 3)).numpy()
        def double(x):
            return torch.zeros_like(x).as_subclass(Liar)
        ''')
    a["execute-result-then-error"] = submission(root, '''
        from IPython.display import display
        def double(x):
            display(2)
            get_ipython().display_pub.publish({"text/plain": "2"})
            raise ValueError("after a result")
        ''')
    a["redefine-check"] = submission(root, '''
        import sys
        check = lambda *args, **kwargs: None
        sys.modules["__main__"].make_check = lambda records: (lambda *a, **k: None)
        def double(x):
            return x
        ''')
    a["forge-records"] = submission(root, '''
        import base64, json, os, sys, torch
        fd = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3
        value = {"kind": "array", "dtype": "torch.float32", "shape": [2],
                 "data": base64.b64encode((2 * torch.ones(2)).numpy().tobytes()).decode()}
        for ident in ["test_double"]:
            os.write(fd, (json.dumps({"event": "test", "id": ident, "status": "ok", "ename": None,
                                      "records": [{"name": "visible", "value": value, "message": "",
                                                   "atol": 1e9, "rtol": 1e9}]}) + "\\n").encode())
        def double(x):
            return x
        ''')
    # --- leaking the hidden tests --------------------------------------------------------------
    a["print-caller-source"] = submission(root, '''
        import inspect, sys
        def double(x):
            for frame in inspect.stack():
                print(frame.frame.f_code.co_filename, frame.code_context)
                print(frame.frame.f_globals.get("_ih"), file=sys.stderr)
            print(inspect.currentframe().f_back.f_code.co_consts)
            return x
        ''')
    a["raise-caller-source"] = submission(root, '''
        import inspect
        def double(x):
            caller = inspect.currentframe().f_back
            raise ValueError(repr(caller.f_code.co_consts) + repr(list(caller.f_globals)))
        ''')
    a["error-named-after-hidden-code"] = submission(root, '''
        import inspect
        def double(x):
            names = [c for c in inspect.currentframe().f_back.f_code.co_names]
            raise type("_".join(names)[:60] or "X", (Exception,), {})("x")
        ''')
    a["forge-phase1-done-and-read-tests"] = submission(root, '''
        import json, os, sys
        fd = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3
        os.write(fd, b'{"event": "phase1_done"}\\n')
        line = sys.stdin.readline()
        print(line)
        raise RuntimeError(line)
        ''')
    # --- breaking the grader -------------------------------------------------------------------
    a["fork-bomb"] = submission(root, '''
        import os
        children = 0
        for _ in range(2000):
            try:
                if os.fork() == 0:
                    import time
                    time.sleep(30)
                    os._exit(0)
                children += 1
            except OSError:
                break
        print(children, "children")
        def double(x):
            return x
        ''')
    a["exit-in-answer"] = submission(root, '''
        import os
        os._exit(1)
        ''')
    a["exit-in-function"] = submission(root, '''
        import os
        def double(x):
            os._exit(0)
        ''')
    a["kill-runner-from-test"] = submission(root, '''
        import os, signal
        def double(x):
            os.kill(os.getppid(), signal.SIGKILL)
            return x
        ''')
    a["stop-self"] = submission(root, '''
        import os, signal
        os.kill(os.getpid(), signal.SIGSTOP)
        ''')
    a["sigint-ignored-loop"] = submission(root, '''
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        def double(x):
            while True:
                pass
        ''')
    a["sigint-ignored-loop-in-cell"] = submission(root, '''
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            pass
        ''')
    a["huge-output"] = submission(root, '''
        import os
        print("x" * 50_000_000)
        for _ in range(200):
            os.write(1, b"y" * 1_000_000)
        def double(x):
            return x
        ''')
    a["flood-protocol"] = submission(root, '''
        import os, sys
        fd = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 3
        chunk = b"z" * (1 << 20)
        for _ in range(300):
            os.write(fd, chunk)
        ''')
    a["memory-hog"] = submission(root, '''
        blocks = []
        try:
            while True:
                blocks.append(bytearray(256 * 1024 * 1024))
        except MemoryError:
            print(len(blocks), "blocks")
        def double(x):
            return x
        ''')
    a["sys-exit"] = submission(root, '''
        import sys
        sys.exit(0)
        ''')
    a["recursion"] = submission(root, '''
        def double(x):
            return double(x)
        ''')
    a["thread-rewrites-later"] = submission(root, '''
        import threading, time
        def double(x):
            return x
        def later():
            time.sleep(0.5)
            globals()["double"] = lambda x: 2 * x
        threading.Thread(target=later, daemon=True).start()
        ''')
    def html_in_markdown(nb):          # script in the student's markdown, aimed at whoever opens the feedback
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(
            '<script>window.SCRIPT_FROM_STUDENT = 1</script><img src=x onerror="window.ONERROR_FROM_STUDENT=1">'))
    a["html-in-markdown"] = submission(root, wrong, edit=html_in_markdown)
    a["binary-junk"] = b"\x89PNG\r\n\x1a\n\x00\x00\xff" * 100
    a["json-not-notebook"] = b'{"cells": 5}'
    def tamper_tests(nb):              # the attacked test edited to pass, the other test deleted
        for cell in list(nb.cells):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id == "test_double":
                cell.source = '"""double: fine."""\nassert True'
            elif grade_id == "test_row_softmax":
                nb.cells.remove(cell)
    a["deleted-and-edited-tests"] = submission(root, wrong, edit=tamper_tests)
    return a


def honest(root: Path) -> dict:
    """student -> a correct notebook changed the ways honest students change notebooks."""
    h = {}

    def grade_id(cell):
        return cell.metadata.get("nbgrader", {}).get("grade_id")

    def duplicate_answer(nb):           # copy/paste of the answer cell: an edited copy and a stub copy
        index = next(i for i, c in enumerate(nb.cells) if grade_id(c) == "double")
        stub = nbformat.read(root / "exercises" / PROBE / f"{PROBE}.ipynb", 4)
        stub_cell = next(c for c in stub.cells if grade_id(c) == "double")
        nb.cells.insert(index + 1, stub_cell)
    h["honest-duplicated-answer"] = submission(root, edit=duplicate_answer)

    def duplicate_test(nb):
        test = next(c for c in nb.cells if grade_id(c) == "test_double")
        nb.cells.append(nbformat.from_dict(dict(test)))
    h["honest-duplicated-test"] = submission(root, edit=duplicate_test)

    def move_test_above(nb):
        test = next(c for c in nb.cells if grade_id(c) == "test_row_softmax")
        nb.cells.remove(test)
        nb.cells.insert(1, test)
    h["honest-test-moved-up"] = submission(root, edit=move_test_above)

    def split_answer(nb):               # the helper in a new cell (no metadata), answer metadata lost
        cell = next(c for c in nb.cells if grade_id(c) == "double")
        cell.source = "def _twice(x):\n    return x + x"
        del cell.metadata["nbgrader"]
        nb.cells.insert(nb.cells.index(cell) + 1, nbformat.v4.new_code_cell("def double(x):\n    return _twice(x)"))
    h["honest-split-answer"] = submission(root, edit=split_answer)

    def markdown_and_back(nb):          # converted to markdown and back: a new cell, metadata kept
        cell = next(c for c in nb.cells if grade_id(c) == "row_softmax")
        index = nb.cells.index(cell)
        md = nbformat.v4.new_markdown_cell(cell.source)
        md.metadata = cell.metadata
        code = nbformat.v4.new_code_cell(md.source)
        code.metadata = md.metadata
        nb.cells[index] = code
    h["honest-markdown-and-back"] = submission(root, edit=markdown_and_back)

    def extra_grade_cell(nb):
        extra = nbformat.v4.new_code_cell("print('my own check')")
        extra.metadata["nbgrader"] = {"grade": True, "grade_id": "test_mine", "locked": False, "points": 5,
                                      "schema_version": 3, "solution": False, "task": False}
        nb.cells.append(extra)
    h["honest-extra-grade-cell"] = submission(root, edit=extra_grade_cell)

    def grade_flag_on_answer(nb):
        next(c for c in nb.cells if grade_id(c) == "double").metadata["nbgrader"]["grade"] = True
    h["honest-grade-flag-on-answer"] = submission(root, edit=grade_flag_on_answer)

    h["honest-warnings-and-prints"] = submission(root, '''
        import warnings
        def double(x):
            warnings.warn("a warning from a correct answer")
            print("debugging", x.shape)
            return torch.tensor(x) * 2
        ''')
    h["honest-scratch-error"] = submission(root, after=["scratch = undefined_name + 1"])
    return h


@pytest.fixture(scope="module")
def probe_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("probe-course")
    (root / "solutions" / PROBE).mkdir(parents=True)
    nbformat.write(probe_source(), root / "solutions" / PROBE / f"{PROBE}.ipynb")
    config = (ROOT / "nbgrader_config.py").read_text()
    config += f'\nc.Course.assignments = ["{PROBE}"]\nc.Sandbox.cell_timeout = {TIMEOUT}\n'
    (root / "nbgrader_config.py").write_text(config)
    from attention_course.grading import release
    release(root)
    students = {"solution": submission(root)}
    students.update(attacks(root))
    students.update(honest(root))
    for student, nb in students.items():
        folder = root / "submitted" / student / PROBE
        folder.mkdir(parents=True)
        if isinstance(nb, bytes):
            (folder / f"{PROBE}.ipynb").write_bytes(nb)
        else:
            nbformat.write(nb, folder / f"{PROBE}.ipynb")
    (root / "autograded").mkdir()
    started = time.monotonic()
    outputs = []
    for command in (["autograde", "--quiet"], ["feedback"], ["grades"]):
        run = subprocess.run([sys.executable, "-m", "attention_course.grading", "--root", str(root), *command],
                             capture_output=True, text=True, timeout=900)
        outputs.append(run.stdout + run.stderr)
        assert run.returncode == 0, "\n".join(outputs)[-5000:]
    print(f"\n[probe course] {len(students)} submissions graded in {time.monotonic() - started:.0f} s")
    # Seconds since boot, as /proc/<pid>/stat counts a process's start: a sandbox
    # process that started before grading ended and still runs has outlived it.
    global GRADING_ENDED
    GRADING_ENDED = time.clock_gettime(time.CLOCK_BOOTTIME)
    time.sleep(6)                     # give anything that escaped the time to do its damage
    return root, students, "\n".join(outputs)


def _report(root: Path) -> dict:
    with (root / "autograded" / "report.csv").open(newline="") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _task_scores(row: dict) -> dict:
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"(\w+) ([\d.]+)/[\d.]+", row["tasks"])}


def test_every_submission_has_a_row(probe_course):
    root, students, _ = probe_course
    assert sorted(_report(root)) == sorted(students)


def test_every_attack_ran(probe_course):
    # An attack that does not compile proves nothing: it must fail for what it does.
    root, _, _ = probe_course
    broken = {s: r["reason"] for s, r in _report(root).items()
              if "SyntaxError" in r["reason"] or "IndentationError" in r["reason"]}
    assert not broken, broken


@pytest.mark.parametrize("student", ["solution"] + [f"honest-{n}" for n in (
    "duplicated-answer", "duplicated-test", "test-moved-up", "split-answer", "markdown-and-back",
    "extra-grade-cell", "grade-flag-on-answer", "warnings-and-prints", "scratch-error")])
def test_honest_notebooks_keep_full_marks(probe_course, student):
    root, _, _ = probe_course
    row = _report(root)[student]
    assert (row["score"], row["status"]) == ("4", "graded"), row


ATTACKS = ["read-solutions", "read-gradebook", "run-solution-notebook", "background-rewrites-gradebook",
           "double-fork-daemon", "write-outside", "network", "patch-allclose", "input-transformer",
           "ast-transformer", "tensor-subclass", "execute-result-then-error", "redefine-check", "forge-records",
           "print-caller-source", "raise-caller-source", "error-named-after-hidden-code",
           "forge-phase1-done-and-read-tests", "fork-bomb", "exit-in-answer", "exit-in-function",
           "kill-runner-from-test", "stop-self", "sigint-ignored-loop", "sigint-ignored-loop-in-cell",
           "huge-output", "flood-protocol", "memory-hog", "sys-exit", "recursion", "thread-rewrites-later",
           "deleted-and-edited-tests", "html-in-markdown"]


def test_the_suite_is_large_enough():
    assert len(ATTACKS) >= 25


@pytest.mark.parametrize("student", ATTACKS)
def test_attack_earns_nothing_and_the_honest_task_keeps_its_points(probe_course, student):
    root, _, _ = probe_course
    row = _report(root)[student]
    scores = _task_scores(row)
    assert scores["double"] == 0, f"{student} earned points for double: {row}"
    assert scores["row_softmax"] == 2, f"{student} cost the honest task its points: {row}"
    assert row["status"] in ("graded", "timeout", "killed"), row


@pytest.mark.parametrize("student", ["binary-junk", "json-not-notebook"])
def test_broken_files_are_invalid_not_crashes(probe_course, student):
    root, _, _ = probe_course
    row = _report(root)[student]
    assert (row["score"], row["status"]) == ("0", "invalid") and row["reason"].startswith("not a"), row


def test_nothing_outlives_grading(probe_course):
    root, _, _ = probe_course
    alive = []
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                uid = os.stat(f"/proc/{entry}").st_uid
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # Sandboxes that started after this course was graded belong to other tests
            # running beside this one (pytest -n 2): those are not escapees.
            started = int(stat.rsplit(")", 1)[1].split()[19]) / ticks
            if sandbox.SANDBOX_UID_BASE <= uid < sandbox.SANDBOX_UID_BASE + 1000 \
                    and started < GRADING_ENDED:
                alive.append(entry)
    assert not alive, f"sandbox processes still running: {alive}"
    assert not (root / "pwned.txt").exists() and not (ROOT / "pwned.txt").exists()
    report = _report(root)
    assert "x" not in report and all(row["score"] != "99" for row in report.values())


def _printed(root: Path, student: str) -> str:
    nb = nbformat.read(root / "autograded" / student / PROBE / f"{PROBE}.ipynb", 4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def test_the_sandbox_sees_no_course_and_no_network(probe_course):
    root, _, _ = probe_course
    assert "found 0 solution notebooks; gradebook visible: False" in _printed(root, "read-solutions")
    printed = _printed(root, "network")
    assert re.findall(r"connect \S+ errno (\d+)", printed) and "errno 0" not in printed, printed
    assert "PermissionError" in _printed(root, "write-outside") or "OSError" in _printed(root, "write-outside")


def test_reports_and_grades_agree_and_gradebook_untouched(probe_course):
    root, students, _ = probe_course
    report = _report(root)
    with (root / "grades.csv").open(newline="") as handle:
        grades = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert sorted(grades) == sorted(students)
    for student, row in report.items():
        assert grades[student]["status"] == row["status"]
        assert grades[student]["timestamp"] == row["timestamp"] and row["timestamp"]
        assert float(grades[student]["score"]) == float(row["score"]), student
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in students:
            submission = gb.find_submission(PROBE, student)
            assert submission.score == float(report[student]["score"]), student


def _hidden_lines() -> list[str]:
    lines = []
    for test in (DOUBLE_TEST, SOFTMAX_TEST):
        region = test.split("### BEGIN HIDDEN TESTS\n", 1)[1].split("### END HIDDEN TESTS")[0]
        lines += [l.strip() for l in region.splitlines() if len(l.strip()) >= 12]
    return lines + SENTINELS + ["x_hidden", "scores_hidden"]


def test_no_hidden_test_source_reaches_students(probe_course):
    root, _, _ = probe_course
    secrets = [s for s in _hidden_lines() if "wrong for a random matrix" not in s]   # messages are public
    texts = {"report.csv": (root / "autograded" / "report.csv").read_text(),
             "grades.csv": (root / "grades.csv").read_text()}
    for page in (root / "feedback").rglob("*.html"):
        text = re.sub(r"(?is)<(style|script)\b.*?</\1>", "", page.read_text())
        texts[str(page.relative_to(root))] = html.unescape(re.sub(r"<[^>]+>", "", text))
    assert len(texts) > 30
    leaks = [(name, secret) for name, text in texts.items() for secret in secrets if secret in text]
    assert not leaks, leaks[:5]
    # The same search finds them in the autograded notebooks (the instructor's copy), so it can see.
    instructor = (root / "autograded" / "print-caller-source" / PROBE / f"{PROBE}.ipynb").read_text()
    assert SENTINELS[0] in instructor


def test_feedback_pages_carry_no_script_of_the_student(probe_course):
    root, _, _ = probe_course
    page = (root / "feedback" / "html-in-markdown" / PROBE / f"{PROBE}.html").read_text()
    assert "SCRIPT_FROM_STUDENT" in page                             # the text is there, escaped
    assert not re.search(r"<script[^>]*>\s*window\.SCRIPT_FROM_STUDENT", page)          # but not as a script
    assert not re.search(r"<img[^>]*onerror", page)                                  # nor as a handler


def test_feedback_says_what_failed(probe_course):
    root, _, _ = probe_course
    report = _report(root)
    assert "task 'double' failed (0/2): double: wrong for the example above" in report["patch-allclose"]["reason"]
    assert "did not finish within" in report["sigint-ignored-loop"]["reason"]
    assert "the test's process ended" in report["exit-in-function"]["reason"]
    assert "appears 2 times" in report["honest-duplicated-answer"]["reason"]
    assert "marked as a graded test cell" in report["honest-extra-grade-cell"]["reason"]
    assert "NameError: name 'undefined_name' is not defined in cell" in report["honest-scratch-error"]["reason"]


def test_grading_refuses_without_bubblewrap(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.require_sandbox(sandbox.Limits())
    sandbox.require_sandbox(sandbox.Limits(unsafe_no_sandbox=True))      # the explicit escape hatch
