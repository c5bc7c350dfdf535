"""report.csv (one row a graded submission) and grades.csv (one row a student and assignment).

Both are written by the one process that grades the class. grades.csv takes its scores from
the gradebook and its status and timestamp from report.csv, so the two always agree; a
student in the gradebook without a submission for an assignment gets the status `missing`.

Statuses: `graded`; `timeout` (graded, but a cell or test hit the time limit); `killed`
(graded, but the sandbox had to be stopped: a crash, a limit, output flooding); `invalid` (not
a gradable notebook: scored 0); `regrade` (the grader could not run it: no score, grade again);
`missing` (no submission).
"""
from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from sqlalchemy.exc import SAWarning

from nbgrader.api import Gradebook, MissingEntry

from .config import GradingError, course_assignments, coursedir, load_config

REPORT_FIELDS = ["student", "assignment", "score", "max_score", "status", "timestamp", "tasks", "reason"]
GRADES_FIELDS = ["assignment", "student_id", "status", "timestamp", "score", "max_score",
                 "last_name", "first_name", "email"]


def num(x) -> str:
    return f"{float(x):g}"


@dataclass
class SubmissionReport:
    """What happened to one submission: its score and the reasons for any lost points."""
    student: str
    assignment: str
    score: Optional[float]          # None: not graded (status regrade)
    max_score: float
    status: str
    timestamp: str = ""
    tasks: dict = field(default_factory=dict)   # task -> (score, max_score)
    reasons: list = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "all tasks passed"

    def row(self) -> dict:
        tasks = ", ".join(f"{task} {num(s)}/{num(m)}" for task, (s, m) in self.tasks.items())
        return {"student": self.student, "assignment": self.assignment,
                "score": "" if self.score is None else num(self.score), "max_score": num(self.max_score),
                "status": self.status, "timestamp": self.timestamp, "tasks": tasks, "reason": self.reason}


def write_report(path: Path, reports: list) -> None:
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
        writer = csv.DictWriter(handle, fieldnames=REPORT_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for key in sorted(rows, key=lambda k: (k[1], k[0])):
            writer.writerow(rows[key])


def read_report(root: Optional[os.PathLike] = None) -> list:
    """The rows of autograded/report.csv (one per graded submission)."""
    directory = coursedir(load_config(root))
    path = Path(directory.root) / directory.autograded_directory / "report.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def export_grades(root: Optional[os.PathLike] = None, output: Optional[os.PathLike] = None) -> Path:
    """Every student's score, status and submission time on every assignment, into grades.csv."""
    config = load_config(root)
    directory = coursedir(config)
    db = Path(directory.root) / "gradebook.db"
    if directory.db_url.startswith("sqlite:///") and not Path(directory.db_url[len("sqlite:///"):]).is_file():
        raise GradingError(f"no gradebook at {db}: run `make release` and `make autograde` first")
    report = {(row["student"], row["assignment"]): row for row in read_report(directory.root)}
    destination = Path(output) if output is not None else Path(directory.root) / "grades.csv"
    rows = []
    with warnings.catch_warnings(), Gradebook(directory.db_url, directory.course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)
        names = [a for a in course_assignments(config) if a in {x.name for x in gb.assignments}]
        for assignment in names:
            maximum = gb.find_assignment(assignment).max_score
            for student in sorted(gb.students, key=lambda s: s.id):
                row = {"assignment": assignment, "student_id": student.id, "max_score": num(maximum),
                       "last_name": student.last_name or "", "first_name": student.first_name or "",
                       "email": student.email or ""}
                graded = report.get((student.id, assignment))
                try:
                    submission = gb.find_submission(assignment, student.id)
                except MissingEntry:
                    submission = None
                if submission is None or graded is None:
                    row.update(status="missing", timestamp="", score="0")
                else:
                    row.update(status=graded["status"], timestamp=graded["timestamp"],
                               score="" if graded["status"] == "regrade" else num(submission.score or 0))
                rows.append(row)
    with destination.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=GRADES_FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return destination
