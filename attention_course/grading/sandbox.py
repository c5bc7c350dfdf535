"""Run a student's cells and the hidden tests inside a bubblewrap sandbox, and watch them.

What the sandbox allows (`Limits` has the numbers; `nbgrader_config.py` sets them):

- a read-only view of the system (`/usr`, libraries) and of the Python environment, and nothing
  else of the machine: not the course folder, its solutions, its gradebook or other submissions;
- a private, size-limited `/tmp` and home folder, destroyed with the sandbox;
- no network (a new network namespace with only its own loopback), its own process and IPC
  namespaces, and a new session (no terminal to inject into);
- resource limits: address space (memory), CPU seconds, processes, file size, open files;
  run as root, the grader also drops to a uid of its own for every worker, so that the process
  limit counts this sandbox alone;
- when the grader kills the sandbox, every process in it dies (PID namespace).

Batches of submissions are usually not run in sandboxes started here but forked from a fork
server (`pool.py`, `forkserver.py`) that loaded torch once; each forked submission gets the
same confinement (its own namespaces, folders, uid, limits, no capabilities).

The runner inside (`runner.py`) reports events; a watchdog here enforces the wall-clock limit
of every cell: a cell still running after `cell_timeout` is interrupted (SIGINT), and a sandbox
that does not react within a few seconds is killed and started again without that cell.
"""
from __future__ import annotations

import fcntl
import json
import os
import queue
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

RUNNER = Path(__file__).with_name("runner.py")
FORKSERVER = Path(__file__).with_name("forkserver.py")
# What the fork server keeps, and each child drops before it runs a cell: new
# namespaces and mounts, emptying the bounding set, a uid per child, killing them.
SERVER_CAPABILITIES = ("CAP_SYS_ADMIN", "CAP_SETPCAP", "CAP_SETUID", "CAP_SETGID",
                       "CAP_KILL")
MAX_LINE = 32 * 1024 * 1024        # bytes: a longer protocol line is dropped
MAX_PROTOCOL = 128 * 1024 * 1024   # bytes: a sandbox that writes more events is killed
SANDBOX_UID_BASE = 61000           # uid of worker k when the grader runs as root: BASE + k
MAX_SLOTS = 999                    # slots of one machine: uids BASE + 1 .. BASE + 999
IDLE_LIMIT = 30.0                  # seconds between two events while no cell or test is running


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot start on this machine."""


class SlotClaim:
    """A sandbox slot (its uid, `SANDBOX_UID_BASE + slot`) held by this process alone.

    Two graders on one machine (the threads of `run_jobs`, the worker processes of a
    Dask cluster) must never run two sandboxes under one uid: RLIMIT_NPROC counts the
    processes of a uid, so a fork bomb in one submission would starve its neighbour. A
    slot is a lock file held with flock: the kernel releases it when its holder exits,
    even after a crash.
    """

    def __init__(self):
        folder = Path(tempfile.gettempdir()) / f"attention-grading-slots-{os.getuid()}"
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        info = os.lstat(folder)
        # Another user could create the folder first and hand out (or withhold) slots.
        private = stat.S_ISDIR(info.st_mode) and not info.st_mode & 0o077
        if info.st_uid != os.getuid() or not private:
            raise SandboxUnavailable(
                f"{folder} is not a private folder of this user: remove it")
        for slot in range(1, MAX_SLOTS + 1):
            flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
            fd = os.open(folder / str(slot), flags, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.slot, self._fd = slot, fd
            return
        raise SandboxUnavailable(
            f"all {MAX_SLOTS} sandbox slots of this machine are in use")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)          # closing the descriptor drops the lock
            self._fd = None

    def __enter__(self) -> int:
        return self.slot

    def __exit__(self, *exc) -> None:
        self.release()


@dataclass
class Limits:
    """Per-submission limits (nbgrader_config.py: c.Sandbox.<name>)."""
    cell_timeout: float = 60.0        # wall-clock seconds per cell and per test
    startup_timeout: float = 120.0    # seconds for Python to start in the sandbox (a busy machine is slow)
    memory_mb: int = 4096             # address space per process
    cpu_seconds: int = 600            # CPU time per process
    processes: int = 64               # processes and threads of the sandbox's uid
    file_size_mb: int = 64            # largest file the sandbox may write
    tmp_size_mb: int = 256            # size of its private /tmp and home folder
    restarts: int = 3                 # fresh sandboxes after a hang or a crash, per submission
    start_attempts: int = 3           # tries to start a sandbox before the submission is left for re-grading
    unsafe_no_sandbox: bool = False   # run without bubblewrap (trusted code only)
    fork_server: bool = True          # batches fork submissions from one that loaded torch


@dataclass
class Outcome:
    """What one submission's execution produced, as facts the grader can use."""
    cells: dict = field(default_factory=dict)        # cell id -> event (only events from before any hidden test was sent)
    tests: dict = field(default_factory=dict)        # test id -> {"status", "ename", "records"}
    timed_out: list = field(default_factory=list)    # cell ids interrupted after cell_timeout
    skipped: dict = field(default_factory=dict)      # cell id -> why it was left out of a restarted run
    killed: list = field(default_factory=list)       # why a sandbox was killed
    start_failed: Optional[str] = None               # the sandbox never started: grade again later
    log: str = ""                                    # raw output of the sandboxes (instructor only)


