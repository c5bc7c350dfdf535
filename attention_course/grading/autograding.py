"""Autograde: every submission in its own sandbox, N at a time, judged outside the sandbox.

`grade_submission(job)` grades one submission and returns a `Result` (plain data). It touches
no shared state, so the same function runs in a thread here, in a process, or on a cluster
(README, "Grading a large class"). `autograde()` prepares the jobs of every chosen
assignment (its source, its release and the reference records of the solution, run once
through the same sandbox), runs them all in one batch on `workers` threads (each drives
one sandbox process, `run_jobs`) or on a Dask cluster (`cluster.py`), and writes
everything — the gradebook, autograded notebooks, report.csv — from the calling thread
alone.

What a submission can earn: a task's points when its test cell raised nothing and every value
its hidden checks recorded equals the solution's (`checks.judge`). What the report and the
feedback say comes only from the grader: the solution's messages, the names of standard
exceptions, and what the student's own cells printed *before* any hidden test reached the
sandbox (`sandbox.Outcome.cells`).
"""
from __future__ import annotations

import builtins
import contextlib
import datetime as dt
import os
import shutil
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import nbformat
from sqlalchemy.exc import SAWarning

from nbgrader.api import Gradebook

from . import sandbox
from .pool import SandboxPool
from .checks import judge
from .config import GradingError, Sandbox, coursedir, load_config, pick_assignments
from .notebooks import Plan, Source, check_notebook, make_plan, meta, task_of
from .release import sync_gradebook
from .reports import SubmissionReport, num, write_report

#: Exception names the feedback may quote (a name the student's code made up is not quoted).
SAFE_ERRORS = {name for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, BaseException)}
STATUS_ORDER = ["graded", "timeout", "killed"]


@dataclass
class Job:
    """Everything one submission's grading needs, as plain data."""
    assignment: str
    student: str
    notebook: str                   # path of the submitted notebook
    source: Source
    reference: dict                 # test id -> the solution's records
    limits: sandbox.Limits
    course_root: str


@dataclass
class Result:
    assignment: str
    student: str
    status: str                     # graded | timeout | killed | invalid | regrade
    scores: dict = field(default_factory=dict)      # test grade_id -> points earned
    reasons: list = field(default_factory=list)
    timestamp: Optional[str] = None
    autograded: Optional[str] = None                # the autograded notebook (JSON), None if not graded
    log: str = ""


def submission_timestamp(folder: Path, notebook: Path) -> str:
    """nbgrader's timestamp.txt when the submission has one, else the notebook's modification time (UTC)."""
    stamp = folder / "timestamp.txt"
    if stamp.is_file():
        text = stamp.read_text(errors="replace").strip()[:64]
        try:
            parsed = dt.datetime.fromisoformat(text.replace(" UTC", "").replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=dt.timezone.utc)
            return parsed.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
        except ValueError:
            pass
    mtime = notebook.stat().st_mtime if notebook.exists() else folder.stat().st_mtime
    return dt.datetime.fromtimestamp(mtime, dt.timezone.utc).isoformat(timespec="seconds")


def _safe_name(ename) -> str:
    return ename if isinstance(ename, str) and ename in SAFE_ERRORS else "an exception"


def _test_reason(task: str, points: float, test: dict, reference: list, limits: sandbox.Limits) -> Optional[str]:
    """None if the test passed; else why it failed, in words the grader can vouch for."""
    status, ename = test.get("status"), test.get("ename")
    lost = f"task '{task}' failed (0/{num(points)})"
    if status == "error" and ename == "NotImplementedError":
        return f"task '{task}' not attempted (0/{num(points)}): NotImplementedError"
    if status == "timeout":
        return f"{lost}: your code did not finish within {limits.cell_timeout:g} s"
    if status == "crashed":
        return f"{lost}: the test's process ended while running your code (os._exit, a crash, a signal or a limit)"
    if status == "not-run":
        return f"{lost}: not run, because the notebook stopped the grader before this test"
    failed = judge(reference, test.get("records") or [])
    if status == "error":
        raised = f"your code raised {_safe_name(ename)} in this test"
        return f"{lost}: {failed[0]} ({raised})" if failed and failed[1] == "this check was not reached" \
            else f"{lost}: {raised}" + (f"; {failed[0]}" if failed else "")
    if status != "ok":
        return f"{lost}: the test did not complete"
    if failed:
        return f"{lost}: {failed[0]} ({failed[1]})"
    return None


