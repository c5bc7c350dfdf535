"""Point every link of the course at its repository and version (`make repository`).

The repository and the version live in one place, pyproject.toml:

    [project]
    version = "0.1.0"                 # the tag v0.1.0 is what the install cells install

    [tool.attention_course]
    repository = "https://github.com/OWNER/NAME"
    branch = "main"                   # what the launch buttons and Binder open

Everything else is written from there by this tool: _config.yml (the repository button,
Colab and Binder launch buttons), pyproject.toml's [project.urls], the links, badges
and install commands of README.md, CONTRIBUTING.md, intro.md, CHANGELOG.md, book/*.md,
and the install cell of every notebook (tools/install_cell.py; exercises/ are released again
from solutions/ with `python -m attention_course.grading release NAME`).

    python tools/set_repository.py           # rewrite everything from pyproject.toml
    python tools/set_repository.py --url URL --version X.Y.Z [--branch B]
                                              # change pyproject.toml first
    python tools/set_repository.py --check   # exit 1 listing what points elsewhere

--check (and tests/test_repository.py) fails while a page points at a placeholder, at
another GitHub repository or Pages site, or names a release tag other than the version.
CHANGELOG.md keeps the versions of its earlier releases; only its links are rewritten.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
import install_cell  # noqa: E402

#: Other projects' GitHub repositories that a page links to: a link to one of these is
#: neither rewritten nor reported. Any other GitHub link is taken for the course's own.
OTHER_REPOSITORIES = {"containers/bubblewrap"}

NAME = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"      # a repository name; no trailing dot
OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
GITHUB_URL = re.compile(rf"^https://github\.com/({OWNER})/({NAME})/?$")
REPO_LINK = re.compile(rf"(?<![\w.])github\.com/(?P<slug>{OWNER}/{NAME})")
COLAB_LINK = re.compile(rf"colab\.research\.google\.com/github/(?P<slug>{OWNER}/{NAME})"
                        rf"/blob/(?P<ref>[\w.-]+)")
BINDER_LINK = re.compile(rf"mybinder\.org/v2/gh/(?P<slug>{OWNER}/{NAME})"
                         rf"/(?P<ref>[\w.-]+)")
PAGES_LINK = re.compile(rf"(?P<owner>{OWNER})\.github\.io/(?P<name>{NAME})")
TAG = re.compile(r"(?<![\w.])v(?P<version>\d+\.\d+\.\d+)(?![\w.]*\d)")
WHEEL = re.compile(r"attention_course-(?P<version>\d+\.\d+\.\d+)-py3")
PLACEHOLDER = re.compile(
    r"(?i)\bOWNER/(REPO|NAME)\b|<(owner|org|user|repo|repository|name)>|"
    r"\byour[-_]?(org|organi[sz]ation|user(name)?|account|repo|name)\b|"
    r"\bexample\.(com|org|net)\b|\bX\.Y\.Z\b")

#: The text pages the tool rewrites and checks (globs, relative to the root).
PAGES = ["README.md", "CONTRIBUTING.md", "intro.md", "CHANGELOG.md", "_config.yml",
         "pyproject.toml", "book/*.md", "binder/*", ".github/workflows/*.yml"]
#: Pages whose version numbers are history, not the current release.
HISTORY = {"CHANGELOG.md"}


class Refused(Exception):
    """The tool will not write this; the message says why and what to do."""


@dataclass(frozen=True)
class Course:
    url: str          # https://github.com/OWNER/NAME
    version: str      # 0.1.0
    branch: str       # main

    @property
    def slug(self) -> str:
        return self.url.removeprefix("https://github.com/")

    @property
    def site(self) -> str:
        owner, name = self.slug.split("/")
        return f"https://{owner.lower()}.github.io/{name}/"

    @property
    def urls(self) -> dict[str, str]:
        """pyproject.toml's [project.urls]."""
        return {"Homepage": self.site, "Repository": self.url,
                "Issues": f"{self.url}/issues",
                "Changelog": f"{self.url}/blob/{self.branch}/CHANGELOG.md"}


def check_url(url: str) -> str:
    url = url.strip().removesuffix(".git").rstrip("/")
    if PLACEHOLDER.search(url):
        raise Refused(f"{url!r} is a placeholder: give the public repository's URL")
    if not GITHUB_URL.match(url):
        raise Refused(f"{url!r} is not a GitHub repository URL "
                      "(https://github.com/OWNER/NAME): the Colab and Binder launch "
                      "buttons and GitHub Pages need a GitHub repository")
    return url


def check_version(version: str) -> str:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        raise Refused(f"version {version!r} is not MAJOR.MINOR.PATCH (e.g. 0.2.0); the "
                      "install cells install the git tag v<version>")
    return version


def course(root: Path = ROOT) -> Course:
    """The configured repository, branch and version, from pyproject.toml."""
    path = root / "pyproject.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    table = data.get("tool", {}).get("attention_course", {})
    if not table.get("repository"):
        raise Refused(f"{path} has no [tool.attention_course] repository: set it to "
                      "the public repository's URL (https://github.com/OWNER/NAME)")
    return Course(url=check_url(table["repository"]),
                  version=check_version(data["project"]["version"]),
                  branch=table.get("branch", "main"))


