"""Instructor tooling around nbgrader: release, autograde, feedback, grades (hand-written).

Run from the repository root, which is the nbgrader course root (see `nbgrader_config.py`)::

    python -m attention_course.grading release               # solutions/ -> exercises/ (make release)
    python -m attention_course.grading autograde [ASSIGNMENT] # submitted/ -> autograded/ (make autograde)
    python -m attention_course.grading feedback [ASSIGNMENT]  # autograded/ -> feedback/ (make feedback)
    python -m attention_course.grading grades                 # gradebook -> grades.csv (make grades)

Students' notebooks go to `submitted/<student>/<assignment>/<assignment>.ipynb`, for example
`submitted/alice/01_rnn/01_rnn.ipynb`. Grading never stops at a bad submission: a file that is
not a notebook scores 0, a notebook whose kernel crashes scores 0, a cell that loops forever is
interrupted after the cell timeout, and every submission gets one line in
`autograded/report.csv` saying what happened (student, assignment, score, max_score, status,
per-task scores, reason). The gradebook is `gradebook.db` in the course root.

Nothing here is taught by a chapter; it wraps nbgrader's Python classes (the same ones its
command line runs) with checks and reasons an instructor can act on.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sys
import tempfile
import warnings

if __name__ == "__main__":
    # Command-line runs only: jsonschema (imported by nbformat) tries the optional package
    # rfc3987_syntax, which spends about 2 s building a grammar at import time, for URI formats
    # that notebook validation never checks. Marking it absent makes every command start faster.
    sys.modules.setdefault("rfc3987_syntax", None)
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Iterable, Optional

import nbformat
from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from sqlalchemy.exc import SAWarning
from traitlets import List, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import PyFileConfigLoader

from nbgrader import utils as nbutils
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from nbgrader.preprocessors import NbGraderPreprocessor

#: The repository root: the default course root when the current folder has no nbgrader_config.py.
REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = "nbgrader_config.py"
REPORT_FIELDS = ["student", "assignment", "score", "max_score", "status", "tasks", "reason"]
TIMEOUT_ENV = "ATTENTION_COURSE_CELL_TIMEOUT"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class GradingError(Exception):
    """A problem the instructor has to fix (missing folder, unknown assignment, nbgrader failure)."""


class Course(Configurable):
    """The course's own settings in nbgrader_config.py (`c.Course.assignments`)."""

    assignments = List(
        Unicode(),
        help="The graded assignments, in course order; each is solutions/<id>/<id>.ipynb.",
    ).tag(config=True)


# --------------------------------------------------------------------------------------------
# Feedback without hidden tests
# --------------------------------------------------------------------------------------------