def _cell_reason(plan: Plan, ident: str, event: dict, first_code: bool) -> Optional[str]:
    index = plan.positions[ident]
    owner = next((task_of(g) for g, i in plan.chosen.items() if i == index), None)
    where = f"your code cell for {owner}" if owner else (f"cell {index + 1} (the setup cell)" if first_code
                                                          else f"cell {index + 1} (a cell without a task)")
    ename = event.get("ename")
    if ename == "NotImplementedError":
        return None
    if ename in ("SyntaxError", "IndentationError", "TabError"):
        line = event.get("lineno")
        message = str(event.get("evalue", "")).split(" (")[0]
        return f"{ename} in {where}" + (f" (line {line})" if line else "") + f": {message}"
    evalue = str(event.get("evalue", "")).strip()
    return f"{ename}: {evalue} in {where}" if evalue else f"{ename} in {where}"


def grade_submission(job: Job, slot: int = 0,
                     pool: Optional[SandboxPool] = None) -> Result:
    """Grade one submission in a sandbox (a pure function of `job`: safe on any worker).

    `pool` hands out sandboxes started ahead of time (each used for this submission
    alone); `slot` is unused, kept for old callers (every sandbox claims its own uid).
    """
    path = Path(job.notebook)
    folder = path.parent
    result = Result(job.assignment, job.student, "graded", timestamp=submission_timestamp(folder, path))
    tests = job.source.tests
    if not path.is_file():
        found = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        result.status = "invalid"
        result.reasons.append(f"no notebook named {path.name} in submitted/{job.student}/{job.assignment}/"
                              + (f" (found: {', '.join(found)})" if found else " (the folder is empty)"))
        result.scores = {t: 0.0 for t in tests}
        return result
    problem = check_notebook(path)
    if problem:
        result.status, result.reasons, result.scores = "invalid", [problem], {t: 0.0 for t in tests}
        return result
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        submission = nbformat.read(path, as_version=4)
    plan = make_plan(submission, job.source)
    outcome = sandbox.execute(plan.cells, plan.tests, job.limits, Path(job.course_root),
                              pool=pool)
    result.log = outcome.log
    if outcome.start_failed:
        result.status = "regrade"
        result.reasons.append(f"not graded, grade again: the grader could not run it ({outcome.start_failed})")
        return result

    first_code = next((c["id"] for c in plan.cells), None)
    for cell in plan.cells:
        ident = cell["id"]
        if ident in outcome.skipped:
            result.reasons.append(f"cell {plan.positions[ident] + 1} was left out: {outcome.skipped[ident]}")
        elif ident in outcome.timed_out:
            result.reasons.append(f"cell {plan.positions[ident] + 1} timed out after {job.limits.cell_timeout:g} s "
                                  "and was interrupted")
        elif ident in outcome.cells and not outcome.cells[ident].get("ok", True):
            reason = _cell_reason(plan, ident, outcome.cells[ident], ident == first_code)
            if reason:
                result.reasons.append(reason)
    verdicts = {}
    for grade_id, (_, points) in tests.items():
        test = outcome.tests.get(grade_id, {"status": "not-run"})
        reason = _test_reason(task_of(grade_id), points, test, job.reference[grade_id], job.limits)
        verdicts[grade_id] = reason
        result.scores[grade_id] = 0.0 if reason else points
        if reason:
            result.reasons.append(reason)
    result.reasons += plan.notes
    if outcome.killed:
        result.status = "killed"
        result.reasons.append("the sandbox was stopped: " + "; ".join(dict.fromkeys(outcome.killed)))
    elif outcome.timed_out or any(t.get("status") == "timeout" for t in outcome.tests.values()):
        result.status = "timeout"
    result.autograded = nbformat.writes(_autograded_notebook(submission, plan, job.source, outcome, verdicts))
    return result


