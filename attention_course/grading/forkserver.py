"""The fork server: loads IPython and torch once, then forks one confined runner per
submission. It runs inside bubblewrap (`pool.py` starts it) and never runs student code.

Why: every submission's runner imports torch, about 1.5 CPU-seconds of a grading that
otherwise takes about half a second. Forking a process that has already imported it
costs milliseconds. What a fresh bubblewrap sandbox gives each submission, the fork
gives it too, before the runner reads a single cell:

- its own mount, PID, network, IPC and UTS namespaces: a fresh size-limited `/tmp`,
  home folder and `/dev/shm`, its own `/dev/pts`, a `/proc` that shows its own
  processes only, no network but its own loopback, and no System V IPC of others;
- its own uid when the grader runs as root (the grader's `SlotClaim`), no
  capabilities (bounding, permitted, effective, inheritable and ambient sets empty),
  no new privileges, and the submission's resource limits;
- no file descriptor of the server or of another submission: only stdin (cells and
  tests), stdout and stderr (the log) and the protocol descriptor 3.

The server itself keeps what it needs to create namespaces and drop to a uid
(bubblewrap's --cap-add); each child checks in /proc/self/status that its sets are
empty before it goes on, and exits otherwise.

Processes of one submission, as bubblewrap arranges them:

    server ─ fork ─> keeper (server's namespaces: unshares, forks, waits)
                       └─> init, PID 1 of the new namespace (mounts, drops privileges,
                           reaps orphans, forwards interrupts)
                             └─> runner (PID 2: runner.serve, the student's cells)

The grader speaks to the server over a Unix socket, one JSON message per datagram:

    {"op": "spawn", "id": N, "uid": uid | null, "limits": {...}}  + 3 descriptors
        (stdin to read, protocol to write, log to write) -> {"id": N, "ok": true}
    {"op": "signal", "id": N, "what": "interrupt" | "kill"}     -> {"id": N, "ok": true}

A kill returns once every process of that submission is gone. When the grader closes
the socket, the server kills what is left and exits.

Like runner.py, this file imports nothing from the course.
"""

import ctypes
import fcntl
import json
import os
import random
import resource
import signal
import socket
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runner  # noqa: E402  (beside this file, in /grader)

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
CAP_VERSION_3 = 0x20080522
HOME = "/home/student"
STAGE = "/forkserver-stage"    # an empty folder bubblewrap makes, to build a tmpfs in
KEEP: list = []                # read-only binds below /tmp or HOME (main sets them)
COVERED = (
    "/proc/sys",
    "/proc/sysrq-trigger",
    "/proc/irq",
    "/proc/bus",
)  # as bubblewrap
EXIT_CONFINE = 70  # a child that could not confine itself exits with this

_libc = ctypes.CDLL(None, use_errno=True)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source, target, kind, flags, options=None) -> None:
    encode = lambda text: text.encode() if text is not None else None  # noqa: E731
    _check(
        _libc.mount(
            encode(source),
            encode(target),
            encode(kind),
            ctypes.c_ulong(flags),
            encode(options),
        ),
        f"mount {target}",
    )


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


# --------------------------------------------------------------------------------------
# The child's confinement (init runs these, before the runner exists)
# --------------------------------------------------------------------------------------


def _fresh_folder(target: str, options: str, keep: list) -> None:
    """A new tmpfs at `target`. The Python environment may live below it (a course
    cloned under /tmp): those read-only binds are carried into the new tmpfs, built
    at STAGE and then moved over `target`."""
    private = MS_NOSUID | MS_NODEV
    inside = [path for path in keep if path.startswith(target + "/")]
    if not inside:
        _mount("tmpfs", target, "tmpfs", private, options)
        return
    _mount("tmpfs", STAGE, "tmpfs", private, options)
    for path in inside:
        staged = STAGE
        for part in path[len(target) + 1:].split("/"):
            staged += "/" + part
            if not os.path.isdir(staged):
                os.mkdir(staged)
                os.chmod(staged, 0o755)          # readable by the submission's uid
        _mount(path, staged, None, MS_BIND | MS_REC)
        _mount(None, staged, None, MS_BIND | MS_REMOUNT | MS_RDONLY | private)
    _mount(STAGE, target, None, MS_MOVE)


