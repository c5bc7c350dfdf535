"""The record of a typical wrong answer (see tests/grading_catalog.py).

Each entry replaces ONE solution cell (the cell whose nbgrader grade_id is `task`) of an
otherwise correct notebook. `tests/test_grading_catalog.py` and `tests/test_grading.py` prove that every entry loses its task's
points while the other tasks keep theirs: in-process (fast), and through nbgrader's autograder
(slow). `caught_by_visible` says whether the visible part of the test cell already fails; for
every task at least one wrong answer must get past the visible checks, so that the hidden
tests are what catch it.

Add at least three entries when you add a task (CONTRIBUTING.md, "Adding a chapter").

A `RightAnswer` is the other side of the proof: a correct solution written differently from the
instructor's (another formula, another library call, another loop order). Every hidden check
must accept it, so that a check that tests *how* rather than *what* is caught; it lives in the
same catalog file, in `RIGHT_ANSWERS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class WrongAnswer:
    assignment: str           # e.g. "01_rnn"
    task: str                 # the grade_id of the solution cell it replaces
    name: str                 # a short slug, unique within the task
    mistake: str              # what is wrong, in words
    caught_by_visible: bool   # does the visible part of the test already fail?
    code: str                 # the whole replacement cell

    @property
    def id(self) -> str:
        return f"{self.assignment}-{self.task}-{self.name}"


def _w(assignment, task, name, mistake, caught_by_visible, code) -> WrongAnswer:
    return WrongAnswer(assignment, task, name, mistake, caught_by_visible, dedent(code).strip("\n"))


@dataclass(frozen=True)
class RightAnswer:
    assignment: str           # e.g. "01_rnn"
    task: str                 # the grade_id of the solution cell it replaces
    name: str                 # a short slug, unique within the task
    how: str                  # how it differs from the instructor's solution, in words
    code: str                 # the whole replacement cell

    @property
    def id(self) -> str:
        return f"{self.assignment}-{self.task}-right-{self.name}"


def _r(assignment, task, name, how, code) -> RightAnswer:
    return RightAnswer(assignment, task, name, how, dedent(code).strip("\n"))
