"""The course as a student gets it: the wheel, installed into a fresh environment, run elsewhere.

`make test-wheel` (and `.ci/run`, after `make test`): builds the wheel from this checkout,
creates a virtual environment in a temporary folder (no `-e`, PYTHONPATH unset, the repository
nowhere on the path, a clean HOME and Jupyter path), installs the wheel with torch at the
tested pin (constraints.txt) plus nbclient and ipykernel, and then, from temporary folders:

- the wheel's size is within the budget in benchmarks/wheel.json, and it holds every data file,
  checkpoint and record and no instructor material;
- the install cell, run where the package is missing, installs it in that very kernel without
  touching torch; run again, it does nothing and prints nothing;
- `python -m attention_course.workspace` copies the notebooks out of the installed package;
- chapter 1 and chapter 4 execute top to bottom, and exercise 4 both as released (only its
  `raise NotImplementedError()` stubs fail) and with the solutions filled in (no error).

Marked `wheel`, so `make test` leaves it to its own CI step. WHEEL_RECORD=1 writes the
measurements into benchmarks/wheel.json (`make bench-wheel`).
"""
from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "benchmarks" / "wheel.json"
sys.path.insert(0, str(ROOT / "tools"))
import install_cell  # noqa: E402

pytestmark = pytest.mark.wheel
MARKER_LINE = re.compile(r"^[ \t]*#+[ \t]*(BEGIN|END)[ \t]+(SOLUTION|HIDDEN TESTS)\b", re.M)
#: What the notebooks are executed with (the "notebook" extra the tests need, no more).
RUNNER_PACKAGES = ["nbclient", "ipykernel"]


def _clean_env(home: Path, venv: Path) -> dict:
    """An environment that knows nothing of this checkout or of the user's Jupyter set-up."""
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin", "HOME": str(home),
           "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1",
           "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "JUPYTER_DATA_DIR": str(home / ".jupyter-data"),
           "JUPYTER_PLATFORM_DIRS": "1", "IPYTHONDIR": str(home / ".ipython")}
    for name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CERT",
                 "PIP_DEFAULT_TIMEOUT", "PIP_CONFIG_FILE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                 "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
                 "ATTENTION_COURSE_THREADS"):
        if name in os.environ:           # how this machine reaches its package index, or shares its cores
            env[name] = os.environ[name]
    return env


def _run(cmd, env, cwd, timeout=1200) -> subprocess.CompletedProcess:
    run = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True,
                         timeout=timeout)
    assert run.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return run


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(wheel, venv python, env, measurements): the wheel installed into a fresh venv."""
    base = tmp_path_factory.mktemp("wheel")
    assert ROOT not in base.parents, "the fresh environment must live outside the repository"
    dist, home, venv = base / "dist", base / "home", base / "venv"
    home.mkdir()
    measured = {}
    started = time.monotonic()
    # Built as pip builds it for `pip install git+...`: in isolation, with the setuptools that
    # pyproject.toml's build-system asks for (fetched from the package index).
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--wheel-dir", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, f"building the wheel failed:\n{build.stdout}\n{build.stderr}"
    wheel, = dist.glob("attention_course-*.whl")
    measured["build_seconds"] = round(time.monotonic() - started, 1)
    env = _clean_env(home, venv)
    started = time.monotonic()
    _run([sys.executable, "-m", "venv", venv], env, base)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt", wheel,
          *RUNNER_PACKAGES], env, base)
    measured["install_seconds"] = round(time.monotonic() - started, 1)
    return wheel, python, env, base, measured


def test_wheel_size_and_contents(installed):
    wheel, *_, measured = installed
    budget = json.loads(RECORD.read_text())["budget_mb"]
    size_mb = wheel.stat().st_size / 1e6
    measured["wheel_mb"] = round(size_mb, 1)
    assert size_mb <= budget, (f"the wheel is {size_mb:.1f} MB, over the budget of {budget} MB in "
                               f"{RECORD.relative_to(ROOT)}: see benchmarks/wheel.md before raising it")
    names = set(zipfile.ZipFile(wheel).namelist())
    res = "attention_course/_resources/"
    expected = [p.relative_to(ROOT).as_posix() for p in
                [*ROOT.glob("checkpoints/*.safetensors"), *ROOT.glob("checkpoints/*.txt"),
                 *ROOT.glob("benchmarks/**/*.json"), *ROOT.glob("book/*.ipynb"),
                 *ROOT.glob("exercises/*/*.ipynb")]]
    expected += ["data/SHA256SUMS"] + [f"data/{line.split(maxsplit=1)[1].strip()}"
                                       for line in (ROOT / "data/SHA256SUMS").read_text().splitlines() if line.strip()]
    missing = [name for name in expected if res + name not in names]
    assert not missing, f"not in the wheel: {missing}"
    private = [n for n in names if any(part in n.split("/") for part in
                                       ("solutions", "tests", "nbgrader_config.py", "gradebook.db"))]
    assert not private, f"instructor material in the wheel: {private}"
    leaked = [n for n in names if n.endswith(".ipynb")
              and MARKER_LINE.search(zipfile.ZipFile(wheel).read(n).decode())]
    assert not leaked, f"solution or hidden-test markers in {leaked}"


def test_students_get_no_instructor_tools(installed):
    # formgrader and create-assignment come with nbgrader: only the instructor's extras
    # (`instructor`, and `hub` for a JupyterHub) have it, so neither the base install nor
    # the student's `lab` extra shows those menus.
    wheel, python, env, base, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA")))
    requires = [line for line in metadata.decode().splitlines() if line.startswith("Requires-Dist:")]
    nbgrader = [line for line in requires if "nbgrader" in line]
    assert nbgrader and all('extra == "instructor"' in line or 'extra == "hub"' in line
                            for line in nbgrader), requires
    lab = [line for line in requires if 'extra == "lab"' in line]
    assert lab and not any("nbgrader" in line for line in lab), lab
    probe = _run([python, "-c", "import importlib.util as u; print(u.find_spec('nbgrader') is None)"], env, base)
    assert probe.stdout.strip() == "True", "nbgrader is in a student's environment"


def test_the_install_cell_installs_where_missing_and_leaves_torch_alone(installed):
    wheel, python, env, base, _ = installed
    _run([python, "-m", "pip", "uninstall", "--quiet", "--yes", "attention_course"], env, base)
    # torch's files as pip recorded them: a re-install rewrites both.
    probe = ("import importlib.metadata as m, json; d = m.distribution('torch'); "
             "print(json.dumps([str(f.locate()) for f in d.files "
             "if f.name == 'RECORD' or f.as_posix() == 'torch/__init__.py']))")
    torch_files = json.loads(_run([python, "-c", probe], env, base).stdout)
    assert len(torch_files) == 2, torch_files

    def stamps():
        return [(os.stat(f).st_ino, os.stat(f).st_mtime_ns) for f in torch_files]

    before = stamps()
    cell = install_cell.cell_source(f"attention_course @ {wheel.as_uri()}")
    script = base / "cell.py"
    # The cell, then an import in the same process: what the next cell of a notebook does.
    script.write_text(cell + "\nimport attention_course.runtime as r\nprint('PACKAGED', r.PACKAGED)\n")
    first = _run([python, script], env, base)
    assert first.stdout.strip() == "PACKAGED True", first.stdout + first.stderr
    assert stamps() == before, "installing the course re-installed torch"
    script.write_text(cell)
    again = _run([python, script], env, base)
    assert (again.stdout, again.stderr) == ("", ""), "the install cell printed where the package is present"


EXECUTE = """
import json, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
path, allow = sys.argv[1], sys.argv[2] == "allow"
nb = nbformat.read(path, as_version=4)
started = time.monotonic()
NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=allow,
               resources={"metadata": {"path": sys.argv[3]}}).execute()
