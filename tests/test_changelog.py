"""CHANGELOG.md and its page on the site, "Changes and errata" (book/changelog.md).

Every release updates CHANGELOG.md: the version in pyproject.toml, the one the install
cells install, must have its section, and the site must show the file.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import set_repository  # noqa: E402

CHANGELOG = ROOT / "CHANGELOG.md"
PAGE = ROOT / "book" / "changelog.md"
SECTION = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\S+))?[ \t]*$", re.M)


def sections() -> dict[str, str | None]:
    return {m["version"]: m["date"] for m in SECTION.finditer(CHANGELOG.read_text())}


def toc_files(node) -> list[str]:
    if isinstance(node, dict):
        return ([node["file"]] if "file" in node else []) + [
            f for value in node.values() for f in toc_files(value)]
    if isinstance(node, list):
        return [f for value in node for f in toc_files(value)]
    return []


def test_the_changelog_page_is_in_the_reference_part_of_the_toc():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    reference, = [p for p in toc["parts"] if p["caption"] == "Reference"]
    assert "book/changelog" in toc_files(reference), (
        "_toc.yml: list book/changelog under the Reference part")


def test_the_page_includes_the_changelog():
    text = PAGE.read_text()
    assert re.search(r"^```\{include\} \.\./CHANGELOG\.md$", text, re.M), (
        f"{PAGE.relative_to(ROOT)} must include ../CHANGELOG.md with a MyST include")
    after = re.search(r':start-after: "([^"]+)"', text)
    assert after and after[1] in CHANGELOG.read_text(), (
        "the include's :start-after: marker is not in CHANGELOG.md")


def test_the_configured_version_has_a_dated_entry():
    version = set_repository.course(ROOT).version
    found = sections()
    assert version in found, (
        f"CHANGELOG.md has no section '## [{version}] - YYYY-MM-DD' for the version in "
        f"pyproject.toml: every release updates CHANGELOG.md (found {sorted(found)})")
    assert found[version] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", found[version]), (
        f"CHANGELOG.md: the section of {version} needs a date "
        f"(## [{version}] - YYYY-MM-DD)")


def test_keep_a_changelog_shape():
    text = CHANGELOG.read_text()
    found = list(sections())
    assert found[0] == "Unreleased", "the first section is [Unreleased]"
    for version in found:
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.M), (
            f"CHANGELOG.md: no link definition '[{version}]: ...' at the bottom")
    headings = set(re.findall(r"^### (.+)$", text, re.M))
    allowed = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security",
               "Errata"}
    assert headings <= allowed, f"unexpected subsections: {sorted(headings - allowed)}"
