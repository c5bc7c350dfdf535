"""Grading on a Dask cluster (`grading/cluster.py`) gives the local grader's results.

The slow test grades a few 01_rnn submissions (the solution, the untouched release and
two catalogued wrong answers) on this machine's threads and on a LocalCluster of two
worker processes, and asserts the same status, scores, reasons and autograded notebook
(the feedback's source) for each, in the order of the jobs. The fast tests check the
refusals.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from attention_course.grading import GradingError, autograding, sandbox
from attention_course.grading.notebooks import Source
from grading_catalog import WRONG_ANSWERS
from test_grading_catalog import source_notebook, student_notebook

pytest.importorskip("distributed")
from attention_course.grading import cluster  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_rnn"


def _jobs(tmp_path: Path) -> list:
    source_nb = source_notebook(ASSIGNMENT)
    release_nb = nbformat.read(ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                               4)
    source = Source.from_notebooks(ASSIGNMENT, source_nb, release_nb)
    limits = sandbox.Limits(cell_timeout=20)
    reference = autograding.reference_records(source_nb, source, limits, tmp_path)
    wrong = [w for w in WRONG_ANSWERS
             if w.assignment == ASSIGNMENT and not w.caught_by_visible]
    wrong = [wrong[0], next(w for w in wrong if w.task != wrong[0].task)]   # two tasks
    students = {"solution": source_nb, "release": release_nb}
    students.update({f"wrong-{w.task}-{w.name}":
                     student_notebook(ASSIGNMENT, {w.task: w.code}) for w in wrong})
    jobs = []
    for student, nb in students.items():
        folder = tmp_path / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
        path = str(folder / f"{ASSIGNMENT}.ipynb")
        jobs.append(autograding.Job(ASSIGNMENT, student, path, source, reference,
                                    limits, str(tmp_path)))
    return jobs


def _comparable(result: autograding.Result) -> tuple:
    # Everything but the raw sandbox log (instructor-only, with timings in it) and the
    # cell ids of the autograded notebook, which nbformat draws at random for each cell.
    nb = json.loads(result.autograded)
    for cell in nb["cells"]:
        cell.pop("id", None)
    return (result.assignment, result.student, result.status, result.scores,
            result.reasons, result.timestamp, json.dumps(nb, indent=1))


@pytest.mark.slow
@pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap")
def test_a_local_dask_cluster_grades_like_this_machine(tmp_path):
    jobs = _jobs(tmp_path)
    here = {r.student: r for r in autograding.run_jobs(jobs, 2, progress=False)}
    with cluster.connect(local_workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        there = cluster.grade_on_cluster(jobs, client, progress=False)
        # each worker that graded forked its submissions from a fork server of its own
        servers = client.run(lambda: [pool.server is not None
                                      and pool.server.process.poll() is None
                                      for pool in cluster._POOLS.values()])
    assert any(servers.values()), servers
    assert all(all(alive) for alive in servers.values()), servers
    # in the jobs' order
    assert [r.student for r in there] == [job.student for job in jobs]
    for result in there:
        assert _comparable(result) == _comparable(here[result.student]), result.student
    scores = {r.student: sum(r.scores.values()) for r in there}
    full = sum(points for _, points in jobs[0].source.tests.values())
    assert scores["solution"] == full and scores["release"] == 0
    for student in scores:
        if student.startswith("wrong-"):
            task = student.split("-")[1]
            result = next(r for r in there if r.student == student)
            assert result.scores[f"test_{task}"] == 0
            assert 0 < scores[student] < full
    assert all(r.status == "graded" for r in there)


class _FakeClient:
    def __init__(self, workers):
        self.workers = workers

    def run(self, function, *args):
        return self.workers


def test_workers_that_would_grade_differently_are_refused():
    here = cluster.environment()
    other = {**here, "packages": {**here["packages"], "torch": "0.0.1"}, "bwrap": False}
    with pytest.raises(GradingError) as error:
        cluster.check_workers(_FakeClient({"tcp://a:1": here, "tcp://b:2": other}))
    message = str(error.value)
    assert "tcp://b:2: bubblewrap is not installed" in message
    assert "tcp://b:2: torch 0.0.1" in message
    assert "tcp://a:1" not in message
    with pytest.raises(GradingError, match="no workers"):
        cluster.check_workers(_FakeClient({}))


def test_cluster_options_are_exclusive_and_explained(tmp_path, capsys):
    from attention_course.grading.cli import main
    with pytest.raises(SystemExit):
        main(["autograde", "--scheduler", "tcp://x:1", "--dask-local", "2"])
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(GradingError, match="either a scheduler address or a number"):
        with cluster.connect():
            pass
    with pytest.raises(GradingError, match="at least one worker"):
        with cluster.connect(local_workers=0):
            pass
