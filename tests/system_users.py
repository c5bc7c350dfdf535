"""For tests that run the course as another Unix user (root only): the JupyterHub test's
students and instructor, the fork server's ordinary-user check."""
from __future__ import annotations

import os
import stat
import sys
from pathlib import Path


def let_users_reach_python() -> dict:
    """o+x on the folders above the interpreter that lack it; returns their old modes
    (give them to `restore_modes`).

    A Python under root's home (pyenv in /root) cannot run as another user otherwise; a
    deployment installs the course where users can reach it, setup.py checks that.
    """
    changed = {}
    for folder in Path(os.path.realpath(sys.executable)).parents:
        mode = stat.S_IMODE(folder.stat().st_mode)
        if not mode & stat.S_IXOTH:
            changed[folder] = mode
            os.chmod(folder, mode | stat.S_IXOTH)
    return changed


def restore_modes(changed: dict) -> None:
    for folder, mode in changed.items():
        os.chmod(folder, mode)
