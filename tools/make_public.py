"""Write the student-facing tree of the course into public/ (`make public`).

This repository holds the instructors' material: `solutions/` (the graded exercises with their
solutions and hidden tests), `tests/` (whose grading tests name the wrong answers), the nbgrader
configuration, and, on a grader's machine, the gradebook and the submissions. The public tree
holds only what students and the public may see:

- an allow-list of top-level entries (PUBLIC_DIRS, PUBLIC_FILES below): the book, the exercises,
  the course package and its packaging files (setup.py, MANIFEST.in), the data, the
  checkpoints, the benchmarks, and the Jupyter Book and Binder set-ups;
  `tools/` without the instructor-only scripts (PRIVATE_TOOLS);
- only files that git tracks (no untracked or ignored files; without git, the folders are walked);
- the Makefile with the targets that need the private material (PRIVATE_TARGETS) replaced by a
  message, and the README with a note saying what this tree is (and without the section on
  publishing, which is about the private repository);
- the built site, copied from `_build/html` (`--site`) to `<out>/_build/html`, where the public
  tree's own `make serve` finds it (and its .gitignore keeps it out of the public repository).

After writing, the tree is checked: no instructor-only path and no nbgrader solution or
hidden-test marker line anywhere (`tests/test_public.py` also checks that no line of a solution
or a hidden test leaked). A failed check exits with status 1 and says what to look at.

The output folder must be empty, or an earlier public tree (it has the file MARKER): everything in
it except `.git` is then replaced, so public/ can be the work tree of the public repository.

    python tools/make_public.py [--out public] [--site _build/html | --no-site]
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = ".made-by-make-public"

#: Not deploy/: the JupyterHub setup serves the instructors' repository (it reads
#: nbgrader_config.py and releases from solutions/, neither of which is published).
PUBLIC_DIRS = ["book", "exercises", "attention_course", "data", "checkpoints", "benchmarks",
               "_static", "_vendor", "tools", "binder", ".github"]
PUBLIC_FILES = ["_config.yml", "_toc.yml", "intro.md", "references.bib", "requirements.txt",
                "CHANGELOG.md",
                "constraints.txt", "pyproject.toml", "setup.py", "MANIFEST.in", "README.md",
                "CONTRIBUTING.md", "Makefile", ".gitignore", "LICENSE", "LICENSE.md", "LICENSE.txt"]
#: tools/ scripts that are instructor-only (besides any whose name mentions grading).
PRIVATE_TOOLS = {"make_public.py"}
#: Files of public folders that are instructor-only: the tests workflow runs .ci/run and
#: tests/, which are not published (the site workflow is, to publish the public site).
PRIVATE_PATHS = {".github/workflows/tests.yml"}
#: Names that are never published, wherever they appear (also inside allowed folders).
NEVER = {"solutions", "tests", "submitted", "autograded", "feedback", "gradebook.db", "grades.csv",
         "nbgrader_config.py", ".git", ".venv", "__pycache__", ".ipynb_checkpoints", ".pytest_cache"}
NEVER_SUFFIXES = (".pyc", ".egg-info")
#: Makefile targets that need what the public tree leaves out: the recipe becomes a message.
PRIVATE_TARGETS = {
    "test": "it needs tests/, which is not published",
    "test-fast": "it needs tests/, which is not published",
    "test-wheel": "it needs tests/, which is not published",
    "bench-wheel": "it needs tests/, which is not published",
    "release": "it needs solutions/, which is not published",
    "autograde": "grading needs solutions/ and the gradebook, which are not published",
    "feedback": "grading needs solutions/ and the gradebook, which are not published",
    "grades": "grading needs solutions/ and the gradebook, which are not published",
    "public": "this is the public tree already",
    "repository": "it releases exercises/ from solutions/, which is not published",
}
README_NOTE = """\
> **The public edition of the course.** This tree holds the book, the exercises, the course
> package, the data and the checkpoints: everything needed to read the course (`make book`) and do
> the exercises in `exercises/`. The instructors' solutions, hidden tests and test suite are kept
> private, so `make test`, `make test-fast`, `make release` and the grading targets only print
> that they are not available here.
"""
MARKER_TEXT = """\
This tree was written by `make public` (tools/make_public.py) from the course's private
repository. Do not edit it here: every run replaces everything in this folder except .git.
"""
MARKER_LINE = re.compile(r"^[ \t]*#+[ \t]*(BEGIN|END)[ \t]+(SOLUTION|HIDDEN TESTS)\b", re.M)
TAG = re.compile(r"<[^>]*>")


class Refused(Exception):
    """The script will not write (or publish) this; the message says why."""


# ------------------------------------------------------------------------------------------------
# What to copy
# ------------------------------------------------------------------------------------------------
def is_public(rel: str) -> bool:
    """Whether the repository path `rel` (posix, relative to the root) belongs to the public tree."""
    parts = rel.split("/")
    if any(p in NEVER or p.endswith(NEVER_SUFFIXES) for p in parts):
        return False
    if len(parts) == 1:
        return parts[0] in PUBLIC_FILES
    if parts[0] not in PUBLIC_DIRS:
        return False
    if rel in PRIVATE_PATHS:
        return False
    if parts[0] == "tools" and (parts[-1] in PRIVATE_TOOLS or "grad" in parts[-1].lower()):
        return False
    return True


def source_files(root: Path) -> list[str]:
    """The files of the repository: those git tracks and that exist, else every file (walked)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], check=True,
                             capture_output=True).stdout.decode()
        files = [f for f in out.split("\0") if f]
        return sorted(f for f in files if (root / f).is_file())   # a file deleted but not staged is gone
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if d not in NEVER and not d.endswith(NEVER_SUFFIXES)]
            files += [(Path(folder) / n).relative_to(root).as_posix() for n in names]
        return sorted(files)