def strip_hidden_tests(source: str, begin: str = "BEGIN HIDDEN TESTS", end: str = "END HIDDEN TESTS",
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


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback preprocessor: keep hidden tests and their code out of the student's feedback.

    nbgrader's feedback is the autograded notebook, where the hidden tests were put back into
    the test cells. For every test cell this removes the hidden-test regions from the source
    and shortens error tracebacks to the frames of the student's own cells plus the final
    `Error: message` line, because a traceback through a test cell quotes its code.
    """

    begin_test_delimiter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)
    end_test_delimiter = Unicode("END HIDDEN TESTS").tag(config=True)
    placeholder = Unicode("# (hidden tests: not shown)").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: ResourcesDict):
        # Execution counts of the cells that are not tests: traceback frames from them are the
        # student's own code and may stay.
        self._own_counts = {
            cell.get("execution_count") for cell in nb.cells
            if cell.cell_type == "code" and not _is_test_cell(cell) and cell.get("execution_count")
        }
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int):
        if cell.cell_type == "code" and _is_test_cell(cell):
            cell.source = strip_hidden_tests(
                cell.source, self.begin_test_delimiter, self.end_test_delimiter, self.placeholder)
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = self._shorten(output)
        return cell, resources

    def _shorten(self, output: NotebookNode) -> list:
        kept = []
        for frame in output.get("traceback", [])[:-1]:
            match = re.match(r"\s*Cell In\s*\[(\d+)\]", ANSI.sub("", frame))
            if match and int(match.group(1)) in self._own_counts:
                kept.append(frame)
        return kept + [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]


def _is_test_cell(cell: NotebookNode) -> bool:
    return nbutils.is_grade(cell) and not nbutils.is_solution(cell)


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

def find_root(root: Optional[os.PathLike] = None) -> Path:
    """The course root: `root`, else the current folder if it has nbgrader_config.py, else the repo."""
    if root is not None:
        path = Path(root).resolve()
    elif (Path.cwd() / CONFIG_FILE).is_file():
        path = Path.cwd().resolve()
    else:
        path = REPO_ROOT
    if not (path / CONFIG_FILE).is_file():
        raise GradingError(
            f"no {CONFIG_FILE} in {path}: run from the course root (the repository root) or pass --root")
    return path


def _put_environment_on_path() -> None:
    """Make the tools installed next to this Python findable by name.

    nbgrader creates a new gradebook by running the `alembic` command, found on $PATH; with
    `.venv/bin/python -m attention_course.grading` (as `make` runs it) the virtual environment
    is not activated, so its bin folder is not on $PATH.
    """
    bin_dir = str(Path(sys.executable).parent)
    paths = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in paths:
        os.environ["PATH"] = os.pathsep.join([bin_dir] + [p for p in paths if p])


def load_config(root: Optional[os.PathLike] = None, timeout: Optional[int] = None) -> Config:
    """The course's nbgrader configuration, with its root set to `root` and an optional cell timeout."""
    _put_environment_on_path()
    path = find_root(root)
    config = PyFileConfigLoader(CONFIG_FILE, path=str(path)).load_config()
    config.CourseDirectory.root = str(path)
    if timeout is not None:
        config.Execute.timeout = int(timeout)
    return config


def course_assignments(config: Config) -> list[str]:
    """The declared assignments (`c.Course.assignments`); else every folder of the source directory."""
    declared = list(Course(config=config).assignments)
    if declared:
        return declared
    source = Path(_coursedir(config).root) / _coursedir(config).source_directory
    return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


def _coursedir(config: Config, **traits) -> CourseDirectory:
    coursedir = CourseDirectory(config=config)
    for name, value in traits.items():
        setattr(coursedir, name, value)
    return coursedir


def _run(converter) -> dict:
    """Start an nbgrader converter and return nbgrader's {success, log, error} dictionary."""
    with warnings.catch_warnings():
        # nbgrader's gradebook code makes SQLAlchemy warn about its session handling; harmless.
        warnings.simplefilter("ignore", SAWarning)
        return nbutils.capture_log(converter)


def _pick_assignments(config: Config, assignment: Optional[str]) -> list[str]:
    declared = course_assignments(config)
    if assignment is None:
        return declared
    if assignment not in declared:
        raise GradingError(
            f"unknown assignment {assignment!r}; the course declares {', '.join(declared)} "
            f"(c.Course.assignments in {CONFIG_FILE})")
    return [assignment]


def _cell_timeout(config: Config) -> int:
    return int(config.Execute.timeout) if "timeout" in config.Execute else 30


# --------------------------------------------------------------------------------------------
# release
# --------------------------------------------------------------------------------------------

def _generate_assignment(config: Config, coursedir: CourseDirectory) -> dict:
    """nbgrader's generate_assignment for coursedir.assignment_id: overwrite the release and
    record the assignment (cells, points, hidden tests) in the gradebook."""
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.force = True
    converter.create_assignment = True
    return _run(converter)


def release(root: Optional[os.PathLike] = None, assignments: Optional[Iterable[str]] = None) -> list[Path]:
    """Regenerate the student notebooks (`exercises/`) from the solutions with nbgrader.

    Every assignment folder in the release directory is deleted first, so nothing stale is
    left; top-level files there are kept. nbgrader's generate_assignment replaces solutions by
    `raise NotImplementedError()`, removes hidden tests, locks the test cells, and records the
    assignment (cells, points, hidden tests) in the gradebook. Returns the notebooks written.
    """
    config = load_config(root)
    coursedir = _coursedir(config)
    names = list(assignments) if assignments is not None else course_assignments(config)
    source_dir = Path(coursedir.root) / coursedir.source_directory
    for name in names:
        if not (source_dir / name / f"{name}.ipynb").is_file():
            raise GradingError(f"no source notebook {source_dir / name / (name + '.ipynb')}")
    release_dir = Path(coursedir.root) / coursedir.release_directory
    if release_dir.is_dir():
        for child in release_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    written = []
    for name in names:
        result = _generate_assignment(config, _coursedir(config, assignment_id=name))
        if not result["success"]:
            raise GradingError(f"nbgrader generate_assignment failed for {name}:\n"
                               f"{result.get('log', '')}{result.get('error', '')}")
        written += sorted((release_dir / name).glob("*.ipynb"))
    return written


def _sync_gradebook(config: Config, assignment: str) -> None:
    """Record the assignment from its source notebook in the gradebook, without touching exercises/."""
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        coursedir = _coursedir(config, assignment_id=assignment, release_directory=scratch)
        result = _generate_assignment(config, coursedir)
    if not result["success"]:
        raise GradingError(f"could not record {assignment} in the gradebook (nbgrader generate_assignment):\n"
                           f"{result.get('log', '')}{result.get('error', '')}")


# --------------------------------------------------------------------------------------------
# autograde
# --------------------------------------------------------------------------------------------

@dataclass
class SubmissionReport:
    """What happened to one submission: its score and the reasons for any lost points."""

    student: str
    assignment: str
    score: float
    max_score: float
    status: str                     # "graded", "invalid" (not a gradable notebook) or "error" (nbgrader failed)
    tasks: dict = field(default_factory=dict)   # task -> (score, max_score)
    reasons: list = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "all tasks passed"

    def row(self) -> dict:
        tasks = ", ".join(f"{task} {_num(s)}/{_num(m)}" for task, (s, m) in self.tasks.items())
        return {"student": self.student, "assignment": self.assignment, "score": _num(self.score),
                "max_score": _num(self.max_score), "status": self.status, "tasks": tasks,
                "reason": self.reason}


def _num(x: float) -> str:
    return f"{float(x):g}"


def check_notebook(path: Path) -> Optional[str]:
    """None if `path` is a readable, valid notebook; else the reason it cannot be graded."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "not a notebook: the file is not UTF-8 text"
    except OSError as error:
        return f"cannot read the notebook: {error.strerror or error}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return f"not a notebook: invalid JSON at line {error.lineno}, column {error.colno} ({error.msg})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return "not a notebook: the JSON has no list of cells"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a missing cell id: nbformat repairs it
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except Exception as error:  # nbformat raises several types; all mean "not gradable"
        message = getattr(error, "message", None) or str(error).splitlines()[0]
        return f"not a valid notebook (nbformat 4): {message}"
    return None


def _task_of(grade_id: str) -> str:
    return grade_id[len("test_"):] if grade_id.startswith("test_") else grade_id


def _record_zero(config: Config, assignment: str, student: str) -> None:
    """Give every graded cell of the submission 0 points in the gradebook (creating it if needed)."""
    coursedir = _coursedir(config)
    with warnings.catch_warnings(), Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)    # about nbgrader's own session handling; harmless
        gb.update_or_create_student(student)
        submission = gb.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()


def _scores(config: Config, assignment: str, student: str) -> tuple[dict, float, float]:
    """Per-task (score, max) from the gradebook, with the submission's total and maximum."""
    coursedir = _coursedir(config)
    tasks = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        submission = gb.find_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                tasks[_task_of(grade.name)] = (float(grade.score or 0), float(grade.max_score))
        total, maximum = float(submission.score or 0), float(submission.max_score)
    return tasks, total, maximum


def _source_cells(config: Config, assignment: str) -> dict:
    """notebook name -> {grade_id: (source, locked, is_test, max_score)} from the gradebook."""
    coursedir = _coursedir(config)
    notebooks = {}
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        for notebook in gb.find_assignment(assignment).notebooks:
            tests = {cell.name: cell.max_score for cell in notebook.grade_cells}
            notebooks[notebook.name] = {
                cell.name: (cell.source, cell.locked, cell.name in tests, tests.get(cell.name))
                for cell in notebook.source_cells}
    return notebooks


def _normalise(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def _error_line(output: NotebookNode) -> str:
    ename, evalue = output.get("ename", "Error"), str(output.get("evalue", "")).strip()
    return f"{ename}: {evalue}" if evalue else ename


def _syntax_error_line(output: NotebookNode) -> Optional[int]:
    text = ANSI.sub("", "\n".join(output.get("traceback", [])))
    found = re.findall(r"line (\d+)", text)
    return int(found[-1]) if found else None


def _explain(submitted: NotebookNode, autograded: NotebookNode, cells: dict, tasks: dict,
             timeout: int) -> list[str]:
    """Reasons, in notebook order, for the points a graded notebook lost (or for odd things in it)."""
    reasons = []
    present = {cell.metadata["nbgrader"].get("grade_id"): cell for cell in submitted.cells
               if "nbgrader" in cell.get("metadata", {})}
    for grade_id, (source, locked, is_test, _) in cells.items():
        task = _task_of(grade_id)
        if not is_test:
            if not locked and grade_id not in present:     # a solution cell
                reasons.append(f"your code cell for {task} is missing (deleted, or its metadata lost)")
            continue
        if grade_id not in present:
            reasons.append(f"test cell for {task} was deleted: the original test was restored and used")
        elif locked and _normalise(present[grade_id].source) not in (
                _normalise(strip_hidden_tests(source, placeholder=None)), _normalise(source)):
            reasons.append(f"test cell for {task} was edited: the original test was restored and used")

    first_code = next((i for i, c in enumerate(autograded.cells) if c.cell_type == "code"), None)
    for index, cell in enumerate(autograded.cells):
        if cell.cell_type != "code":
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        is_test = grade_id is not None and _is_test_cell(cell)
        task = _task_of(grade_id) if grade_id else None
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        stderr = [o for o in cell.get("outputs", []) if o.output_type == "stream" and o.get("name") == "stderr"]
        timed_out = [o for o in errors if o.get("ename") == "CellTimeoutError"]
        if timed_out:   # the interrupted cell also holds a KeyboardInterrupt: report the timeout only
            where = f"task '{task}'" if task else f"cell {index + 1}"
            reasons.append(f"cell timed out after {timeout} s in {where}"
                           + (" (the test cell: your function did not return)" if is_test else ""))
            errors = []
        for output in errors:
            if is_test:
                score, maximum = tasks.get(task, (0.0, 0.0))
                if output.get("ename") == "NotImplementedError":
                    reasons.append(f"task '{task}' not attempted ({_num(score)}/{_num(maximum)}): NotImplementedError")
                else:
                    reasons.append(f"task '{task}' failed ({_num(score)}/{_num(maximum)}): {_error_line(output)}")
            elif task:
                if output.get("ename") in ("SyntaxError", "IndentationError", "TabError"):
                    line = _syntax_error_line(output)
                    at = f" (line {line})" if line else ""
                    message = re.sub(r"\s*\([^()]*\.py, line \d+\)", "", str(output.get("evalue", ""))).strip()
                    reasons.append(f"{output.get('ename')} in your code cell for {task}{at}: {message}")
                elif output.get("ename") != "NotImplementedError":
                    reasons.append(f"{_error_line(output)} in your code cell for {task}")
            else:
                what = "the setup cell" if index == first_code else "a cell without a task"
                reasons.append(f"{_error_line(output)} in cell {index + 1} ({what})")
        if is_test and not errors and stderr:
            score, maximum = tasks.get(task, (0.0, 0.0))
            first = "".join(stderr[0].get("text", "")).strip().splitlines()
            reasons.append(f"task '{task}' lost its points ({_num(score)}/{_num(maximum)}) because its test "
                           f"cell wrote to stderr: {first[0] if first else ''}")
    return reasons


def _write_report(path: Path, reports: list[SubmissionReport]) -> None:
    """Merge `reports` into the CSV at `path` (rows of other students and assignments are kept)."""
    rows = {}
    if path.is_file():
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                rows[(row["student"], row["assignment"])] = row
    for report in reports:
        rows[(report.student, report.assignment)] = report.row()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REPORT_FIELDS)
        writer.writeheader()
        for key in sorted(rows, key=lambda k: (k[1], k[0])):
            writer.writerow(rows[key])


def read_report(root: Optional[os.PathLike] = None) -> list[dict]:
    """The rows of autograded/report.csv (one per graded submission)."""
    config = load_config(root)
    coursedir = _coursedir(config)
    path = Path(coursedir.root) / coursedir.autograded_directory / "report.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def autograde(root: Optional[os.PathLike] = None, assignment: Optional[str] = None,
              students: Optional[Iterable[str]] = None, timeout: Optional[int] = None,
              log=print) -> list[SubmissionReport]:
    """Grade every submission in submitted/ (or one assignment, or some students) with nbgrader.

    For each submission: check that the file is a readable notebook (else score 0 with the
    reason), run nbgrader's autograde on it alone (so a crash cannot stop the others; a crash
    scores 0 with the reason), then explain the lost points from the executed notebook. The
    reports are merged into autograded/report.csv and returned.
    """
    config = load_config(root, timeout)
    coursedir = _coursedir(config)
    course_root = Path(coursedir.root)
    submitted = course_root / coursedir.submitted_directory
    if not submitted.is_dir():
        raise GradingError(
            f"no submissions: {submitted} does not exist. Put each student's notebook at "
            f"submitted/<student>/<assignment>/<assignment>.ipynb, e.g. submitted/alice/01_rnn/01_rnn.ipynb")
    autograded = course_root / coursedir.autograded_directory
    timeout_s = _cell_timeout(config)
    wanted = set(students) if students is not None else None
    reports = []
    for name in _pick_assignments(config, assignment):
        folders = sorted(p for p in submitted.glob(f"*/{name}") if p.is_dir())
        if wanted is not None:
            folders = [f for f in folders if f.parent.name in wanted]
        if not folders:
            log(f"{name}: no submissions (expected submitted/<student>/{name}/{name}.ipynb)")
            continue
        _sync_gradebook(config, name)
        cells = _source_cells(config, name)
        logs = []
        for folder in folders:
            report = _grade_one(config, name, folder.parent.name, folder, cells, autograded, timeout_s, logs)
            reports.append(report)
            log(f"{name}  {report.student}: {_num(report.score)}/{_num(report.max_score)}  {report.reason}")
        autograded.mkdir(exist_ok=True)
        (autograded / f"grading-{name}.log").write_text("\n".join(logs))
    if reports:
        _write_report(autograded / "report.csv", reports)
    return reports