def _verdict_output(reason: Optional[str]):
    if reason is None:
        return nbformat.v4.new_output("stream", name="stdout", text="passed\n")
    text = reason.split(": ", 1)[1] if ": " in reason else reason
    return nbformat.v4.new_output("error", ename="Failed", evalue=text, traceback=[f"Failed: {text}"])


def _autograded_notebook(submission, plan: Plan, source: Source, outcome: sandbox.Outcome, verdicts: dict):
    """The submission as nbgrader's feedback shows it: the student's cells with what they printed
    before the hidden tests ran, and each original test cell under its answer with its verdict."""
    test_cells = {}
    for grade_id, (body, points) in source.tests.items():
        cell = nbformat.v4.new_code_cell(body)
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
                                     "schema_version": 3, "solution": False, "task": False}
        cell.outputs = [_verdict_output(verdicts.get(grade_id))]
        test_cells[grade_id] = cell
    cells, placed = [], set()
    by_index = {index: ident for ident, index in plan.positions.items()}
    for index, original in enumerate(submission.cells):
        grade_id = meta(original).get("grade_id")
        if grade_id in source.tests:
            continue
        if original.cell_type == "code":
            cell = nbformat.v4.new_code_cell(original.source)
            ident = by_index.get(index)
            event = outcome.cells.get(ident) if ident else None
            if event:
                if event.get("stdout"):
                    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=str(event["stdout"])))
                if not event.get("ok", True):
                    ename, evalue = str(event.get("ename")), str(event.get("evalue", ""))
                    cell.outputs.append(nbformat.v4.new_output(
                        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]))
            elif ident in outcome.timed_out or ident in outcome.skipped:
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename="CellTimeoutError", evalue=outcome.skipped.get(ident, "timed out"),
                    traceback=[f"CellTimeoutError: {outcome.skipped.get(ident, 'timed out')}"]))
        elif original.cell_type == "markdown":
            cell = nbformat.v4.new_markdown_cell(original.source)
        else:
            cell = nbformat.v4.new_raw_cell(original.source)
        if grade_id in source.answers and plan.chosen.get(grade_id) == index:
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                         "schema_version": 3, "solution": True, "task": False}
        cells.append(cell)
        test_id = f"test_{grade_id}" if grade_id else None
        if test_id in test_cells and plan.chosen.get(grade_id) == index:
            cells.append(test_cells[test_id])
            placed.add(test_id)
    cells += [cell for grade_id, cell in test_cells.items() if grade_id not in placed]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    return nb


# --------------------------------------------------------------------------------------------
# A class: reference run, parallel grading, one writer
# --------------------------------------------------------------------------------------------

def reference_records(source_nb, source: Source, limits: sandbox.Limits, course_root: Path) -> dict:
    """Run the solution through the same sandbox; its records are what every student is compared with."""
    plan = make_plan(source_nb, source)
    outcome = sandbox.execute(plan.cells, plan.tests, limits, course_root)
    if outcome.start_failed:
        raise GradingError(f"{source.name}: the sandbox could not run the solution ({outcome.start_failed})")
    records = {}
    for grade_id in source.tests:
        test = outcome.tests.get(grade_id, {})
        if test.get("status") != "ok" or not test.get("records"):
            raise GradingError(
                f"{source.name}: the solution fails its own test {grade_id} in the sandbox "
                f"(status {test.get('status')}, {len(test.get('records') or [])} checks recorded); "
                "fix solutions/ first. Sandbox output:\n" + outcome.log[-3000:])
        records[grade_id] = test["records"]
    return records


def load_source(config, assignment: str) -> tuple:
    directory = coursedir(config)
    root = Path(directory.root)
    source_nb = nbformat.read(root / directory.source_directory / assignment / f"{assignment}.ipynb", as_version=4)
    release_path = root / directory.release_directory / assignment / f"{assignment}.ipynb"
    release_nb = nbformat.read(release_path, as_version=4) if release_path.is_file() else None
    return source_nb, Source.from_notebooks(assignment, source_nb, release_nb)