def private_mounts(tmp_bytes: int, keep: list) -> None:
    """Fresh writable folders and a /proc of this PID namespace, seen by this
    submission alone (the server's copies stay underneath, unreachable); everything
    else read-only, since the server's other folders are shared by all its children."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    private = MS_NOSUID | MS_NODEV
    _fresh_folder("/tmp", f"size={tmp_bytes},mode=1777", keep)
    _fresh_folder(HOME, f"size={tmp_bytes},mode=0777", keep)
    _fresh_folder("/dev/shm", f"size={tmp_bytes},mode=1777", keep)
    _mount(
        "devpts",
        "/dev/pts",
        "devpts",
        MS_NOSUID | MS_NOEXEC,
        "newinstance,ptmxmode=0666,mode=620",
    )
    proc = MS_NOSUID | MS_NODEV | MS_NOEXEC
    _mount("proc", "/proc", "proc", proc)
    for path in COVERED:
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | proc)
    # The root and /dev are bubblewrap's folders in memory, one for all children:
    # as an ordinary user the children own them, and could pass files through them.
    for path in ("/", "/dev"):
        _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | private)


def drop_privileges(uid) -> None:
    """No capabilities, no way back to any: the bounding set first (it needs
    CAP_SETPCAP), then the uid (as root, a uid of this submission's own), then the
    remaining sets, then no new privileges."""
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    _check(
        _libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0),
        "clear ambient capabilities",
    )
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    header, data = _CapHeader(CAP_VERSION_3, 0), (ctypes.c_uint32 * 6)()
    _check(_libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    status = dict(
        line.split(":", 1) for line in open("/proc/self/status") if ":" in line
    )
    empty = all(
        int(status[name], 16) == 0
        for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    )
    uids = status["Uid"].split()
    if (
        not empty
        or status["NoNewPrivs"].strip() != "1"
        or (uid is not None and set(uids) != {str(uid)})
    ):
        raise OSError(f"privileges were not dropped: {status}")


def apply_limits(limits: dict) -> None:
    """The submission's resource limits (the grader's Limits, as numbers)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["file_bytes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_NPROC, (int(limits["processes"]),) * 2)
    resource.setrlimit(resource.RLIMIT_AS, (int(limits["memory_bytes"]),) * 2)


def _close_all_but(keep: int) -> None:
    """Close every descriptor above `keep`: nothing of the server or of another
    submission (their sockets, pidfds, pipes) reaches a student."""
    os.closerange(keep + 1, 1 << 20)


def init(request: dict) -> None:
    """PID 1 of the submission's namespace: confine, start the runner, then reap and
    forward. Never returns."""
    runner_pid = []
    # Before the fork: an interrupt that arrives early is forwarded, not lost.
    signal.signal(signal.SIGUSR1, lambda *_: _interrupt(runner_pid))
    try:
        private_mounts(int(request["limits"]["tmp_bytes"]), KEEP)
        apply_limits(request["limits"])
        drop_privileges(request["uid"])
        os.chdir(HOME)
        runner_pid.append(os.fork())
    except BaseException as error:
        os.write(2, f"forkserver: could not confine the submission: {error}\n".encode())
        os._exit(EXIT_CONFINE)
    if runner_pid[0] == 0:
        run_submission()
    # init: no descriptor of the submission (so that the grader sees the end of the
    # protocol when the runner's processes end), not inspectable by the runner.
    _close_all_but(-1)
    _prctl(PR_SET_DUMPABLE, 0)
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(0)
        if pid == runner_pid[0]:  # the runner ended: so does everything it left
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _interrupt(runner_pid: list) -> None:
    if runner_pid and runner_pid[0] > 0:
        try:
            os.kill(runner_pid[0], signal.SIGINT)
        except OSError:
            pass


def run_submission() -> None:
    """The runner (PID 2): a session of its own, fresh random state, then the cells."""
    try:
        os.setsid()
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)   # init's, not the runner's
        random.seed()  # a fresh process would not share the server's
        numpy_random = sys.modules.get("numpy.random")    # once imported, seeded
        if numpy_random is not None:
            numpy_random.seed()
        runner.serve(3, sandboxed=True)
    except BaseException:
        traceback.print_exc()           # into the log, as a runner's own crash would
        sys.stderr.flush()
        os._exit(1)
    os._exit(0)


