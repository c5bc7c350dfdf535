"""Typical wrong answers to the graded exercises, one catalog for the grading tests.

Each entry replaces ONE solution cell (the cell whose nbgrader grade_id is `task`) of an
otherwise correct notebook. `tests/test_grading.py` proves that every entry loses its task's
points while the other tasks keep theirs: in-process (fast), and through the sandboxed
autograder (slow). `caught_by_visible` says whether the visible part of the test cell already
fails; for every task at least one wrong answer must get past the visible checks, so that the
hidden tests are what catch it.

The entries of exercise NN live in tests/catalog_NN_topic.py. Add at least three entries when
you add a task (CONTRIBUTING.md, "Adding a chapter").
"""
from __future__ import annotations

import importlib

from grading_catalog_base import RightAnswer, WrongAnswer, _r, _w  # noqa: F401  (re-exported)

ASSIGNMENTS = ["01_rnn", "02_lstm_gru", "03_seq2seq", "04_attention", "05_self_attention",
               "06_transformer", "07_bert", "08_vit", "09_gpt", "10_captioning",
               "11_hierarchical"]

WRONG_ANSWERS: list[WrongAnswer] = [
    wrong for assignment in ASSIGNMENTS for wrong in importlib.import_module(f"catalog_{assignment}").WRONG_ANSWERS
]

# Correct answers written another way: each must keep every point (tests/grading_catalog_base.py).
RIGHT_ANSWERS: list[RightAnswer] = [
    right for assignment in ASSIGNMENTS
    for right in getattr(importlib.import_module(f"catalog_{assignment}"), "RIGHT_ANSWERS", [])
]
