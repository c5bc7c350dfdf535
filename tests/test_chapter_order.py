"""An earlier chapter never knows a later one: the code a chapter exports imports only modules
that its own chapter or an earlier one started (tools/export_package.py collects the cells)."""
from __future__ import annotations

import ast
import sys

import pytest

from book_fixtures import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import export_package  # noqa: E402

BLOCKS = [(nb, module, code) for module, blocks in export_package.collect().items()
          for nb, code in blocks]


def first_chapter() -> dict[str, str]:
    """module -> the notebook whose #@save cell starts it (notebooks sort by chapter)."""
    return {module: min(nb for nb, _ in blocks)
            for module, blocks in export_package.collect().items()}


def course_modules_named(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("attention_course"):
            names.add(node.module.split(".")[1] if "." in node.module else "")
            if node.module == "attention_course":
                names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names
                      if a.name.startswith("attention_course.")}
    return names - {""}


@pytest.mark.parametrize("nb, module, code", BLOCKS,
                         ids=[f"{nb}:{module}:{i}" for i, (nb, module, _) in enumerate(BLOCKS)])
def test_exported_code_imports_no_later_chapter(nb, module, code):
    starts = first_chapter()
    for used in course_modules_named(code):
        if used not in starts:
            continue                  # a hand-written module (runtime, data, ...): no chapter
        assert starts[used] <= nb, (
            f"book/{nb} exports code into {module}.py that imports attention_course.{used}, "
            f"which book/{starts[used]} starts: an earlier chapter must not know a later one")


def test_the_checker_sees_a_late_import():
    code = "def f():\n    from attention_course.transformer import TransformerConfig\n"
    assert course_modules_named(code) == {"transformer"}
