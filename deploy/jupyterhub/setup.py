"""Prepare one machine for a class of the course on JupyterHub with nbgrader's exchange.

Run as root, with the Python of the environment the course is installed in (its bin
folder holds jupyterhub, jupyterhub-singleuser and nbgrader; students' servers run
from it):

    sudo .venv/bin/python deploy/jupyterhub/setup.py --course attention \\
        --instructor teacher --students ada,alan --exchange /srv/nbgrader/exchange

It creates what is missing and leaves what exists (re-running it is safe):
  * Unix accounts for the instructor and the students (with home folders);
  * nbgrader's exchange: its root world-writable with the sticky bit (1777), and the
    course's folders with the modes nbgrader documents: outbound 0755, inbound 2733
    (students write, cannot list each other's submissions), feedback 0711;
  * the instructor's course folder (default ~instructor/<course>): the course's
    nbgrader_config.py (with the course id) and solutions/;
  * Jupyter configuration for the two kinds of servers, in <state-dir>/jupyter/:
    both use the exchange with path_includes_course and nbgrader's JupyterHubAuthPlugin;
    students' servers have the assignment list but not the formgrader, course list or
    create-assignment menus;
  * <state-dir>/hub_settings.json, which jupyterhub_config.py reads.

Then start the hub (as root; the proxy is configurable-http-proxy, `make hub-proxy`):

    ATTENTION_HUB_SETTINGS=<state-dir>/hub_settings.json \\
        .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# nbgrader's documented modes (nbgrader/exchange/default/*.py): students write into
# inbound but cannot list it (others -wx); setgid keeps the instructor's group on files.
MODES = {"outbound": 0o755, "inbound": 0o2733, "feedback": 0o711}
# Instructor menus a student must not see: server extensions and JupyterLab plugins.
STUDENT_OFF_SERVER = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
]
STUDENT_OFF_LAB = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
# The formgrader service runs nothing else: the hub gives a managed service about ten
# seconds to answer, and JupyterLab alone can take longer on a busy machine.
GRADER_OFF_SERVER = [
    "jupyterlab",
    "notebook",
    "jupyter_lsp",
    "jupyter_server_terminals",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
    "nbgrader.server_extensions.validate_assignment",
]
KINDS = ("student", "instructor", "grader")  # who a server is for: its Jupyter config
NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,30}$")


class SetupError(Exception):
    """Something the administrator has to fix; the message says what."""


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--course", required=True, help="course id, e.g. attention")
    parser.add_argument("--instructor", required=True, help="the instructor's account")
    parser.add_argument(
        "--students",
        required=True,
        help="comma-separated student accounts, e.g. ada,alan",
    )
    parser.add_argument(
        "--exchange",
        default="/srv/nbgrader/exchange",
        help="nbgrader's exchange root (default: %(default)s)",
    )
    parser.add_argument(
        "--course-root",
        help="the instructor's course folder (default: ~INSTRUCTOR/COURSE)",
    )
    parser.add_argument(
        "--state-dir",
        default="/srv/jupyterhub",
        help="the hub's database, secrets and Jupyter configs (default: %(default)s)",
    )
    parser.add_argument("--ip", default="0.0.0.0", help="address the hub listens on")
    parser.add_argument("--port", type=int, default=8000, help="the hub's public port")
    parser.add_argument(
        "--hub-port", type=int, default=8081, help="the hub's internal API port"
    )
    parser.add_argument(
        "--proxy-api-port",
        type=int,
        default=8001,
        help="configurable-http-proxy's API port",
    )
    parser.add_argument(
        "--service-port",
        type=int,
        default=9999,
        help="port of the course's formgrader service",
    )
    parser.add_argument(
        "--authenticator",
        default="pam",
        choices=["pam", "dummy"],
        help="pam: Unix passwords; dummy: any password, ONLY for tests on 127.0.0.1",
    )
    parser.add_argument(
        "--proxy",
        help="configurable-http-proxy (default: "
        "deploy/jupyterhub/node_modules/.bin/, else the one on PATH)",
    )
    parser.add_argument(
        "--pythonpath",
        default="",
        help="added to PYTHONPATH of every server (a course checkout not installed)",
    )
    return parser.parse_args(argv)


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SetupError(f"{' '.join(command)} failed: {done.stderr.strip()}")


def account(name: str) -> pwd.struct_passwd:
    if not NAME.match(name):
        raise SetupError(
            f"{name!r} is not a valid account name (lower case, digits, - and _)"
        )
    try:
        return pwd.getpwnam(name)
    except KeyError:
        run("useradd", "--create-home", "--shell", "/bin/bash", name)
        print(f"created account {name}")
        return pwd.getpwnam(name)


def readable_by_all(path: Path) -> None:
    """Students' servers run as the students: the Python must be reachable by all."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        # Its parents need only be searchable (o+x), the folder itself also readable.
        needed = stat.S_IXOTH | (stat.S_IROTH if folder == path else 0)
        if mode & needed != needed:
            what = "o+rx" if folder == path else "o+x"
            raise SetupError(
                f"other users cannot reach {folder}, so students' servers cannot run "
                f"{path}; run `chmod {what} {folder}` or install the course elsewhere"
            )


