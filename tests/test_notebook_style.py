"""The notebooks as a reader meets them on the site and in the repository.

- No code line is wider than the rendered page: about 88 characters fit in a code cell of the
  book's HTML theme, so a longer line gets a horizontal scroll bar (or is cut off in print).
- The committed outputs keep only the final state of each progress bar: tqdm redraws its bar
  with carriage returns, and every redraw stays in the notebook's stream output unless
  tools/execute_notebooks.py collapses it.

Fast (JSON only, no kernel): part of `make test-fast`.
"""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_WIDTH = 88
MAX_CARRIAGE_RETURNS = 3   # per stream output; a collapsed progress bar has none

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


COLLAPSED = BOOK


@pytest.mark.parametrize("path", COLLAPSED, ids=_name)
def test_progress_bars_keep_only_their_final_state(path):
    noisy = [
        f"{_name(path)}: cell {index}, {output['name']} output with "
        f"{_text(output['text']).count(chr(13))} carriage returns"
        for index, cell in enumerate(_cells(path)) if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        and _text(output["text"]).count("\r") > MAX_CARRIAGE_RETURNS
    ]
    assert not noisy, (
        "progress-bar redraws in committed outputs; run tools/execute_notebooks.py (it keeps "
        "only what a terminal would show):\n" + "\n".join(noisy))


def test_collapse_keeps_what_a_terminal_shows():
    import sys
    sys.path.insert(0, str(ROOT / "tools"))
    from execute_notebooks import collapse_progress_bars

    def stream(name, text):
        return {"output_type": "stream", "name": name, "text": text}

    nb = {"cells": [{"cell_type": "code", "outputs": [
        stream("stdout", "start\n"),
        *[stream("stderr", f"\rtraining: {i:3d}%") for i in range(0, 101, 10)],
        stream("stderr", "\r              "),
        stream("stderr", "\r"),
        {"output_type": "display_data", "data": {"text/plain": "a figure"}, "metadata": {}},
        stream("stdout", "step 1 loss 2.0\rstep 2 loss 1.5\n"),
        stream("stdout", "done\n"),
    ]}]}
    assert collapse_progress_bars(nb) == 13
    outputs = nb["cells"][0]["outputs"]
    assert [o["output_type"] for o in outputs] == ["stream", "stream", "display_data", "stream"]
    assert outputs[0]["text"] == "start\n"
    assert outputs[1]["text"] == "              \r"   # the bar, erased (tqdm's leave=False)
    assert outputs[3]["text"] == "step 2 loss 1.5\ndone\n"