# --------------------------------------------------------------------------------------
# Writing the one place
# --------------------------------------------------------------------------------------
def _set_key(text: str, table: str, key: str, value: str) -> str:
    """`text` (TOML) with `key = "value"` in [table] (added at its top if missing)."""
    header = re.search(rf"^\[{re.escape(table)}\][ \t]*\n", text, re.M)
    if header is None:
        raise Refused(f"pyproject.toml has no [{table}] table")
    end = re.search(r"^\[", text[header.end():], re.M)
    body_end = header.end() + (end.start() if end else len(text) - header.end())
    body = text[header.end():body_end]
    line = f'{key} = "{value}"'
    new, count = re.subn(rf'^{re.escape(key)}[ \t]*=.*$', line, body, count=1,
                         flags=re.M)
    if not count:
        new = line + "\n" + body
    return text[:header.end()] + new + text[body_end:]


def configure(root: Path, url: str | None, version: str | None,
              branch: str | None) -> None:
    """Write the given values into pyproject.toml, the one place they live."""
    path = root / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    if version is not None:
        text = _set_key(text, "project", "version", check_version(version))
    if url is not None:
        text = _set_key(text, "tool.attention_course", "repository", check_url(url))
    if branch is not None:
        if not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", branch):
            raise Refused(f"{branch!r} is not a branch name")
        text = _set_key(text, "tool.attention_course", "branch", branch)
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------
# Rewriting and checking the pages
# --------------------------------------------------------------------------------------
def pages(root: Path = ROOT) -> list[Path]:
    found = {p for pattern in PAGES for p in root.glob(pattern) if p.is_file()}
    return sorted(found)


def notebooks(root: Path = ROOT) -> list[Path]:
    return install_cell.notebooks(root)


def _ours(slug: str) -> bool:
    return slug not in OTHER_REPOSITORIES


def rewrite_text(text: str, c: Course, history: bool = False) -> str:
    """`text` with every link to a course repository, site or release made `c`'s."""
    owner, name = c.slug.split("/")
    text = COLAB_LINK.sub(lambda m: (f"colab.research.google.com/github/{c.slug}/blob/"
                                     f"{c.branch}") if _ours(m["slug"]) else m[0], text)
    text = BINDER_LINK.sub(lambda m: f"mybinder.org/v2/gh/{c.slug}/{c.branch}"
                           if _ours(m["slug"]) else m[0], text)
    text = REPO_LINK.sub(lambda m: f"github.com/{c.slug}" if _ours(m["slug"]) else m[0],
                         text)
    text = PAGES_LINK.sub(f"{owner.lower()}.github.io/{name}", text)
    if not history:
        text = TAG.sub(f"v{c.version}", text)
        text = WHEEL.sub(f"attention_course-{c.version}-py3", text)
    return text


def rewrite_config(text: str, c: Course) -> str:
    """_config.yml with repository.url and repository.branch set (comments kept)."""
    block = re.search(r"^repository:[ \t]*\n((?:[ \t]+.*\n)+)", text, re.M)
    if block is None:
        raise Refused("_config.yml has no repository: section")
    body = block.group(1)
    for key, value in (("url", c.url), ("branch", c.branch)):
        body, count = re.subn(rf"^([ \t]+){key}:.*$", rf"\g<1>{key}: {value}", body,
                              count=1, flags=re.M)
        if not count:
            body = f"  {key}: {value}\n" + body
    return text[:block.start(1)] + body + text[block.end(1):]


def rewrite_urls_table(text: str, c: Course) -> str:
    """pyproject.toml with [project.urls] written from `c`."""
    table = "[project.urls]\n" + "".join(f'{k} = "{v}"\n' for k, v in c.urls.items())
    found = re.search(r"^\[project\.urls\][ \t]*\n(?:(?!\[).*\n)*", text, re.M)
    if found:
        return text[:found.start()] + table + "\n" * (found[0].endswith("\n\n")) \
            + text[found.end():]
    # Beside the other [project] tables (TOML takes it anywhere, readers look there).
    at = re.search(r"^\[project\.optional-dependencies\]", text, re.M)
    if at is None:
        return text.rstrip("\n") + "\n\n" + table
    return text[:at.start()] + table + "\n" + text[at.start():]


def rewrite_page(path: Path, root: Path, c: Course) -> bool:
    rel = path.relative_to(root).as_posix()
    text = old = path.read_text(encoding="utf-8")
    text = rewrite_text(text, c, history=rel in HISTORY)
    if rel == "_config.yml":
        text = rewrite_config(text, c)
    if rel == "pyproject.toml":
        text = rewrite_urls_table(text, c)
    if text != old:
        path.write_text(text, encoding="utf-8")
    return text != old