def bwrap_path() -> Optional[str]:
    return shutil.which("bwrap")


def require_sandbox(limits: Limits) -> None:
    """Refuse to grade without bubblewrap unless the instructor asked for it explicitly."""
    if limits.unsafe_no_sandbox:
        return
    if bwrap_path() is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, and grading runs every submission inside it. "
            "Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf install "
            "bubblewrap`), or, only for submissions you trust, pass --unsafe-no-sandbox "
            "(c.Sandbox.unsafe_no_sandbox = True).")


def _python_roots(course_root: Path) -> list[str]:
    """Folders the sandbox's Python needs: its installation, its environment, and the
    site-packages folders on sys.path. Nothing else on sys.path is bound: the grader's working
    folder and editable installs are on it, and they can hold the course with its solutions."""
    course = os.path.realpath(course_root)
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(os.path.realpath(sys.executable)).parents[1])}
    for entry in sys.path:
        if entry and os.path.isdir(entry) and Path(entry).name in ("site-packages", "dist-packages"):
            roots.add(entry)
    kept = []
    for root in sorted({os.path.realpath(r) for r in roots if r and os.path.isdir(r)}):
        if root == course or course.startswith(root + os.sep) or root == "/":
            continue                                   # a folder that holds the course is never bound
        if not any(root.startswith(k + os.sep) for k in kept):
            kept.append(root)
    return kept


