"""HTML feedback for the autograded submissions, without the hidden tests.

nbgrader's generate_feedback renders the autograded notebook. Ours (`autograding.py`) already
holds only what the grader can vouch for: the student's cells with what they printed before
any hidden test ran, and under each task its original test cell with the grader's verdict
(never the kernel's output). `HideHiddenTests` removes the hidden-test regions from the test
cells' sources, so the feedback shows the visible checks and the verdict only.
"""
from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Optional

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode
from traitlets import Unicode

from nbgrader.converters import GenerateFeedback
from nbgrader.preprocessors import NbGraderPreprocessor

from .config import GradingError, coursedir, load_config, pick_assignments, run_converter
from .notebooks import HIDDEN_BEGIN, HIDDEN_END, is_test, strip_hidden_tests
from .reports import read_report


class HideHiddenTests(NbGraderPreprocessor):
    """Feedback preprocessor: remove hidden-test regions from every test cell, and any output
    that is not the grader's verdict."""

    begin_test_delimiter = Unicode(HIDDEN_BEGIN).tag(config=True)
    end_test_delimiter = Unicode(HIDDEN_END).tag(config=True)
    placeholder = Unicode("# (hidden tests: not shown)").tag(config=True)

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict, index: int):
        if cell.cell_type == "code" and is_test(cell):
            cell.source = strip_hidden_tests(
                cell.source, self.begin_test_delimiter, self.end_test_delimiter, self.placeholder)
            cell.outputs = [o for o in cell.get("outputs", [])
                            if (o.output_type == "error" and o.get("ename") == "Failed")
                            or (o.output_type == "stream" and o.get("text") == "passed\n")]
        return cell, resources


def feedback(root: Optional[os.PathLike] = None, assignment: Optional[str] = None, log=print) -> list:
    """Write HTML feedback for the autograded submissions: feedback/<student>/<assignment>/<nb>.html.

    A submission that could not be graded gets a short page with the reason instead.
    """
    config = load_config(root)
    directory = coursedir(config)
    course_root = Path(directory.root)
    autograded = course_root / directory.autograded_directory
    if not autograded.is_dir():
        raise GradingError(f"nothing to give feedback on: {autograded} does not exist; run `make autograde` first")
    report = {(row["student"], row["assignment"]): row for row in read_report(course_root)}
    written = []
    for name in pick_assignments(config, assignment):
        students = sorted(p.parent.name for p in autograded.glob(f"*/{name}")
                          if p.is_dir() and not p.parent.name.startswith("_"))
        for student in students:
            converter = GenerateFeedback(
                coursedir=coursedir(config, assignment_id=name, student_id=student), config=config)
            converter.force = True
            result = run_converter(converter)
            if not result["success"]:
                log(f"{name}  {student}: feedback failed: {(result.get('error') or '').strip().splitlines()[-1:]}")
                continue
            written += sorted((course_root / directory.feedback_directory / student / name).glob("*.html"))
        for (student, assignment_id), row in report.items():
            if assignment_id == name and row["status"] in ("invalid", "regrade"):
                page = course_root / directory.feedback_directory / student / name / f"{name}.html"
                page.parent.mkdir(parents=True, exist_ok=True)
                what = ("could not be graded" if row["status"] == "invalid"
                        else "has not been graded yet: the grader failed, not your notebook; it will be graded again")
                page.write_text(
                    f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{escape(name)}: feedback</title>"
                    f"</head><body><h1>{escape(name)}: {escape(row['score'] or '-')} / {escape(row['max_score'])}</h1>"
                    f"<p>Your submission {what}: {escape(row['reason'])}.</p>"
                    f"<p>Hand in the notebook <code>{escape(name)}.ipynb</code> as saved by Jupyter.</p>"
                    f"</body></html>\n")
                written.append(page)
    for path in written:
        log(f"wrote {path.relative_to(course_root)}")
    return written
