"""A student's own copy of the course notebooks (hand-written).

    python -m attention_course.workspace ~/attention-course

copies the chapters (book/) and the graded exercises (exercises/NN/NN.ipynb) into the folder,
laid out as in the repository so that the links between them work, and prints how to open
them. It works from an installed package (the notebooks ship inside it) and from a checkout.

Run it again after upgrading the package: it adds what is new and never replaces a notebook
the student may have worked on without asking. Asked at a terminal, "y" keeps the old copy
next to the new one (NAME.old-N.ipynb); without a terminal to ask at (a script, a pipe) the
student's copy is always kept and the command says how to get a fresh one.
"""
from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
from pathlib import Path
from typing import Callable, Optional

from .runtime import ROOT


class WorkspaceError(Exception):
    """The workspace cannot be written where asked; the message says why and what to do."""


def student_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks a student works in, relative to `root`: chapters first, then exercises."""
    found = [p.relative_to(root) for p in
             [*sorted(root.glob("book/*.ipynb")), *sorted(root.glob("exercises/*/*.ipynb"))]]
    if not found:
        raise WorkspaceError(f"no notebooks under {root}/book or {root}/exercises: this copy of "
                             "the course package is incomplete; reinstall it")
    return found


def _backup_name(path: Path) -> Path:
    n = 1
    while (candidate := path.with_name(f"{path.stem}.old-{n}{path.suffix}")).exists():
        n += 1
    return candidate


def make_workspace(target: Path, ask: Optional[Callable[[str], bool]] = None,
                   root: Path = ROOT) -> dict[str, list[Path]]:
    """Copy the student notebooks into `target`.

    `ask(question)` decides whether to replace a notebook that differs from the course's copy;
    None means there is nobody to ask, and the student's notebook is kept. Returns the paths
    (relative to `target`) under "copied", "same" (already identical), "replaced" (the old
    copy kept as NAME.old-N.ipynb) and "kept".
    """
    target = Path(target).expanduser()
    if target.exists() and not target.is_dir():
        raise WorkspaceError(f"{target} exists and is not a folder: choose another place for "
                             "the workspace")
    try:
        if target.resolve() == Path(root).resolve():
            raise WorkspaceError(f"{target} is the course's own folder: choose a folder of your "
                                 "own, e.g. ~/attention-course")
    except OSError:
        pass
    notebooks = student_notebooks(root)
    done: dict[str, list[Path]] = {"copied": [], "same": [], "replaced": [], "kept": []}
    for rel in notebooks:
        source, dest = Path(root) / rel, target / rel
        if dest.exists():
            if dest.is_file() and filecmp.cmp(source, dest, shallow=False):
                done["same"].append(rel)
                continue
            if dest.is_dir() or ask is None or not ask(
                    f"{dest} differs from the course's copy (your work?). Replace it, keeping "
                    f"yours as {_backup_name(dest).name}? [y/N] "):
                done["kept"].append(rel)
                continue
            dest.rename(_backup_name(dest))
            done["replaced"].append(rel)
        else:
            done["copied"].append(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    return done


def _ask_at_terminal(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attention_course.workspace",
        description="Copy the course's chapters and exercises into a folder of your own.")
    parser.add_argument("folder", type=Path, help="where to put them, e.g. ~/attention-course")
    args = parser.parse_args(argv)
    ask = _ask_at_terminal if sys.stdin.isatty() else None
    try:
        done = make_workspace(args.folder, ask=ask)
    except (WorkspaceError, OSError) as err:
        print(f"workspace: {err}", file=sys.stderr)
        return 2
    folder = args.folder.expanduser()
    counts = ", ".join(f"{len(v)} {k}" for k, v in done.items() if v)
    print(f"Your course workspace is {folder.resolve()} ({counts}).")
    for rel in done["replaced"]:
        print(f"  replaced {rel}; your old copy is next to it (.old-N.ipynb)")
    if done["kept"]:
        print("Kept your own copy of these notebooks, which differ from the course's:")
        for rel in done["kept"]:
            print(f"  {rel}")
        print("To get a fresh copy of one, rename or delete yours and run this command again"
              + ("" if ask else " (or run it at a terminal, where it asks)") + ".")
    print("\nOpen it in JupyterLab (`pip install jupyterlab` first if you have none):\n"
          f"  cd {folder} && jupyter lab\n"
          "Chapters are in book/, the graded exercises in exercises/: hand in the exercise "
          "notebook itself (e.g. exercises/01_rnn/01_rnn.ipynb).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