def _sandbox_command(limits: Limits, course_root: Path, slot: int, protocol_fd: int,
                     info_fd: Optional[int], server_fd: Optional[int] = None) -> list[str]:
    """bubblewrap's command line for one runner; with `server_fd`, for the fork server
    (pool.py), which keeps what it needs to confine each child and no more."""
    python = sys.executable
    runner = ["-I", "-X", "utf8", "/grader/runner.py", str(protocol_fd), "sandboxed"]
    if limits.unsafe_no_sandbox:
        return [python, "-I", "-X", "utf8", str(RUNNER), str(protocol_fd)]
    info = ["--info-fd", str(info_fd)] if info_fd is not None else []
    cmd = [bwrap_path(), "--die-with-parent", "--new-session", *info,
           "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--hostname", "sandbox"]
    root = os.geteuid() == 0
    if not root:
        cmd += ["--unshare-user"]
    for path in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                 "/etc/nsswitch.conf", "/etc/passwd", "/etc/group", "/etc/alternatives"):
        cmd += ["--ro-bind-try", path, path]
    # The private folders first: a bind made before them would be hidden under them (a venv
    # in /tmp, say), while one made after them is mounted on top.
    size = str(limits.tmp_size_mb * 1024 * 1024)
    cmd += ["--proc", "/proc", "--dev", "/dev",
            "--size", size, "--perms", "1777", "--tmpfs", "/tmp",
            "--size", size, "--perms", "0777", "--tmpfs", "/home/student"]
    made = {"/tmp", "/home", "/home/student"}
    for path in _python_roots(course_root):
        for parent in reversed(Path(path).parents[:-1]):     # readable parents for the sandbox's uid
            if str(parent) not in made:
                made.add(str(parent))
                cmd += ["--perms", "0755", "--dir", str(parent)]
        cmd += ["--ro-bind", path, path]
    cmd += ["--perms", "0755", "--dir", "/grader", "--ro-bind", str(RUNNER), "/grader/runner.py"]
    if server_fd is not None:
        cmd += ["--ro-bind", str(FORKSERVER), "/grader/forkserver.py",
                "--perms", "0700", "--dir", "/forkserver-stage"]
    cmd += ["--chdir", "/home/student",
            "--clearenv", "--setenv", "HOME", "/home/student", "--setenv", "PATH", "/usr/bin:/bin",
            "--setenv", "LANG", "C.UTF-8", "--setenv", "MPLBACKEND", "Agg",
            "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "MKL_NUM_THREADS", "1",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "PYTHONHASHSEED", "0"]
    if server_fd is not None:
        for cap in SERVER_CAPABILITIES:
            cmd += ["--cap-add", cap]
        # Binds below the private folders, which each child carries into its own.
        private = ("/tmp/", "/home/student/", "/dev/shm/")
        keep = [path for path in _python_roots(course_root) if path.startswith(private)]
        return cmd + ["--", python, "-I", "-X", "utf8", "/grader/forkserver.py",
                      str(server_fd), json.dumps(keep)]
    cmd += ["--"]
    if root:   # drop to a uid of this worker's own, so that RLIMIT_NPROC counts this sandbox only
        uid = str(SANDBOX_UID_BASE + slot)
        cmd += ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]
    return cmd + [python, *runner]


def _user_process_count() -> int:
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return count


def _limiter(limits: Limits):
    nproc = limits.processes if os.geteuid() == 0 else _user_process_count() + limits.processes
    memory = limits.memory_mb * 1024 * 1024

    def apply():
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * 1024 * 1024,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        if not limits.unsafe_no_sandbox:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return apply


class _Sandbox:
    """One running sandbox: its process, its event stream and its raw output."""

    def __init__(self, limits: Limits, course_root: Path):
        self.limits = limits
        self.course_root = course_root
        # A uid of its own for its whole life, pooled or not (see SlotClaim).
        self.claim = SlotClaim()
        try:
            self._start(limits, course_root, self.claim.slot)
        except BaseException:
            self.claim.release()
            raise

    def _start(self, limits: Limits, course_root: Path, slot: int) -> None:
        protocol_r, protocol_w = os.pipe()
        info_r, info_w = os.pipe()
        self.log_file = tempfile.TemporaryFile()
        workdir = tempfile.mkdtemp(prefix="sandbox-")     # only used without bubblewrap
        self.workdir = workdir
        command = _sandbox_command(limits, course_root, slot, protocol_w, info_w)
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=self.log_file, stderr=subprocess.STDOUT,
            pass_fds=(protocol_w, info_w), cwd=workdir, preexec_fn=_limiter(limits),
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": workdir, "MPLBACKEND": "Agg",
                 "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"})
        os.close(protocol_w)
        os.close(info_w)
        self._stdin = self.process.stdin
        self.events: queue.Queue = queue.Queue()
        self.info_r = info_r
        self.child_pid: Optional[int] = None
        threading.Thread(target=self._read, args=(protocol_r,), daemon=True).start()

    def _read(self, fd: int) -> None:
        total, pending = 0, b""
        with os.fdopen(fd, "rb", buffering=0) as stream:
            while True:
                try:
                    chunk = stream.read(1 << 16)
                except OSError:
                    break
                if not chunk:
                    break
                total += len(chunk)
                if total > MAX_PROTOCOL:
                    self.events.put({"event": "_flood"})
                    break
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if len(line) <= MAX_LINE:
                        try:
                            event = json.loads(line)
                        except ValueError:
                            continue
                        if isinstance(event, dict):
                            self.events.put(event)
                if len(pending) > MAX_LINE:
                    pending = b""
        self.events.put({"event": "_eof"})

    def send(self, message: dict) -> None:
        try:
            self._stdin.write((json.dumps(message) + "\n").encode())
            self._stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def next_event(self, deadline: float) -> Optional[dict]:
        try:
            return self.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def _runner_pid(self) -> Optional[int]:
        if self.limits.unsafe_no_sandbox:
            return self.process.pid
        if self.child_pid is None:
            try:
                data = os.read(self.info_r, 4096)
                self.child_pid = int(json.loads(data.decode())["child-pid"])
            except (OSError, ValueError, KeyError):
                return None
        try:
            children = Path(f"/proc/{self.child_pid}/task/{self.child_pid}/children").read_text().split()
            return int(children[0]) if children else None
        except (OSError, ValueError):
            return None

    def interrupt(self) -> None:
        pid = self._runner_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGINT)
            except OSError:
                pass

    def kill(self) -> str:
        for pid in filter(None, [self.child_pid]):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        os.close(self.info_r)
        self.log_file.seek(0)
        text = self.log_file.read(200_000).decode("utf-8", "replace")
        self.log_file.close()
        shutil.rmtree(self.workdir, ignore_errors=True)
        self.claim.release()            # only now: nothing of this sandbox runs now
        return text


