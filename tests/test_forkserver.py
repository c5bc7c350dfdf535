"""The fork server (attention_course/grading/forkserver.py): submissions forked from one
process that loaded torch are confined like a bubblewrap sandbox of their own, share
nothing with each other, and leave nothing behind.

Run as root, as CI does: every submission then has a uid of its own. One test repeats
the confinement check as an ordinary user (user namespaces, one shared uid)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from attention_course.grading import sandbox
from attention_course.grading.pool import ForkedSandbox, ForkServer, SandboxPool
from system_users import let_users_reach_python, restore_modes

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sandbox.bwrap_path() is None, reason="needs bubblewrap")

# Printed by a cell inside a forked submission: what it can see and do.
FACTS = textwrap.dedent("""\
    import json, os, resource, socket
    status = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
    def writable(path):
        try:
            open(path, "w").close()
            return True
        except OSError:
            return False
    def fds():
        links = {}
        for fd in os.listdir("/proc/self/fd"):
            if os.path.exists(f"/proc/self/fd/{fd}"):
                links[fd] = os.readlink(f"/proc/self/fd/{fd}")
        return links
    descriptors = fds()              # before this cell opens a socket of its own
    net = socket.socket()
    facts = {
        "uid": os.getuid(), "pid": os.getpid(), "cwd": os.getcwd(),
        "caps": [int(status[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd",
                                               "CapAmb")],
        "no_new_privs": status["NoNewPrivs"].strip(),
        "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "fds": descriptors, "tmp": os.listdir("/tmp"), "shm": os.listdir("/dev/shm"),
        "home": sorted(os.listdir("/home/student")),
        "hostname": os.uname().nodename,
        "connect": net.connect_ex(("127.0.0.1", 22)),
        "proc_sys_writable": writable("/proc/sys/kernel/hostname"),
        # folders of the server, one for all its children: none may carry a file
        "shared_writable": [d for d in ("/", "/home", "/grader", "/dev", "/etc",
                                        "/forkserver-stage", "/usr")
                            if writable(d.rstrip("/") + "/planted")],
        "grader_visible": os.path.exists("/grader/forkserver.py"),
        "nproc": resource.getrlimit(resource.RLIMIT_NPROC)[0],
        "memory": resource.getrlimit(resource.RLIMIT_AS)[0],
        "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
    }
    print("FACTS" + json.dumps(facts))
""")


def _facts(outcome: sandbox.Outcome) -> dict:
    event = outcome.cells["facts"]
    assert event["ok"], event
    line = next(l for l in event["stdout"].splitlines() if l.startswith("FACTS"))
    return json.loads(line[len("FACTS") :])


def _check_confined(facts: dict, limits: sandbox.Limits, root: bool) -> None:
    assert facts["caps"] == [0, 0, 0, 0, 0] and facts["no_new_privs"] == "1"
    if root:
        assert sandbox.SANDBOX_UID_BASE < facts["uid"] <= sandbox.SANDBOX_UID_BASE + 999
        assert facts["nproc"] == limits.processes
    # PID 2 of its own namespace (PID 1 is its init): no other submission is in view
    assert facts["pid"] == 2 and facts["pids"][0] == 1 and len(facts["pids"]) <= 4
    # /tmp is empty but for the folders above a Python environment that lives there
    # (a course cloned under /tmp), bound read-only as in a bubblewrap sandbox
    below_tmp = {Path(path).parts[2] for path in sandbox._python_roots(Path("/nowhere"))
                 if path.startswith("/tmp/")}
    assert facts["cwd"] == "/home/student" and set(facts["tmp"]) == below_tmp
    assert facts["shm"] == []
    assert set(facts["home"]) <= {".ipython"}
    # no descriptor of the server (its socket, the pidfds of other submissions)
    kinds = " ".join(facts["fds"].values())
    assert "socket" not in kinds and "pidfd" not in kinds, facts["fds"]
    assert facts["connect"] != 0 and not facts["proc_sys_writable"]
    assert facts["shared_writable"] == []
    assert facts["memory"] == limits.memory_mb * 1024 * 1024
    assert facts["cpu"] == limits.cpu_seconds


def test_a_forked_submission_is_confined(tmp_path):
    limits = sandbox.Limits(cell_timeout=30)
    with SandboxPool(limits, tmp_path, size=1, total=1) as pool:
        assert pool.server is not None, pool.server_error
        outcome = sandbox.execute(
            [{"id": "facts", "source": FACTS}], [], limits, tmp_path, pool=pool
        )
    _check_confined(_facts(outcome), limits, root=os.geteuid() == 0)


def test_a_forked_submission_is_confined_for_an_ordinary_user(tmp_path):
    """The grader as an instructor runs it: no root, a user namespace instead."""
    if os.geteuid() != 0:
        pytest.skip("runs the grader as nobody, so it needs root to start")
    program = textwrap.dedent(f"""\
        import json, sys
        from pathlib import Path
        from attention_course.grading import sandbox
        from attention_course.grading.pool import SandboxPool
        limits = sandbox.Limits(cell_timeout=30)
        with SandboxPool(limits, Path("/tmp"), size=1, total=1) as pool:
            assert pool.server is not None, pool.server_error
            out = sandbox.execute([{{"id": "facts", "source": {FACTS!r}}}], [], limits,
                                  Path("/tmp"), pool=pool)
        print(json.dumps(out.cells))
    """)
    restore = let_users_reach_python()
    os.chmod(tmp_path, 0o755)
    try:
        run = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                sys.executable,
                "-c",
                program,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path),
                "PYTHONPATH": str(ROOT),
            },
        )
    finally:
        restore_modes(restore)
    assert run.returncode == 0, run.stderr[-3000:]
    cells = json.loads(run.stdout.strip().splitlines()[-1])
    outcome = sandbox.Outcome(cells=cells)
    facts = _facts(outcome)
    assert facts["uid"] == 65534
    _check_confined(facts, sandbox.Limits(), root=False)


def _run_cells(box, source: str, timeout: float = 60) -> dict:
    """Send one cell to a sandbox and wait for its result; the sandbox then waits for
    its tests, still alive."""
    box.send({"cells": [{"id": "c", "source": source}]})
    deadline = time.monotonic() + timeout
    while True:
        event = box.next_event(deadline)
        assert event is not None, "no answer from the sandbox"
        if event.get("event") == "cell":
            return event


PLANT = textwrap.dedent("""\
    import ctypes, os, socket, subprocess
    for path in ("/tmp/planted", "/home/student/planted", "/dev/shm/planted"):
        open(path, "w").write("secret")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind("\\0attention-planted")
    listener.listen()
    libc = ctypes.CDLL(None, use_errno=True)
    segment = libc.shmget(0x41435821, 4096, 0o1000 | 0o666)
    # a daemon that outlives the cell: runner.clear_sandbox kills it, so start it last
    daemon = subprocess.Popen(["sleep", "300"], start_new_session=True)
    print("planted", segment >= 0)
""")

LOOK = textwrap.dedent("""\
    import ctypes, os, socket
    found = [p for p in ("/tmp/planted", "/home/student/planted", "/dev/shm/planted")
             if os.path.exists(p)]
    probe = socket.socket(socket.AF_UNIX)
    found += ["socket"] if probe.connect_ex("\\0attention-planted") == 0 else []
    libc = ctypes.CDLL(None, use_errno=True)
    found += ["shm"] if libc.shmget(0x41435821, 0, 0) >= 0 else []
    sleepers = [p for p in os.listdir("/proc") if p.isdigit()
                and "sleep" in open(f"/proc/{p}/cmdline").read()]
    found += ["sleeper"] if sleepers else []
    print("found", found)
""")


def _uid_processes(uid: int) -> list:
    alive = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    alive.append(entry)
            except OSError:
                pass
    return alive


def test_two_submissions_at_once_share_nothing_and_a_kill_ends_everything(tmp_path):
    limits = sandbox.Limits(cell_timeout=30)
    server = ForkServer(limits, tmp_path)
    try:
        first = ForkedSandbox(server, limits, tmp_path)
        second = ForkedSandbox(server, limits, tmp_path)
        try:
            planted = _run_cells(first, PLANT)
            assert planted["ok"] and planted["stdout"] == "planted True\n", planted
            looked = _run_cells(second, LOOK)
            assert looked["ok"] and looked["stdout"] == "found []\n", looked
            uid = sandbox.SANDBOX_UID_BASE + first.claim.slot
        finally:
            second.kill()
            first.kill()
        if os.geteuid() == 0:
            assert _uid_processes(uid) == []
        # and a submission forked after them starts clean
        third = ForkedSandbox(server, limits, tmp_path)
        try:
            looked = _run_cells(third, LOOK)
        finally:
            third.kill()
        assert looked["stdout"] == "found []\n", looked
    finally:
        server.close()


def test_a_bad_request_is_refused_and_the_server_goes_on(tmp_path):
    limits = sandbox.Limits(cell_timeout=30)
    server = ForkServer(limits, tmp_path)
    try:
        with pytest.raises(sandbox.SandboxUnavailable, match="refused"):
            server.request({"op": "spawn", "uid": None, "limits": {}})  # no descriptors
        with pytest.raises(sandbox.SandboxUnavailable, match="refused"):
            server.request({"op": "signal", "id": "not a number", "what": "kill"})
        box = ForkedSandbox(server, limits, tmp_path)
        try:
            event = _run_cells(box, "print(6 * 7)")
        finally:
            box.kill()
        assert event["stdout"] == "42\n"
    finally:
        server.close()


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "bubblewrap"])
def test_a_hung_cell_is_interrupted_from_a_background_grader(tmp_path, fork_server):
    """The watchdog interrupts a cell past its time with SIGINT. A grader started in the
    background (`make autograde &`, nohup, cron) has SIGINT ignored and hands that down:
    the runner must still turn SIGINT into KeyboardInterrupt."""
    limits = sandbox.Limits(cell_timeout=2)
    cells = [
        {"id": "spin", "source": "while True:\n    pass"},
        {"id": "after", "source": "print('after')"},
    ]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)   # as `&` in a script does
    try:
        with SandboxPool(limits, tmp_path, 1, total=1, fork_server=fork_server) as pool:
            assert (pool.server is not None) == fork_server, pool.server_error
            outcome = sandbox.execute(cells, [], limits, tmp_path, pool=pool)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert outcome.timed_out == ["spin"], outcome.log[-3000:]
    assert outcome.killed == [], outcome.log[-3000:]
    assert outcome.cells["spin"]["ename"] == "KeyboardInterrupt"
    assert outcome.cells["after"]["stdout"] == "after\n"


def test_the_server_closes_with_its_pool(tmp_path):
    limits = sandbox.Limits(cell_timeout=30)
    with SandboxPool(limits, tmp_path, size=2, total=5) as pool:
        waiting = list(pool._waiting)
        process = pool.server.process
    assert process.poll() is not None  # the server has ended
    assert all(box.claim._fd is None for box in waiting)  # every waiting child killed
