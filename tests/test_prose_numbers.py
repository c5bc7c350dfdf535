"""A number in a chapter's prose comes from a cell (CONTRIBUTING.md, "Numbers in the prose").

Every decimal number or percentage in a chapter's Markdown must be one of:
- glued: written as {glue:text}`key:format`, the value coming from `glue("key", value)` in a
  code cell of the same notebook (MyST-NB), so that a re-execution changes the sentence and
  nbval guards the value as it guards every output;
- printed: the same number appears in a text output of a cell of the same notebook;
- a paper's constant: the sentence cites the paper ({cite}`key` or {cite:t}`key`);
- listed in ALLOWED below, with the reason (keep it short).
Maths ($...$), inline code and links are not prose and are skipped.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from book_fixtures import ROOT

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))

# chapter file -> {number as written: why it is neither glued nor printed}
ALLOWED: dict[str, dict[str, str]] = {}

CITE = "\u27e6cite\u27e7"                  # stands for a citation role after cleaning
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)(?::[^`]*)?`")
NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d+)(?![\w]|\.\d|,\d{3})(\s?%)?")


def clean_markdown(text: str) -> str:
    """The prose of a Markdown cell: no code, maths, links, HTML comments or glued values;
    citation roles become the CITE marker."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"^(```|~~~).*?^\1", " ", text, flags=re.S | re.M)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$\n]+\$", " ", text)
    text = re.sub(r"\{cite(?::[a-z]+)?\}`[^`]*`", CITE, text)
    text = GLUE_ROLE.sub(" GLUED ", text)
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " ", text)          # {ref}, {numref}, ...
    text = re.sub(r"``.*?``|`[^`]*`", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)                  # link targets
    return re.sub(r"https?://\S+", " ", text)


def sentences(text: str) -> list[str]:
    """Sentences, list items, table rows and headings, each on its own."""
    parts = re.split(r"\n\s*\n|\n(?=\s*(?:[-*+]|\d+\.|\||#))", text)
    return [s for part in parts for s in re.split(r"(?<=[.!?:;])\s+(?=[A-Z(*\"'])", part)]


def output_text(nb) -> str:
    chunks = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            chunks.append(out.get("text", ""))
            for mime, value in out.get("data", {}).items():
                if mime in ("text/plain", "text/markdown", "text/latex"):
                    chunks.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(chunks)


def glue_calls(nb) -> list[str]:
    """The keys of every glued output, in order (a key glued twice appears twice)."""
    return [out["metadata"]["scrapbook"]["name"]
            for cell in nb.cells if cell.cell_type == "code"
            for out in cell.get("outputs", [])
            if "scrapbook" in out.get("metadata", {})]


def glued_keys(nb) -> set[str]:
    return set(glue_calls(nb))


def bare_numbers(text: str) -> set[str]:
    """The numbers in `text`, thousands separators removed; a percentage keeps its sign, so
    that 18.9% in the prose is not matched by a BLEU of 18.9 printed elsewhere."""
    return {m.group(1).replace(",", "") + ("%" if m.group(2) else "")
            for m in NUMBER.finditer(text)}


def unsupported_numbers(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    printed = bare_numbers(output_text(nb))
    allowed = ALLOWED.get(path.name, {})
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for sentence in sentences(clean_markdown(cell.source)):
            if CITE in sentence:
                continue                           # a paper's number, cited where it stands
            for m in NUMBER.finditer(sentence):
                number, percent = m.group(1), m.group(2)
                if "." not in number and not percent:
                    continue                       # integers: counts, sizes, years, ...
                bare = number.replace(",", "") + ("%" if percent else "")
                if bare in printed or m.group(0) in allowed:
                    continue
                problems.append(f"cell {index}: {m.group(0)!r} in "
                                f"{' '.join(sentence.split())[:120]!r}")
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_number_in_the_prose_comes_from_a_cell(path):
    problems = unsupported_numbers(path)
    assert not problems, (
        f"book/{path.name}: these numbers in the prose are neither glued nor printed by a "
        "cell of the notebook. Glue each from the cell that computes it "
        "(glue('key', value, display=False), then {glue:text}`key:.1%` in the text), or "
        "cite the paper it comes from in the same sentence (CONTRIBUTING.md):\n  "
        + "\n  ".join(problems))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_key_is_glued_in_its_notebook(path):
    nb = nbformat.read(path, as_version=4)
    used = {m.group(1) for cell in nb.cells if cell.cell_type == "markdown"
            for m in GLUE_ROLE.finditer(cell.source)}
    missing = used - glued_keys(nb)
    assert not missing, (f"book/{path.name} quotes {sorted(missing)} but no executed cell "
                         "glues them: run the notebook (make execute) or add the glue call")
    calls = glue_calls(nb)
    twice = sorted({k for k in calls if calls.count(k) > 1})
    assert not twice, (f"book/{path.name} glues {twice} more than once; MyST-NB warns and "
                       "`make book` (-W) fails: give each value its own key")


def test_the_checker_catches_a_typed_number_and_accepts_the_others():
    text = clean_markdown(
        "Post-LN reaches 52.9% here. It reaches {glue:text}`acc:.1%` there. The paper "
        "reports 27.3 BLEU {cite}`vaswani2017`. Code `lr=0.5` and $x = 0.25$ are skipped.")
    found = [m.group(0) for s in sentences(text) if CITE not in s for m in NUMBER.finditer(s)
             if "." in m.group(1) or m.group(2)]
    assert found == ["52.9%"]
    assert bare_numbers("loss 0.06; 1,000 dates; torch 2.13.0; 18.9 % or 7%") == {
        "0.06", "1000", "18.9%", "7%"}
