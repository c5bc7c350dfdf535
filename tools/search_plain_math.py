"""Sphinx extension of the course site: search results show equations as plain text, not TeX.

Sphinx's search has two sources of text, and both carried the raw TeX of the equations:

* the index, searchindex.js, which Sphinx builds from each page's doctree: it held TeX
  commands as words ("frac", "operatorname", ...) and section titles such as
  "Why divide by \\sqrt{d_k}", which the results list shows as the link text;
* the snippet under each result, which searchtools.js cuts in the browser from the text of
  the fetched page, where an equation is still its TeX source (MathJax typesets only the page
  on screen), e.g. "the state \\(\\mathbf{h}_t\\) is".

One converter, `plain_math` ("\\frac{1}{\\sqrt{d_k}}" -> "1/√d_k", "W^\\top h_t" -> "Wᵀ h_t"),
serves both. It is a list of regular-expression rewrites, RULES, written in the subset that
Python's `re` and JavaScript's RegExp read the same way, so the browser runs the very same
rules: this extension writes them into _static/search_plain_math.js, which the search page
loads. That script wraps `Search.htmlToText` of searchtools.js (the function that turns a
fetched page into the text a snippet is cut from) so that each equation element is replaced
by its plain text first. The index gets a copy of each doctree with every math node replaced
by its plain text; the pages themselves are not changed.

Why not rewrite searchindex.js after the build: the snippets do not come from it, and its
format is Sphinx's internal one. Why not drop the equations: "the state h_t is" reads
better in a snippet than "the state  is".

Loaded by Jupyter Book through `sphinx.local_extensions` in _config.yml.
"""
from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.search import IndexBuilder

SCRIPT = "search_plain_math.js"

# TeX commands that are a symbol: \alpha -> α, \cdot -> ·; function names (\tanh, \log, \exp)
# need no entry: the last rules keep a command's name without its backslash.
SYMBOLS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
    "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ", "varphi": "φ", "chi": "χ",
    "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ",
    "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
    "times": "×", "cdot": "·", "odot": "⊙", "otimes": "⊗", "oplus": "⊕", "circ": "∘",
    "in": "∈", "approx": "≈", "sim": "∼", "propto": "∝", "equiv": "≡",
    "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠",
    "ll": "≪", "gg": "≫",
    "pm": "±", "to": "→", "rightarrow": "→", "leftarrow": "←", "mapsto": "↦",
    "infty": "∞", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "ell": "ℓ",
    "dots": "…", "ldots": "…", "cdots": "⋯", "mid": "|", "lVert": "‖", "rVert": "‖",
    "Vert": "‖", "langle": "⟨", "rangle": "⟩", "top": "ᵀ",
}
_NAME_END = "(?![A-Za-z])"  # \in must not match the start of \infty
# Commands whose braced argument is kept as it is: \text{dot}, \mathbf{h}, \operatorname{diag}.
_KEEP_ARGUMENT = (r"text|textit|textbf|textrm|mathrm|mathbf|mathit|mathsf|mathtt|mathcal|"
                  r"mathbb|boldsymbol|bm|operatorname\*?|hat|widehat|tilde|widetilde|bar|"
                  r"vec|dot|ddot|overline")
_FLAT = r"\{([^{}]*)\}"  # a braced group without braces inside: rewritten innermost first
# a braced single token, which needs no parentheses: {t}, {d_k}, {0.5}, {√d_k}
_WORD = r"\{(√?[A-Za-z0-9_.]+)\}"

# (pattern, replacement) in the order they are applied. A replacement names groups as \1, \2
# (the script gets them as $1, $2). STRUCTURE runs again and again until nothing changes, so
# nested groups are undone from the inside out: \frac{1}{\sqrt{d_k}} first loses the \sqrt,
# then the \frac. The patterns use nothing that the two regex dialects read differently
# (Python compiles them with re.ASCII, like JavaScript's \w; lookbehinds have fixed width).
STRUCTURE = [
    (r"\\[()\[\]]|\$", " "),                                   # \( \) \[ \] $ delimiters
    (r"\\(?:begin|end)\{[^{}]*\}", " "),                       # \begin{aligned} ...
    (r"\^\s*\{\s*\\top\s*\}|\^\s*\\top" + _NAME_END, "ᵀ"),     # W^\top -> Wᵀ
    (r"\\mathbb\{R\}", "ℝ"),
    (r"\\(?:" + _KEEP_ARGUMENT + ")" + _FLAT, r"\1"),
    (r"\\overrightarrow" + _FLAT, r"→\1"),
    (r"\\overleftarrow" + _FLAT, r"←\1"),
    (r"\\sqrt" + _WORD, r"√\1"),
    (r"\\sqrt" + _FLAT, r"√(\1)"),
    (r"\\[dt]?frac" + _WORD + _WORD, r"\1/\2"),
    (r"\\[dt]?frac" + _FLAT + _FLAT, r"(\1)/(\2)"),
    (r"([_^])" + _WORD, r"\1\2"),                              # h_{t} -> h_t
    (r"([_^])" + _FLAT, r"\1(\2)"),                            # x^{t-1} -> x^(t-1)
    (r"(?<![A-Za-z}\\])" + _FLAT, r"\1"),                      # a bare group, not an argument
]
SYMBOL_RULES = [(r"\\" + name + _NAME_END, text) for name, text in SYMBOLS.items()]
CLEANUP = [
    (r"\\(?:left|right|[bB]igg?[lr]?)" + _NAME_END + r"\.?", ""),  # \left( -> (, \left. -> ""
    (r"\\(?:qquad|quad)" + _NAME_END + r"|\\[,;: ]|~", " "),    # spacing
    (r"\\!", ""),
    (r"\\\\", "; "),                                            # a line break of aligned maths
    (r"(?<!\\)&", " "),                                         # alignment points
    (r"(?<!\\)[{}]", ""),                                       # braces left by unknown commands
    (r"\\([{}_%&#$])", r"\1"),                                  # \{ -> {, \_ -> _
    (r"\\([A-Za-z]+)", r"\1"),                                  # \tanh -> tanh, any other name
    (r"\\", ""),
    (r"\s+", " "),
]
RULES = {"structure": STRUCTURE, "symbols": SYMBOL_RULES, "cleanup": CLEANUP}
MAX_PASSES = 20  # STRUCTURE's passes; more than any nesting depth an equation of the book has


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.ASCII)


