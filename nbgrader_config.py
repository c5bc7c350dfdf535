"""nbgrader configuration of the course: the repository root is the course root.

Graded exercises are written once, with their solutions and hidden tests, in
`solutions/<id>/<id>.ipynb` (nbgrader's *source*); `make release` generates the student
versions in `exercises/<id>/<id>.ipynb` (nbgrader's *release*). Students' work goes to
`submitted/<student>/<id>/<id>.ipynb`; `make autograde`, `make feedback` and `make grades`
grade it through `attention_course.grading`, which reads this file.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# --- where things are ----------------------------------------------------------------------
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# gradebook.db, submitted/, autograded/ and feedback/ keep nbgrader's default names (gitignored).

# --- the graded assignments: one per chapter, in course order ------------------------------
c.Course.assignments = ["01_rnn", "02_lstm_gru", "03_seq2seq", "04_attention"]

# --- autograding -----------------------------------------------------------------------------
# Every cell of an exercise runs in well under a second; the first one imports torch. A cell
# still running after this many seconds (an infinite loop) is interrupted, recorded as timed
# out, and the rest of the notebook is graded. Override with $ATTENTION_COURSE_CELL_TIMEOUT
# or `python -m attention_course.grading autograde --timeout SECONDS`.
c.Execute.timeout = int(os.environ.get("ATTENTION_COURSE_CELL_TIMEOUT", "60"))
c.Execute.interrupt_on_timeout = True
# Quiet kernels: without this every kernel prints a warning about its local TCP transport.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
# A deleted test cell is put back (with its hidden tests) and run, so deleting a test cannot
# earn its points. An edited test cell is always replaced by the original (cells are locked).
c.OverwriteCells.add_missing_cells = True

# --- feedback --------------------------------------------------------------------------------
# nbgrader's feedback shows the autograded notebook, in which the hidden tests were restored.
# HideHiddenTests removes them from the test cells and cuts test-cell tracebacks down to the
# student's own frames and the error line, so the feedback never shows hidden test code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "attention_course.grading.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