def _grade_one(config, assignment, student, folder, cells, autograded, timeout_s, logs) -> SubmissionReport:
    problems = []
    for notebook in cells:
        path = folder / f"{notebook}.ipynb"
        if not path.is_file():
            found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            problems.append(f"no notebook named {notebook}.ipynb in submitted/{student}/{assignment}/"
                            + (f" (found: {', '.join(found)})" if found else " (the folder is empty)"))
        else:
            problem = check_notebook(path)
            if problem:
                problems.append(problem)
    destination = autograded / student / assignment
    if problems:
        if destination.exists():
            shutil.rmtree(destination)      # an earlier grading of this student's work is stale now
        _record_zero(config, assignment, student)
        tasks, _, maximum = _scores(config, assignment, student)
        return SubmissionReport(student, assignment, 0.0, maximum, "invalid", tasks, problems)

    converter = Autograde(coursedir=_coursedir(config, assignment_id=assignment, student_id=student), config=config)
    converter.force = True
    converter.create_student = True
    result = _run(converter)
    logs.append(f"==== {assignment} / {student} ====\n{result.get('log', '')}{result.get('error', '')}")
    if not result["success"]:
        log_text = result.get("log", "") + result.get("error", "")
        if "could not interrupt" in log_text or "unresponsive" in log_text:
            why = "the kernel stopped responding (an infinite loop that ignores interrupts, or memory exhausted)"
        elif "DeadKernelError" in log_text or "Kernel died" in log_text:
            why = "the kernel died while running the notebook (a crash or memory exhausted)"
        else:
            raised = [m.group(1) for m in re.finditer(r"^\s*([\w.]*(?:Error|Exception)\b.*)$", log_text, re.M)
                      if "NbGraderException" not in m.group(1)]
            why = raised[-1].strip() if raised else "see autograded/grading-" + assignment + ".log"
        _record_zero(config, assignment, student)
        tasks, _, maximum = _scores(config, assignment, student)
        return SubmissionReport(student, assignment, 0.0, maximum, "error", tasks,
                                [f"nbgrader could not grade this submission, scored 0: {why}"])

    tasks, total, maximum = _scores(config, assignment, student)
    reasons = []
    for notebook, notebook_cells in cells.items():
        submitted_nb = nbformat.read(folder / f"{notebook}.ipynb", as_version=4)
        autograded_nb = nbformat.read(destination / f"{notebook}.ipynb", as_version=4)
        reasons += _explain(submitted_nb, autograded_nb, notebook_cells, tasks, timeout_s)
    return SubmissionReport(student, assignment, total, maximum, "graded", tasks, reasons)


