"""The one piece of the grader that runs next to a student's code, inside the sandbox.

Started by `sandbox.py` as `python runner.py` inside bubblewrap, or forked and confined by
`forkserver.py` (which calls `serve`), with nothing of the course in view. It speaks JSON lines: it reads its instructions on stdin and writes events on file
descriptor 3. Everything it writes can be forged by the student's code (which runs in this same
process), so the grader outside trusts none of it except as *data to be compared*: a test passes
only when the values its `check(...)` calls recorded equal the values the instructor's solution
recorded on the same inputs, and that comparison happens outside (`checks.py`).

Protocol (one JSON object per line):

    fd 3   {"event": "warm"}                                IPython and torch are loaded
    stdin  {"cells": [{"id": ..., "source": ...}, ...]}    phase 1: the student's cells, in order
    fd 3   {"event": "ready"}
    fd 3   {"event": "start", "id": ...}                    before each cell
    fd 3   {"event": "cell", "id": ..., "ok": bool, "ename": ..., "evalue": ..., "stdout": ...}
    fd 3   {"event": "phase1_done"}
    stdin  {"tests": [{"id": ..., "source": ...}, ...], "timeout": seconds}
    fd 3   {"event": "start_test", "id": ...}
    fd 3   {"event": "test", "id": ..., "status": "ok" | "error" | "timeout" | "crashed",
            "ename": ..., "records": [...]}
    fd 3   {"event": "done"}

Each test runs in a child process forked from the state the student's cells left, so a test
cannot change what the next one sees, and a test that hangs or kills itself costs only itself.

This file imports nothing from the course: only the standard library, IPython and, for
encoding values, torch and numpy when the student's code has imported them.
"""
import base64
import io
import json
import os
import signal
import sys
import time

PROTOCOL_FD = 3              # main() sets it from the command line
MAX_STDOUT = 4000            # characters of a cell's printed output kept for the feedback
MAX_ELEMENTS = 1_000_000     # values one check may record
_out = None


def emit(event: dict) -> None:
    data = (json.dumps(event, allow_nan=True) + "\n").encode()
    view = memoryview(data)
    while view:
        written = os.write(PROTOCOL_FD, view)
        view = view[written:]


# --------------------------------------------------------------------------------------------
# Values to plain data
# --------------------------------------------------------------------------------------------

def _array(dtype: str, shape, raw: bytes) -> dict:
    return {"kind": "array", "dtype": dtype, "shape": list(shape), "data": base64.b64encode(raw).decode()}


def encode(value, depth: int = 0) -> dict:
    """A JSON-able description of `value`: tensors and arrays as dtype, shape and raw bytes."""
    if depth > 8:
        return {"kind": "unsupported", "type": "nesting deeper than 8"}
    if value is None or type(value) in (bool, str):
        return {"kind": type(value).__name__ if value is not None else "none", "value": value}
    if type(value) is int:
        return {"kind": "int", "value": str(value)}
    if type(value) is float:
        return {"kind": "float", "value": repr(value)}
    if type(value) in (list, tuple):
        return {"kind": type(value).__name__, "items": [encode(v, depth + 1) for v in value[:10_000]]}
    if type(value) is dict:
        return {"kind": "dict", "items": [[str(k), encode(v, depth + 1)] for k, v in list(value.items())[:10_000]]}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        # A subclass could answer any call with anything: look at the plain tensor underneath.
        plain = torch.Tensor.as_subclass(value, torch.Tensor)
        plain = torch.Tensor.detach(plain)
        dtype = str(plain.dtype)
        if plain.numel() > MAX_ELEMENTS:
            return {"kind": "unsupported", "type": f"tensor of {plain.numel()} elements"}
        if plain.dtype == torch.bfloat16:
            plain = plain.float()
        if plain.is_complex() or plain.layout != torch.strided:
            return {"kind": "unsupported", "type": f"tensor {dtype} {plain.layout}"}
        array = torch.Tensor.numpy(torch.Tensor.contiguous(torch.Tensor.cpu(plain)))
        return _array(dtype, array.shape, array.tobytes())
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.ndarray):
        if value.dtype.kind not in "biuf" or value.size > MAX_ELEMENTS:
            return {"kind": "unsupported", "type": f"ndarray {value.dtype}"}
        array = numpy.ascontiguousarray(value)
        return _array("numpy." + str(array.dtype), array.shape, array.tobytes())
    if numpy is not None and isinstance(value, numpy.generic):
        return encode(value.item(), depth + 1)
    return {"kind": "unsupported", "type": type(value).__name__}


def make_check(records: list):
    """The `check` that hidden tests call: it records a value; it never decides anything."""
    def check(name, value, message, atol=1e-5, rtol=1e-5):
        try:
            encoded = encode(value)
        except BaseException as error:  # a hostile object; the record then simply mismatches
            encoded = {"kind": "unsupported", "type": f"encoding raised {type(error).__name__}"}
        try:
            records.append({"name": str(name), "value": encoded, "message": str(message),
                            "atol": float(atol), "rtol": float(rtol)})
        except BaseException:
            pass
    return check


