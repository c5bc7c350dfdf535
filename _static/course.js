/* The course site on small screens: what course.css cannot do alone.
 * - Figures: a tap (click) on a notebook figure opens it at full size in a viewer.
 * - Outputs: prose-like text outputs wrap their lines instead of scrolling sideways.
 * - Inline code: a long name breaks after a dot or an underscore when it must break.
 * - The in-page contents drawer (and the menu drawer) closes after a tap on a link to a place
 *   on the same page; the theme leaves it open over the text the reader asked to see.
 * Jupyter Book loads this file on every page (every .js file of _static/ is added);
 * tests/test_browser.py checks each behaviour at 390 px. */
(function () {
  "use strict";

  const FIGURES = ".bd-article .cell_output img";
  // A magnifying glass with a plus (inline, so nothing is fetched: the site works offline).
  const HINT_SVG =
    '<svg class="figure-zoom-hint" aria-hidden="true" viewBox="0 0 24 24" fill="none" ' +
    'stroke="currentColor" stroke-width="2.5" stroke-linecap="round">' +
    '<circle cx="10" cy="10" r="6.5"/><path d="M15 15l6 6M10 7v6M7 10h6"/></svg>';

  /* --- Figures ------------------------------------------------------------------------- */

  let viewer = null;

  function figureViewer() {
    if (viewer) return viewer;
    viewer = document.createElement("dialog");
    viewer.className = "figure-viewer";
    viewer.setAttribute("aria-label", "Figure at full size");
    viewer.innerHTML =
      '<button type="button" class="figure-viewer-close" aria-label="Close">×</button>' +
      '<div class="figure-viewer-stage"><img alt=""></div>';
    // A tap on the image or the close button closes; panning (a drag) is not a click.
    viewer.addEventListener("click", (event) => {
      if (event.target.closest(".figure-viewer-close, img")) viewer.close();
    });
    // sphinx_highlight.js swallows Escape on the page, so the dialog's own cancel is not
    // enough (the theme closes its drawers the same way).
    viewer.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        viewer.close();
      }
    });
    document.body.appendChild(viewer);
    return viewer;
  }

  function openFigure(img) {
    const dialog = figureViewer();
    const big = dialog.querySelector("img");
    big.src = img.currentSrc || img.src;
    big.alt = img.alt;
    // Its own size in CSS pixels: at that size its labels are as large as they were drawn.
    if (img.naturalWidth) big.style.width = `${img.naturalWidth}px`;
    dialog.showModal();
    dialog.scrollTo(0, 0);
  }

  function markScaled(link) {
    const img = link.querySelector("img");
    // Drawn at under 85 % of its own size: the labels are smaller than the text around them.
    const scaled = img.naturalWidth > 0 && img.clientWidth < 0.85 * img.naturalWidth;
    link.classList.toggle("is-scaled", scaled);
  }

  function setUpFigures() {
    const links = [];
    document.querySelectorAll(FIGURES).forEach((img) => {
      if (img.closest("a")) return;
      const link = document.createElement("a");
      link.className = "figure-zoom";
      link.href = img.src;  // without the viewer (new tab, no script) it opens the file
      link.title = "Show the figure at full size";
      img.replaceWith(link);
      link.appendChild(img);
      link.insertAdjacentHTML("beforeend", HINT_SVG);
      link.addEventListener("click", (event) => {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey ||
            event.altKey) return;  // the browser's own "open in a new tab" and the like
        event.preventDefault();
        openFigure(img);
      });
      if (img.complete) markScaled(link);
      else img.addEventListener("load", () => markScaled(link));
      links.push(link);
    });
    window.addEventListener("resize", () => links.forEach(markScaled));
  }

  /* --- Outputs ------------------------------------------------------------------------- */

  // A line laid out in columns: text, two or more spaces, text, and again (a table of
  // numbers, a list of aligned pairs). Wrapped, its columns would no longer line up.
  const COLUMNS = /\S {2,}\S.*\S {2,}\S/;

  // An output wraps its lines unless one of its lines too long for the box is laid out in
  // columns: then the whole output keeps scrolling sideways inside its box. Lines that fit
  // are the same either way, so this is decided again when the width changes.
  function fitOutputs(pres) {
    pres.forEach((pre) => {
      const style = getComputedStyle(pre);
      const probe = document.createElement("span");
      probe.textContent = "0".repeat(50);
      probe.style.whiteSpace = "pre";  // measured on one line, even in a wrapping output
      pre.appendChild(probe);
      const charWidth = probe.getBoundingClientRect().width / 50;
      probe.remove();
      const room = pre.clientWidth - parseFloat(style.paddingLeft) -
        parseFloat(style.paddingRight);
      const fits = Math.floor(room / charWidth);
      const lines = pre.textContent.split("\n");
      pre.classList.toggle("output-wrap",
        !lines.some((line) => line.length > fits && COLUMNS.test(line)));
    });
  }

  function setUpOutputs() {
    const pres = Array.from(document.querySelectorAll(".bd-article .cell_output pre"));
    fitOutputs(pres);
    let pending = false;
    window.addEventListener("resize", () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => { pending = false; fitOutputs(pres); });
    });
  }

  /* --- Inline code ------------------------------------------------------------------- */

  // course.css lets a long name of inline code break anywhere when it does not fit a line;
  // a break after a dot or an underscore (torch.nn.functional.|scaled_|dot_|product_|...)
  // reads better, so offer one there (<wbr>: a break only where the line needs it). Only in
  // names longer than a phone's line (about 36 characters): a shorter one moves to the next
  // line whole, as it did before.
  function setUpInlineCode() {
    document.querySelectorAll(".bd-article code.literal").forEach((code) => {
      if (code.textContent.length <= 32) return;
      const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
      const texts = [];
      while (walker.nextNode()) texts.push(walker.currentNode);
      texts.forEach((text) => {
        const parts = text.data.split(/(?<=[._])(?=[^._])/);
        if (parts.length < 2) return;
        const pieces = document.createDocumentFragment();
        parts.forEach((part, k) => {
          if (k) pieces.appendChild(document.createElement("wbr"));
          pieces.appendChild(document.createTextNode(part));
        });
        text.replaceWith(pieces);
      });
    });
  }

  /* --- Drawers ------------------------------------------------------------------------- */

  // On a narrow screen the theme moves a sidebar into a modal <dialog> when its button is
  // tapped. A link to another page leaves the page anyway; a link to a section of this page
  // only scrolls behind the dialog, which stays open and hides the section. So close the
  // dialog first, then go to the section (after the theme has put the focus back on the
  // drawer's button, which would otherwise scroll the page back to it).
  function setUpDrawers() {
    ["pst-secondary-sidebar-modal", "pst-primary-sidebar-modal"].forEach((id) => {
      const dialog = document.getElementById(id);
      if (!dialog) return;
      dialog.addEventListener("click", (event) => {
        const link = event.target.closest("a[href]");
        if (!link || !dialog.open || link.origin !== location.origin ||
            link.pathname !== location.pathname || !link.hash) return;
        event.preventDefault();
        dialog.addEventListener("close", () => setTimeout(() => {
          const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
          // the same fragment again does not scroll by itself
          if (location.hash === link.hash && target) target.scrollIntoView();
          else location.hash = link.hash;
        }), { once: true });
        dialog.close();
      });
    });
  }

  function setUp() {
    setUpFigures();
    setUpOutputs();
    setUpInlineCode();
    setUpDrawers();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