def execute(cells: list[dict], tests: list[dict], limits: Limits, course_root: Path,
            slot: int = 0, pool=None) -> Outcome:
    """Run the student's `cells` (phase 1) and then the `tests` in a sandbox; restart after hangs.

    Each run takes a fresh sandbox: from `pool` (`pool.SandboxPool`, started ahead) when
    it has one for these limits, else a new one. `slot` is not used any more (every
    sandbox claims a uid of its own); it stays for old callers.

    `cells` and `tests` are [{"id", "source"}]. Events that arrive after the hidden tests were
    sent are not kept for `Outcome.cells`: from then on the process holds the hidden tests, and
    what it prints may quote them.
    """
    outcome = Outcome()
    skip: set = set()
    start_failures = 0
    logs = []
    for attempt in range(limits.restarts + limits.start_attempts + 1):
        todo_cells = [c for c in cells if c["id"] not in skip]
        todo_tests = [t for t in tests if t["id"] not in outcome.tests]
        result = _attempt(todo_cells, todo_tests, limits, course_root, outcome, pool)
        logs.append(f"---- sandbox run {attempt + 1}: {result['end']} ----\n{result['log']}")
        if result["end"] == "done":
            break
        if result["end"] == "no-start":
            start_failures += 1
            if start_failures >= limits.start_attempts:
                outcome.start_failed = result["why"]
                break
            time.sleep(2)
            continue
        if attempt - start_failures >= limits.restarts:
            for test in tests:
                outcome.tests.setdefault(test["id"], {"status": "not-run", "ename": None, "records": []})
            outcome.killed.append("too many restarts: the remaining tests were not run")
            break
        stuck = result.get("stuck")          # ("cell", id) or ("test", id)
        if stuck and stuck[0] == "cell":
            skip.add(stuck[1])
            outcome.skipped[stuck[1]] = result["why"]
        elif stuck and stuck[0] == "test":
            outcome.tests.setdefault(stuck[1], {"status": result.get("test_status", "crashed"),
                                                "ename": None, "records": []})
        if result["end"] == "killed":
            outcome.killed.append(result["why"])
    outcome.log = "\n".join(logs)
    return outcome


def _close_silent_test(outcome: Outcome, current) -> None:
    """A test that started and never reported (its process exited quietly) crashed."""
    if current and current[0] == "test" and current[1] not in outcome.tests:
        outcome.tests[current[1]] = {"status": "crashed", "ename": None, "records": []}


