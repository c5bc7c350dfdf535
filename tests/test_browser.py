"""The built site in a real browser: headless Chromium, driven by Selenium, offline.

Serves _build/html on 127.0.0.1 (built first if missing or out of date) and checks what only a
browser shows: pages load, MathJax typesets the equations with its own fonts, figures decode,
the menu button opens the table of contents on a phone (390 px) and hides it on a desktop,
a page has exactly one visible search entry point and it searches, the search page finds the
LSTM chapter and shows equations in its results as plain text, not TeX, and every same-origin
link or file a visited page uses answers 200. On a phone (390 px) every page fits the
screen (only a box that scrolls sideways may hold something wider), no equation is cut
off, every figure has an alt text that says what it shows, a tap on a figure opens it at
full size, and the in-page contents drawer closes after a tap on one of its links
(_static/course.js and course.css).

Needs Debian's/Ubuntu's `chromium` and `chromium-driver` packages; skipped without them.
"""
from __future__ import annotations

import contextlib
import functools
import html
import http.server
import re
import shutil
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from book_fixtures import (
    BOOK_TITLE, ROOT, chapter_docs, ensure_site, exercise_docs, parse_page, page_of, toc_files,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

INSTALL_HINT = ("the browser test needs Chromium and its driver: on Debian/Ubuntu "
                "`sudo apt-get install chromium chromium-driver`")
CHROME_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1280,1600",
]
TIMEOUT_S = 20
# Console errors that are known, harmless and not ours: sphinx-thebe 0.3.1 registers its inline
# config script with filename None, Sphinx 7.4 re-adds it with filename '', so every page holds
# it twice and the second copy's `const` is a SyntaxError (the first copy has already set the
# same values; thebe itself is off).
KNOWN_CONSOLE_ERRORS = ("Identifier 'THEBE_JS_URL' has already been declared",)
# A phone's CSS viewport (390 x 844: iPhone 12 to 14), below the theme's 992 px breakpoint,
# where the primary sidebar (the table of contents) is hidden and the menu button opens it as
# a dialog.
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
WIDE_SCREEN_PX = 992
# What a reader can start a search from: the search fields and buttons of the theme (a button
# opens the search dialog), and any plain search input.
SEARCH_ENTRY_POINTS = '.search-button__button, input[type="search"], input[name="q"]'
# TeX that a reader should not see in the search results: a command (\frac, \text) or a math
# delimiter (\( \) \[ \] $).
RAW_TEX = re.compile(r"\\(?:[A-Za-z]{2,}|[()\[\]])|\$")


def find_program(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # the browser may drop a connection it no longer needs (a cancelled font or image load)
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def browser_programs() -> tuple[str, str]:
    """Paths of chromium and chromedriver; skips the module (before any build) without them."""
    pytest.importorskip("selenium.webdriver")
    chromium = find_program("chromium", "chromium-browser", "google-chrome")
    chromedriver = find_program("chromedriver", "/usr/lib/chromium/chromedriver")
    if not (chromium and chromedriver):
        pytest.skip(f"{INSTALL_HINT} (found chromium={chromium}, chromedriver={chromedriver})")
    return chromium, chromedriver


@pytest.fixture(scope="module")
def base_url(browser_programs):
    """_build/html served over HTTP on a free port of 127.0.0.1, in a background thread."""
    site = ensure_site()
    handler = functools.partial(QuietHandler, directory=str(site))
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def driver(browser_programs):
    """Headless Chromium through the system chromedriver (Selenium never downloads a driver)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_programs

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in CHROME_ARGS + [f"--user-data-dir={profile}"]:
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        browser.set_page_load_timeout(TIMEOUT_S)
        try:
            yield browser
        finally:
            browser.quit()


def wait_for(driver, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, TIMEOUT_S).until(lambda d: condition(d), message)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def console_errors(driver) -> list[str]:
    """SEVERE console messages since the last call (failed loads, script errors).

    A 404 for /favicon.ico is not one: index.html is a bare redirect page without the site's
    icon link, and Chromium may ask for /favicon.ico while it redirects.
    """
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]
            and not any(known in entry["message"] for known in KNOWN_CONSOLE_ERRORS)]


def open_page(driver, url: str):
    """Load a page, wait for it to be complete, and fail on a 404 or a missing title."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete",
             f"{url} did not finish loading")
    assert BOOK_TITLE in driver.title, f"{url}: unexpected title {driver.title!r} (a 404?)"
    assert driver.find_elements("css selector", "article h1, main h1"), f"{url}: no heading"


