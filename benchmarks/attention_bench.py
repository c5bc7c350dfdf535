"""Time chapter 5's attention, forward + backward, against PyTorch's, in one run.

    python benchmarks/attention_bench.py                       # print the table
    python benchmarks/attention_bench.py --report benchmarks/attention.md

Two levels, at a few sizes (B, T, d_model, h), float32, on the course's device:
- the attention core on split heads (B, h, T, d_head): our `scaled_dot_product_attention`
  (materialises the (T, T) weights) against `F.scaled_dot_product_attention`;
- the whole layer (B, T, d_model): our `MultiHeadAttention`, the same module with its `attend`
  swapped for `F.scaled_dot_product_attention`, and `nn.MultiheadAttention(batch_first=True,
  need_weights=False)`.
Each entry is the median of --repeats timed calls after --warmup untimed ones; ratios are taken
against PyTorch's time measured in the same run. Not a test: numbers vary with the machine and its load.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attention_course.runtime import cpu_name, setup  # noqa: E402
from attention_course.transformer import (MultiHeadAttention,  # noqa: E402
                                          scaled_dot_product_attention)

SIZES = [(16, 64, 128, 4), (8, 256, 128, 4), (4, 512, 256, 8), (2, 1024, 256, 8)]


class FusedMHA(MultiHeadAttention):
    """Our layer with PyTorch's fused attention inside (no weights returned)."""

    def attend(self, q, k, v, mask):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask), None


def timed(fn, warmup: int, repeats: int) -> float:
    """Median seconds of fn() (forward + backward), after warm-up calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(device, warmup: int, repeats: int) -> list[dict]:
    rows = []
    for B, T, d_model, h in SIZES:
        g = torch.Generator().manual_seed(0)
        q, k, v = (torch.randn(B, h, T, d_model // h, generator=g).to(device).requires_grad_()
                   for _ in range(3))
        X = torch.randn(B, T, d_model, generator=g).to(device).requires_grad_()
        torch.manual_seed(0)
        ours, fused = MultiHeadAttention(d_model, h).to(device), FusedMHA(d_model, h).to(device)
        ref = nn.MultiheadAttention(d_model, h, batch_first=True).to(device)
        fused.load_state_dict(ours.state_dict())

        def core(fn):
            return lambda: fn(q, k, v).sum().backward()

        layer = {
            "ours": lambda: ours(X)[0].sum().backward(),
            "ours + F.sdpa": lambda: fused(X)[0].sum().backward(),
            "nn.MultiheadAttention": lambda: ref(X, X, X, need_weights=False)[0].sum().backward(),
        }
        t_core_ours = timed(core(lambda a, b, c: scaled_dot_product_attention(a, b, c)[0]),
                            warmup, repeats)
        t_core_ref = timed(core(F.scaled_dot_product_attention), warmup, repeats)
        t_layer = {name: timed(fn, warmup, repeats) for name, fn in layer.items()}
        rows.append(dict(size=(B, T, d_model, h), core_ours=t_core_ours, core_ref=t_core_ref,
                         **{f"layer {n}": t for n, t in t_layer.items()}))
        print(f"B={B} T={T} d_model={d_model} h={h}: core ours {t_core_ours * 1e3:.2f} ms, "
              f"F.sdpa {t_core_ref * 1e3:.2f} ms; layer "
              + ", ".join(f"{n} {t * 1e3:.2f} ms" for n, t in t_layer.items()), flush=True)
    return rows


def report(rows, device, args) -> str:
    gpu = torch.cuda.get_device_name(0) if device.type == "cuda" else "no GPU"
    lines = [
        "# Attention benchmark (chapter 5)",
        "",
        f"Measured {dt.date.today().isoformat()} on {os.cpu_count()} CPU cores ({cpu_name()}), {gpu}, "
        f"torch {torch.__version__}, Python {platform.python_version()}, {torch.get_num_threads()} "
        f"intra-op threads, device `{device}`.",
        "",
        f"Command: `python benchmarks/attention_bench.py --warmup {args.warmup} --repeats {args.repeats} "
        f"--report {args.report}`. Forward + backward of a sum of the outputs, float32, median of "
        f"{args.repeats} calls after {args.warmup} warm-up calls; all numbers of a table come from "
        "one run. Ratios > 1 mean ours is slower. The machine may be shared; compare ratios, "
        "not absolute times, across runs.",
        "",
        "## Attention core, on split heads (B, h, T, d_head)",
        "",
        "| B | T | d_model | h | ours (ms) | F.scaled_dot_product_attention (ms) | ours / torch |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        B, T, D, h = r["size"]
        lines.append(f"| {B} | {T} | {D} | {h} | {r['core_ours'] * 1e3:.2f} | "
                     f"{r['core_ref'] * 1e3:.2f} | {r['core_ours'] / r['core_ref']:.2f} |")
    lines += [
        "",
        "## Whole multi-head attention layer (B, T, d_model)",
        "",
        "| B | T | d_model | h | ours (ms) | ours + F.sdpa (ms) | nn.MultiheadAttention (ms) "
        "| ours / nn.MHA | ours + F.sdpa / nn.MHA |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        B, T, D, h = r["size"]
        o, f, m = r["layer ours"], r["layer ours + F.sdpa"], r["layer nn.MultiheadAttention"]
        lines.append(f"| {B} | {T} | {D} | {h} | {o * 1e3:.2f} | {f * 1e3:.2f} | {m * 1e3:.2f} | "
                     f"{o / m:.2f} | {f / m:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--report", type=Path, help="write a Markdown table here")
    args = ap.parse_args()
    device, _ = setup(seed=0)
    rows = bench(device, args.warmup, args.repeats)
    text = report(rows, device, args)
    if args.report:
        args.report.write_text(text, encoding="utf-8")
        print(f"wrote {args.report}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
