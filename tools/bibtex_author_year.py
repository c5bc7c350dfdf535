"""Sphinx extension of the course site: an author–year bibliography to match the citations.

The chapters cite author–year (`bibtex_reference_style: author_year` in _config.yml): {cite}
gives "[Pascanu et al., 2013]" and {cite:t} "Pascanu et al. [2013]". pybtex's own styles label
the reference list by number ("[12]") or by initials ("[PMB13]"), so a reader could not find an
entry by what the text says. This registers the pybtex style `author_year` (selected by
`bibtex_default_style`): the entries are labelled "Pascanu et al., 2013", sorted by author and
year, and two works of the same authors in the same year get "2014a" and "2014b", in the list
and in the citations alike.

Loaded by Jupyter Book through `sphinx.local_extensions` in _config.yml.
"""
from __future__ import annotations

import re
import string
from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

# The year as the .bib file gives it, without a suffix added by an earlier pass of this style.
_YEAR = re.compile(r"^(.*?\d{4})[a-z]?$")


def _year(entry) -> str:
    year = entry.fields.get("year", "n.d.")
    match = _YEAR.match(year)
    return match.group(1) if match else year


def _surname(person) -> str:
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


def authors(entry) -> str:
    """"Elman", "Hochreiter and Schmidhuber", "Pascanu et al." (as the citations name them)."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in persons]
    if not names:
        return entry.key
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels "Authors, year"; equal labels get a letter, which also goes into the year field,
    so that the citations ("Cho et al. [2014a]") and the list agree."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [f"{authors(e)}, {_year(e)}" for e in entries]
        count, seen = Counter(labels), Counter()
        for entry, label in zip(entries, labels):
            suffix = ""
            if count[label] > 1:
                suffix = string.ascii_lowercase[seen[label]]
                seen[label] += 1
            entry.fields["year"] = _year(entry) + suffix
            yield label + suffix


class AuthorYearStyle(PlainStyle):
    """pybtex's plain style (sorted by author, year, title), labelled by author and year."""

    default_label_style = AuthorYearLabelStyle


def setup(app):
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