@contextlib.contextmanager
def phone_viewport(driver):
    """Emulate a phone's screen (PHONE) until the block ends, then the desktop window again."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def visible(driver, selector: str) -> list:
    return [e for e in driver.find_elements("css selector", selector) if e.is_displayed()]


def reachable(driver, element) -> bool:
    """The element is on screen and a click at its centre lands on it (nothing covers it)."""
    return driver.execute_script("""
        const e = arguments[0], r = e.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        if (!(r.width > 0 && r.height > 0 && x >= 0 && y >= 0
              && x <= innerWidth && y <= innerHeight)) return false;
        const hit = document.elementFromPoint(x, y);
        return Boolean(hit && (hit === e || e.contains(hit)));""", element)


def toc_link(driver, base_url: str, doc: str):
    """The table-of-contents link (in the primary sidebar) to a document, or None."""
    for link in driver.find_elements("css selector", "nav.bd-docs-nav a.reference"):
        if link.get_attribute("href") == f"{base_url}{doc}.html":
            return link
    return None


def assert_images_load(driver, url: str):
    """Every <img> of the page decodes to a real picture (naturalWidth > 0)."""
    driver.execute_script("document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });")
    wait_for(driver, lambda d: d.execute_script(
        "return Array.from(document.images).every(i => i.complete);"), f"{url}: images still loading")
    broken = driver.execute_script(
        "return Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src);")
    assert not broken, f"{url}: images that did not load: {broken}"


def same_origin_urls(driver, base_url: str) -> set[str]:
    """Links, scripts, styles and images of the current page, and every file it fetched."""
    urls = driver.execute_script("""
        const found = [];
        document.querySelectorAll('a[href], link[href]').forEach(e => found.push(e.href));
        document.querySelectorAll('script[src], img[src]').forEach(e => found.push(e.src));
        performance.getEntriesByType('resource').forEach(e => found.push(e.name));
        return found;""")
    return {urldefrag(u)[0] for u in urls if u.startswith(base_url)}


def fetched_elsewhere(driver, base_url: str) -> list[str]:
    """Files the page fetched from any other origin (there must be none: the site is offline)."""
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith(arguments[0]) && !n.startsWith('data:'));", base_url)


@pytest.fixture(scope="module")
def visited(driver, base_url):
    """Visit the home page and every page of the table of contents, with the checks every page
    must pass; return the same-origin URLs those pages link to or fetched."""
    urls = set()
    for rel in [f"{doc}.html" for doc in toc_files()]:
        url = base_url + rel
        open_page(driver, url)
        assert_images_load(driver, url)
        elsewhere = fetched_elsewhere(driver, base_url)
        assert not elsewhere, f"{url} fetched files from other hosts: {elsewhere}"
        urls |= same_origin_urls(driver, base_url)
        errors = console_errors(driver)
        assert not errors, f"{url}: console errors:\n" + "\n".join(errors)
    return urls


def test_home_page_redirects_and_loads(driver, base_url):
    driver.get(base_url)  # index.html, which redirects to the root page of the toc
    wait_for(driver, lambda d: d.current_url.endswith("/intro.html"), "index did not redirect to intro")
    open_page(driver, driver.current_url)
    assert driver.find_element("css selector", "article h1").text.startswith(BOOK_TITLE)


def test_chapter_and_exercise_pages_load(driver, base_url, visited):
    docs = chapter_docs() + exercise_docs()
    assert "book/01_rnn" in docs
    for doc in docs:
        assert http_status(f"{base_url}{doc}.html") == 200, doc
        assert f"{base_url}{doc}.html" in visited or any(u.endswith(f"/{doc}.html") for u in visited), \
            f"nothing links to {doc}"


def test_mathjax_renders_offline(driver, base_url):
    """MathJax (served by the site) turns every equation of a chapter into mjx-container
    elements, without a TeX error, using its own web fonts."""
    math_docs = [doc for doc in chapter_docs() if parse_page(page_of(doc)).has_math]
    assert math_docs, "no chapter page has math to render"
    for doc in math_docs:
        url = f"{base_url}{doc}.html"
        open_page(driver, url)
        expected = driver.execute_script(
            "return document.querySelectorAll('article span.math, article div.math').length;")
        assert expected, f"{url}: no math found on the page"
        wait_for(driver, lambda d: d.execute_script(
            "return document.querySelectorAll('article mjx-container').length;") >= expected,
            f"{url}: MathJax did not typeset the {expected} equations")
        assert driver.execute_script(
            "return (window.MathJax && MathJax.version) || '';").startswith("3."), f"{url}: no MathJax 3"
        errors = driver.execute_script(
            "return Array.from(document.querySelectorAll('mjx-merror'))"
            ".map(e => e.getAttribute('data-mjx-error') || e.textContent);")
        assert not errors, f"{url}: TeX errors: {errors}"
        fonts = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            document.fonts.ready.then(() => done(Array.from(document.fonts)
                .filter(f => f.family.replace(/"/g, '').startsWith('MJX'))
                .map(f => [f.family, f.status])));""")
        assert any(status == "loaded" for _, status in fonts), f"{url}: no MathJax font loaded: {fonts}"
        assert not [f for f in fonts if f[1] == "error"], f"{url}: MathJax fonts failed: {fonts}"
        elsewhere = fetched_elsewhere(driver, base_url)
        assert not elsewhere, f"{url} fetched files from other hosts: {elsewhere}"
        errors = console_errors(driver)
        assert not errors, f"{url}: console errors:\n" + "\n".join(errors)