def grade_safely(job: Job, pool: Optional[SandboxPool] = None) -> Result:
    """`grade_submission` for engines that run many at once (threads here, Dask
    workers): a failure of the grader becomes a `regrade`, never a student's zero."""
    try:
        return grade_submission(job, pool=pool)
    except Exception as error:
        why = f"{type(error).__name__}: {error}"
        return Result(job.assignment, job.student, "regrade",
                      reasons=[f"not graded, grade again: the grader failed ({why})"])


def run_jobs(jobs: list, workers: int, progress: bool = True,
             description: str = "grading") -> list:
    """Grade `jobs` on `workers` threads (each drives one sandbox); results in
    completion order."""
    if not jobs:
        return []
    # `workers` sandboxes are ready while `workers` others grade, forked from a fork
    # server that loaded torch once (pool.py). Each is used once. A sandbox per job at
    # most: none is left waiting for nobody at the end.
    warm = SandboxPool(jobs[0].limits, Path(jobs[0].course_root),
                       min(workers, len(jobs)), total=len(jobs))
    if warm.server_error:
        warnings.warn("grading without the fork server: every submission loads torch "
                      "itself, several times slower (benchmarks/grading.md measures "
                      f"both): {warm.server_error}", RuntimeWarning)

    def work(job: Job) -> Result:
        return grade_safely(job, warm)

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(jobs), desc=description, unit="submission")
    results = []
    with warm, ThreadPoolExecutor(max_workers=workers) as threads:
        for future in as_completed([threads.submit(work, job) for job in jobs]):
            results.append(future.result())
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return results


def _record(config, assignment: str, results: list, autograded: Path, source: Source) -> list:
    """Write the results: gradebook (scores, timestamps), autograded notebooks, logs, reports."""
    directory = coursedir(config)
    reports = []
    logs = autograded / "_logs" / assignment
    logs.mkdir(parents=True, exist_ok=True)
    maximum = sum(points for _, points in source.tests.values())
    with warnings.catch_warnings(), Gradebook(directory.db_url, directory.course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)
        for result in sorted(results, key=lambda r: r.student):
            gb.update_or_create_student(result.student)
            submission = gb.update_or_create_submission(assignment, result.student, timestamp=result.timestamp)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    earned = result.scores.get(grade.name)
                    grade.auto_score = None if result.status == "regrade" else float(earned or 0.0)
                    grade.manual_score = None
                    grade.needs_manual_grade = False
            gb.db.commit()
            destination = autograded / result.student / assignment
            if destination.exists():
                shutil.rmtree(destination)
            if result.autograded is not None:
                destination.mkdir(parents=True)
                (destination / f"{assignment}.ipynb").write_text(result.autograded)
                (destination / "timestamp.txt").write_text(result.timestamp or "")
                # nbgrader release_feedback names the page in the exchange by this secret
                # (written by nbgrader collect); feedback copies it on from autograded/.
                secret = (Path(directory.root) / directory.submitted_directory / result.student
                          / assignment / "submission_secret.txt")
                if secret.is_file():
                    shutil.copy(secret, destination / secret.name)
            (logs / f"{result.student}.log").write_text(result.log or "")
            score = None if result.status == "regrade" else sum(result.scores.values())
            tasks = {task_of(g): (result.scores.get(g, 0.0), p) for g, (_, p) in source.tests.items()}
            reports.append(SubmissionReport(result.student, assignment, score, maximum, result.status,
                                            result.timestamp or "", tasks, result.reasons))
    return reports


