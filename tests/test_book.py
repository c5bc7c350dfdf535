"""The Jupyter Book site: it builds without a single warning, and the built HTML is whole.

Builds into the normal _build/html (the same command and flags as `make book`, plus --all),
once per session; the checks then read the HTML files directly, without a browser.
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from book_fixtures import (  # noqa: F401  (built_book is a fixture)
    BOOK_TITLE, HTML_DIR, ROOT, bib_keys, built_book, chapter_docs, cited_keys, exercise_docs,
    is_internal, make_id, page_of, parse_page, resolve, source_of, stored_png_outputs, toc_files,
)

MATHJAX_DIR = ROOT / "_vendor" / "_static" / "mathjax"
MATHJAX_SCRIPT = "_static/mathjax/tex-chtml-full.js"
# An equation as Sphinx writes it into a page: <span class="math ...">\(TeX\)</span> (or a div).
MATH_HTML = re.compile(r'<(span|div) class="math[^"]*">(.*?)</\1>', flags=re.S)
# TeX a reader should not meet in search results: a command (\frac) or a delimiter (\( \[ $).
RAW_TEX = re.compile(r"\\(?:[A-Za-z]{2,}|[()\[\]])|\$")


def built_pages() -> list[Path]:
    """The HTML pages of the site (_static/ also holds theme templates named *.html)."""
    return sorted(p for p in HTML_DIR.rglob("*.html")
                  if p.relative_to(HTML_DIR).parts[0] not in ("_static", "_sources"))


@pytest.fixture(scope="module")
def site(built_book):
    """_build/html after this session's build; the checks below need the build to have run."""
    assert (HTML_DIR / "intro.html").exists(), f"no site was built:\n{built_book.output[-3000:]}"
    return HTML_DIR


@pytest.mark.slow
def test_build_is_clean(built_book):
    assert built_book.returncode == 0, (
        f"jupyter-book build failed (exit {built_book.returncode}):\n{built_book.output[-5000:]}")
    assert "WARNING" not in built_book.output, (
        "the build printed warnings (they fail `make book`):\n" + "\n".join(built_book.warnings()))


@pytest.mark.slow
def test_internal_links_resolve(site):
    """Every relative href/src of every page names an existing file, and its #fragment an id."""
    broken = []
    for path in built_pages():
        page = parse_page(path)
        for tag, attr, url in page.refs:
            if url in ("", "#") or url.startswith(("#", "?")):
                fragment = url[1:] if url.startswith("#") else ""
                if fragment and fragment not in page.ids:
                    broken.append(f"{path.relative_to(site)}: <{tag} {attr}={url!r}> (no such id)")
                continue
            if not is_internal(url):
                continue
            target, fragment = resolve(path, url)
            where = f"{path.relative_to(site)}: <{tag} {attr}={url!r}>"
            if not target.is_file():
                broken.append(f"{where} -> missing file")
            elif fragment and target.suffix == ".html" and fragment not in parse_page(target).ids:
                broken.append(f"{where} -> no id {fragment!r} in {target.relative_to(site)}")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:50])


@pytest.mark.slow
def test_every_chapter_and_exercise_is_in_the_toc_and_built(site):
    toc = toc_files()
    chapters, exercises = chapter_docs(), exercise_docs()
    assert chapters, "no chapter notebook book/NN_topic.ipynb found"
    missing_from_toc = [doc for doc in chapters + exercises if doc not in toc]
    assert not missing_from_toc, f"add these to _toc.yml: {missing_from_toc}"
    for doc in toc:
        source_of(doc)  # raises if _toc.yml names a file that does not exist
        assert page_of(doc).is_file(), f"{doc} is in _toc.yml but {page_of(doc)} was not built"
    for expected in ("book/01_rnn", "exercises/01_rnn/01_rnn"):
        assert page_of(expected).is_file(), f"{expected} is not in the built site"


@pytest.mark.slow
def test_pages_have_titles(site):
    for doc in toc_files():
        html = page_of(doc).read_text(encoding="utf-8")
        title = re.search(r"<title>(.*?)</title>", html, flags=re.S).group(1)
        assert BOOK_TITLE in title and "&lt;no title&gt;" not in title, f"{doc}: title {title!r}"
        assert "<h1" in html, f"{doc} has no top-level heading"