def test_phone_menu_opens_the_table_of_contents(driver, base_url):
    """On a phone, the menu button opens the table of contents, and a chapter link in it is
    visible, reachable, and leads to the chapter."""
    # light pages (few equations): MathJax typesetting a chapter can keep a loaded machine's
    # renderer too busy to answer the driver in time
    with phone_viewport(driver):
        open_page(driver, f"{base_url}book/conventions.html")
        width = driver.execute_script("return window.innerWidth;")
        assert width == PHONE["width"] < WIDE_SCREEN_PX, f"the emulated viewport is {width} px wide"
        link = toc_link(driver, base_url, "book/02_lstm_gru")
        assert link is not None, "no link to chapter 2 in the table of contents"
        assert not link.is_displayed(), "on a phone the table of contents should start closed"
        menus = visible(driver, ".primary-toggle")
        assert len(menus) == 1, f"{len(menus)} visible menu buttons (expected one)"
        assert reachable(driver, menus[0]), "the menu button is covered or off screen"
        menus[0].click()
        wait_for(driver, lambda d: d.execute_script(
            "return document.querySelector('#pst-primary-sidebar-modal').open;"),
            "the menu button did not open the table of contents")
        link = toc_link(driver, base_url, "book/02_lstm_gru")
        wait_for(driver, lambda d: link.is_displayed() and reachable(d, link),
                 "the link to chapter 2 is not visible and clickable in the opened menu")
        link.click()
        wait_for(driver, lambda d: d.current_url.split("#")[0] == f"{base_url}book/02_lstm_gru.html",
                 "the chapter link in the menu did not lead to chapter 2")
        wait_for(driver, lambda d: d.execute_script("return document.readyState") == "complete",
                 "chapter 2 did not finish loading")
        heading = driver.find_element("css selector", "article h1").text
        assert "LSTM" in heading, f"chapter 2 has the heading {heading!r}"
        errors = console_errors(driver)
        assert not errors, "console errors on a phone:\n" + "\n".join(errors)


