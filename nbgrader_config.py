"""nbgrader configuration of the course: the repository root is the course root.

Graded exercises are written once, with their solutions and hidden tests, in
`solutions/<id>/<id>.ipynb` (nbgrader's *source*); `make release` generates the student
versions in `exercises/<id>/<id>.ipynb` (nbgrader's *release*). Students' work goes to
`submitted/<student>/<id>/<id>.ipynb`; `make autograde`, `make feedback` and `make grades`
grade it through `attention_course.grading` (sandboxed, in parallel), which reads this file.
"""
import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# --- where things are ----------------------------------------------------------------------
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
# gradebook.db, submitted/, autograded/ and feedback/ keep nbgrader's default names (gitignored).

# --- the graded assignments: one per chapter, in course order ------------------------------
c.Course.assignments = ["01_rnn", "02_lstm_gru", "03_seq2seq", "04_attention", "05_self_attention",
                        "06_transformer", "07_bert", "08_vit", "09_gpt",
                        "10_captioning", "11_hierarchical"]

# --- autograding (python -m attention_course.grading autograde; make autograde) ----------------
# Every submission runs in its own bubblewrap sandbox (attention_course/grading/sandbox.py): a
# read-only view of the Python environment, a throwaway home, no network, no view of this
# folder, and these limits. Hidden tests only record values with check(...); the grader compares
# them with the solution's outside the sandbox. Without bubblewrap, grading refuses to run
# unless unsafe_no_sandbox is set (or --unsafe-no-sandbox is passed): only for trusted code.
c.Sandbox.cell_timeout = float(os.environ.get("ATTENTION_COURSE_CELL_TIMEOUT", "60"))  # s per cell and per test
c.Sandbox.startup_timeout = 120     # s for Python to start in a sandbox (a loaded machine is slow)
c.Sandbox.memory_mb = 4096          # address space per process
c.Sandbox.cpu_seconds = 600         # CPU time per process
c.Sandbox.processes = 64            # processes and threads per sandbox
c.Sandbox.file_size_mb = 64         # largest file a submission may write
c.Sandbox.tmp_size_mb = 256         # its private /tmp and home
c.Sandbox.workers = 0               # submissions graded at once; 0 = one per CPU core
c.Sandbox.unsafe_no_sandbox = False
# A batch's submissions are forked from one process that loaded torch and never runs their
# code (grading/forkserver.py), each confined like a sandbox of its own; see
# benchmarks/grading.md for the speed-up measured against a bubblewrap sandbox per submission.
c.Sandbox.fork_server = True

# --- feedback --------------------------------------------------------------------------------
# nbgrader's feedback renders the autograded notebook that attention_course.grading writes:
# the student's cells with what they printed before any hidden test ran, and each original test
# cell with the grader's verdict. HideHiddenTests removes the hidden-test regions from the test
# cells (and any output that is not the verdict), so the feedback never shows hidden test code.
# A student's markdown is rendered into the feedback page an instructor may open too:
# SanitizeHTML strips its scripts and event handlers (nbgrader's feedback template ignores
# HTMLExporter.sanitize_html, so the preprocessor does it).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "attention_course.grading.HideHiddenTests",
    "nbconvert.preprocessors.sanitize.SanitizeHTML",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.SanitizeHTML.enabled = True
