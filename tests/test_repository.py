"""One place for the repository and the version (tools/set_repository.py).

pyproject.toml holds the public repository's URL, its branch and the version; every
link, launch button, badge and install cell is written from there. These tests fail while
any page points at a placeholder or at another repository or version, and check that the
tool moves everything to a new repository without touching anything else.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import install_cell  # noqa: E402
import set_repository as tool  # noqa: E402

NEW = "https://github.com/someone-else/rnn-course"
CHAPTER = "book/01_rnn.ipynb"
SOLUTION = "solutions/01_rnn/01_rnn.ipynb"


def test_every_page_and_notebook_points_at_the_configured_repository():
    found = tool.problems(ROOT)
    assert not found, ("pages point elsewhere than pyproject.toml says; run "
                       "`make repository`:\n  " + "\n  ".join(found))


def test_the_configuration_is_read_from_pyproject():
    c = tool.course(ROOT)
    assert c.url == install_cell.repository_url(ROOT)
    assert c.version == install_cell.version(ROOT)
    assert f"git+{c.url}@v{c.version}" in install_cell.default_requirement(ROOT)


def test_the_pages_cover_readme_intro_config_binder_and_changelog():
    rels = {p.relative_to(ROOT).as_posix() for p in tool.pages(ROOT)}
    assert {"README.md", "intro.md", "_config.yml", "pyproject.toml", "CHANGELOG.md",
            "binder/requirements.txt", "book/changelog.md"} <= rels
    notebooks = {p.relative_to(ROOT).parts[0] for p in tool.notebooks(ROOT)}
    assert notebooks == {"book", "solutions", "exercises"}


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of the pages and of one chapter and one exercise's solution."""
    for path in [*tool.pages(ROOT), ROOT / CHAPTER, ROOT / SOLUTION]:
        rel = path.relative_to(ROOT)
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, tmp_path / rel)
    return tmp_path


def test_the_check_finds_placeholders_other_repositories_and_versions(tree):
    readme = tree / "README.md"
    readme.write_text(readme.read_text() + "\n".join([
        "", "See https://github.com/OWNER/REPO for the code.",
        "Fork https://github.com/old-org/old-course/blob/main/x.md",
        "The site https://old-org.github.io/old-course/ and the tag v9.9.9.",
        "[bubblewrap](https://github.com/containers/bubblewrap): another project.",
        ""]))
    changelog = tree / "CHANGELOG.md"
    changelog.write_text(changelog.read_text() + "\n## [0.0.1] - 2020-01-01\n")
    found = "\n".join(tool.problems(tree))
    assert "a placeholder ('OWNER/REPO')" in found
    assert "the repository old-org/old-course" in found
    assert "the site old-org.github.io/old-course" in found
    assert "version 9.9.9" in found
    assert "bubblewrap" not in found and "CHANGELOG" not in found, found


def test_set_repository_moves_every_page_and_install_cell(tree, capsys):
    before = nbformat.read(tree / CHAPTER, as_version=4)
    tool.configure(tree, NEW, "0.2.0", "trunk")
    changed = tool.write_all(tree, do_release=False)
    assert {"README.md", "intro.md", "_config.yml", "pyproject.toml", CHAPTER,
            SOLUTION} <= set(changed)
    assert tool.problems(tree) == []
    c = tool.course(tree)
    assert (c.url, c.version, c.branch) == (NEW, "0.2.0", "trunk")
    config = (tree / "_config.yml").read_text()
    assert f"  url: {NEW}\n" in config and "  branch: trunk\n" in config
    readme = (tree / "README.md").read_text()
    assert f"git+{NEW}@v0.2.0" in readme and "attention-course/attention" not in readme
    assert "someone-else.github.io/rnn-course" in readme
    assert "mybinder.org/v2/gh/someone-else/rnn-course/trunk" in readme
    assert "github.com/containers/bubblewrap" in readme        # another project's link
    assert f'Repository = "{NEW}"' in (tree / "pyproject.toml").read_text()
    # A chapter changes in its install cell's source only: its outputs stay for nbval.
    after = nbformat.read(tree / CHAPTER, as_version=4)
    assert len(after.cells) == len(before.cells)
    for old, new in zip(before.cells, after.cells):
        if install_cell.TAG in old.metadata.get("tags", []):
            assert f"git+{NEW}@v0.2.0" in new.source and new.metadata == old.metadata
        else:
            assert new == old
    assert tool.write_all(tree, do_release=False) == []         # nothing left to do
    capsys.readouterr()


@pytest.mark.parametrize("url, why", [
    ("https://github.com/OWNER/REPO", "placeholder"),
    ("https://gitlab.com/someone/course", "not a GitHub repository URL"),
    ("https://github.com/someone", "not a GitHub repository URL"),
])
def test_refuses_a_placeholder_or_a_url_that_is_not_a_github_repository(tree, url, why):
    with pytest.raises(tool.Refused, match=why):
        tool.configure(tree, url, None, None)


def test_refuses_a_version_that_is_not_major_minor_patch(tree):
    with pytest.raises(tool.Refused, match="MAJOR.MINOR.PATCH"):
        tool.configure(tree, None, "v0.2", None)
    assert tool.course(tree).version == tool.course(ROOT).version   # nothing written


def test_check_mode_exits_1_and_names_the_page(tree, monkeypatch, capsys):
    monkeypatch.setattr(tool, "ROOT", tree)
    (tree / "intro.md").write_text("[code](https://github.com/old-org/old-course)\n")
    assert tool.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "intro.md:1: links to the repository old-org/old-course" in err
    assert "make repository" in err