def test_desktop_menu_button_hides_and_shows_the_table_of_contents(driver, base_url):
    """On a wide screen the table of contents is shown, and the menu button hides it and
    brings it back."""
    open_page(driver, f"{base_url}book/conventions.html")
    assert driver.execute_script("return window.innerWidth;") >= WIDE_SCREEN_PX
    link = toc_link(driver, base_url, "book/02_lstm_gru")
    assert link is not None and link.is_displayed() and reachable(driver, link), \
        "the table of contents is not shown on a wide screen"
    menus = visible(driver, ".primary-toggle")
    assert len(menus) == 1, f"{len(menus)} visible menu buttons (expected one)"
    menus[0].click()
    wait_for(driver, lambda d: not link.is_displayed(), "the menu button did not hide the contents")
    menus[0].click()
    wait_for(driver, lambda d: link.is_displayed(), "the menu button did not show the contents again")


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_one_search_entry_point_that_searches(driver, base_url, screen):
    """A page offers exactly one visible way into search (no second header strip with its
    own search field), and it works: it opens the search dialog, and Enter lists results."""
    from selenium.webdriver.common.keys import Keys

    with phone_viewport(driver) if screen == "phone" else contextlib.nullcontext():
        open_page(driver, f"{base_url}book/conventions.html")
        entries = visible(driver, SEARCH_ENTRY_POINTS)
        described = [f"<{e.tag_name} class={e.get_attribute('class')!r}>" for e in entries]
        assert len(entries) == 1, f"{len(entries)} visible search entry points: {described}"
        assert reachable(driver, entries[0]), f"the search entry point is covered: {described}"
        entries[0].click()
        wait_for(driver, lambda d: d.execute_script(
            "return document.querySelector('#pst-search-dialog').open;"),
            "the search entry point did not open the search dialog")
        field = driver.find_element("css selector", '#pst-search-dialog input[name="q"]')
        wait_for(driver, lambda d: field.is_displayed(), "the search dialog shows no field")
        field.send_keys("LSTM", Keys.ENTER)
        wait_for(driver, lambda d: "search.html?q=LSTM" in d.current_url,
                 "Enter in the search dialog did not open the search page")
        wait_for_search(driver, "book/02_lstm_gru.html", "LSTM")
        hrefs = [href for href, _, _ in search_results(driver)]
        assert any("book/02_lstm_gru.html" in h for h in hrefs), f"LSTM chapter not found: {hrefs}"


def search_results(driver) -> list[tuple[str, str, str]]:
    """(href, link text, snippet) of each result on the search page."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#search-results li')).map(li => {
            const a = li.querySelector('a'), p = li.querySelector('p.context');
            return [a ? a.href : '', a ? a.innerText : '', p ? p.innerText : ''];
        });""")


def wait_for_search(driver, expected: str, query: str):
    """Wait until the search page lists a result whose href contains `expected`, or is done."""
    # results are added one by one, then the summary line is filled in ("Search finished, ...")
    wait_for(driver, lambda d: any(expected in href for href, _, _ in search_results(d))
             or d.execute_script("const s = document.querySelector('#search-results .search-summary');"
                                 "return Boolean(s && s.innerText.trim());"),
             f"the search page did not finish searching for {query!r}")


def test_search_finds_the_lstm_chapter(driver, base_url):
    """Sphinx's client-side search (searchindex.js) lists the LSTM chapter for "LSTM"."""
    driver.get(base_url + "search.html?q=LSTM")
    wait_for_search(driver, "book/02_lstm_gru.html", "LSTM")
    hrefs = [href for href, _, _ in search_results(driver)]
    assert any("book/02_lstm_gru.html" in h for h in hrefs), f"LSTM chapter not in the results: {hrefs}"


def test_search_results_show_math_as_text(driver, base_url):
    """Result titles and snippets show an equation as plain text (tools/search_plain_math.py):
    "Why divide by √d_k", not "Why divide by \\sqrt{d_k}"."""
    section = "book/05_self_attention.html#why-divide-by"
    # a query of at least half a section title's length also finds the section by its title
    driver.get(base_url + "search.html?q=why+divide+by")
    wait_for_search(driver, section, "why divide by")
    # the snippets come one after another, each once its page has been fetched
    wait_for(driver, lambda d: all(snippet for _, _, snippet in search_results(d)),
             "the search results did not all get a snippet")
    results = search_results(driver)
    found = [r for r in results if section in r[0]]
    assert found, f"the section 'Why divide by sqrt(d_k)' is not in the results: {results}"
    _, title, snippet = found[0]
    assert title.endswith("Why divide by √d_k"), f"result title {title!r}"
    assert "√d_k" in snippet, f"the section's equation is not in its snippet: {snippet!r}"
    for href, title, snippet in results:
        assert not RAW_TEX.search(f"{title} {snippet}"), f"raw TeX in {href}: {title!r} {snippet!r}"
    # a chapter's whole text is an equation-dense snippet source: the LSTM results too
    driver.get(base_url + "search.html?q=LSTM")
    wait_for_search(driver, "book/02_lstm_gru.html", "LSTM")
    wait_for(driver, lambda d: all(snippet for _, _, snippet in search_results(d)),
             "the LSTM results did not all get a snippet")
    for href, title, snippet in search_results(driver):
        assert not RAW_TEX.search(f"{title} {snippet}"), f"raw TeX in {href}: {title!r} {snippet!r}"