def autograde(root: Optional[os.PathLike] = None, assignment: Optional[str] = None,
              students: Optional[Iterable[str]] = None, timeout: Optional[float] = None,
              workers: Optional[int] = None, unsafe_no_sandbox: bool = False, progress: bool = True,
              log=print, scheduler: Optional[str] = None,
              dask_local: Optional[int] = None) -> list:
    """Grade every submission in submitted/ (or one assignment, or some students) in sandboxes.

    On this machine's cores by default; on the Dask cluster at `scheduler`, or on a
    local Dask cluster of `dask_local` processes, when given (`cluster.py`). The
    solution's reference run and all the writing happen here either way.

    Writes the gradebook, autograded/<student>/<assignment>/, autograded/_logs/ and
    autograded/report.csv (merged with earlier rows), and returns the new report rows.
    """
    config = load_config(root)
    settings = Sandbox(config=config)
    limits = settings.limits()
    if timeout is not None:
        limits.cell_timeout = float(timeout)
    if unsafe_no_sandbox:
        limits.unsafe_no_sandbox = True
    try:
        sandbox.require_sandbox(limits)
    except sandbox.SandboxUnavailable as error:
        raise GradingError(str(error)) from None
    workers = workers or settings.workers or os.cpu_count() or 1
    directory = coursedir(config)
    course_root = Path(directory.root)
    submitted = course_root / directory.submitted_directory
    if not submitted.is_dir():
        raise GradingError(
            f"no submissions: {submitted} does not exist. Put each student's notebook at "
            f"submitted/<student>/<assignment>/<assignment>.ipynb, e.g. submitted/alice/01_rnn/01_rnn.ipynb")
    autograded = course_root / directory.autograded_directory
    wanted = set(students) if students is not None else None
    reports = []
    engine = contextlib.nullcontext()
    if scheduler is not None or dask_local is not None:
        from . import cluster
        engine = cluster.connect(scheduler, dask_local, limits.unsafe_no_sandbox)
    with engine as client:
        reports = _grade_assignments(config, assignment, limits, workers, submitted,
                                     wanted, autograded, course_root, progress, log,
                                     client)
    if reports:
        write_report(autograded / "report.csv", reports)
    return reports


def _grade_assignments(config, assignment, limits, workers, submitted, wanted,
                       autograded, course_root, progress, log, client) -> list:
    """Every chosen assignment in ONE batch: the solutions' reference runs side by side,
    then every submission of every assignment through one `run_jobs` (or one cluster
    map), so that no core waits for the last submissions of one assignment before the
    next one starts. Only then is anything written, one assignment after another."""
    todo = []                                   # (name, source_nb, source, folders)
    for name in pick_assignments(config, assignment):
        folders = sorted(p for p in submitted.glob(f"*/{name}") if p.is_dir())
        if wanted is not None:
            folders = [f for f in folders if f.parent.name in wanted]
        if not folders:
            log(f"{name}: no submissions (expected submitted/<student>/{name}/{name}.ipynb)")
            continue
        sync_gradebook(config, name)
        todo.append((name, *load_source(config, name), folders))
    if not todo:
        return []
    # The reference runs are independent sandboxes too; a broken solution stops the
    # whole run before any student is graded against it.
    def solution_run(item) -> dict:
        return reference_records(item[1], item[2], limits, course_root)

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo)))) as threads:
        references = list(threads.map(solution_run, todo))
    jobs = [Job(name, folder.parent.name, str(folder / f"{name}.ipynb"), source,
                reference, limits, str(course_root))
            for (name, _, source, folders), reference in zip(todo, references)
            for folder in folders]
    description = todo[0][0] if len(todo) == 1 else f"{len(todo)} assignments"
    if client is None:
        results = run_jobs(jobs, min(workers, len(jobs)), progress, description)
    else:
        from .cluster import grade_on_cluster
        results = grade_on_cluster(jobs, client, progress, description)
    reports = []
    for name, _, source, _ in todo:
        mine = [r for r in results if r.assignment == name]
        new = _record(config, name, mine, autograded, source)
        for report in sorted(new, key=lambda r: r.student):
            score = num(report.score) if report.score is not None else "-"
            log(f"{name}  {report.student}: {report.status} {score}"
                f"/{num(report.max_score)}  {report.reason}")
        reports += new
    return reports
