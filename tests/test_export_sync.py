"""One source of truth: the generated package modules equal the #@save cells of book/."""
import importlib
import json
import subprocess
import sys

from attention_course.runtime import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import export_package  # noqa: E402


def test_generated_modules_match_the_notebooks():
    wanted = export_package.generated_files()
    assert wanted, "no #@save cells found in book/*.ipynb"
    drift = [str(p.relative_to(ROOT)) for p, text in wanted.items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    stale = [str(p.relative_to(ROOT)) for p in export_package.stale_files(wanted)]
    assert not drift and not stale, (
        f"out of date: {drift}, stale: {stale}. The package is generated from the notebooks: "
        "run `make export` (and never edit the generated modules by hand).")


def test_every_generated_module_imports():
    for path in export_package.generated_files():
        importlib.import_module(f"attention_course.{path.stem}")


def test_check_mode_fails_on_a_hand_edit(tmp_path, monkeypatch):
    # Simulate a hand edit in a copy of the package and make sure --check notices it.
    pkg = tmp_path / "attention_course"
    pkg.mkdir()
    wanted = export_package.generated_files()
    for path, text in wanted.items():
        (pkg / path.name).write_text(text, encoding="utf-8")
    victim = pkg / next(iter(wanted)).name
    victim.write_text(victim.read_text() + "\n# a hand edit\n", encoding="utf-8")
    monkeypatch.setattr(export_package, "PACKAGE", pkg)
    monkeypatch.setattr(sys, "argv", ["export_package.py", "--check"])
    assert export_package.main() == 1


def test_marker_outside_first_line_is_not_exported():
    # Only the first line marks a cell, so prose that mentions #@save cannot export code by accident.
    for nb_path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(nb_path.read_text())["cells"]:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code" and "#@save" in src:
                assert src.lstrip().startswith("#@save"), f"{nb_path.name}: '#@save' must be a cell's first line"