def test_search_page_converts_math_like_the_index(driver, base_url):
    """The search page's converter (written from the same rules by the extension) gives the
    same text as the Python one that built the index, for every equation of the chapters."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from search_plain_math import plain_math
    finally:
        sys.path.remove(str(ROOT / "tools"))
    html_math = re.compile(r'<(span|div) class="math[^"]*">(.*?)</\1>', re.S)
    equations = sorted({html.unescape(m.group(2)) for doc in chapter_docs()
                        for m in html_math.finditer(page_of(doc).read_text(encoding="utf-8"))})
    assert len(equations) > 100, f"only {len(equations)} equations found in the chapters"
    driver.get(base_url + "search.html")
    wait_for(driver, lambda d: d.execute_script("return typeof plainMath === 'function';"),
             "search.html did not load _static/search_plain_math.js")
    in_browser = driver.execute_script("return arguments[0].map(plainMath);", equations)
    differ = [(tex, ours, theirs) for tex, ours, theirs
              in zip(equations, map(plain_math, equations), in_browser) if ours != theirs]
    assert not differ, f"{len(differ)} equations convert differently, e.g. {differ[:3]}"
    assert not [t for t in in_browser if RAW_TEX.search(t)], "TeX left after the conversion"


def test_no_internal_link_is_broken(base_url, visited):
    """Every same-origin URL the visited pages link to or fetched answers HTTP 200."""
    assert len(visited) > 20, "suspiciously few links were found"
    broken = {}
    for url in sorted(visited):
        path = urlsplit(url).path
        if path.endswith("/"):
            url += "index.html"
        status = http_status(url)
        if status != 200:
            broken[url] = status
    assert not broken, f"broken links: {broken}"


# --- on a phone: every page fits the screen (_static/course.css, course.js) ----------

# The figures of the chapters: the images of notebook cell outputs (matplotlib's PNGs).
FIGURES = ".bd-article .cell_output img"
# What MyST-NB writes as a figure's alt text when the cell gives none: the image's path,
# named by a 64-hex-digit hash. A screen reader reads that out instead of the figure. (A
# slash in a sentence, "KJV/ASV" or "d_model / h", is fine: a path is one word.)
PATH_LIKE_ALT = re.compile(
    r"^\S*/\S*$|_images/|\.(png|svg|jpe?g|gif)$|[0-9a-f]{64}", re.I)
# Measured in the page once MathJax has typeset it (equations change how lines break):
# - elements that stick out of the screen on the right, except inside a box that scrolls
#   sideways and itself fits the screen (a code cell, a wide table, a display equation),
#   or inside a fixed-position layer (the hidden sidebars);
# - equations whose content is wider than their box, in a box that does not scroll (the
#   theme's span.math clips: a long inline equation was cut off);
# - the alt text of every figure.
PHONE_LAYOUT_JS = """
const done = arguments[arguments.length - 1], screen = arguments[0];
const typeset = window.MathJax && MathJax.startup
  ? MathJax.startup.promise : Promise.resolve();