def _apply(rules, text: str) -> str:
    for pattern, replacement in rules:
        text = _compiled(pattern).sub(replacement, text)
    return text


def plain_math(tex: str) -> str:
    """The TeX source of an equation as readable plain text (the script does the same)."""
    for _ in range(MAX_PASSES):
        rewritten = _apply(STRUCTURE, tex)
        if rewritten == tex:
            break
        tex = rewritten
    return _apply(CLEANUP, _apply(SYMBOL_RULES, tex)).strip()


# ---- the search index -------------------------------------------------------------------

_MATH_HTML = re.compile(r'<(span|div) class="math[^"]*">(.*?)</\1>', re.S)


def _plain_title_html(title: str) -> str:
    """A page title as HTML (Sphinx renders it, math included) with its equations as text."""
    return _MATH_HTML.sub(lambda m: html.escape(plain_math(html.unescape(m.group(2)))), title)


def _feed_plain_math(feed):
    """IndexBuilder.feed, given a copy of the doctree whose math nodes are plain text."""
    @functools.wraps(feed)
    def feed_plain_math(self, docname, filename, title, doctree, *args, **kwargs):
        doctree = doctree.deepcopy()
        for node in list(doctree.findall(nodes.math)):
            node.replace_self(nodes.Text(plain_math(node.astext())))
        for node in list(doctree.findall(nodes.math_block)):
            node.replace_self(nodes.paragraph("", plain_math(node.astext())))
        return feed(self, docname, filename, _plain_title_html(title), doctree, *args, **kwargs)

    feed_plain_math.plain_math = True
    return feed_plain_math


# ---- the snippets (in the browser) ------------------------------------------------------

_SCRIPT_TEMPLATE = """\
// Written by tools/search_plain_math.py (see its docstring): search snippets show each
// equation as plain text ("1/√d_k"), not as its TeX source ("\\frac{1}{\\sqrt{d_k}}").
"use strict";
const PLAIN_MATH_RULES = __RULES__;
const PLAIN_MATH_MAX_PASSES = __MAX_PASSES__;

function plainMath(tex) {
  const apply = (rules, text) =>
    rules.reduce((t, [pattern, replacement]) => t.replace(new RegExp(pattern, "g"), replacement),
                 text);
  for (let pass = 0; pass < PLAIN_MATH_MAX_PASSES; pass++) {
    const rewritten = apply(PLAIN_MATH_RULES.structure, tex);
    if (rewritten === tex) break;
    tex = rewritten;
  }
  return apply(PLAIN_MATH_RULES.cleanup, apply(PLAIN_MATH_RULES.symbols, tex)).trim();
}

// searchtools.js (a classic script, so its top-level `Search` is visible here) cuts each
// snippet from Search.htmlToText(fetched page); the page's equations are replaced first.
// Patched once the page has loaded: snippets are only made later, when each page arrives.
function usePlainMathInSnippets() {
  if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.plainMath) return;
  const htmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    page.querySelectorAll(".math").forEach((element) => {
      element.replaceWith(plainMath(element.textContent));
    });
    return htmlToText(page.documentElement.outerHTML, anchor);
  };
  Search.htmlToText.plainMath = true;
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", usePlainMathInSnippets);
} else {
  usePlainMathInSnippets();
}
"""


def _js_replacement(replacement: str) -> str:
    return re.sub(r"\\(\d)", r"$\1", replacement.replace("$", "$$"))


def script_text() -> str:
    rules = {name: [[pattern, _js_replacement(replacement)] for pattern, replacement in group]
             for name, group in RULES.items()}
    return (_SCRIPT_TEMPLATE.replace("__RULES__", json.dumps(rules, indent=1))
            .replace("__MAX_PASSES__", str(MAX_PASSES)))


def _add_script_to_search_page(app, pagename, templatename, context, doctree):
    # called during html-page-context, add_js_file adds the script to this page only
    if pagename == "search":
        app.add_js_file(SCRIPT)


def _write_script(app):
    # before any page is written: Sphinx links the script as search_plain_math.js?v=<digest>
    # of the file it finds in the output then, so it must already be this build's
    if app.builder.format == "html":
        static = Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        (static / SCRIPT).write_text(script_text(), encoding="utf-8")


def setup(app):
    if not getattr(IndexBuilder.feed, "plain_math", False):
        IndexBuilder.feed = _feed_plain_math(IndexBuilder.feed)
    app.connect("html-page-context", _add_script_to_search_page)
    app.connect("builder-inited", _write_script)
    # env_version: a change of the rules must re-index every page, so bump it with them
    return {"version": "1.0", "env_version": 1,
            "parallel_read_safe": True, "parallel_write_safe": True}
