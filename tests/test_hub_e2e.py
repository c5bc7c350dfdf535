"""A class on JupyterHub, end to end: deploy/jupyterhub/ with nbgrader's exchange.

As root, deploy/jupyterhub/setup.py creates an instructor and two students (Unix
accounts named with this test's own random prefix), the exchange and the hub's settings;
the hub (DummyAuthenticator on 127.0.0.1, LocalProcessSpawner, the npm
configurable-http-proxy) starts the students' servers as those users. Then, through the
hub as its users would: the instructor releases 01_rnn into the exchange; each student
fetches it through their server's assignment-list endpoints, fills it in through the
contents API (one with the solution, one with a catalogued wrong answer) and submits;
the instructor collects, autogrades in the course's bubblewrap sandbox, writes and
releases feedback; the students fetch their feedback; grades.csv has both rows. The
students' servers show no instructor menu and the formgrader service opens for the
instructor only.

Everything it created (accounts, homes, exchange, processes) is removed afterwards, also
when it fails; it refuses to remove an account it did not create.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from catalog_01_rnn import WRONG_ANSWERS
from system_users import let_users_reach_python, restore_modes
from test_grading_catalog import (
    cell_by_id,
    source_notebook,
    tasks_of,
    without_solution_markers,
)

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy" / "jupyterhub"
BIN = Path(sys.executable).parent
ASSIGNMENT = "01_rnn"
WRONG = next(
    w
    for w in WRONG_ANSWERS
    if w.task == "rnn_cell_step" and w.name == "missing_bias_hh"
)
LIMIT_S = 300  # the whole test, hard: a hung hub must not hold `make test`


def _proxy() -> str | None:
    local = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


def _why_skip() -> str | None:
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root: it creates Unix accounts and a hub spawning their servers"
    if shutil.which("bwrap") is None:
        return (
            "needs bubblewrap for the sandboxed autograder (apt-get install bubblewrap)"
        )
    if _proxy() is None:
        return "needs configurable-http-proxy: run `make hub-proxy` (npm install)"
    if not (BIN / "jupyterhub").exists() or not shutil.which("useradd"):
        return "needs jupyterhub in the environment (make setup) and useradd/userdel"
    return None


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_why_skip() is not None, reason=_why_skip() or ""),
]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


class Hub:
    """The hub this test started, its accounts and its REST API (as its admin)."""

    def __init__(self, base: Path):
        import requests

        self.requests = requests
        self.prefix = "acx" + secrets.token_hex(3)
        self.course = "c" + self.prefix
        self.instructor = f"{self.prefix}i"
        self.students = [f"{self.prefix}a", f"{self.prefix}b"]
        self.base = base
        self.created: dict[
            str, int
        ] = {}  # account -> uid, only those this test created
        self.process: subprocess.Popen | None = None
        self.admin_token = secrets.token_hex(16)
        self.port, self.hub_port, self.proxy_port, self.service_port = _free_ports(4)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = base / "hub.log"
        self.tokens: dict[str, str] = {}

    # --- set-up and clean-up ----------------------------------------------------------
    def setup(self) -> None:
        names = [self.instructor, *self.students]
        taken = [n for n in names if _exists(n)]
        assert not taken, (
            f"accounts {taken} exist already: this test only creates fresh ones"
        )
        done = subprocess.run(
            [
                sys.executable,
                str(DEPLOY / "setup.py"),
                "--course",
                self.course,
                "--instructor",
                self.instructor,
                "--students",
                ",".join(self.students),
                "--exchange",
                str(self.base / "exchange"),
                "--state-dir",
                str(self.base / "state"),
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--hub-port",
                str(self.hub_port),
                "--proxy-api-port",
                str(self.proxy_port),
                "--service-port",
                str(self.service_port),
                "--authenticator",
                "dummy",
                "--proxy",
                _proxy(),
                "--pythonpath",
                str(ROOT),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        for name in names:  # record what exists now and did not before: ours to remove
            if _exists(name):
                self.created[name] = pwd.getpwnam(name).pw_uid
        assert done.returncode == 0, f"setup.py failed:\n{done.stdout}\n{done.stderr}"

    def start(self) -> None:
        env = {
            **os.environ,
            "ATTENTION_HUB_SETTINGS": str(self.base / "state" / "hub_settings.json"),
            "ATTENTION_HUB_ADMIN_TOKEN": self.admin_token,
        }
        with self.log.open("w") as log:
            # Its own session: the hub and its proxy are stopped as one process group.
            self.process = subprocess.Popen(
                [str(BIN / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")],
                cwd=self.base / "state",
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait(
            lambda: self.api("GET", "/users", check=False).status_code == 200,
            90,
            "the hub",
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(
                self.process.pid, signal.SIGTERM
            )  # the hub stops the users' servers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        for name, uid in self.created.items():  # what the hub left of our users
            assert name.startswith(self.prefix) and pwd.getpwnam(name).pw_uid == uid
            for pid in _pids_of(uid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def remove(self) -> None:
        self.stop()
        time.sleep(0.5)
        for name, uid in self.created.items():
            # Never an account this test did not create: its prefix, the uid it made.
            if (
                not name.startswith(self.prefix)
                or not _exists(name)
                or pwd.getpwnam(name).pw_uid != uid
            ):
                continue
            subprocess.run(
                ["userdel", "--remove", name], capture_output=True, timeout=60
            )
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self) -> str:
        if not self.log.exists():
            return "(no hub log)"
        text = self.log.read_text()
        # The hub's own errors first: the users' servers log far more, and later.
        errors = [
            line for line in text.splitlines() if re.match(r"\[[EC] .*JupyterHub", line)
        ]
        return "\n".join(["hub errors:", *errors[-20:], "log tail:", text[-3000:]])

    # --- talking to the hub -----------------------------------------------------------
    def wait(self, ready, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except self.requests.ConnectionError:
                pass
            assert self.process is None or self.process.poll() is None, (
                f"the hub exited while waiting for {what}:\n{self.log_tail()}"
            )
            time.sleep(0.5)
        raise AssertionError(f"{what} not ready within {seconds} s:\n{self.log_tail()}")

    def api(
        self, method: str, path: str, token: str | None = None, check=True, **kwargs
    ):
        response = self.requests.request(
            method,
            f"{self.url}/hub/api{path}",
            timeout=60,
            headers={"Authorization": f"token {token or self.admin_token}"},
            **kwargs,
        )
        if check:
            assert response.status_code < 400, (
                f"{method} {path}: {response.status_code} {response.text}"
            )
        return response

    def server(self, user: str, method: str, path: str, check=True, **kwargs):
        response = self.requests.request(
            method,
            f"{self.url}/user/{user}{path}",
            timeout=120,
            allow_redirects=False,
            headers={"Authorization": f"token {self.tokens[user]}"},
            **kwargs,
        )
        if check:
            assert response.status_code < 400, (
                f"{method} /user/{user}{path}: {response.status_code} "
                f"{response.text[:2000]}"
            )
        return response

    def token(self, user: str) -> str:
        made = self.api(
            "POST", f"/users/{user}/tokens", json={"note": "end-to-end test"}
        ).json()
        self.tokens[user] = made["token"]
        return made["token"]

    def spawn(self, user: str) -> None:
        self.api("POST", f"/users/{user}/server")

    def wait_ready(self, user: str) -> None:
        def ready():
            model = self.api("GET", f"/users/{user}").json()
            return bool(model.get("servers", {}).get("", {}).get("ready"))

        self.wait(ready, 150, f"{user}'s server")

    # --- the instructor's terminal ----------------------------------------------------
    def as_instructor(self, *command: str, timeout: float = 180) -> str:
        """Run in the course folder as the instructor, with the hub's variables."""
        home = pwd.getpwnam(self.instructor).pw_dir
        env = [
            f"HOME={home}",
            f"USER={self.instructor}",
            f"PATH={BIN}:/usr/bin:/bin",
            f"PYTHONPATH={ROOT}",
            f"JUPYTER_CONFIG_PATH={self.base / 'state/jupyter/instructor'}",
            f"JUPYTERHUB_API_URL=http://127.0.0.1:{self.hub_port}/hub/api",
            f"JUPYTERHUB_API_TOKEN={self.tokens[self.instructor]}",
            f"JUPYTERHUB_USER={self.instructor}",
        ]
        done = subprocess.run(
            ["runuser", "-u", self.instructor, "--", "env", "-i", *env, *command],
            cwd=self.course_root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, (
            f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout + done.stderr

    @property
    def course_root(self) -> Path:
        return Path(pwd.getpwnam(self.instructor).pw_dir) / self.course


@pytest.fixture
def hub():
    base = Path(tempfile.mkdtemp(prefix="acx-hub-"))
    os.chmod(base, 0o755)  # the exchange inside must be reachable by the test's users
    made = Hub(base)
    restore = let_users_reach_python()

    def on_alarm(signum, frame):
        raise TimeoutError(f"the hub test ran over {LIMIT_S} s:\n{made.log_tail()}")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(LIMIT_S)
    try:
        made.setup()
        made.start()
        yield made
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        made.remove()
        restore_modes(restore)
    assert not any(_exists(name) for name in made.created), "accounts left behind"


def _fill(nb, replace: dict):
    """The fetched notebook with the solution in each task cell, except `replace`'s."""
    source = source_notebook(ASSIGNMENT)
    for task in tasks_of(source):
        cell_by_id(nb, task).source = replace.get(task) or without_solution_markers(
            cell_by_id(source, task).source
        )
    return nb


def test_a_class_on_jupyterhub(hub):
    course, teacher = hub.course, hub.instructor
    right, wrong = hub.students
    for user in [teacher, *hub.students]:
        hub.token(user)
    for student in hub.students:  # the servers start while the instructor releases
        hub.spawn(student)

    # The exchange as nbgrader documents it.
    exchange = hub.base / "exchange"
    assert stat.S_IMODE(exchange.stat().st_mode) == 0o1777
    modes = {
        name: stat.S_IMODE((exchange / course / name).stat().st_mode)
        for name in ("outbound", "inbound", "feedback")
    }
    assert modes == {"outbound": 0o755, "inbound": 0o2733, "feedback": 0o711}

    # The instructor releases 01_rnn from solutions/ and into the exchange.
    hub.as_instructor("python", "-m", "attention_course.grading", "release", ASSIGNMENT)
    hub.as_instructor("nbgrader", "release_assignment", ASSIGNMENT)
    assert (
        exchange / course / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    ).is_file()

    maximum = sum(tasks_of(source_notebook(ASSIGNMENT)).values())
    for student, replace in ((right, {}), (wrong, {WRONG.task: WRONG.code})):
        hub.wait_ready(student)
        listed = hub.server(
            student, "GET", "/assignments", params={"course_id": course}
        ).json()
        assert listed["success"], listed
        assert [(a["assignment_id"], a["status"]) for a in listed["value"]] == [
            (ASSIGNMENT, "released")
        ]
        form = {"course_id": course, "assignment_id": ASSIGNMENT}
        fetched = hub.server(student, "POST", "/assignments/fetch", data=form).json()
        assert fetched["success"], fetched
        path = f"/api/contents/{course}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
        model = hub.server(student, "GET", path).json()
        nb = _fill(nbformat.from_dict(model["content"]), replace)
        hub.server(
            student,
            "PUT",
            path,
            json={"type": "notebook", "format": "json", "content": nb},
        )
        submitted = hub.server(student, "POST", "/assignments/submit", data=form).json()
        assert submitted["success"], submitted

    # Students write into inbound but cannot list it (nbgrader #1225, #978).
    peek = subprocess.run(
        ["runuser", "-u", right, "--", "ls", str(exchange / course / "inbound")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert peek.returncode != 0 and "Permission denied" in peek.stderr

    # No instructor menus on a student's server; the formgrader for the instructor only.
    assert hub.server(right, "GET", "/formgrader", check=False).status_code == 404
    assert hub.server(right, "GET", "/formgraders", check=False).status_code == 404
    lab = hub.server(right, "GET", "/lab").text
    page = json.loads(
        re.search(
            r'id="jupyter-config-data"[^>]*>\s*(\{.*?\})\s*</script>', lab, re.S
        ).group(1)
    )
    disabled = set(page.get("disabledExtensions", []))
    assert {
        "@jupyter/nbgrader:formgrader",
        "@jupyter/nbgrader:create-assignment",
        "@jupyter/nbgrader:course-list",
    } <= disabled, disabled
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    service = f"{hub.url}/services/{course}/formgrader/manage_assignments"
    hub.wait(
        lambda: (
            hub.requests.get(
                service,
                timeout=30,
                allow_redirects=False,
                headers={"Authorization": f"token {hub.tokens[teacher]}"},
            ).status_code
            == 200
        ),
        60,
        "the formgrader service",
    )
    denied = hub.requests.get(
        service,
        timeout=30,
        allow_redirects=False,
        headers={"Authorization": f"token {hub.tokens[right]}"},
    )
    assert denied.status_code in (302, 403), denied.status_code

    # The instructor collects, autogrades (sandboxed), writes and releases feedback.
    hub.as_instructor("nbgrader", "collect", ASSIGNMENT)
    for student in hub.students:
        assert (
            hub.course_root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        ).is_file()
    hub.as_instructor(
        "python", "-m", "attention_course.grading", "autograde", ASSIGNMENT, "--quiet"
    )
    hub.as_instructor(
        "python", "-m", "attention_course.grading", "feedback", ASSIGNMENT
    )
    hub.as_instructor("nbgrader", "release_feedback", ASSIGNMENT)
    hub.as_instructor("python", "-m", "attention_course.grading", "grades")

    # Each student fetches their own feedback through their server.
    for student, score in (
        (right, maximum),
        (wrong, maximum - tasks_of(source_notebook(ASSIGNMENT))[WRONG.task]),
    ):
        form = {"course_id": course, "assignment_id": ASSIGNMENT}
        got = hub.server(
            student, "POST", "/assignments/fetch_feedback", data=form
        ).json()
        assert got["success"], got
        home = Path(pwd.getpwnam(student).pw_dir)
        pages = list(
            (home / course / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
        )
        assert len(pages) == 1, f"{student}: {pages}"
        assert pages[0].stat().st_uid == pwd.getpwnam(student).pw_uid
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", pages[0].read_text()))
        assert re.search(rf"Score: {score:g}(\.0)? / {maximum:g}", text), (
            f"{student}: {text[:600]}"
        )

    with (hub.course_root / "grades.csv").open(newline="") as handle:
        rows = {
            r["student_id"]: r
            for r in csv.DictReader(handle)
            if r["assignment"] == ASSIGNMENT
        }
    assert {s: (float(rows[s]["score"]), rows[s]["status"]) for s in hub.students} == {
        right: (maximum, "graded"),
        wrong: (maximum - tasks_of(source_notebook(ASSIGNMENT))[WRONG.task], "graded"),
    }