def _attempt(cells, tests, limits: Limits, course_root: Path, outcome: Outcome,
             pool=None) -> dict:
    try:
        box = pool.take(limits, course_root) if pool is not None else None
        box = box or _Sandbox(limits, course_root)
    except (OSError, SandboxUnavailable) as error:
        return {"end": "no-start", "why": f"could not start the sandbox: {error}", "log": ""}
    end = {"end": "done"}
    try:
        box.send({"cells": cells})
        # "warm" (the runner has loaded IPython and torch) comes before "ready" (it has
        # read the cells); a pooled sandbox sent it long ago.
        startup = time.monotonic() + limits.startup_timeout
        event = box.next_event(startup)
        if event is not None and event.get("event") == "warm":
            event = box.next_event(startup)
        if event is None or event.get("event") != "ready":
            end = {"end": "no-start", "why": f"Python did not start in the sandbox within {limits.startup_timeout:g} s"
                   if event is None else "the sandbox exited as it started"}
            return end
        current, deadline, interrupted = None, None, False
        last_started = None                  # what to blame when the sandbox stops making progress
        sent_tests, test_ids = False, {t["id"] for t in tests}
        cell_ids, finished_cells = [c["id"] for c in cells], set()
        idle = time.monotonic() + IDLE_LIMIT
        while True:
            event = box.next_event(deadline if deadline is not None else idle)
            now = time.monotonic()
            if event is None:                    # a deadline passed
                if current is None:
                    end = {"end": "killed", "why": "the notebook stopped making progress", "stuck": last_started}
                    break
                kind, ident = current
                if kind == "cell" and not interrupted:
                    box.interrupt()
                    interrupted = True
                    deadline = now + 5.0
                    if ident not in outcome.timed_out:
                        outcome.timed_out.append(ident)
                    continue
                why = (f"cell ran past {limits.cell_timeout:g} s and ignored the interrupt" if kind == "cell"
                       else f"test ran past {limits.cell_timeout:g} s")
                end = {"end": "killed", "why": why, "stuck": current, "test_status": "timeout"}
                break
            name = event.get("event")
            if name == "_eof":
                end = {"end": "killed", "why": "the notebook's process ended (os._exit, a crash, a signal or a limit)",
                       "stuck": current or last_started}
                break
            if name == "_flood":
                end = {"end": "killed", "why": "the notebook wrote more than the grader reads",
                       "stuck": current or last_started}
                break
            if name == "start" and not sent_tests and event.get("id") in cell_ids:
                current, deadline, interrupted = ("cell", event["id"]), now + limits.cell_timeout, False
                last_started = current
            elif name == "cell" and not sent_tests and current and event.get("id") == current[1]:
                outcome.cells[event["id"]] = event
                finished_cells.add(event["id"])
                current, deadline = None, None
                idle = now + IDLE_LIMIT
            elif name == "phase1_done" and not sent_tests and (
                    finished_cells | set(outcome.timed_out)) >= set(cell_ids):
                # Only after every cell has reported: an early one is forged, and would hand the
                # hidden tests to a process that is still running the student's cells.
                sent_tests = True
                box.send({"tests": tests, "timeout": limits.cell_timeout})
                current, deadline = None, None
                idle = now + IDLE_LIMIT
            elif name == "start_test" and sent_tests and event.get("id") in test_ids:
                _close_silent_test(outcome, current)
                current, deadline = ("test", event["id"]), now + limits.cell_timeout + 10.0
                last_started = current
            elif name == "test" and sent_tests and event.get("id") in test_ids:
                if event["id"] not in outcome.tests:
                    outcome.tests[event["id"]] = {"status": str(event.get("status")), "ename": event.get("ename"),
                                                  "records": event.get("records") if isinstance(event.get("records"), list) else []}
                current, deadline = None, None
                idle = now + IDLE_LIMIT
            elif name == "done" and sent_tests:
                _close_silent_test(outcome, current)
                missing = [t["id"] for t in tests if t["id"] not in outcome.tests]
                for ident in missing:
                    outcome.tests[ident] = {"status": "not-run", "ename": None, "records": []}
                break
    finally:
        end["log"] = box.kill()
    return end
