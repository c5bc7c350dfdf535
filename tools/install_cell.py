"""The install cell: the first code cell of every chapter and exercise (write or check it).

A notebook opened outside a checkout (Colab, Binder, a bare Jupyter) has no `attention_course`.
Its first code cell installs the course package, at the version in pyproject.toml, from the
repository named there too ([tool.attention_course] repository, the one place from which
tools/set_repository.py writes _config.yml's launch buttons and every page), and only
when the package is missing: in a checkout, a student workspace or the grader's sandbox it does
nothing and prints nothing (nbval compares the committed output, which is empty). The cell
reads nothing from the repository at run time, so this tool writes the URL and version into it;
run it again after changing either, and `tests/test_install_cell.py` fails until you do.

    python tools/install_cell.py --write [NOTEBOOK ...]   # insert or refresh the cell
    python tools/install_cell.py --check [NOTEBOOK ...]   # exit 1 if a notebook's cell differs

Without NOTEBOOKs: book/*.ipynb, solutions/*/*.ipynb and exercises/*/*.ipynb. exercises/ is
generated from solutions/ by `make release` (nbgrader copies the ordinary cell unchanged), so
write solutions/ and release rather than writing exercises/ directly.

The cell is inserted right after the notebook's opening markdown cell (the title stays the
first thing on the page) and carries the tags `course-install` (how this tool and the grader
find it) and `remove-cell` (Jupyter Book leaves it off the rendered page, where there is
nothing to install).
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TAG = "course-install"
TAGS = [TAG, "remove-cell"]
CELL_ID = "course-install"
MAX_WIDTH = 88        # tests/test_notebook_style.py
TEMPLATE = '''\
# Installs the course package where it is missing (Colab, Binder, a bare Jupyter);
# where it is installed (a clone, a workspace, the grader), this cell does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("attention_course") is None:
    requirement = ("{name} @ "
                   "{location}")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement],
                   check=True)
    importlib.invalidate_caches()  # let this kernel see the new package'''


class Refused(Exception):
    """The tool will not write this; the message says why and what to do."""


def repository_url(root: Path = ROOT) -> str:
    """The public repository: pyproject.toml's [tool.attention_course] repository."""
    path = root / "pyproject.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    url = config.get("tool", {}).get("attention_course", {}).get("repository")
    if not url:
        raise Refused(f"{path} has no [tool.attention_course] repository: set it with "
                      "`python tools/set_repository.py --url URL` (the launch buttons, "
                      "links and install cells all follow it)")
    return url.rstrip("/")


def version(root: Path = ROOT) -> str:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def default_requirement(root: Path = ROOT) -> str:
    """pip's requirement for the pinned course: the git tag v<version> of the repository."""
    return f"attention_course @ git+{repository_url(root)}@v{version(root)}"


def cell_source(requirement: str | None = None) -> str:
    """The cell's code; `requirement` (pip's "name @ location") defaults to the pinned tag."""
    name, _, location = (requirement or default_requirement()).partition(" @ ")
    if not location:
        raise Refused(f"expected a requirement 'attention_course @ <location>', got {requirement!r}")
    source = TEMPLATE.format(name=name, location=location)
    wide = [line for line in source.splitlines() if len(line) > MAX_WIDTH]
    if wide and requirement is None:
        raise Refused(f"the install cell would have lines wider than {MAX_WIDTH} characters "
                      f"({wide[0]!r}): shorten the repository URL in pyproject.toml")
    return source


def new_cell(source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
    cell.id = CELL_ID
    return cell


def _is_install(cell) -> bool:
    return TAG in cell.get("metadata", {}).get("tags", [])


def problem(nb, source: str) -> str | None:
    """Why `nb`'s install cell is not what this tool writes, or None if it is."""
    found = [i for i, c in enumerate(nb.cells) if _is_install(c)]
    if not found:
        return "has no install cell"
    if len(found) > 1:
        return f"has {len(found)} install cells"
    cell = nb.cells[found[0]]
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    if found[0] != first_code:
        return f"its install cell is cell {found[0] + 1}, not the first code cell"
    if cell.cell_type != "code" or cell.source != source:
        return "its install cell differs from what the tool writes (URL or version changed?)"
    if cell.get("outputs"):
        return "its install cell has outputs (it must print nothing where the package is present)"
    if cell.metadata.get("nbgrader"):
        return "its install cell is an nbgrader cell (it must be an ordinary cell)"
    return None


def apply(nb, source: str) -> bool:
    """Insert or refresh the install cell in `nb`; True if `nb` changed."""
    if problem(nb, source) is None:
        return False
    nb.cells = [c for c in nb.cells if not _is_install(c)]
    if any(getattr(c, "id", None) == CELL_ID for c in nb.cells):
        raise Refused(f"another cell already has the id {CELL_ID!r}: rename it first")
    at = 1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0
    nb.cells.insert(at, new_cell(source))
    return True


def notebooks(root: Path = ROOT) -> list[Path]:
    return sorted([*root.glob("book/*.ipynb"), *root.glob("solutions/*/*.ipynb"),
                   *root.glob("exercises/*/*.ipynb")])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="insert or refresh the cell")
    mode.add_argument("--check", action="store_true", help="exit 1 if a cell differs")
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    try:
        source = cell_source()
    except Refused as err:
        print(f"install_cell: {err}", file=sys.stderr)
        return 2
    paths = args.notebooks or notebooks()
    bad = []
    for path in paths:
        if not path.is_file():
            print(f"install_cell: {path} is not a notebook file", file=sys.stderr)
            return 2
        nb = nbformat.read(path, as_version=4)
        if args.check:
            why = problem(nb, source)
            if why:
                bad.append(f"{path}: {why}")
            continue
        try:
            changed = apply(nb, source)
        except Refused as err:
            print(f"install_cell: {path}: {err}", file=sys.stderr)
            return 2
        if changed:
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            print(f"wrote the install cell into {path}")
    if bad:
        print("install cells out of date; run `make repository` (or "
              "`python tools/install_cell.py --write` on book/ and solutions/, then "
              "`make release`):\n  " + "\n  ".join(bad),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