def text_problems(rel: str, text: str, c: Course) -> list[str]:
    """Where `text` (the page `rel`) points anywhere but at `c`, one line each."""
    owner, name = c.slug.split("/")
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{rel}:{number}"
        for m in REPO_LINK.finditer(line):
            if m["slug"] != c.slug and _ours(m["slug"]):
                found.append(f"{where}: links to the repository {m['slug']}, "
                             f"not {c.slug}")
        for m in PAGES_LINK.finditer(line):
            if (m["owner"].lower(), m["name"]) != (owner.lower(), name):
                found.append(f"{where}: links to the site {m[0]}, not {c.site}")
        for m in (*COLAB_LINK.finditer(line), *BINDER_LINK.finditer(line)):
            if _ours(m["slug"]) and m["ref"] != c.branch:
                found.append(f"{where}: a launch link opens {m['ref']}, not the branch "
                             f"{c.branch}")
        if rel not in HISTORY:
            for m in (*TAG.finditer(line), *WHEEL.finditer(line)):
                if m["version"] != c.version:
                    found.append(f"{where}: names version {m['version']}, "
                                 f"not {c.version}")
        if PLACEHOLDER.search(line):
            found.append(f"{where}: a placeholder ({PLACEHOLDER.search(line)[0]!r})")
    return found


def problems(root: Path = ROOT) -> list[str]:
    """Every place that points at a placeholder, another repository or version."""
    c = course(root)
    found = []
    for path in pages(root):
        rel = path.relative_to(root).as_posix()
        found += text_problems(rel, path.read_text(encoding="utf-8"), c)
    config = (root / "_config.yml").read_text(encoding="utf-8")
    if rewrite_config(config, c) != config:
        found.append(f"_config.yml: repository.url or .branch is not {c.url}, "
                     f"{c.branch}")
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    if rewrite_urls_table(pyproject, c) != pyproject:
        found.append("pyproject.toml: [project.urls] is missing or out of date")
    source = install_cell.cell_source(install_cell.default_requirement(root))
    for path in notebooks(root):
        rel = path.relative_to(root).as_posix()
        nb = nbformat.read(path, as_version=4)
        why = install_cell.problem(nb, source)
        if why:
            found.append(f"{rel}: {why}")
        for cell in nb.cells:
            found += text_problems(f"{rel}, cell {cell.get('id', '?')}", cell.source, c)
    return found


# --------------------------------------------------------------------------------------
def release(names: list[str], root: Path) -> None:
    """Regenerate exercises/NAME from solutions/NAME, as `make release` does."""
    for name in names:
        print(f"releasing exercises/{name} from solutions/{name}")
        subprocess.run([sys.executable, "-m", "attention_course.grading", "release",
                        name], cwd=root, check=True)


def write_all(root: Path = ROOT, do_release: bool = True) -> list[str]:
    """Rewrite every page and install cell from pyproject.toml; returns what changed."""
    c = course(root)
    changed = [p.relative_to(root).as_posix() for p in pages(root)
               if rewrite_page(p, root, c)]
    source = install_cell.cell_source(install_cell.default_requirement(root))
    stale = []
    for path in [*root.glob("book/*.ipynb"), *root.glob("solutions/*/*.ipynb")]:
        nb = nbformat.read(path, as_version=4)
        if install_cell.apply(nb, source):
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            changed.append(path.relative_to(root).as_posix())
            if path.parent.parent.name == "solutions":
                stale.append(path.parent.name)
    for path in root.glob("exercises/*/*.ipynb"):
        if path.parent.name not in stale and install_cell.problem(
                nbformat.read(path, as_version=4), source):
            stale.append(path.parent.name)
    if stale and do_release:
        release(sorted(stale), root)
        changed += [f"exercises/{name}/" for name in sorted(stale)]
    elif stale:
        print("exercises/ not released again (--no-release): run `make release`")
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url",
                        help="the public repository, https://github.com/OWNER/NAME")
    parser.add_argument("--version", help="the release, MAJOR.MINOR.PATCH")
    parser.add_argument("--branch", help="the branch the launch buttons open")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if anything points elsewhere")
    parser.add_argument("--no-release", action="store_true",
                        help="do not regenerate exercises/ (then run `make release`)")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if args.url or args.version or args.branch:
                parser.error("--check takes no --url, --version or --branch")
            found = problems(ROOT)
            if found:
                print(f"{len(found)} place(s) do not point at the configured "
                      "repository and version (pyproject.toml); run "
                      "`make repository`:\n  "
                      + "\n  ".join(found), file=sys.stderr)
                return 1
            c = course(ROOT)
            print(f"every page points at {c.url} (branch {c.branch}), "
                  f"version {c.version}")
            return 0
        configure(ROOT, args.url, args.version, args.branch)
        changed = write_all(ROOT, do_release=not args.no_release)
        c = course(ROOT)
        print(f"pointed the course at {c.url} (branch {c.branch}), "
              f"version {c.version}; "
              f"changed {len(changed)} file(s)" + "".join(f"\n  {p}" for p in changed))
        left = problems(ROOT)
        if left:
            print("still pointing elsewhere (edit these by hand):\n  "
                  + "\n  ".join(left), file=sys.stderr)
            return 1
        return 0
    except (Refused, install_cell.Refused) as err:
        print(f"set_repository: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
