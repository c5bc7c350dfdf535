"""Run-time plumbing shared by every chapter: device choice, seeding and paths (hand-written)."""
from __future__ import annotations

import os
import platform
import random
from pathlib import Path

import numpy as np
import torch

#: The repository root (the folder holding `_config.yml`).
ROOT = Path(__file__).resolve().parents[1]
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

    On the CPU, `threads` caps PyTorch's intra-op threads (default: all cores, at most 4,
    which is where small recurrent models stop getting faster).
    """
    device = get_device()
    if device.type == "cpu":
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