def trimmed_makefile(text: str) -> str:
    """The Makefile with each PRIVATE_TARGETS rule replaced by one that says why it is not here."""
    out, skipping = [], False
    for line in text.splitlines():
        if skipping and line.startswith("\t"):
            continue                                   # the original recipe
        skipping = False
        match = re.match(r"^([a-z][a-z0-9-]*):(?!=)", line)
        if match and match.group(1) in PRIVATE_TARGETS:
            name, why = match.group(1), PRIVATE_TARGETS[match.group(1)]
            out += [f"{name}:  ## not available in the public tree: {why}",
                    f"\t@echo \"make {name}: not available in the public tree: {why}.\" >&2; exit 1"]
            skipping = True
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def readme_with_note(text: str) -> str:
    """The README with README_NOTE after its title and without its section on publishing (which
    is about the private repository)."""
    text = re.sub(r"^## Publishing the course\n.*?(?=^## )", "", text, flags=re.M | re.S)
    lines = text.splitlines(keepends=True)
    at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
    return "".join(lines[:at]) + "\n" + README_NOTE + "".join(lines[at:])


# ------------------------------------------------------------------------------------------------
# Where to write
# ------------------------------------------------------------------------------------------------
def prepare(out: Path, root: Path) -> None:
    """Make `out` an empty folder (except .git), or raise Refused when that could lose someone's files."""
    if out == root or root.is_relative_to(out):
        raise Refused(f"{out} is the repository or one of its parents")
    if out.is_relative_to(root) and out.parent != root:
        raise Refused(f"{out} is inside a folder of the repository; use a folder directly in "
                      f"the repository root (public/) or outside the repository")
    if out.exists() and not out.is_dir():
        raise Refused(f"{out} exists and is not a folder")
    if not out.exists():
        out.mkdir(parents=True)
        return
    entries = [p for p in out.iterdir() if p.name != ".git"]
    if not entries:
        return
    if not (out / MARKER).is_file():
        shown = ", ".join(sorted(p.name for p in entries)[:8])
        raise Refused(f"{out} is not empty ({shown}{', ...' if len(entries) > 8 else ''}) and is "
                      f"not an earlier public tree (no {MARKER}); nothing was written or deleted")
    for p in entries:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


# ------------------------------------------------------------------------------------------------
# The check after writing
# ------------------------------------------------------------------------------------------------
def visible_text(path: Path) -> str | None:
    """The text a reader sees in `path` (notebook sources and outputs, HTML without tags), or
    None for a binary file."""
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


def _strings(value, found: list) -> None:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            found.append("".join(value))           # a notebook's multi-line source or output
        else:
            for v in value:
                _strings(v, found)
    elif isinstance(value, dict):
        for key, v in value.items():
            if not key.startswith("image/"):       # base64 pictures
                _strings(v, found)


