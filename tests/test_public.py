"""Nothing secret leaks into the public tree that `make public` (tools/make_public.py) writes.

The secrets are read at run time from the graded notebooks in solutions/ (with nbformat): the
lines between `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`, and the solution bodies between
`### BEGIN SOLUTION` / `### END SOLUTION` (a solution cell without markers is a solution as a
whole). A line is *distinctive* when, stripped, it has at least MIN_CHARS characters, is not a
comment, and appears in neither the released student notebooks (exercises/) nor the book's own
sources (a chapter legitimately prints some of the same code). No distinctive line may appear in
any text file of the public tree: notebooks are searched in their sources and outputs, HTML
without its tags and with its entities decoded, and whitespace runs count as one space.

The fast tests write the tree without the real site (a one-page fake one), so they take seconds;
the slow test searches the real built site in _build/html when there is one.
"""
from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "make_public.py"
MIN_CHARS = 12
MARKER_LINE = re.compile(r"^[ \t]*#+[ \t]*(BEGIN|END)[ \t]+(SOLUTION|HIDDEN TESTS)\b", re.M)
TAG = re.compile(r"<[^>]*>")
NEVER = {"solutions", "tests", "submitted", "autograded", "feedback", "gradebook.db", "grades.csv",
         "nbgrader_config.py", ".git", ".venv", "__pycache__"}
SITE_SUFFIXES = {".html", ".ipynb", ".txt", ".js", ".json"}


