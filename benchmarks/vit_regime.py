"""Chapter 8's data-regime experiment: a small ViT against a small CNN of similar size, trained
on more and more Fashion-MNIST images, with and without augmentation.

    python benchmarks/vit_regime.py --jobs 2      # writes benchmarks/vit_regime.{json,md}
    python benchmarks/vit_regime.py --sizes 1000 --seeds 0 --updates 50 --report -   # a quick look

Controlled: for every training-set size (class-balanced subsets of the first 55,000 training
images, the same subset for both models and a given seed), both models get the same budget,
UPDATES updates of 128 images with AdamW (learning rate 1e-3, weight decay 0.05, 100 warm-up
updates, cosine decay), the same batches (seed s fixes the weights, the subset and the batch
order), and are scored on all 10,000 test images. Augmentation = random shifts of up to 2
pixels and left-right flips (chapter 8's `random_shift_flip`). Seeds 0, 1, 2.

The models are chapter 8's: ViT with 7x7 patches (16 tokens + CLS), d_model 64, 4 pre-LN
layers, 4 heads, d_ff 128 (139,018 parameters), and SmallCNN (119,722 parameters). Not a timed
benchmark: the record holds accuracies, which differ between processors only in the last digits.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from _records import command_line, provenance, run_cached, write_report  # noqa: E402
from attention_course.vit import (ImageTrainConfig, SmallCNN, ViT, ViTConfig,  # noqa: E402
                                  accuracy, num_parameters, train_classifier)
from train_vision import splits  # noqa: E402

SIZES = (1_000, 5_000, 55_000)
SEEDS = (0, 1, 2)
UPDATES = 1_000
VIT = ViTConfig(patch_size=7, d_model=64, num_heads=4, d_ff=128, num_layers=4)
MODELS = {"vit": "ViT (7x7 patches)", "cnn": "small CNN"}


def build(kind: str):
    return ViT(VIT) if kind == "vit" else SmallCNN()


def one_run(task) -> dict:
    kind, size, augment, seed, updates = task
    torch.set_num_threads(1)
    seeded = torch.Generator().manual_seed(seed)   # subset, batches, augmentation
    train, _, test = splits(size if size < 55_000 else None, seeded)
    torch.manual_seed(seed)
    model = build(kind)
    cfg = ImageTrainConfig(num_updates=updates, warmup=min(100, updates // 2),
                           augment=augment)
    start = time.process_time()
    losses, _ = train_classifier(model, *train, cfg, seeded)
    acc = accuracy(model, *test)
    return {"model": kind, "size": size, "augment": augment, "seed": seed,
            "test_accuracy": acc, "final_loss": sum(losses[-50:]) / len(losses[-50:]),
            "cpu_seconds": round(time.process_time() - start, 1)}


def summary(runs, kind, size, augment):
    accs = [r["test_accuracy"] for r in runs
            if (r["model"], r["size"], r["augment"]) == (kind, size, augment)]
    sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
    return statistics.mean(accs), sd, accs


def render(record: dict) -> str:
    lines = ["# ViT against a small CNN at several training-set sizes (chapter 8)", "",
             f"Measured {record['date']} on {record['hardware']}, torch {record['torch']}: "
             f"`{record['command']}` ({record['cpu_minutes']:.0f} CPU-minutes).", "",
             f"{record['updates']} updates of 128 images for every run; test accuracy on the "
             f"10,000 test images, mean ± standard deviation over seeds {record['seeds']}. "
             f"Parameters: ViT {record['params']['vit']:,}, CNN {record['params']['cnn']:,}.",
             "", "| training images | augmentation | ViT | CNN | CNN − ViT |",
             "|---:|---|---:|---:|---:|"]
    for size in record["sizes"]:
        for augment in (False, True):
            v, vs, _ = summary(record["runs"], "vit", size, augment)
            c, cs, _ = summary(record["runs"], "cnn", size, augment)
            lines.append(f"| {size:,} | {'shifts + flips' if augment else 'none'} | "
                         f"{v:.1%} ± {vs:.1%} | {c:.1%} ± {cs:.1%} | {100 * (c - v):.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    ap.add_argument("--seeds", type=int, nargs="+", default=SEEDS)
    ap.add_argument("--updates", type=int, default=UPDATES)
    ap.add_argument("--jobs", type=int, default=1, help="runs trained in parallel")
    ap.add_argument("--cache", type=Path, default=None,
                    help="a JSON-lines file of finished runs: reused, and appended to (lets "
                         "several processes share the work, e.g. one per --sizes)")
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "vit_regime.md"),
                    help="'-' prints the report and writes nothing")
    args = ap.parse_args(argv)
    tasks = {(kind, size, augment, seed): (kind, size, augment, seed, args.updates)
             for size in args.sizes for augment in (False, True) for seed in args.seeds
             for kind in MODELS}
    start = time.time()
    runs = run_cached(                     # one run per process, 1 thread each
        one_run, tasks, lambda r: (r["model"], r["size"], r["augment"], r["seed"]),
        cache=args.cache, workers=args.jobs, stamp={"updates": args.updates},
        log=lambda r: (f"{r['model']} {r['size']:>6} aug={r['augment']!s:5} seed "
                       f"{r['seed']}: {r['test_accuracy']:.4f} "
                       f"({r['cpu_seconds']} CPU-s)"))
    record = {**provenance(command_line("vit_regime.py"), per_run=True),
              "sizes": list(args.sizes),
              "seeds": list(args.seeds), "updates": args.updates, "batch_size": 128,
              "vit_config": asdict(VIT),
              "params": {k: num_parameters(build(k)) for k in MODELS},
              "cpu_minutes": sum(r["cpu_seconds"] for r in runs) / 60,
              "wall_minutes": (time.time() - start) / 60, "runs": runs}
    write_report(render(record), record, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