const frame = () => new Promise(r => requestAnimationFrame(() => r()));
typeset.then(frame).then(() => {
  const scrolls = el => /(auto|scroll)/.test(getComputedStyle(el).overflowX);
  const name = el => `<${el.tagName.toLowerCase()} class="${el.className}">`
                     + ` ${(el.textContent || '').trim().slice(0, 60)}`;
  const contained = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).position === 'fixed') return true;
      if (scrolls(p) && p.getBoundingClientRect().right <= screen + 1) return true;
    }
    return false;
  };
  const sticking = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > screen + 1
        && getComputedStyle(el).position !== 'fixed' && !contained(el))
      sticking.push(`${name(el)} (right edge at ${Math.round(r.right)} px)`);
  }
  const cut = Array.from(document.querySelectorAll('span.math, div.math mjx-container'))
    .filter(el => el.scrollWidth > el.clientWidth + 1 && !scrolls(el)).map(name);
  done({
    innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth,
    sticking: sticking.slice(0, 5), cut: cut.slice(0, 5),
    alts: Array.from(document.querySelectorAll(arguments[1]))
      .map(img => [img.getAttribute('src'), img.getAttribute('alt')]),
  });
});"""


def wait_for_images(driver, url: str):
    """Every <img> has loaded (a figure's height, and so the layout, depends on it)."""
    driver.execute_script(
        "document.querySelectorAll('img').forEach(i => { i.loading = 'eager'; });")
    wait_for(driver, lambda d: d.execute_script(
        "return Array.from(document.images).every(i => i.complete);"),
        f"{url}: images still loading")


@pytest.fixture(scope="module")
def phone_layouts(driver, base_url) -> dict[str, dict]:
    """Every page of the site measured on a phone's screen (PHONE_LAYOUT_JS), by doc."""
    layouts = {}
    driver.set_script_timeout(3 * TIMEOUT_S)  # MathJax typesets a whole chapter first
    with phone_viewport(driver):
        for doc in toc_files():
            url = f"{base_url}{doc}.html"
            open_page(driver, url)
            wait_for_images(driver, url)
            layouts[doc] = driver.execute_async_script(
                PHONE_LAYOUT_JS, PHONE["width"], FIGURES)
    return layouts


def test_no_page_is_wider_than_a_phone(phone_layouts):
    """At 390 px no page scrolls sideways, and nothing sticks out of the screen except
    inside a box that scrolls sideways (exercises 4 to 6 were 463 px wide: unbreakable
    inline code). A phone zooms a too-wide page out, and innerWidth grows with it: both
    widths are checked."""
    assert set(phone_layouts) == set(toc_files())
    wide = {doc: (m["innerWidth"], m["scrollWidth"], m["sticking"])
            for doc, m in phone_layouts.items()
            if max(m["innerWidth"], m["scrollWidth"]) > PHONE["width"] or m["sticking"]}
    assert not wide, (f"pages wider than a {PHONE['width']} px screen "
                      f"(innerWidth, scrollWidth, what sticks out): {wide}")


def test_no_equation_is_cut_off_on_a_phone(phone_layouts):
    """An equation wider than the column scrolls sideways in its own box instead of
    being clipped (the theme clips inline equations at the column's edge)."""
    cut = {doc: m["cut"] for doc, m in phone_layouts.items() if m["cut"]}
    assert not cut, f"equations cut off at {PHONE['width']} px: {cut}"


def test_figures_have_alt_text(phone_layouts):
    """Every figure says what it shows to a reader who cannot see it (a screen reader,
    an image that did not load): its alt text, set in the chapter notebook's cell
    metadata {"mystnb": {"image": {"alt": "..."}}}, is neither empty nor the image's
    path."""
    figures = {doc: m["alts"] for doc, m in phone_layouts.items() if m["alts"]}
    assert figures.keys() >= {"book/01_rnn", "book/08_vit"}, "no figures found"
    bad = {doc: [alt for _, alt in alts
                 if not (alt or "").strip() or PATH_LIKE_ALT.search(alt.strip())]
           for doc, alts in figures.items()}
    bad = {doc: found for doc, found in bad.items() if found}
    count, total = sum(map(len, bad.values())), sum(map(len, figures.values()))
    assert not bad, (
        f"{count} of {total} figures have no real alt text (empty, or their path): "
        + "; ".join(f"{doc}: {len(found)}, e.g. alt={found[0]!r}"
                    for doc, found in bad.items()))


def tap(driver, element):
    """A finger's tap at the centre of the element: touch events, from which the browser
    makes the click, as on a phone."""
    x, y = driver.execute_script("""
        const r = arguments[0].getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2];""", element)
    for kind, points in (("touchStart", [{"x": x, "y": y}]), ("touchEnd", [])):
        driver.execute_cdp_cmd("Input.dispatchTouchEvent",
                               {"type": kind, "touchPoints": points})


@contextlib.contextmanager
def phone_touch_screen(driver):
    """A phone's viewport (PHONE) that also takes touch input."""
    with phone_viewport(driver):
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                               {"enabled": True, "maxTouchPoints": 5})
        try:
            yield
        finally:
            driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled",
                                   {"enabled": False})


def dialog_is_open(driver, selector: str) -> bool:
    return driver.execute_script(
        "const d = document.querySelector(arguments[0]); return Boolean(d && d.open);",
        selector)


