"""The course's grading configuration: nbgrader_config.py, its course root and its limits."""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Optional

from sqlalchemy.exc import SAWarning
from traitlets import Bool, Float, Int, List, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import PyFileConfigLoader

from nbgrader import utils as nbutils
from nbgrader.coursedir import CourseDirectory

from .sandbox import Limits

#: The repository root: the default course root when the current folder has no nbgrader_config.py.
REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = "nbgrader_config.py"


class GradingError(Exception):
    """A problem the instructor has to fix (missing folder, unknown assignment, nbgrader failure)."""


class Course(Configurable):
    """The course's own settings in nbgrader_config.py (`c.Course.assignments`)."""

    assignments = List(
        Unicode(),
        help="The graded assignments, in course order; each is solutions/<id>/<id>.ipynb.",
    ).tag(config=True)


class Sandbox(Configurable):
    """Limits of the sandbox every submission runs in (`c.Sandbox.<name>` in nbgrader_config.py)."""

    cell_timeout = Float(Limits.cell_timeout, help="Wall-clock seconds per cell and per test.").tag(config=True)
    startup_timeout = Float(Limits.startup_timeout, help="Seconds for Python to start in the sandbox.").tag(config=True)
    memory_mb = Int(Limits.memory_mb, help="Address space per process, MB.").tag(config=True)
    cpu_seconds = Int(Limits.cpu_seconds, help="CPU seconds per process.").tag(config=True)
    processes = Int(Limits.processes, help="Processes and threads per sandbox.").tag(config=True)
    file_size_mb = Int(Limits.file_size_mb, help="Largest file a submission may write, MB.").tag(config=True)
    tmp_size_mb = Int(Limits.tmp_size_mb, help="Size of the sandbox's /tmp and home, MB.").tag(config=True)
    workers = Int(0, help="Submissions graded at once; 0 means one per CPU core.").tag(config=True)
    unsafe_no_sandbox = Bool(False, help="Grade without bubblewrap: only for submissions you trust.").tag(config=True)
    fork_server = Bool(True, help="Fork a batch's submissions from one process that loaded torch "
                       "(pool.py); False starts a bubblewrap sandbox per submission.").tag(config=True)

    def limits(self) -> Limits:
        return Limits(cell_timeout=self.cell_timeout, startup_timeout=self.startup_timeout,
                      memory_mb=self.memory_mb, cpu_seconds=self.cpu_seconds, processes=self.processes,
                      file_size_mb=self.file_size_mb, tmp_size_mb=self.tmp_size_mb,
                      unsafe_no_sandbox=self.unsafe_no_sandbox, fork_server=self.fork_server)


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


def put_environment_on_path() -> None:
    """Make the tools installed next to this Python findable by name.

    nbgrader creates a new gradebook by running the `alembic` command, found on $PATH; with
    `.venv/bin/python -m attention_course.grading` (as `make` runs it) the virtual environment
    is not activated, so its bin folder is not on $PATH.
    """
    bin_dir = str(Path(sys.executable).parent)
    paths = os.environ.get("PATH", "").split(os.pathsep)
    if bin_dir not in paths:
        os.environ["PATH"] = os.pathsep.join([bin_dir] + [p for p in paths if p])


def load_config(root: Optional[os.PathLike] = None) -> Config:
    """The course's nbgrader configuration, with its root set to `root`."""
    put_environment_on_path()
    path = find_root(root)
    config = PyFileConfigLoader(CONFIG_FILE, path=str(path)).load_config()
    config.CourseDirectory.root = str(path)
    return config


def course_assignments(config: Config) -> list[str]:
    """The declared assignments (`c.Course.assignments`); else every folder of the source directory."""
    declared = list(Course(config=config).assignments)
    if declared:
        return declared
    source = Path(coursedir(config).root) / coursedir(config).source_directory
    return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


def pick_assignments(config: Config, assignment: Optional[str]) -> list[str]:
    declared = course_assignments(config)
    if assignment is None:
        return declared
    if assignment not in declared:
        raise GradingError(
            f"unknown assignment {assignment!r}; the course declares {', '.join(declared)} "
            f"(c.Course.assignments in {CONFIG_FILE})")
    return [assignment]


def coursedir(config: Config, **traits) -> CourseDirectory:
    directory = CourseDirectory(config=config)
    for name, value in traits.items():
        setattr(directory, name, value)
    return directory


def run_converter(converter) -> dict:
    """Start an nbgrader converter and return nbgrader's {success, log, error} dictionary."""
    with warnings.catch_warnings():
        # nbgrader's gradebook code makes SQLAlchemy warn about its session handling; harmless.
        warnings.simplefilter("ignore", SAWarning)
        return nbutils.capture_log(converter)
