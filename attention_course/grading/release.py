"""Release: the student notebooks in exercises/ from the solutions, with nbgrader."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Optional

from nbgrader.converters import GenerateAssignment

from .config import GradingError, course_assignments, coursedir, load_config, run_converter


def _generate_assignment(config, directory) -> dict:
    """nbgrader's generate_assignment for directory.assignment_id: overwrite the release and
    record the assignment (cells, points, hidden tests) in the gradebook."""
    converter = GenerateAssignment(coursedir=directory, config=config)
    converter.force = True
    converter.create_assignment = True
    return run_converter(converter)


def release(root: Optional[os.PathLike] = None, assignments: Optional[Iterable[str]] = None) -> list[Path]:
    """Regenerate the student notebooks (`exercises/`) from the solutions with nbgrader.

    The folders of the released assignments are deleted first, so nothing stale is left.
    nbgrader's generate_assignment replaces solutions by `raise NotImplementedError()`, removes
    hidden tests, locks the test cells, and records the assignment (cells, points, hidden
    tests) in the gradebook. Returns the notebooks written.
    """
    config = load_config(root)
    directory = coursedir(config)
    names = list(assignments) if assignments is not None else course_assignments(config)
    declared = course_assignments(config)
    source_dir = Path(directory.root) / directory.source_directory
    for name in names:
        if name not in declared:
            raise GradingError(f"unknown assignment {name!r}; the course declares {', '.join(declared)}")
        if not (source_dir / name / f"{name}.ipynb").is_file():
            raise GradingError(f"no source notebook {source_dir / name / (name + '.ipynb')}")
    release_dir = Path(directory.root) / directory.release_directory
    written = []
    for name in names:
        if (release_dir / name).is_dir():
            shutil.rmtree(release_dir / name)
        result = _generate_assignment(config, coursedir(config, assignment_id=name))
        if not result["success"]:
            raise GradingError(f"nbgrader generate_assignment failed for {name}:\n"
                               f"{result.get('log', '')}{result.get('error', '')}")
        written += sorted((release_dir / name).glob("*.ipynb"))
    return written


def sync_gradebook(config, assignment: str) -> None:
    """Record the assignment from its source notebook in the gradebook, without touching exercises/."""
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        directory = coursedir(config, assignment_id=assignment, release_directory=scratch)
        result = _generate_assignment(config, directory)
    if not result["success"]:
        raise GradingError(f"could not record {assignment} in the gradebook (nbgrader generate_assignment):\n"
                           f"{result.get('log', '')}{result.get('error', '')}")