def test_tap_on_a_figure_opens_it_at_full_size(driver, base_url):
    """On a phone a figure is drawn at the column's width, its labels a few pixels high;
    a tap opens it at its own size in a viewer that scrolls sideways, and the viewer's
    close button closes it. The figure links to its image file (for a new tab, or a
    browser without JavaScript)."""
    url = f"{base_url}book/08_vit.html"  # several wide figures, few equations
    viewer = "dialog.figure-viewer"
    with phone_touch_screen(driver):
        open_page(driver, url)
        wait_for_images(driver, url)
        drawn_small = ("const i = arguments[0];"
                       " return i.clientWidth < 0.6 * i.naturalWidth;")
        shrunk = [img for img in driver.find_elements("css selector", FIGURES)
                  if driver.execute_script(drawn_small, img)]
        assert shrunk, "no figure is drawn smaller than its own size on a phone"
        figure = shrunk[0]
        src = figure.get_attribute("src")
        link = driver.execute_script("return arguments[0].closest('a');", figure)
        assert link is not None and link.get_attribute("href") == src, \
            "the figure is not a link to its image file"
        assert http_status(src) == 200
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", figure)
        wait_for(driver, lambda d: reachable(d, figure), "the figure is covered")
        tap(driver, figure)
        wait_for(driver, lambda d: dialog_is_open(d, viewer),
                 "a tap on the figure did not open the viewer")
        assert driver.current_url == url, "the tap left the page"
        shown = driver.execute_script("""
            const v = document.querySelector(arguments[0]);
            const img = v.querySelector('img');
            return {src: img.src, width: img.getBoundingClientRect().width,
                    natural: img.naturalWidth,
                    scrolls: v.scrollWidth > v.clientWidth};""", viewer)
        assert shown["src"] == src, f"the viewer shows {shown['src']}, not {src}"
        assert shown["width"] == pytest.approx(shown["natural"], abs=1), \
            f"the viewer shows it {shown['width']} px wide, not {shown['natural']} px"
        assert shown["scrolls"], "the full-size figure cannot be scrolled sideways"
        close = driver.find_element("css selector", f"{viewer} .figure-viewer-close")
        assert reachable(driver, close), "the viewer's close button is covered"
        tap(driver, close)
        wait_for(driver, lambda d: not dialog_is_open(d, viewer),
                 "the close button did not close the viewer")
        errors = console_errors(driver)
        assert not errors, "console errors on a phone:\n" + "\n".join(errors)


def test_contents_drawer_closes_after_a_tap(driver, base_url):
    """On a phone the page's contents open as a drawer over the text; a tap on a section
    in it closes the drawer and shows that section (the drawer used to stay open over
    it)."""
    url = f"{base_url}book/conventions.html"  # several sections, no equations
    drawer = "#pst-secondary-sidebar-modal"
    with phone_touch_screen(driver):
        open_page(driver, url)
        buttons = visible(driver, ".secondary-toggle")
        assert len(buttons) == 1, f"{len(buttons)} visible contents buttons"
        tap(driver, buttons[0])
        wait_for(driver, lambda d: dialog_is_open(d, drawer),
                 "the contents button did not open the drawer")
        links = [a for a in driver.find_elements("css selector", f"{drawer} a[href]")
                 if a.is_displayed() and "#" in a.get_attribute("href")]
        assert len(links) >= 2, "the contents drawer lists fewer than two sections"
        link = links[-1]  # the last section: the page has to scroll to show it
        fragment = urldefrag(link.get_attribute("href"))[1]
        wait_for(driver, lambda d: reachable(d, link), "the section link is covered")
        tap(driver, link)
        wait_for(driver, lambda d: not dialog_is_open(d, drawer),
                 "the drawer stayed open after a tap on a section")
        wait_for(driver, lambda d: d.execute_script("""
            const t = document.getElementById(arguments[0]);
            if (!t) return false;
            const top = t.getBoundingClientRect().top;
            return top >= 0 && top < innerHeight / 2;""", fragment),
            f"the section #{fragment} is not shown after the tap")
        assert urldefrag(driver.current_url)[1] == fragment
        errors = console_errors(driver)
        assert not errors, "console errors on a phone:\n" + "\n".join(errors)