# --------------------------------------------------------------------------------------------
# feedback and grades
# --------------------------------------------------------------------------------------------

def feedback(root: Optional[os.PathLike] = None, assignment: Optional[str] = None, log=print) -> list[Path]:
    """Write HTML feedback for the autograded submissions: feedback/<student>/<assignment>/<nb>.html.

    The feedback shows the student's notebook with scores per task, the visible part of each
    test and the error each failing test raised; hidden tests are removed (HideHiddenTests).
    A submission that could not be graded gets a short page with the reason instead.
    """
    config = load_config(root)
    coursedir = _coursedir(config)
    course_root = Path(coursedir.root)
    autograded = course_root / coursedir.autograded_directory
    if not autograded.is_dir():
        raise GradingError(f"nothing to give feedback on: {autograded} does not exist; run `make autograde` first")
    report = {(row["student"], row["assignment"]): row for row in read_report(course_root)}
    written = []
    for name in _pick_assignments(config, assignment):
        students = sorted(p.parent.name for p in autograded.glob(f"*/{name}") if p.is_dir())
        for student in students:
            converter = GenerateFeedback(
                coursedir=_coursedir(config, assignment_id=name, student_id=student), config=config)
            converter.force = True
            result = _run(converter)
            if not result["success"]:
                log(f"{name}  {student}: feedback failed: {(result.get('error') or '').strip().splitlines()[-1:]}")
                continue
            written += sorted((course_root / coursedir.feedback_directory / student / name).glob("*.html"))
        for (student, assignment_id), row in report.items():
            if assignment_id == name and row["status"] != "graded":
                page = course_root / coursedir.feedback_directory / student / name / f"{name}.html"
                page.parent.mkdir(parents=True, exist_ok=True)
                page.write_text(
                    f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{escape(name)}: feedback</title>"
                    f"</head><body><h1>{escape(name)}: {escape(row['score'])} / {escape(row['max_score'])}</h1>"
                    f"<p>Your submission could not be graded: {escape(row['reason'])}.</p>"
                    f"<p>Hand in the notebook <code>{escape(name)}.ipynb</code> as saved by Jupyter.</p>"
                    f"</body></html>\n")
                written.append(page)
    for path in written:
        log(f"wrote {path.relative_to(course_root)}")
    return written


