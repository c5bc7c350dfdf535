"""Every figure of a chapter says what it shows to a reader who cannot see it: its cell carries
an alt text (cell metadata {"mystnb": {"image": {"alt": "..."}}}, which MyST-NB writes into the
<img alt> of the book), a sentence and not a file name. The browser test checks the built page."""
from __future__ import annotations

import re

import nbformat
import pytest

from book_fixtures import ROOT

CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def figure_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_an_alt_text_that_says_what_it_shows(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in figure_cells(nb):
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        where = f"book/{path.name}, cell {i}"
        assert alt, (f"{where} draws a figure without an alt text: add cell metadata "
                     '{"mystnb": {"image": {"alt": "what the figure shows"}}}')
        assert len(alt.split()) >= 8, f"{where}: the alt text is too short to say anything"
        assert not re.search(r"\.(png|svg|jpe?g)\b|/|[0-9a-f]{32}", alt), \
            f"{where}: the alt text looks like a file name: {alt!r}"
