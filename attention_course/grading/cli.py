"""The command line: `python -m attention_course.grading COMMAND` (the Makefile's targets call it)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional

from .config import GradingError, find_root

if __name__ == "__main__" or "attention_course.grading.__main__" in sys.modules:
    # jsonschema (imported by nbformat) tries the optional package rfc3987_syntax, which spends
    # about 2 s building a grammar at import, for URI formats notebook validation never checks.
    sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m attention_course.grading",
        description="Release, autograde (sandboxed), give feedback on and export the graded exercises.")
    root_help = "the course root (default: the current folder if it has nbgrader_config.py, else the repository)"
    parser.add_argument("--root", help=root_help)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", default=argparse.SUPPRESS, help=root_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rel = commands.add_parser("release", parents=[common], help="regenerate exercises/ from solutions/")
    rel.add_argument("assignment", nargs="*", help="only these assignments (default: all)")
    grade = commands.add_parser("autograde", parents=[common], help="grade submitted/ in sandboxes")
    grade.add_argument("assignment", nargs="?", help="grade only this assignment (e.g. 01_rnn)")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument("--timeout", type=float, help="seconds a cell or test may run (default: the config)")
    grade.add_argument("--workers", type=int, help="submissions graded at once (default: the config, else the cores)")
    where = grade.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="grade on the Dask cluster of this scheduler "
                            "(e.g. tcp://host:8786)")
    where.add_argument("--dask-local", type=int, metavar="N",
                       help="grade on a local Dask cluster of N worker processes")
    grade.add_argument("--unsafe-no-sandbox", action="store_true",
                       help="grade without bubblewrap: ONLY for submissions you trust")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    give = commands.add_parser("feedback", parents=[common], help="HTML feedback into feedback/")
    give.add_argument("assignment", nargs="?", help="only this assignment")
    grades = commands.add_parser("grades", parents=[common], help="export grades.csv (score, status, timestamp)")
    grades.add_argument("--output", help="the CSV to write (default: grades.csv in the course root)")
    args = parser.parse_args(argv)

    try:
        if args.command == "release":
            from .release import release
            root = find_root(args.root)
            for path in release(root, args.assignment or None):
                print(f"wrote {path.relative_to(root)}")
        elif args.command == "autograde":
            from .autograding import autograde
            reports = autograde(args.root, args.assignment, args.student, timeout=args.timeout,
                                workers=args.workers, unsafe_no_sandbox=args.unsafe_no_sandbox,
                                progress=not args.quiet, scheduler=args.scheduler,
                                dask_local=args.dask_local)
            if reports:
                print(f"report: {Path(find_root(args.root)) / 'autograded' / 'report.csv'}")
        elif args.command == "feedback":
            from .feedback import feedback
            feedback(args.root, args.assignment)
        elif args.command == "grades":
            from .reports import export_grades
            print(f"wrote {export_grades(args.root, args.output)}")
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