def export_grades(root: Optional[os.PathLike] = None, output: Optional[os.PathLike] = None) -> Path:
    """Export every student's score on every assignment from the gradebook to a CSV (grades.csv).

    The columns are nbgrader's: assignment, duedate, timestamp, student_id, last_name,
    first_name, email, raw_score, late_submission_penalty, score, max_score. A student with
    no submission for an assignment gets 0.
    """
    config = load_config(root)
    coursedir = _coursedir(config)
    db = Path(coursedir.root) / "gradebook.db"
    if coursedir.db_url.startswith("sqlite:///") and not Path(coursedir.db_url[len("sqlite:///"):]).is_file():
        raise GradingError(f"no gradebook at {db}: run `make release` and `make autograde` first")
    destination = Path(output) if output is not None else Path(coursedir.root) / "grades.csv"
    plugin = CsvExportPlugin(config=config)
    plugin.to = str(destination)
    with Gradebook(coursedir.db_url, coursedir.course_id) as gb:
        plugin.export(gb)
    return destination


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------

def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attention_course.grading",
        description="Release, autograde, give feedback on and export the graded exercises (nbgrader).")
    root_help = "the course root (default: the current folder if it has nbgrader_config.py, else the repository)"
    parser.add_argument("--root", help=root_help)
    # --root is accepted after the command too (without overriding one given before it)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=argparse.SUPPRESS, help=root_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("release", parents=[common], help=release.__doc__.splitlines()[0])
    grade = commands.add_parser("autograde", parents=[common], help=autograde.__doc__.splitlines()[0])
    grade.add_argument("assignment", nargs="?", help="grade only this assignment (e.g. 01_rnn)")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--timeout", type=int, help=f"seconds a cell may run (default: ${TIMEOUT_ENV} or the config)")
    give = commands.add_parser("feedback", parents=[common], help=feedback.__doc__.splitlines()[0])
    give.add_argument("assignment", nargs="?", help="only this assignment")
    grades = commands.add_parser("grades", parents=[common], help=export_grades.__doc__.splitlines()[0])
    grades.add_argument("--output", help="the CSV to write (default: grades.csv in the course root)")
    args = parser.parse_args(argv)

    try:
        if args.command == "release":
            root = find_root(args.root)
            for path in release(root):
                print(f"wrote {path.relative_to(root)}")
        elif args.command == "autograde":
            reports = autograde(args.root, args.assignment, args.student, args.timeout)
            if reports:
                root = find_root(args.root)
                print(f"report: {Path(_coursedir(load_config(root)).autograded_directory) / 'report.csv'}")
        elif args.command == "feedback":
            feedback(args.root, args.assignment)
        elif args.command == "grades":
            path = export_grades(args.root, args.output)
            print(f"wrote {path}")
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
