"""Instructor tooling around nbgrader: release, sandboxed autograding, feedback, grades.

Run from the repository root, which is the nbgrader course root (see `nbgrader_config.py`)::

    python -m attention_course.grading release [ASSIGNMENT]   # solutions/ -> exercises/   (make release)
    python -m attention_course.grading autograde [ASSIGNMENT] # submitted/ -> autograded/  (make autograde)
    python -m attention_course.grading feedback [ASSIGNMENT]  # autograded/ -> feedback/   (make feedback)
    python -m attention_course.grading grades                 # -> grades.csv              (make grades)

The package, one job a module:

| module | job |
| --- | --- |
| `config.py` | nbgrader_config.py, the course root, the sandbox limits |
| `release.py` | the student notebooks, generated from the solutions by nbgrader |
| `notebooks.py` | reading a submission; the plan of what runs (fair to copied, moved, re-flagged cells) |
| `sandbox.py` | bubblewrap, resource limits, the watchdog |
| `pool.py` | sandboxes ready ahead: forked from the fork server, or bubblewrap sandboxes |
| `forkserver.py` | loads torch once, forks and confines one runner per submission (never runs its code) |
| `runner.py` | the only code next to the student's: runs cells, records `check(...)` values |
| `checks.py` | the verdict: recorded values against the solution's, outside the student's process |
| `autograding.py` | one submission (`grade_submission`, also for a cluster), and a class in parallel |
| `cluster.py` | the same grading on a Dask cluster (`autograde --scheduler ADDRESS`) |
| `reports.py` | report.csv, grades.csv and the gradebook, written by one process |
| `feedback.py` | HTML feedback without hidden tests |
| `cli.py` | the command line |
"""
from .config import GradingError, find_root, load_config
from .feedback import HideHiddenTests, feedback
from .notebooks import check_notebook, strip_hidden_tests
from .release import release
from .reports import export_grades, read_report


def autograde(*args, **kwargs):
    """See `autograding.autograde` (imported on first use)."""
    from .autograding import autograde as run
    return run(*args, **kwargs)


__all__ = ["GradingError", "find_root", "load_config", "check_notebook", "strip_hidden_tests", "release",
           "autograde", "feedback", "export_grades", "read_report", "HideHiddenTests"]
