"""Write constraints.txt from the installed environment (`make lock`): the pins CI tests.

torch is pinned for every Python (its CPU build on the reference machines); the rest apply to the
Python version the environment was built with, so other Pythons fall back to requirements.txt's ranges.
"""
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    pins = sorted(line for line in freeze if "==" in line and not line.startswith("-e"))
    py = ".".join(platform.python_version_tuple()[:2])
    out = ["# Tested pins: the exact versions CI runs, applied by the Makefile with 'pip install -c'.",
           "# Regenerate after an upgrade with 'make lock' (then run 'make test').",
           f"# torch is pinned for every Python; the other pins apply to Python {py}, the version they were",
           "# tested on (on other Pythons pip resolves requirements.txt's ranges)."]
    for line in pins:
        name, version = line.split("==")
        if name.lower() == "torch":
            out.insert(4, f"torch=={version.split('+')[0]}")
        else:
            out.append(f'{line} ; python_version == "{py}"')
    (ROOT / "constraints.txt").write_text("\n".join(out) + "\n")
    print(f"wrote constraints.txt ({len(pins)} pins)")


if __name__ == "__main__":
    main()