def norm(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------------------------------------
# What is secret
# ------------------------------------------------------------------------------------------------
def regions(source: str, begin: str, end: str) -> list[str]:
    """The lines strictly between each `begin` marker line and the next `end` marker line."""
    found, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            found.append(line)
    return found


def secret_lines() -> dict[str, list[tuple[str, str]]]:
    """{"hidden test" | "solution": [(notebook, line), ...]} from every solutions/*/*.ipynb."""
    found = {"hidden test": [], "solution": []}
    for path in sorted(ROOT.glob("solutions/*/*.ipynb")):
        name = path.relative_to(ROOT).as_posix()
        for cell in nbformat.read(path, as_version=4).cells:
            found["hidden test"] += [(name, l) for l in regions(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")]
            if "BEGIN SOLUTION" in cell.source:
                found["solution"] += [(name, l) for l in regions(cell.source, "BEGIN SOLUTION", "END SOLUTION")]
            elif cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                found["solution"] += [(name, l) for l in cell.source.splitlines()]   # the whole cell
    return found


def public_sources() -> str:
    """The sources of the student notebooks and of the book, whitespace runs made one space."""
    texts = []
    notebooks = sorted(ROOT.glob("exercises/*/*.ipynb")) + sorted(ROOT.glob("book/*.ipynb"))
    for path in notebooks:
        texts += [cell.source for cell in nbformat.read(path, as_version=4).cells]
    texts += [path.read_text() for path in sorted(ROOT.glob("book/*.md")) + [ROOT / "intro.md"]]
    return norm("\n".join(texts))


def distinctive(line: str, known: str) -> bool:
    """At least MIN_CHARS characters, not a comment, and nowhere in `known` (public_sources())."""
    text = norm(line)
    return len(text) >= MIN_CHARS and not text.startswith("#") and text not in known


@pytest.fixture(scope="module")
def secrets() -> list[tuple[str, str, str]]:
    """[(kind, notebook, normalised line)] for every distinctive secret line."""
    known = public_sources()
    found = {(kind, nb, norm(line)) for kind, lines in secret_lines().items()
             for nb, line in lines if distinctive(line, known)}
    return sorted(found)


# ------------------------------------------------------------------------------------------------
# Searching a tree
# ------------------------------------------------------------------------------------------------
def _strings(value, found: list) -> None:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            found.append("".join(value))
        else:
            for v in value:
                _strings(v, found)
    elif isinstance(value, dict):
        for key, v in value.items():
            if not key.startswith("image/"):
                _strings(v, found)


def text_of(path: Path) -> str | None:
    """What a reader sees in `path`, or None when it is not a text file."""
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix in (".ipynb", ".json"):
        try:
            strings: list[str] = []
            _strings(json.loads(text), strings)
            return "\n".join(strings)
        except ValueError:
            return text
    if path.suffix in (".html", ".htm"):
        return html.unescape(TAG.sub("", text))
    return text


def texts(tree: Path, suffixes: set[str] | None = None) -> dict[str, str]:
    """{relative path: text} of every text file in `tree` (only `suffixes` when given)."""
    found = {}
    for path in sorted(tree.rglob("*")):
        if path.is_file() and (suffixes is None or path.suffix in suffixes):
            text = text_of(path)
            if text is not None:
                found[path.relative_to(tree).as_posix()] = text
    return found


def leaks(files: dict[str, str], secrets) -> list[str]:
    flat = {name: norm(text) for name, text in files.items()}
    return [f"{name}: {kind} line of {nb}: {line!r}"
            for kind, nb, line in secrets for name, text in flat.items() if line in text]


def check_tree(files: dict[str, str], secrets) -> None:
    assert files, "no text file was searched"
    found = leaks(files, secrets)
    assert not found, f"{len(found)} secret line(s) in the public tree:\n" + "\n".join(found[:30])
    markers = [name for name, text in files.items() if MARKER_LINE.search(text)]
    assert not markers, f"nbgrader marker lines in: {markers}"
    notebooks = [name for name, text in files.items() if name.endswith(".ipynb")
                 and ("BEGIN SOLUTION" in text or "BEGIN HIDDEN TESTS" in text)]
    assert not notebooks, f"notebooks with nbgrader solution or hidden-test markers: {notebooks}"


# ------------------------------------------------------------------------------------------------
# The tests
# ------------------------------------------------------------------------------------------------
def make_public(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def fake_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text("<html><body><p>From RNNs to Vision Transformers</p></body></html>\n")
    return site


@pytest.fixture(scope="module")
def public(tmp_path_factory, fake_site) -> Path:
    out = tmp_path_factory.mktemp("out") / "public"
    done = make_public("--out", str(out), "--site", str(fake_site))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Wrote the public tree" in done.stdout
    return out


def test_the_search_finds_the_secrets_in_solutions(secrets):
    """Self-check: every distinctive line is found in solutions/ by the same search (so an empty
    or broken search cannot pass), and there are both hidden-test and solution lines."""
    kinds = {kind for kind, _, _ in secrets}
    assert kinds == {"hidden test", "solution"}, f"distinctive lines found only for {kinds}"
    found = set()
    for name, text in texts(ROOT / "solutions").items():
        flat = norm(text)
        found.update(s for s in secrets if s[2] in flat)
    missing = [s for s in secrets if s not in found]
    assert not missing, f"the search misses {len(missing)} line(s) of solutions/, e.g. {missing[:3]}"
    released = texts(ROOT / "exercises")
    assert not leaks(released, secrets), "exercises/ contains secret lines: run `make release`"


def test_public_tree_has_the_course_and_no_instructor_paths(public):
    for rel in ["book", "exercises", "attention_course/__init__.py", "data/SHA256SUMS", "checkpoints",
                "_config.yml", "_toc.yml", "intro.md", "Makefile", "README.md", "pyproject.toml",
                "setup.py", "MANIFEST.in", "binder/requirements.txt", "_build/html/index.html"]:
        assert (public / rel).exists(), f"{rel} is missing from the public tree"
    for path in sorted(ROOT.glob("exercises/*/*.ipynb")):
        assert (public / path.relative_to(ROOT)).is_file(), f"{path.relative_to(ROOT)} is missing"
    bad = [p.relative_to(public).as_posix() for p in public.rglob("*")
           if NEVER & set(p.relative_to(public).parts) or p.name.endswith(".pyc")]
    assert not bad, f"instructor-only paths in the public tree: {bad[:20]}"
    assert not (public / "tools" / "make_public.py").exists()
    assert not (public / "deploy").exists()      # the hub setup needs solutions/


def test_no_secret_line_in_the_public_tree(public, secrets):
    check_tree(texts(public), secrets)


def test_public_makefile_says_what_is_missing(public):
    done = subprocess.run(["make", "-s", "-C", str(public), "test"], capture_output=True, text=True)
    assert done.returncode != 0 and "not available in the public tree" in done.stderr, done.stderr
    helped = subprocess.run(["make", "-s", "-C", str(public), "help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "book" in helped.stdout, helped.stderr


def test_refuses_a_folder_that_is_not_a_public_tree(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = make_public("--out", str(tmp_path), "--no-site")
    assert done.returncode == 2 and "refused" in done.stderr, done.stdout + done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_rewrites_an_earlier_public_tree_and_keeps_its_git(tmp_path, fake_site):
    out = tmp_path / "public"
    assert make_public("--out", str(out), "--no-site").returncode == 0
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (out / "stale.txt").write_text("from an earlier run")
    done = make_public("--out", str(out), "--site", str(fake_site))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / ".git" / "HEAD").is_file() and not (out / "stale.txt").exists()
    assert (out / "_build" / "html" / "index.html").is_file()


@pytest.mark.slow
def test_no_secret_line_in_the_built_site(secrets):
    site = ROOT / "_build" / "html"
    if not (site / "index.html").is_file():
        pytest.skip("no built site in _build/html (run `make book`)")
    check_tree(texts(site, SITE_SUFFIXES), secrets)
