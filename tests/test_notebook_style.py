"""The notebooks as a reader meets them on the site and in the repository.

- No code line is wider than the rendered page: about 88 characters fit in a code cell of the
  book's HTML theme, so a longer line gets a horizontal scroll bar (or is cut off in print).

Fast (JSON only, no kernel): part of `make test-fast`.
"""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_WIDTH = 88

NOTEBOOKS = sorted([*ROOT.glob("book/*.ipynb"), *ROOT.glob("solutions/**/*.ipynb"),
                    *ROOT.glob("exercises/**/*.ipynb")])
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]
BOOK = sorted(ROOT.glob("book/*.ipynb"))


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def _cells(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_there_are_notebooks():
    assert BOOK and any("solutions" in p.parts for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_code_lines_fit_the_page(path):
    too_wide = [
        f"{_name(path)}: cell {index}, line {number} ({len(line)} characters): {line.strip()}"
        for index, cell in enumerate(_cells(path)) if cell["cell_type"] == "code"
        for number, line in enumerate(_text(cell["source"]).split("\n"), start=1)
        if len(line) > MAX_WIDTH
    ]
    assert not too_wide, (
        f"code lines wider than {MAX_WIDTH} characters (the width of the rendered page); "
        "wrap them (book/: re-run `make export` for #@save cells; solutions/: then "
        "`make release`):\n" + "\n".join(too_wide))