def directory(path: Path, mode: int, owner: pwd.struct_passwd | None = None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    os.chmod(path, mode)  # after chown: chown clears the setgid bit


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def find_proxy(given: str | None) -> str:
    candidates = (
        [given]
        if given
        else [
            str(HERE / "node_modules/.bin/configurable-http-proxy"),
            shutil.which("configurable-http-proxy"),
        ]
    )
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return str(Path(candidate).resolve())
    raise SetupError(
        "configurable-http-proxy not found: run `make hub-proxy` (npm install in "
        "deploy/jupyterhub/) or `npm install -g configurable-http-proxy`, "
        "or pass --proxy"
    )


def nbgrader_config(args) -> str:
    return (
        f"# Written by deploy/jupyterhub/setup.py: servers of course {args.course!r}.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {args.course!r}\n"
        f"c.Exchange.root = {str(Path(args.exchange).resolve())!r}\n"
        "# Courses share one exchange: each in its own folder (nbgrader #1396).\n"
        "c.Exchange.path_includes_course = True\n"
        "# A user's courses are their hub groups nbgrader-<c> and formgrade-<c>.\n"
        "from nbgrader.auth import JupyterHubAuthPlugin  # noqa: E402\n"
        "c.Authenticator.plugin_class = JupyterHubAuthPlugin\n"
    )


def setup(args) -> Path:
    if os.geteuid() != 0:
        raise SetupError(
            "run this as root (it creates accounts and the exchange): sudo ..."
        )
    students = [s for s in args.students.split(",") if s]
    if not students:
        raise SetupError("--students needs at least one account name")
    if args.instructor in students:
        raise SetupError(
            f"{args.instructor} cannot be both the instructor and a student"
        )
    if not NAME.match(args.course):
        raise SetupError(
            f"course id {args.course!r}: use lower case letters, digits, - and _"
        )
    bin_dir = Path(sys.executable).parent
    for tool in ("jupyterhub", "jupyterhub-singleuser", "nbgrader"):
        if not (bin_dir / tool).exists():
            raise SetupError(
                f"{bin_dir / tool} is missing: install the course with its hub "
                "requirements (make setup) and run this script with that Python"
            )
    readable_by_all(bin_dir)
    readable_by_all(Path(sys.executable).resolve().parent)
    proxy = find_proxy(args.proxy)

    instructor = account(args.instructor)
    for student in students:
        account(student)

    exchange = Path(args.exchange).resolve()
    directory(exchange, 0o1777)  # world-writable with the sticky bit (nbgrader #1225)
    directory(exchange / args.course, 0o755, instructor)
    for name, mode in MODES.items():
        directory(exchange / args.course / name, mode, instructor)

    course_root = Path(
        args.course_root or Path(instructor.pw_dir) / args.course
    ).resolve()
    if not (course_root / "nbgrader_config.py").exists():
        course_root.mkdir(parents=True, exist_ok=True)
        text = (REPO / "nbgrader_config.py").read_text()
        write(
            course_root / "nbgrader_config.py",
            text + f"\n# The course id on the hub (deploy/jupyterhub/setup.py).\n"
            f"c.CourseDirectory.course_id = {args.course!r}\n",
        )
        shutil.copytree(
            REPO / "solutions", course_root / "solutions", dirs_exist_ok=True
        )
        for path in [course_root, *course_root.rglob("*")]:
            os.chown(path, instructor.pw_uid, instructor.pw_gid)
        print(f"course folder {course_root} (nbgrader_config.py, solutions/)")

    state = Path(args.state_dir).resolve()
    directory(state, 0o755)
    for kind in KINDS:
        config = state / "jupyter" / kind
        write(config / "nbgrader_config.py", nbgrader_config(args))
    write(
        state
        / "jupyter"
        / "grader"
        / "jupyter_server_config.d"
        / "zz-attention-grader.json",
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {e: False for e in GRADER_OFF_SERVER}
                }
            },
            indent=2,
        )
        + "\n",
    )
    student = state / "jupyter" / "student"
    # Read after the environment's jupyter_server_config.d (where nbgrader enables all).
    write(
        student / "jupyter_server_config.d" / "zz-attention-student.json",
        json.dumps(
            {
                "ServerApp": {
                    "jpserver_extensions": {e: False for e in STUDENT_OFF_SERVER}
                }
            },
            indent=2,
        )
        + "\n",
    )
    write(
        student / "labconfig" / "page_config.json",
        json.dumps({"disabledExtensions": {e: True for e in STUDENT_OFF_LAB}}, indent=2)
        + "\n",
    )
    settings = {
        "course": args.course,
        "instructor": args.instructor,
        "students": students,
        "exchange": str(exchange),
        "course_root": str(course_root),
        "state_dir": str(state),
        "ip": args.ip,
        "port": args.port,
        "hub_port": args.hub_port,
        "proxy_api_port": args.proxy_api_port,
        "service_port": args.service_port,
        "bin_dir": str(bin_dir),
        "proxy": proxy,
        "authenticator": args.authenticator,
        "pythonpath": args.pythonpath,
        "jupyter_config": {k: str(state / "jupyter" / k) for k in KINDS},
    }
    path = state / "hub_settings.json"
    write(path, json.dumps(settings, indent=2) + "\n", 0o600)
    return path


def main(argv=None) -> int:
    args = parse(argv)
    try:
        path = setup(args)
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    config = HERE / "jupyterhub_config.py"
    print(
        f"wrote {path}\nstart the hub (as root):\n"
        f"  ATTENTION_HUB_SETTINGS={path} \\\n"
        f"    {Path(sys.executable).parent / 'jupyterhub'} -f {config}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