def keeper(request: dict, report: int) -> None:
    """The server's child: new namespaces, then init; reports init's pid to the server
    and waits for it. Never returns."""
    try:
        flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
        _check(_libc.unshare(ctypes.c_int(flags)), "unshare")
        pid = os.fork()
    except BaseException as error:
        os.write(2, f"forkserver: could not start the submission: {error}\n".encode())
        os._exit(EXIT_CONFINE)
    if pid == 0:
        os.close(report)
        init(request)
    os.write(report, f"{pid}\n".encode())
    os.read(report, 1)  # the server holds a pidfd of init now: it may end
    _close_all_but(-1)
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class Server:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.children: dict = {}  # id -> (keeper pid, pidfd of init)

    def spawn(self, request: dict, fds: list) -> dict:
        if len(fds) != 3:
            raise ValueError("spawn needs three descriptors")
        ident = int(request["id"])
        ours, theirs = socket.socketpair()
        keeper_pid = os.fork()
        if keeper_pid == 0:
            try:
                self.sock.close()
                ours.close()
                # Above every target first: a received descriptor may be 3 or 4.
                high = [
                    fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
                    for fd in (fds[0], fds[2], fds[2], fds[1], theirs.fileno())
                ]
                for target, fd in enumerate(high):
                    os.dup2(fd, target)
                _close_all_but(4)
                keeper(request, 4)
            finally:
                os._exit(EXIT_CONFINE)
        for fd in fds:
            os.close(fd)
        theirs.close()
        try:
            line = ours.recv(64)
            init_pid = int(line.decode().strip())
            pidfd = os.pidfd_open(init_pid)
            ours.send(b"k")
        except (OSError, ValueError):
            self._reap(keeper_pid)
            return {
                "id": ident,
                "ok": False,
                "why": "the submission's process did not start",
            }
        finally:
            ours.close()
        self.children[ident] = (keeper_pid, pidfd)
        return {"id": ident, "ok": True}

    def signal(self, request: dict) -> dict:
        ident = int(request["id"])
        if ident not in self.children:
            return {"id": ident, "ok": True}
        keeper_pid, pidfd = self.children[ident]
        if request.get("what") == "interrupt":
            self._send(pidfd, signal.SIGUSR1)
            return {"id": ident, "ok": True}
        # Killing init kills its namespace; the keeper has waited for init, and the
        # kernel for every process of the namespace, when the keeper is reaped.
        self._send(pidfd, signal.SIGKILL)
        self._reap(keeper_pid)
        os.close(pidfd)
        del self.children[ident]
        return {"id": ident, "ok": True}

    @staticmethod
    def _send(pidfd: int, sig: int) -> None:
        try:
            signal.pidfd_send_signal(pidfd, sig)
        except OSError:
            pass  # it has ended already

    @staticmethod
    def _reap(pid: int) -> None:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass

    def serve(self) -> None:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.sock, 1 << 16, 3)
            except OSError:
                break
            if not data:
                break
            try:
                request = json.loads(data)
                if request.get("op") == "spawn":
                    answer = self.spawn(request, fds)
                else:
                    answer = self.signal(request)
            except Exception as error:  # a malformed request: say so, keep serving
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
                answer = {"ok": False, "why": f"{type(error).__name__}: {error}"}
            self.sock.send(json.dumps(answer).encode())
        for ident in list(self.children):
            self.signal({"id": ident, "what": "kill"})


def main() -> None:
    global KEEP
    sock = socket.socket(fileno=int(sys.argv[1]))
    KEEP = json.loads(sys.argv[2]) if len(sys.argv) > 2 else []
    runner.warm_up()
    sock.send(json.dumps({"event": "warm"}).encode())
    Server(sock).serve()


if __name__ == "__main__":
    main()
