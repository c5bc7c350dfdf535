"""Shared helpers for the book tests (test_book.py, test_browser.py): building the site once per
session, reading _toc.yml, and parsing the built HTML without a browser.

The fixtures live here rather than in conftest.py so the test files can import them explicitly:
    from book_fixtures import built_book
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML_DIR = ROOT / "_build" / "html"
BOOK_TITLE = "From RNNs to Vision Transformers"
# The flags of `make book` (JB_FLAGS in the Makefile). The tests add --all: a fresh Sphinx
# environment re-reads every page, so a warning in a page unchanged since the last build is
# reported again instead of being hidden by the incremental build.
JB_FLAGS = ["--builder", "html", "-n", "-W", "--keep-going"]
BUILD_TIMEOUT_S = 600


@dataclass
class Build:
    returncode: int
    output: str          # stdout and stderr together
    seconds: float
    html_dir: Path = HTML_DIR

    def warnings(self) -> list[str]:
        return [line for line in self.output.splitlines() if "WARNING" in line or "ERROR" in line]


def jupyter_book_command() -> list[str]:
    """The jupyter-book of the interpreter running the tests (the venv's, under `make test`)."""
    exe = Path(sys.executable).parent / "jupyter-book"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-m", "jupyter_book"]


def _build() -> Build:
    cmd = [*jupyter_book_command(), "build", str(ROOT), *JB_FLAGS, "--all"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    return Build(proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start)


@functools.lru_cache(maxsize=None)
def build_book() -> Build:
    """Build the site into _build/html, once per test session (later calls reuse the result).

    Under pytest-xdist (`make test` runs two workers) the workers of one run share one build:
    two builds into the same _build would overwrite each other's files. The first worker to
    ask builds under a file lock and writes the result next to the lock; the others wait for
    the lock, then read it."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return _build()
    from filelock import FileLock            # a dependency of torch, so always installed
    stem = Path(tempfile.gettempdir()) / (
        "attention-course-book-" + hashlib.sha256(str(ROOT).encode()).hexdigest()[:12])
    record = stem.with_suffix(".json")
    with FileLock(str(stem.with_suffix(".lock"))):
        if record.exists():
            saved = json.loads(record.read_text())
            if saved.pop("run") == run:
                return Build(**saved)
        build = _build()
        record.write_text(json.dumps({"run": run, "returncode": build.returncode,
                                      "output": build.output, "seconds": build.seconds}))
        return build


def book_was_built_this_session() -> bool:
    return build_book.cache_info().currsize > 0


@pytest.fixture(scope="session")
def built_book() -> Build:
    """The session's build of the book (see build_book)."""
    return build_book()


def site_is_stale() -> bool:
    """True when _build/html is missing or older than a file the book is built from."""
    built = HTML_DIR / "intro.html"
    if not built.exists():
        return True
    sources = [ROOT / name for name in ("_config.yml", "_toc.yml", "references.bib", "CONTRIBUTING.md")]
    for doc in toc_files():
        try:
            sources.append(source_of(doc))
        except FileNotFoundError:
            return True
    for folder in ("_static", "_vendor"):
        sources += [p for p in (ROOT / folder).rglob("*") if p.is_file()]
    newest = max(p.stat().st_mtime for p in sources if p.exists())
    return newest > built.stat().st_mtime


def ensure_site() -> Path:
    """_build/html, built first (once per session) if it is missing or out of date."""
    if not book_was_built_this_session() and site_is_stale():
        build = build_book()
        if not (HTML_DIR / "intro.html").exists():
            pytest.fail(f"the book did not build (exit {build.returncode}):\n{build.output[-3000:]}")
    return HTML_DIR


# --- the table of contents -------------------------------------------------------------------

def toc_files() -> list[str]:
    """Every document of _toc.yml (without suffix), root first, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def chapter_docs() -> list[str]:
    """The chapter notebooks present in book/, as docnames (book/NN_topic)."""
    return [f"book/{p.stem}" for p in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))]


def exercise_docs() -> list[str]:
    """The student exercise notebooks present in exercises/, as docnames."""
    return [p.relative_to(ROOT).with_suffix("").as_posix()
            for p in sorted((ROOT / "exercises").glob("*/*.ipynb"))
            if ".ipynb_checkpoints" not in p.parts]


def source_of(docname: str) -> Path:
    for suffix in (".ipynb", ".md"):
        if (ROOT / (docname + suffix)).exists():
            return ROOT / (docname + suffix)
    raise FileNotFoundError(docname)


def page_of(docname: str) -> Path:
    return HTML_DIR / f"{docname}.html"


# --- what the sources say --------------------------------------------------------------------

CITE_RE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def cited_keys(path: Path) -> set[str]:
    """Keys cited with {cite}`a,b` (any cite role) in a notebook's markdown cells or a .md page."""
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    return {key.strip() for group in CITE_RE.findall(text) for key in group.split(",") if key.strip()}


def bib_keys() -> set[str]:
    text = (ROOT / "references.bib").read_text(encoding="utf-8")
    return set(re.findall(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", text, flags=re.M))


def make_id(key: str) -> str:
    """The HTML id docutils gives `cite-<key>` (lower case, runs of other characters -> '-')."""
    return re.sub(r"[^a-z0-9]+", "-", f"cite-{key}".lower()).strip("-")


def stored_png_outputs(notebook: Path) -> int:
    """How many PNG outputs a notebook's code cells show in the book (removed cells excepted)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    count = 0
    for cell in nb["cells"]:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] != "code" or tags & {"remove-output", "remove-cell"}:
            continue
        count += sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    return count


# --- the built HTML --------------------------------------------------------------------------

@dataclass
class Page:
    """The ids and the outgoing references (tag, attribute, url) of one HTML page."""
    path: Path
    ids: set[str] = field(default_factory=set)
    refs: list[tuple[str, str, str]] = field(default_factory=list)
    imgs: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)  # what the page loads: scripts, styles, images
    has_math: bool = False


class _PageParser(HTMLParser):
    URL_ATTRS = {"href", "src"}

    def __init__(self, page: Page):
        super().__init__(convert_charrefs=True)
        self.page = page

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name"):
            if attrs.get(name) and (name == "id" or tag == "a"):
                self.page.ids.add(attrs[name])
        for name in self.URL_ATTRS:
            if attrs.get(name) is not None:
                self.page.refs.append((tag, name, attrs[name]))
        if tag == "img" and attrs.get("src"):
            self.page.imgs.append(attrs["src"])
        if tag == "script" and attrs.get("src"):
            self.page.scripts.append(attrs["src"])
        if tag in ("script", "img", "source", "iframe") and attrs.get("src"):
            self.page.assets.append(attrs["src"])
        if tag == "link" and attrs.get("href") and set((attrs.get("rel") or "").split()) & {
                "stylesheet", "preload", "modulepreload", "icon"}:
            self.page.assets.append(attrs["href"])
        if "math" in (attrs.get("class") or "").split():
            self.page.has_math = True

    handle_startendtag = handle_starttag


@functools.lru_cache(maxsize=None)
def _parse(path: Path, mtime: float) -> Page:
    page = Page(path)
    _PageParser(page).feed(path.read_text(encoding="utf-8"))
    return page


def parse_page(path: Path) -> Page:
    return _parse(path, path.stat().st_mtime)


def is_internal(url: str) -> bool:
    parts = urlsplit(url)
    return not (parts.scheme or parts.netloc or url.startswith(("#", "mailto:", "javascript:", "data:"))) \
        and bool(parts.path)


def resolve(page: Path, url: str) -> tuple[Path, str]:
    """The file a relative URL on `page` points to, and its fragment ('' if none)."""
    parts = urlsplit(url)
    target = (page.parent / unquote(parts.path)).resolve()
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)
