"""The install cell (tools/install_cell.py) in every chapter and exercise, and what it does.

Fast (JSON and one exec, no kernel, no network). Running the cell for real in a fresh
environment without the package is part of tests/test_wheel.py (`make test-wheel`).
"""
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import install_cell  # noqa: E402

NOTEBOOKS = install_cell.notebooks(ROOT)


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_every_chapter_and_exercise_is_covered():
    names = {_name(p) for p in NOTEBOOKS}
    for folder in ("book", "solutions", "exercises"):
        assert any(n.startswith(folder + "/") for n in names), folder
    assert {p.stem for p in ROOT.glob("book/*.ipynb")} == {p.stem for p in ROOT.glob("exercises/*/*.ipynb")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_the_first_code_cell_is_the_current_install_cell(path):
    why = install_cell.problem(nbformat.read(path, as_version=4), install_cell.cell_source())
    assert why is None, (f"{_name(path)} {why}: run `python tools/install_cell.py --write` on it "
                         "(for exercises/: on solutions/, then `make release`)")


def test_the_cell_takes_url_and_version_from_pyproject(tmp_path):
    # pyproject.toml is the one place of both (tools/set_repository.py writes the rest).
    pyproject = (ROOT / "pyproject.toml").read_text().replace(
        install_cell.repository_url(ROOT), "https://example.org/fork/course")
    (tmp_path / "pyproject.toml").write_text(pyproject)
    requirement = install_cell.default_requirement(tmp_path)
    version = install_cell.version(tmp_path)
    fork = "git+https://example.org/fork/course"
    assert requirement == f"attention_course @ {fork}@v{version}"
    source = install_cell.cell_source(requirement)
    assert f'"{fork}@v' in source
    # _config.yml no longer decides: the launch buttons follow pyproject.toml too.
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://other.org/x\n")
    assert install_cell.default_requirement(tmp_path) == requirement
    (tmp_path / "pyproject.toml").write_text(
        pyproject.split("[tool.attention_course]")[0])
    with pytest.raises(install_cell.Refused,
                       match=r"\[tool.attention_course\] repository"):
        install_cell.repository_url(tmp_path)


def _tool(capsys, *args) -> tuple[int, str, str]:
    code = install_cell.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_write_is_idempotent_and_check_catches_drift(tmp_path, capsys):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                         nbformat.v4.new_code_cell("import torch")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    code, _, err = _tool(capsys, "--check", path)
    assert code == 1 and "has no install cell" in err
    assert _tool(capsys, "--write", path)[0] == 0
    written = path.read_text()
    cells = json.loads(written)["cells"]
    assert [c["cell_type"] for c in cells] == ["markdown", "code", "code"]   # after the title
    assert cells[1]["metadata"]["tags"] == ["course-install", "remove-cell"] and cells[1]["outputs"] == []
    assert _tool(capsys, "--write", path) == (0, "", "") and path.read_text() == written
    assert _tool(capsys, "--check", path) == (0, "", "")
    stale = nbformat.read(path, as_version=4)
    stale.cells[1].source = stale.cells[1].source.replace("@v", "@v9")
    nbformat.write(stale, path)
    code, _, err = _tool(capsys, "--check", path)
    assert code == 1 and "differs" in err
    assert _tool(capsys, "--write", path)[0] == 0 and path.read_text() == written
    code, _, err = _tool(capsys, "--check", tmp_path / "nope.ipynb")
    assert code == 2 and "not a notebook file" in err


def _run_cell(monkeypatch, found: bool) -> list:
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append((args, kw)))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real(name, *a) if found else None)
                        if name == "attention_course" else real(name, *a))
    exec(install_cell.cell_source(), {"__name__": "__main__"})
    return calls


def test_the_cell_does_nothing_where_the_package_is_present(monkeypatch, capsys):
    assert _run_cell(monkeypatch, found=True) == []
    assert capsys.readouterr() == ("", "")


def test_the_cell_installs_the_pinned_package_quietly_where_it_is_missing(monkeypatch):
    (args, kwargs), = _run_cell(monkeypatch, found=False)
    assert args == [sys.executable, "-m", "pip", "install", "--quiet",
                    install_cell.default_requirement(ROOT)]
    assert kwargs == {"check": True}
