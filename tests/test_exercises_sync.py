"""The student notebooks in exercises/ are exactly what `make release` generates from solutions/.

The release is regenerated with nbgrader in a temporary course directory (the repository's
exercises/ and gradebook are never touched) and compared file by file with the committed one.
Those two tests run nbgrader, so they are marked slow (`make test-fast` skips them).
"""
import json
import shutil
from pathlib import Path

import pytest

from attention_course import grading
from attention_course.grading.config import course_assignments

ROOT = Path(__file__).resolve().parents[1]
HINT = "exercises/ is out of date with solutions/: run `make release` and commit exercises/"


def _files(folder: Path) -> set:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and ".ipynb_checkpoints" not in p.parts}


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("release-course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    grading.release(course)
    return course / "exercises"


def test_every_declared_assignment_is_released():
    config = grading.load_config(ROOT)
    for name in course_assignments(config):
        assert (ROOT / "solutions" / name / f"{name}.ipynb").is_file(), f"no solutions/{name}/{name}.ipynb"
        assert (ROOT / "exercises" / name / f"{name}.ipynb").is_file(), HINT


@pytest.mark.slow
def test_same_files(fresh_release):
    committed = ROOT / "exercises"
    assert _files(committed) == _files(fresh_release), HINT


@pytest.mark.slow
def test_same_notebooks(fresh_release):
    # Nothing in nbgrader's release is random (checksums are hashes of the cells, cell ids are
    # copied from the source), so the notebooks are compared as JSON, with nothing normalised.
    for name in sorted(_files(fresh_release)):
        committed, fresh = ROOT / "exercises" / name, fresh_release / name
        if name.endswith(".ipynb"):
            assert json.loads(committed.read_text()) == json.loads(fresh.read_text()), f"{name}: {HINT}"
        else:
            assert committed.read_bytes() == fresh.read_bytes(), f"{name}: {HINT}"
