"""Chapter 6's key/value cache and chapter 5's attention memory, measured in one run.

    python benchmarks/transformer_bench.py                     # writes benchmarks/transformer.md
    python benchmarks/transformer_bench.py --report -          # print the report instead

Two parts, float32, on the course's device (`attention_course.runtime` picks it):
- KV-cache decoding: a randomly initialised chapter-6 `Transformer` decodes a batch greedily
  for 25, 50 and 100 target tokens (every step forced, no early end at <eos>), with
  `kv_cache = True` and `False`. The tokens must be identical (asserted); each time is the median
  of --repeats runs after one warm-up run, encoder included, and the ratio uncached / cached
  comes from the same run.
- Attention memory against sequence length T: forward + backward of chapter 5's
  `scaled_dot_product_attention` (it materialises the (B, h, T, T) scores and weights) and of
  `F.scaled_dot_product_attention`, on (B, h, T, d_head) inputs. Peak memory is what the
  allocator holds above its level before the call: `torch.cuda.max_memory_allocated` on CUDA;
  on the CPU, which has no such counter, the running sum of the allocation and free events that
  `torch.profiler.profile(profile_memory=True)` records (every allocator call of the CPU
  allocator, with its size). The analytic size of one (B, h, T, T) float32 tensor is shown next
  to it, and the median forward + backward time is measured separately, without the profiler.
Not a test: numbers vary with the machine and its load.
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
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attention_course.runtime import cpu_name, setup  # noqa: E402
from attention_course.translation import BOS  # noqa: E402
from attention_course.transformer import (Transformer, TransformerConfig,  # noqa: E402
                                          scaled_dot_product_attention)

TOKENS = [25, 50, 100]
LENGTHS = [128, 256, 512, 1024, 2048]
MiB = 2 ** 20


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


# ---- part 1: KV-cache decoding ----------------------------------------------------------------

@torch.no_grad()
def decode(model, src, num_tokens: int, kv_cache: bool, device):
    """Greedy decoding of num_tokens forced steps; returns (tokens (B, n), seconds)."""
    model.kv_cache = kv_cache
    B = src.shape[0]
    sync(device)
    t0 = time.perf_counter()
    memory, state = model.encode(src, torch.full((B,), src.shape[1]))
    y = torch.full((B,), BOS, dtype=torch.long, device=device)
    out = []
    for _ in range(num_tokens):
        logits, state, _ = model.step(y, state, memory)
        y = logits.argmax(-1)
        out.append(y)
    tokens = torch.stack(out, 1)
    sync(device)
    return tokens, time.perf_counter() - t0


def bench_cache(device, generator, args) -> list[dict]:
    cfg = TransformerConfig(vocab_size=args.vocab, d_model=args.d_model, num_heads=args.heads,
                            d_ff=4 * args.d_model, num_layers=args.layers, dropout=0.0,
                            max_len=max(TOKENS) + 1)
    torch.manual_seed(0)
    model = Transformer(cfg).to(device).eval()
    src = torch.randint(4, args.vocab, (args.batch, args.src_len), generator=generator).to(device)
    rows = []
    for n in TOKENS:
        times, tokens = {True: [], False: []}, {}
        for kv in (True, False):
            decode(model, src, n, kv, device)                          # warm-up
        for _ in range(args.repeats):                                  # interleaved
            for kv in (True, False):
                tok, sec = decode(model, src, n, kv, device)
                times[kv].append(sec)
                tokens.setdefault(kv, tok)
        same = torch.equal(tokens[True], tokens[False])
        assert same, f"{n} tokens: the cache changed the decoded tokens"
        cached, uncached = statistics.median(times[True]), statistics.median(times[False])
        rows.append(dict(tokens=n, cached=cached, uncached=uncached, same=same))
        print(f"{n:>4} tokens: cached {cached:.3f} s, uncached {uncached:.3f} s, "
              f"speed-up {uncached / cached:.2f}x, same tokens {same}", flush=True)
    model.kv_cache = True
    return rows, cfg


# ---- part 2: attention memory ------------------------------------------------------------------

def cpu_peak_bytes(fn) -> tuple[int, set[str]]:
    """Peak bytes the CPU allocator holds above its level at the start of fn(), from the
    allocation and free events of torch.profiler (profile_memory=True), and the names of the
    attention kernels fn() ran."""
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = []

    def walk(node):
        if node.tag == _EventType.Allocation:
            events.append((node.start_time_ns, node.extra_fields.alloc_size))
        for child in node.children:
            walk(child)

    for root in prof.profiler.kineto_results.experimental_event_tree():
        walk(root)
    live = peak = 0
    for _, size in sorted(events, key=lambda e: e[0]):              # size < 0: a free
        live += size
        peak = max(peak, live)
    kernels = {e.name for e in prof.events()                       # the kernel, not the
               if e.name.startswith("aten::_scaled_dot_product")   # dispatcher op
               and "backward" not in e.name}
    return peak, kernels


def cuda_peak_bytes(fn, device) -> int:
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - base


def bench_memory(device, generator, args) -> list[dict]:
    B, h, d = 1, args.heads, args.d_head
    kinds = {
        "ours": lambda q, k, v: scaled_dot_product_attention(q, k, v)[0],
        "torch": F.scaled_dot_product_attention,
    }
    rows = []
    for T in LENGTHS:
        q, k, v = (torch.randn(B, h, T, d, generator=generator).to(device).requires_grad_()
                   for _ in range(3))
        row = dict(T=T, weights_bytes=B * h * T * T * 4)

        def clear():
            for t in (q, k, v):
                t.grad = None

        steps = {}
        for name, attn in kinds.items():
            def step(attn=attn):
                attn(q, k, v).sum().backward()
                sync(device)

            steps[name] = step
            step(); clear()                                             # warm-up
            if device.type == "cuda":
                peak = cuda_peak_bytes(step, device)
            else:
                peak, kernels = cpu_peak_bytes(step)
                if name == "torch":
                    row["torch_kernels"] = sorted(kernels)
            clear()
            row[f"{name}_peak"] = peak
        times = {name: [] for name in steps}
        for _ in range(args.mem_repeats):                              # interleaved
            for name, step in steps.items():
                t0 = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - t0)
                clear()
        for name in steps:
            row[f"{name}_time"] = statistics.median(times[name])
        rows.append(row)
        print(f"T={T:>5}: (B,h,T,T) {row['weights_bytes'] / MiB:.1f} MiB; peak ours "
              f"{row['ours_peak'] / MiB:.1f} MiB, F.sdpa {row['torch_peak'] / MiB:.1f} MiB; "
              f"time ours {row['ours_time'] * 1e3:.1f} ms, F.sdpa {row['torch_time'] * 1e3:.1f} ms",
              flush=True)
    return rows


# ---- report ------------------------------------------------------------------------------------

def report(cache_rows, cfg, mem_rows, device, args, command: str, seconds: float) -> str:
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "no GPU"
    method = ("`torch.cuda.max_memory_allocated` after `reset_peak_memory_stats`, minus the bytes "
              "allocated before the call" if device.type == "cuda" else
              "`torch.profiler.profile(profile_memory=True)`: the running sum of the CPU "
              "allocator's allocation and free events (sizes from the profiler's event tree, "
              "`kineto_results.experimental_event_tree()`), in time order; its maximum is the "
              "peak above the level before the call. It counts PyTorch's allocator only, not "
              "the process's resident memory")
    at100 = next(r for r in cache_rows if r["tokens"] == 100)
    lines = [
        "# Transformer benchmark (chapters 5 and 6)",
        "",
        f"Measured {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} CPU cores "
        f"({cpu_name()}), {gpu}, torch {torch.__version__}, Python {platform.python_version()}, "
        f"{torch.get_num_threads()} intra-op threads, device `{device}`. The machine may be shared "
        "with other jobs (1-minute load average "
        f"{args.load[0]:.2f} before the run, {args.load[1]:.2f} after it); compare ratios, not "
        f"absolute times, across runs. Both tables come from one run ({seconds:.0f} s in all).",
        "",
        f"Command: `{command}`",
        "",
        "## Decoding with and without the key/value cache (chapter 6)",
        "",
        f"A randomly initialised `Transformer` (d_model {cfg.d_model}, {cfg.num_heads} heads, "
        f"d_ff {cfg.d_ff}, {cfg.num_layers} encoder and {cfg.num_decoder_layers} decoder layers, "
        f"vocabulary {cfg.vocab_size}, dropout 0, evaluation mode) decodes a batch of "
        f"{args.batch} random source sentences of {args.src_len} tokens greedily, with "
        "`model.encode` and `model.step` as chapter 3's `greedy_decode` calls them, every step "
        "forced (no early end at <eos>). Seconds are the median of "
        f"{args.repeats} runs after one warm-up run, the encoder included; cached and uncached "
        "runs alternate. The decoded tokens with and without the cache are identical at every "
        "length (asserted).",
        "",
        "| target tokens | cached (s) | uncached (s) | uncached / cached | same tokens |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for r in cache_rows:
        lines.append(f"| {r['tokens']} | {r['cached']:.3f} | {r['uncached']:.3f} | "
                     f"{r['uncached'] / r['cached']:.2f} | {'yes' if r['same'] else 'no'} |")
    lines += [
        "",
        f"Speed-up at 100 target tokens, measured in one run: **{at100['uncached'] / at100['cached']:.2f}x**.",
        "Without the cache, step t reruns the decoder over all t tokens so far, so its time grows "
        "faster than linearly with the length; with it, each step processes one new token and the "
        "time grows about linearly.",
        "",
        "## Attention memory against sequence length (chapter 5)",
        "",
        f"Forward + backward of `out.sum()` for inputs (B, h, T, d_head) = (1, {args.heads}, T, "
        f"{args.d_head}), float32: chapter 5's `scaled_dot_product_attention` (\"ours\", which "
        "builds the (B, h, T, T) scores and weights and keeps the weights for the backward pass) "
        "against `torch.nn.functional.scaled_dot_product_attention`. Peak memory: "
        f"{method}. The inputs themselves (allocated before) are not counted; the gradients of "
        "q, k and v are. \"(B, h, T, T)\" is the analytic size of one such float32 tensor, "
        "B h T² × 4 bytes. Times are the median of "
        f"{args.mem_repeats} calls of each, ours and PyTorch's alternating, measured without the "
        "profiler; at these sizes a call takes milliseconds, so the time ratios are more sensitive "
        "to other jobs on the machine than the decoding ratios.",
        "",
        "| T | (B, h, T, T) tensor (MiB) | peak ours (MiB) | peak F.sdpa (MiB) | ours / F.sdpa "
        "(memory) | ours (ms) | F.sdpa (ms) | ours / F.sdpa (time) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in mem_rows:
        ratio = (f"{r['ours_peak'] / r['torch_peak']:.1f}" if r["torch_peak"] > 0 else "n/a")
        lines.append(f"| {r['T']} | {r['weights_bytes'] / MiB:.1f} | {r['ours_peak'] / MiB:.1f} | "
                     f"{r['torch_peak'] / MiB:.2f} | {ratio} | {r['ours_time'] * 1e3:.1f} | "
                     f"{r['torch_time'] * 1e3:.1f} | {r['ours_time'] / r['torch_time']:.2f} |")
    lines += [
        "",
        "Ours peaks at about three (B, h, T, T) tensors (scores, weights, and their gradients "
        "in the backward pass), so its memory grows as T². `F.scaled_dot_product_attention` ran "
        "`" + "`, `".join(mem_rows[-1].get("torch_kernels", [])) + "` here (as the same profile "
        "records), a flash-attention kernel that works on blocks of keys and never holds the "
        "(T, T) weights, so its peak grows about linearly in T." if device.type == "cpu" else
        "Ours peaks at a few (B, h, T, T) tensors (scores, weights, and their gradients in the "
        "backward pass), so its memory grows as T²; PyTorch's fused kernels (which one runs "
        "depends on the GPU) do not materialise the weights.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5, help="decoding runs per entry")
    ap.add_argument("--mem-repeats", type=int, default=10, help="attention calls per timing")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--src-len", type=int, default=20)
    ap.add_argument("--vocab", type=int, default=40)
    ap.add_argument("--d-model", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--d-head", type=int, default=32)
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "transformer.md"),
                    help="Markdown file to write ('-': print it)")
    args = ap.parse_args()
    command = " ".join([".venv/bin/python", "benchmarks/transformer_bench.py", *sys.argv[1:]])
    device, generator = setup(seed=0)
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    t0 = time.perf_counter()
    cache_rows, cfg = bench_cache(device, generator, args)
    mem_rows = bench_memory(device, generator, args)
    args.load = (load_before, os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
    text = report(cache_rows, cfg, mem_rows, device, args, command, time.perf_counter() - t0)
    if args.report == "-":
        print(text)
    else:
        Path(args.report).write_text(text, encoding="utf-8")
        print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