def problems(out: Path) -> list[str]:
    """What must not be published but is in `out`."""
    found = []
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out)
        if rel.parts[0] == ".git" or rel.name == MARKER:
            continue
        bad = [p for p in rel.parts if p in NEVER or p.endswith(NEVER_SUFFIXES)]
        if bad:
            found.append(f"{rel}: an instructor-only path ({bad[0]})")
            continue
        if not path.is_file() or path.is_symlink():
            continue
        text = visible_text(path)
        if text is None:
            continue
        if path.suffix == ".ipynb" and ("BEGIN SOLUTION" in text or "BEGIN HIDDEN TESTS" in text):
            found.append(f"{rel}: a notebook with nbgrader solution or hidden-test markers")
        elif MARKER_LINE.search(text):
            found.append(f"{rel}: an nbgrader marker line ({MARKER_LINE.search(text).group(0).strip()})")
    return found


# ------------------------------------------------------------------------------------------------
def write_public(out: Path, site: Path | None, root: Path = ROOT) -> dict[str, list[int]]:
    """Write the public tree into `out`; returns {top-level entry: [files, bytes]}."""
    out, root = out.resolve(), root.resolve()
    if site is not None:
        site = site.resolve()
        if not (site / "index.html").is_file():
            raise Refused(f"{site} is not a built site (no index.html): run `make book` first, "
                          f"or pass --no-site")
    prepare(out, root)
    written: dict[str, list[int]] = {}

    def count(top: str, path: Path) -> None:
        entry = written.setdefault(top, [0, 0])
        entry[0] += 1
        entry[1] += path.stat().st_size

    for rel in source_files(root):
        if not is_public(rel):
            continue
        src, dst = root / rel, out / rel
        target = src.resolve()
        if src.is_symlink() and not (target.is_relative_to(root)
                                     and is_public(target.relative_to(root).as_posix())):
            print(f"  skipped {rel}: a link to {os.readlink(src)}, which is not public")
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if rel == "Makefile":
            dst.write_text(trimmed_makefile(src.read_text()))
        elif rel == "README.md":
            dst.write_text(readme_with_note(src.read_text()))
        else:
            shutil.copyfile(src, dst)
            shutil.copymode(src, dst)
        count(rel.split("/")[0] + ("/" if "/" in rel else ""), dst)

    if site is not None:
        shutil.copytree(site, out / "_build" / "html",
                        ignore=shutil.ignore_patterns(*NEVER, "*.pyc"))
        for path in (out / "_build" / "html").rglob("*"):
            if path.is_file():
                count("_build/html/ (the site)", path)
    (out / MARKER).write_text(MARKER_TEXT)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "public",
                        help="the folder to write (default: public/ in the repository root)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--site", type=Path, default=ROOT / "_build" / "html",
                       help="the built site to copy to <out>/_build/html (default: _build/html)")
    group.add_argument("--no-site", action="store_true", help="leave the built site out")
    args = parser.parse_args(argv)
    out = args.out if args.out.is_absolute() else Path.cwd() / args.out
    try:
        written = write_public(out, None if args.no_site else args.site)
    except Refused as exc:
        print(f"make_public: refused: {exc}", file=sys.stderr)
        return 2
    total = [sum(v[0] for v in written.values()), sum(v[1] for v in written.values())]
    print(f"Wrote the public tree {out.resolve()} ({total[0]} files, {total[1] / 1e6:.1f} MB):")
    for top, (files, size) in sorted(written.items()):
        print(f"  {top:<28} {files:5d} files {size / 1e6:8.2f} MB")
    left = sorted({rel if rel.split("/")[0] in PUBLIC_DIRS else rel.split("/")[0] + "/" * ("/" in rel)
                   for rel in source_files(ROOT) if not is_public(rel)})
    print("Left out (instructors only): " + ", ".join(left))
    if args.no_site:
        print("The site was left out (--no-site).")
    url = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:[ \t]*(\S+)",
                    (ROOT / "_config.yml").read_text(), re.M)
    if url:
        print(f"The site's repository and launch buttons point at {url.group(1)} "
              f"(repository.url in _config.yml): publish the tree there, or change it and rebuild.")
    found = problems(out)
    if found:
        print(f"\nNOT SAFE TO PUBLISH: {len(found)} problem(s) in {out}:", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("Checked: no instructor-only path and no nbgrader marker line in the tree.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
