"""The site's reference list is labelled author-year, like its citations (tools/bibtex_author_year.py).

Fast: pybtex on references.bib, no book build (tests/test_book.py checks the built pages).
"""
import sys
from pathlib import Path

from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from bibtex_author_year import AuthorYearStyle  # noqa: E402


def _labels(keys=None):
    entries = parse_file(str(ROOT / "references.bib")).entries
    chosen = [entries[k] for k in keys] if keys else list(entries.values())
    style = AuthorYearStyle()
    ordered = style.sort(chosen)
    return {e.key: (label, e.fields["year"]) for e, label in zip(ordered, style.format_labels(ordered))}


def test_labels_name_the_authors_as_the_citations_do():
    labels = _labels()
    assert labels["elman1990"][0] == "Elman, 1990"
    assert labels["hochreiter1997"][0] == "Hochreiter and Schmidhuber, 1997"
    assert labels["pascanu2013"][0] == "Pascanu et al., 2013"
    assert len({label for label, _ in labels.values()}) == len(labels), "two entries share a label"


def test_same_authors_and_year_get_letters_in_label_and_year():
    labels = _labels()
    cho = {labels["cho2014properties"], labels["cho2014"]}
    assert cho == {("Cho et al., 2014a", "2014a"), ("Cho et al., 2014b", "2014b")}



def test_formatting_again_keeps_the_letters():
    # Sphinx formats the same (cached) entries again on every build: "2014a", never "2014aa"
    entries = parse_file(str(ROOT / "references.bib")).entries
    style = AuthorYearStyle()
    ordered = style.sort([entries["cho2014"], entries["cho2014properties"]])
    first = list(style.format_labels(ordered))
    assert list(style.format_labels(ordered)) == first == ["Cho et al., 2014a", "Cho et al., 2014b"]
    assert [e.fields["year"] for e in ordered] == ["2014a", "2014b"]


def test_a_lone_year_keeps_no_letter():
    assert _labels(["cho2014"])["cho2014"] == ("Cho et al., 2014", "2014")
