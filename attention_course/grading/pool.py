"""Sandboxes ready before their submission: forked from a fork server that has loaded
IPython and torch once (`forkserver.py`), or, where it cannot run, bubblewrap sandboxes
started ahead.

Isolation is that of a sandbox started on demand (sandbox.py says what it allows): each
submission gets its own namespaces, private folders, uid (as root), resource limits and
no capabilities, runs exactly once, and is killed after its one run; nothing passes
from one student to the next. The fork server never runs student code: it only forks.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Optional

from .sandbox import (
    SANDBOX_UID_BASE,
    Limits,
    SandboxUnavailable,
    SlotClaim,
    _Sandbox,
    _sandbox_command,
    _user_process_count,
    bwrap_path,
)

REPLY_BYTES = 1 << 16


def _server_setup() -> None:
    os.setsid()  # killed with its process group, never by a terminal


class ForkServer:
    """One bubblewrap sandbox running forkserver.py; `spawn` forks a submission's
    runner from it. Safe to use from several threads."""

    def __init__(self, limits: Limits, course_root: Path):
        if limits.unsafe_no_sandbox or bwrap_path() is None:
            raise SandboxUnavailable("the fork server needs bubblewrap")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.log_file = tempfile.TemporaryFile()
        self.workdir = tempfile.mkdtemp(prefix="forkserver-")
        command = _sandbox_command(limits, course_root, 0, 3, None, theirs.fileno())
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self.log_file,
                stderr=subprocess.STDOUT,
                pass_fds=(theirs.fileno(),),
                cwd=self.workdir,
                preexec_fn=_server_setup,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            )
        finally:
            theirs.close()
        self.sock = ours
        self._lock = threading.Lock()
        self._next = 0
        self.sock.settimeout(limits.startup_timeout)
        try:
            warm = json.loads(self.sock.recv(REPLY_BYTES) or b"null")
        except (OSError, ValueError):
            warm = None
        if not isinstance(warm, dict) or warm.get("event") != "warm":
            why = self.close()
            raise SandboxUnavailable(f"the fork server did not start: {why[-2000:]}")
        self.sock.settimeout(None)

    def request(self, message: dict, fds: tuple = ()) -> dict:
        with self._lock:
            if message.get("op") == "spawn":
                self._next += 1
                message["id"] = self._next
            socket.send_fds(self.sock, [json.dumps(message).encode()], list(fds))
            answer = json.loads(self.sock.recv(REPLY_BYTES) or b"null")
        if not isinstance(answer, dict) or not answer.get("ok"):
            raise SandboxUnavailable(f"the fork server refused: {answer}")
        return answer

    def close(self) -> str:
        """End the server (it kills what it forked) and return its log."""
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.process.pid, 9)
            except OSError:
                pass
            self.process.wait(timeout=10)
        self.log_file.seek(0)
        text = self.log_file.read(200_000).decode("utf-8", "replace")
        self.log_file.close()
        os.rmdir(self.workdir)
        return text


class ForkedSandbox(_Sandbox):
    """A submission's runner forked from `server`: the same interface as a sandbox
    started by bubblewrap (send, next_event, interrupt, kill)."""

    def __init__(self, server: ForkServer, limits: Limits, course_root: Path):
        self.limits, self.course_root, self.server = limits, course_root, server
        self.claim = SlotClaim()  # a uid of its own for its whole life
        try:
            self._spawn(limits)
        except BaseException:
            self.claim.release()
            raise

    def _spawn(self, limits: Limits) -> None:
        root = os.geteuid() == 0
        stdin_r, stdin_w = os.pipe()
        protocol_r, protocol_w = os.pipe()
        self.log_file = tempfile.TemporaryFile()
        numbers = {
            "cpu_seconds": limits.cpu_seconds,
            "file_bytes": limits.file_size_mb * 1024 * 1024,
            "memory_bytes": limits.memory_mb * 1024 * 1024,
            "tmp_bytes": limits.tmp_size_mb * 1024 * 1024,
            # As root every child has a uid of its own; otherwise they share the
            # grader's, whose processes count too (as for a bubblewrap sandbox).
            "processes": limits.processes
            if root
            else _user_process_count() + limits.processes,
        }
        request = {
            "op": "spawn",
            "uid": SANDBOX_UID_BASE + self.claim.slot if root else None,
            "limits": numbers,
        }
        try:
            answer = self.server.request(
                request, (stdin_r, protocol_w, self.log_file.fileno())
            )
        except BaseException:
            for fd in (stdin_w, protocol_r):
                os.close(fd)
            self.log_file.close()
            raise
        finally:
            os.close(stdin_r)
            os.close(protocol_w)
        self.ident = answer["id"]
        self._stdin = os.fdopen(stdin_w, "wb")
        self.events: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(protocol_r,), daemon=True).start()

    def interrupt(self) -> None:
        try:
            self.server.request({"op": "signal", "id": self.ident, "what": "interrupt"})
        except (OSError, ValueError, SandboxUnavailable):
            pass

    def kill(self) -> str:
        """Kill every process of this submission; return its output (for the
        instructor only)."""
        try:
            self.server.request({"op": "signal", "id": self.ident, "what": "kill"})
        except (OSError, ValueError, SandboxUnavailable):
            pass  # the server is gone, and its children with it
        try:
            self._stdin.close()
        except OSError:
            pass
        self.log_file.seek(0)
        text = self.log_file.read(200_000).decode("utf-8", "replace")
        self.log_file.close()
        self.claim.release()  # only now: nothing of this submission runs now
        return text


class SandboxPool:
    """`size` sandboxes ready ahead of their submissions, at most `total` in all.

    With a fork server (the default wherever bubblewrap runs) each is forked from it;
    otherwise each is a bubblewrap sandbox that loaded Python, IPython and torch by
    itself. Either way a sandbox is handed out for exactly ONE run of one submission,
    then killed (`kill`); `take` starts a replacement at once. Restarts after a hang,
    or sandboxes of other limits, are started on demand by the caller.
    """

    def __init__(
        self,
        limits: Limits,
        course_root: Path,
        size: int,
        total: Optional[int] = None,
        fork_server: bool = True,
    ):
        self.limits, self.course_root, self.size = limits, course_root, size
        self._left = total if total is not None else float("inf")
        self._lock = threading.Lock()
        self._waiting: list = []
        self._closed = False
        self.server: Optional[ForkServer] = None
        self.server_error: Optional[str] = None
        if (
            fork_server
            and limits.fork_server
            and size > 0
            and not limits.unsafe_no_sandbox
        ):
            try:
                self.server = ForkServer(limits, course_root)
            except (OSError, SandboxUnavailable) as error:
                self.server_error = str(error)  # bubblewrap sandboxes instead
        with self._lock:
            for _ in range(size):
                self._start_one()

    def _start_one(self) -> None:
        if self._left <= 0:
            return
        self._left -= 1
        try:
            if self.server is not None:
                box = ForkedSandbox(self.server, self.limits, self.course_root)
            else:
                box = _Sandbox(self.limits, self.course_root)
            self._waiting.append(box)
        except (OSError, SandboxUnavailable):
            pass  # _attempt starts one on demand, and reports why not

    def take(self, limits: Limits, course_root: Path) -> Optional[_Sandbox]:
        """A sandbox started ahead, now this caller's alone; None if there is none for
        these limits (the caller starts one)."""
        if limits != self.limits or Path(course_root) != Path(self.course_root):
            return None
        with self._lock:
            if self._closed:
                return None
            box = self._waiting.pop(0) if self._waiting else None
            while len(self._waiting) < self.size and self._left > 0:
                self._start_one()
        return box

    def close(self) -> None:
        """Kill the sandboxes nobody took and the fork server: nothing of grading
        outlives it."""
        with self._lock:
            self._closed = True
            waiting, self._waiting = self._waiting, []
        for box in waiting:
            box.kill()
        if self.server is not None:
            self.server.close()

    def __enter__(self) -> "SandboxPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