errors = [(i, o.get("ename")) for i, c in enumerate(nb.cells) if c.cell_type == "code"
          for o in c.get("outputs", []) if o.get("output_type") == "error"]
print(json.dumps({"seconds": round(time.monotonic() - started, 1), "errors": errors}))
"""


def _execute(installed, notebook: Path, allow_errors=False) -> dict:
    _, python, env, base, _ = installed
    script = base / "execute.py"
    script.write_text(EXECUTE)
    run = subprocess.run([str(python), str(script), str(notebook), "allow" if allow_errors else "strict",
                          str(notebook.parent)], env=env, cwd=notebook.parent, capture_output=True,
                         text=True, timeout=1800)
    assert run.returncode == 0, f"{notebook.name} did not run top to bottom:\n{run.stdout[-5000:]}\n{run.stderr[-5000:]}"
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def workspace(installed):
    _, python, env, base, _ = installed
    folder = base / "student"
    run = _run([python, "-m", "attention_course.workspace", folder], env, base)
    assert "jupyter lab" in run.stdout
    return folder


def test_chapter_1_runs_from_the_wheel(installed, workspace):
    *_, measured = installed
    result = _execute(installed, workspace / "book" / "01_rnn.ipynb")
    measured["chapter_1_seconds"] = result["seconds"]
    measured["install_plus_chapter_1_seconds"] = round(measured["install_seconds"] + result["seconds"], 1)


def test_chapter_4_runs_from_the_wheel(installed, workspace):
    *_, measured = installed
    measured["chapter_4_seconds"] = _execute(installed, workspace / "book" / "04_attention.ipynb")["seconds"]


def test_exercise_4_runs_from_the_wheel(installed, workspace):
    *_, measured = installed
    released = workspace / "exercises" / "04_attention" / "04_attention.ipynb"
    stubs = _execute(installed, released, allow_errors=True)
    assert stubs["errors"], "the released exercise should fail only at its stubs"
    assert {e for _, e in stubs["errors"]} == {"NotImplementedError"}, stubs["errors"]
    # The same notebook with the solutions typed in: every visible test passes.
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in
                 nbformat.read(ROOT / "solutions" / "04_attention" / "04_attention.ipynb", 4).cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(released, 4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions and cell.metadata["nbgrader"].get("solution"):
            cell.source = "\n".join(line for line in solutions[grade_id].split("\n")
                                    if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)
    solved = released.with_name("04_attention_solved.ipynb")
    nbformat.write(nb, solved)
    result = _execute(installed, solved)
    assert result["errors"] == []
    measured["exercise_4_seconds"] = result["seconds"]


def test_record(installed):
    """Last: print the measurements, and write them to benchmarks/wheel.json with WHEEL_RECORD=1."""
    wheel, python, env, base, measured = installed
    versions = _run([python, "-c", "import sys, torch; print(sys.version.split()[0], torch.__version__)"],
                    env, base).stdout.split()
    measured.update({"date": time.strftime("%Y-%m-%d"), "python": versions[0], "torch": versions[1],
                     "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}",
                     "load_average_at_end": round(os.getloadavg()[0], 1),
                     "threads": os.environ.get("ATTENTION_COURSE_THREADS") or "default"})
    print("\nwheel measurements:", json.dumps(measured, indent=1))
    if os.environ.get("WHEEL_RECORD"):
        record = json.loads(RECORD.read_text())
        record["measured"] = measured
        RECORD.write_text(json.dumps(record, indent=1) + "\n")