@pytest.mark.slow
def test_chapter_figures_are_built(site):
    """Each stored PNG output of a chapter appears on its page, and the image file is a PNG."""
    for doc in chapter_docs():
        page = parse_page(page_of(doc))
        images = [src for src in page.imgs if "/_images/" in "/" + src or src.startswith("_images/")]
        expected = stored_png_outputs(source_of(doc))
        assert len(images) >= expected, f"{doc}: {expected} PNG outputs stored, {len(images)} shown"
        for src in images:
            target, _ = resolve(page.path, src)
            assert target.is_file(), f"{doc}: image {src} is missing"
            if target.suffix == ".png":
                assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{doc}: {src} is not a PNG"


@pytest.mark.slow
def test_bibliography_lists_the_cited_papers(site):
    references = parse_page(page_of("book/references"))
    cited = set()
    for doc in toc_files():
        cited |= cited_keys(source_of(doc))
    unknown = cited - bib_keys()
    assert not unknown, f"cited but not in references.bib: {sorted(unknown)}"
    missing = [key for key in sorted(cited) if make_id(key) not in references.ids]
    assert not missing, f"cited but not listed on the references page: {missing}"
    # the chapters do cite (every chapter ends with its citations)
    for doc in chapter_docs():
        html = page_of(doc).read_text(encoding="utf-8")
        if cited_keys(source_of(doc)):
            assert "references.html#cite-" in html, f"{doc}: its citations do not link to the references"