# --------------------------------------------------------------------------------------------
# Running cells
# --------------------------------------------------------------------------------------------

def _ename(error: BaseException) -> str:
    return type(error).__name__


def run_cell(shell, source: str) -> dict:
    """Run one cell in the IPython shell; its printed output and error as data."""
    buffer = io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = buffer
    error = None
    try:
        result = shell.run_cell(source, store_history=False, silent=False)
        error = result.error_before_exec or result.error_in_exec
    except BaseException as raised:  # KeyboardInterrupt from a timeout, SystemExit, ...
        error = raised
    finally:
        sys.stdout, sys.stderr = saved
    text = buffer.getvalue()
    event = {"ok": error is None, "stdout": text[:MAX_STDOUT] + ("\n[... output cut ...]" if len(text) > MAX_STDOUT else "")}
    if error is not None:
        event["ename"] = _ename(error)
        try:
            event["evalue"] = str(error)[:2000]
        except BaseException:
            event["evalue"] = ""
        if isinstance(error, SyntaxError):
            event["lineno"] = error.lineno
    return event


def run_test(namespace: dict, test: dict, timeout: float) -> None:
    """Run a test cell in a forked child; emit its status and the values it recorded."""
    try:
        pid = os.fork()
    except OSError:
        emit({"event": "test", "id": test["id"], "status": "crashed", "ename": None, "records": []})
        return
    if pid == 0:                                    # the child: run the test, report, vanish
        try:
            os.setpgid(0, 0)
        except OSError:
            pass
        records, status, ename = [], "ok", None
        namespace["check"] = make_check(records)
        try:
            exec(compile(test["source"], f"<test {test['id']}>", "exec"), namespace)
        except BaseException as error:
            status, ename = "error", _ename(error)
        try:
            emit({"event": "test", "id": test["id"], "status": status, "ename": ename, "records": records})
        finally:
            os._exit(0)
    deadline = time.monotonic() + timeout
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(wait_status) or os.WEXITSTATUS(wait_status) != 0:
                emit({"event": "test", "id": test["id"], "status": "crashed", "ename": None, "records": []})
            return
        if time.monotonic() > deadline:
            for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    kill()
                except OSError:
                    pass
            os.waitpid(pid, 0)
            emit({"event": "test", "id": test["id"], "status": "timeout", "ename": None, "records": []})
            return
        time.sleep(0.005)


def clear_sandbox() -> None:
    """Kill every other process of the sandbox, after each cell: what a cell left running
    (servers, sleepers, a fork bomb's children) can neither interfere with a later cell or a
    test nor use up the process limit. Only inside bubblewrap's PID namespace, where kill(-1) reaches
    the sandbox alone."""
    try:
        nspid = [line for line in open("/proc/self/status") if line.startswith("NSpid:")]
    except OSError:
        return
    if os.getpid() > 100 or not nspid:
        return                                   # not a fresh PID namespace: never kill(-1) here
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.01)


def warm_up() -> None:
    """Load what every submission loads, before any cell arrives: a sandbox started
    ahead (sandbox.SandboxPool) or the fork server (forkserver.py) has then done the
    slow part. No student code has run yet."""
    import IPython.core.interactiveshell  # noqa: F401
    try:
        import torch  # noqa: F401  (the exercises' first import; cached for them)
    except Exception:
        pass


def serve(protocol_fd: int, sandboxed: bool) -> None:
    """Run one submission: its cells, then the hidden tests. This process serves one
    submission only."""
    global PROTOCOL_FD
    PROTOCOL_FD = protocol_fd
    # The grader interrupts a cell past its time with SIGINT. A grader started in the
    # background (`make autograde &`, nohup, cron) hands SIGINT down ignored, and Python
    # then leaves it ignored: handle it here, whatever was inherited.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stdin = os.fdopen(0, "r", encoding="utf-8", errors="replace")
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance(colors="nocolor")
    emit({"event": "warm"})
    plan = json.loads(stdin.readline())
    emit({"event": "ready"})
    for cell in plan["cells"]:
        emit({"event": "start", "id": cell["id"]})
        event = run_cell(shell, cell["source"])
        if sandboxed:
            clear_sandbox()                  # nothing a cell started outlives it
        emit(dict(event="cell", id=cell["id"], **event))
    emit({"event": "phase1_done"})
    tests = json.loads(stdin.readline())
    if sandboxed:
        clear_sandbox()
    namespace = shell.user_ns
    for test in tests["tests"]:
        emit({"event": "start_test", "id": test["id"]})
        run_test(namespace, test, float(tests.get("timeout", 30)))
    emit({"event": "done"})


def main() -> None:
    protocol_fd = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    warm_up()
    serve(protocol_fd, sandboxed=len(sys.argv) > 2 and sys.argv[2] == "sandboxed")


if __name__ == "__main__":
    main()
