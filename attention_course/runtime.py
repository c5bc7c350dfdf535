"""Run-time plumbing shared by every chapter: device choice, seeding and paths (hand-written)."""
from __future__ import annotations

import os
import platform
import random
from pathlib import Path

import numpy as np
import torch

_PACKAGE = Path(__file__).resolve().parent
#: Where an installed wheel keeps its copy of the repository's run-time files (data/,
#: checkpoints/, the benchmark records, the notebooks), laid out as in the repository, so
#: that `ROOT / "benchmarks" / ...` reads the same in a checkout and in an installed package.
#: setup.py writes it at build time; a checkout never has it.
PACKAGED_ROOT = _PACKAGE / "_resources"


def _course_root() -> Path:
    """The repository checkout this package sits in, else the packaged copy of its files.

    A checkout wins because there the files are the ones git tracks and `make data` rebuilds;
    an installed package (site-packages has no pyproject.toml) reads its own copy.
    """
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "data" / "SHA256SUMS").is_file():
        return checkout
    if PACKAGED_ROOT.is_dir():
        return PACKAGED_ROOT
    return checkout      # neither: data.py's checks then say which file is missing


#: The course root: the repository checkout, or the installed package's copy of its files.
ROOT = _course_root()
#: True when the course runs from an installed package rather than from a checkout.
PACKAGED = ROOT == PACKAGED_ROOT
#: Where the committed data files and their SHA-256 manifest live; override with $ATTENTION_COURSE_DATA.
DATA_DIR = Path(os.environ.get("ATTENTION_COURSE_DATA", ROOT / "data"))
#: Where trained checkpoints are kept.
CHECKPOINT_DIR = ROOT / "checkpoints"


def get_device(prefer: str | None = None) -> torch.device:
    """The device every chapter computes on: CUDA when available, else the CPU.

    Set $ATTENTION_COURSE_DEVICE (e.g. ``cpu``) or pass `prefer` to override.
    """
    choice = prefer or os.environ.get("ATTENTION_COURSE_DEVICE")
    if choice:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_seed(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a torch.Generator seeded the same way.

    Passing that generator to samplers and data windows keeps one cell's randomness from
    shifting another's when a reader re-runs cells out of order.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def setup(seed: int = 0, threads: int | None = None) -> tuple[torch.device, torch.Generator]:
    """The one call of every chapter's setup cell: seed everything, pick the device.

    On the CPU, `threads` caps PyTorch's intra-op threads (default: $ATTENTION_COURSE_THREADS,
    else all cores, at most 4, which is where small recurrent models stop getting faster). On a
    machine busy with other work, ATTENTION_COURSE_THREADS=1 avoids threads waiting on each
    other for cores they do not get.
    """
    device = get_device()
    if device.type == "cpu":
        threads = threads or int(os.environ.get("ATTENTION_COURSE_THREADS") or 0)
        torch.set_num_threads(threads or min(4, os.cpu_count() or 1))
    return device, set_seed(seed)


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one), for benchmark records."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# MyST-NB's mime prefix for glued values (myst_nb.ext.glue.GLUE_PREFIX).
GLUE_PREFIX = "application/papermill.record/"


def glue(name: str, value, digits: int = 4) -> None:
    """Store `value` under `name` for the prose: {glue:text}`name:.1%` in a Markdown cell
    shows it, formatted, in the book (MyST-NB's glue, written here so that a chapter runs
    where MyST-NB is not installed). The value is an output of the cell, so nbval checks it
    like any other output and a re-execution that changes it changes the sentence.

    A float is kept to `digits` significant digits: the prose never shows more, and the
    digits beyond differ between processors, which nbval would report as a change.
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()                     # a 0-d tensor or array: its number
    if isinstance(value, float):
        value = float(f"{value:.{digits}g}")
    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)