@pytest.mark.slow
def test_conventions_page_shows_the_vocabulary(site):
    """book/conventions.md includes CONTRIBUTING.md's naming table: every name of it is shown."""
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = contributing.split("## Naming vocabulary", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\| `([^`]+)`", section, flags=re.M)
    assert len(names) >= 10, "the naming table of CONTRIBUTING.md was not found"
    html = page_of("book/conventions").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    assert not [n for n in names if n not in text], "names missing from the conventions page"


@pytest.mark.slow
def test_notebook_pages_have_launch_and_download_buttons(site):
    """Chapters and exercises link to Colab, Binder, the repository, and their .ipynb download."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].removeprefix("https://github.com/").rstrip("/")
    branch = config["repository"]["branch"]
    for doc in chapter_docs() + exercise_docs():
        html = page_of(doc).read_text(encoding="utf-8")
        colab = f"colab.research.google.com/github/{repo}/blob/{branch}/{doc}.ipynb"
        binder = f"mybinder.org/v2/gh/{repo}/{branch}?urlpath=lab/tree/{doc}.ipynb"
        assert colab in html, f"{doc}: no Colab launch link"
        assert binder in html, f"{doc}: no Binder launch link"
        depth = "../" * doc.count("/")
        assert f'href="{depth}_sources/{doc}.ipynb"' in html, f"{doc}: no download link"
        assert f'href="https://github.com/{repo}"' in html, f"{doc}: no repository link"


@pytest.mark.slow
def test_math_uses_the_vendored_mathjax_only(site):
    """Pages with math load MathJax once, from the site itself; no page loads anything remote.

    (Sphinx also loads MathJax on a page whose toctree children have math, e.g. the home page.)
    """
    math_pages = 0
    for path in built_pages():
        page = parse_page(path)
        remote = [src for src in page.assets if not is_internal(src)]
        assert not remote, f"{path.relative_to(site)} loads files from elsewhere: {remote}"
        mathjax = [src for src in page.scripts if "mathjax" in src.lower()]
        if page.has_math:
            math_pages += 1
            assert mathjax, f"{path.relative_to(site)} has math but does not load MathJax"
        assert len(mathjax) <= 1, (path, mathjax)
        for src in mathjax:
            assert MATHJAX_SCRIPT in src and resolve(path, src)[0].is_file(), (path, src)
    assert math_pages, "no built page contains math"
    fonts = site / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("*.woff"))) >= 20, "MathJax's fonts were not copied into the site"


def test_vendored_mathjax_matches_its_checksums():
    lines = (MATHJAX_DIR / "SHA256SUMS").read_text().split("\n")
    entries = [line.split(None, 1) for line in lines if line.strip()]
    assert any(name.strip() == "tex-chtml-full.js" for _, name in entries)
    for digest, name in entries:
        data = (MATHJAX_DIR / name.strip()).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{name} differs from SHA256SUMS"
    assert (MATHJAX_DIR / "LICENSE").read_text().lstrip().startswith("Apache License")


@pytest.mark.slow
def test_pages_have_one_menu_button_and_no_top_navbar(site):
    """pydata-sphinx-theme's top navbar stays empty (navbar_persistent: [] in _config.yml).
    Filled, it brought a second search field and a second, hidden pair of sidebar toggles
    ahead of the book theme's; the themes' scripts bind only the first toggle of a page, so
    the visible menu button did nothing and phones could not open the table of contents."""
    for doc in toc_files():
        page = page_of(doc).read_text(encoding="utf-8")
        header = re.search(r'<header id="pst-header"[^>]*>(.*?)</header>', page, flags=re.S)
        assert header is None or not header.group(1).strip(), f"{doc}: the top navbar has content"
        primary = re.findall(r'class="[^"]*\bprimary-toggle\b', page)
        secondary = re.findall(r'class="[^"]*\bsecondary-toggle\b', page)
        assert len(primary) == 1, f"{doc}: {len(primary)} primary sidebar toggles (expected one)"
        assert len(secondary) <= 1, f"{doc}: {len(secondary)} secondary sidebar toggles"


def search_index() -> dict:
    """searchindex.js: Search.setIndex({...}), the index Sphinx's search page loads."""
    text = (HTML_DIR / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


@pytest.mark.slow
def test_search_index_has_no_raw_tex(site):
    """The search index holds the equations as plain text (tools/search_plain_math.py): no
    section title with TeX in it, and no TeX command as a searchable word of a page whose
    equations use it; the search page loads the script that does the same for snippets."""
    from sphinx.search.en import SearchEnglish

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from search_plain_math import plain_math
    finally:
        sys.path.remove(str(ROOT / "tools"))
    index = search_index()
    doc = "book/05_self_attention"
    docindex = index["docnames"].index(doc)
    article = page_of(doc).read_text(encoding="utf-8").split("<article", 1)[1]
    equations = [html.unescape(tex) for _, tex in MATH_HTML.findall(article)]
    commands = {name.lower() for tex in equations for name in re.findall(r"\\([A-Za-z]{2,})", tex)}
    # searchable: the words of the page outside its equations (prose, code), and those a
    # reader sees in the equations' plain text (\exp -> "exp", \text{mask} -> "mask")
    text = html.unescape(re.sub(r"<[^>]+>", " ", MATH_HTML.sub(" ", article)))
    text += " " + " ".join(plain_math(tex) for tex in equations)
    words = {word.lower() for word in re.findall(r"\w+", text)}
    stem = SearchEnglish({}).stem  # the index holds stems: "times" is found as "time"
    stems = {stem(word).lower() for word in words}
    tex_only = {c for c in commands if c not in words and stem(c).lower() not in stems}
    assert {"frac", "mathbb", "operatorname"} <= tex_only, f"{doc}: TeX commands {sorted(tex_only)}"

    def pages_of(entry) -> set[int]:
        return {entry} if isinstance(entry, int) else set(entry)

    leaked = sorted(command for command in tex_only for word in {command, stem(command).lower()}
                    for table in ("terms", "titleterms")
                    if docindex in pages_of(index[table].get(word, [])))
    assert not leaked, f"TeX commands indexed as words of {doc}: {leaked}"
    titles = list(index["alltitles"]) + index["titles"]
    assert not [t for t in titles if RAW_TEX.search(t)], \
        f"titles with raw TeX: {[t for t in titles if RAW_TEX.search(t)]}"
    assert "Why divide by √d_k" in index["alltitles"], "a title with an equation is not plain text"

    search_page = (site / "search.html").read_text(encoding="utf-8")
    assert re.search(r'<script src="_static/search_plain_math\.js(\?v=\w+)?"></script>', search_page), \
        "search.html does not load _static/search_plain_math.js"
    script = (site / "_static" / "search_plain_math.js").read_text(encoding="utf-8")
    assert "Search.htmlToText" in script and "PLAIN_MATH_RULES" in script
