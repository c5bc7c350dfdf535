"""Chapter 2's recall task ("remember the first symbol") over several seeds, with a forget-bias
ablation.

    python benchmarks/recall_seeds.py                  # writes benchmarks/recall_seeds.{json,md}
    python benchmarks/recall_seeds.py --seeds 1 --lengths 8 --report -   # a quick look

Every model is trained exactly as in chapter 2: chapter 1's `CharLM` (16 symbols, embeddings
of 16, 32 hidden units) around `torch.nn.RNN`, `LSTM` or `GRU`, 200 updates of chapter 1's
`fit` (Adam, learning rate 0.01, clipping at 1) on batches of 64 sequences whose length is
drawn anew for every update, uniformly between 2 and T. Seed k sets the initial weights
(`torch.manual_seed(k)`) and the stream of batches (`torch.Generator().manual_seed(k)`), so
seed 0 is the chapter's own run. The two LSTMs of a seed differ only in the forget-gate bias
b_if + b_hf, set to 0 or to 1 by chapter 2's `init_forget_bias_`: the same initial weights
otherwise, the same batches, the same budget. Accuracy is measured on the chapter's fixed
1,000 test sequences of length exactly T, after 50, 100, 150 and 200 updates.

Not a timed benchmark: the numbers are accuracies and do not depend on the machine (up to
floating-point differences between CPUs). Chapter 2 reads the JSON record.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _records import provenance, write_report  # noqa: E402
from attention_course.gated import init_forget_bias_  # noqa: E402
from attention_course.lm import CharLM  # noqa: E402
from attention_course.runtime import setup  # noqa: E402
from attention_course.train import TrainConfig, fit  # noqa: E402

MODELS = ("RNN", "LSTM, forget bias 0", "LSTM, forget bias 1", "GRU")
LENGTHS = (8, 16, 32, 64, 128)
TRAIN = TrainConfig(num_updates=200, lr=1e-2, max_norm=1.0, log_every=50)   # chapter 2


@dataclass
class RecallConfig:                      # chapter 2's
    num_symbols: int = 8                 # message symbols: chance accuracy is 1/8
    num_noise: int = 8                   # noise symbols, ids 8 ... 15
    embed_size: int = 16
    hidden_size: int = 32
    batch_size: int = 64


CFG = RecallConfig()


def recall_batch(batch_size, num_steps, generator):
    """X (B, T): a message symbol, then T - 1 noise symbols; y (B,): the message symbol."""
    first = torch.randint(0, CFG.num_symbols, (batch_size, 1), generator=generator)  # (B, 1)
    noise = torch.randint(CFG.num_symbols, CFG.num_symbols + CFG.num_noise,
                          (batch_size, num_steps - 1), generator=generator)       # (B, T - 1)
    return torch.cat([first, noise], dim=1), first.squeeze(1)                    # (B, T), (B,)


def recall_loss(model, X, y):
    logits, _ = model(X)                                  # (B, T, V)
    return F.cross_entropy(logits[:, -1], y)              # only the last step is scored


@torch.no_grad()
def recall_accuracy(model, num_steps, num_samples=1000, seed=1234):
    """Accuracy on the chapter's fixed test set of num_samples sequences of length num_steps."""
    X, y = recall_batch(num_samples, num_steps, torch.Generator().manual_seed(seed))
    model.eval()
    logits, _ = model(X)
    return (logits[:, -1].argmax(dim=-1) == y).float().mean().item()


def build(name: str):
    kind = name.split(",")[0]
    recurrent = getattr(nn, kind)(CFG.embed_size, CFG.hidden_size, batch_first=True)
    if kind == "LSTM":
        init_forget_bias_(recurrent, float(name[-1]))
    return CharLM(CFG.num_symbols + CFG.num_noise, CFG.embed_size, recurrent)


def run(name: str, T: int, seed: int) -> list[float]:
    """Train one model as in chapter 2; return its test accuracy after every logged update."""
    torch.manual_seed(seed)                    # the initial weights
    data = torch.Generator().manual_seed(seed)  # the batches

    def get_batch():
        num_steps = int(torch.randint(2, T + 1, (1,), generator=data))  # a new length per update
        return recall_batch(CFG.batch_size, num_steps, data)

    model = build(name)
    curve = []
    fit(model, get_batch, TRAIN, loss_fn=recall_loss,
        on_log=lambda step, loss: curve.append(recall_accuracy(model, T)))
    return curve


def render(record: dict) -> str:
    steps = record["steps"]
    lines = ["# Remember the first symbol: seeds and forget bias (chapter 2)", "",
             f"Measured {record['date']} on {record['hardware']}, torch {record['torch']}, "
             f"{record['cpu_seconds']:.0f} CPU seconds: `python benchmarks/recall_seeds.py`.", "",
             f"Accuracy on the same {record['test_sequences']} test sequences of length T "
             f"(chance: {1 / CFG.num_symbols:.3f}) after {steps[-1]} updates, mean ± standard "
             f"deviation over seeds {record['seeds']} (seed 0 is the chapter's run). Every "
             "model of a seed starts from the same seed and sees the same batches.", "",
             "| T | " + " | ".join(record["models"]) + " |",
             "|---|" + "---|" * len(record["models"])]

    def cell(accs):
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        return f"{statistics.mean(accs):.3f} ± {sd:.3f}"

    for T in record["lengths"]:
        lines.append(f"| {T} | " + " | ".join(
            cell([c[-1] for c in record["results"][name][str(T)]]) for name in record["models"])
            + " |")
    lines += ["", "The same, after fewer updates (the learning speed):", "",
              "| T | updates | " + " | ".join(record["models"]) + " |",
              "|---|---|" + "---|" * len(record["models"])]
    for T in record["lengths"]:
        for i, step in enumerate(steps[:-1]):
            lines.append(f"| {T} | {step} | " + " | ".join(
                cell([c[i] for c in record["results"][name][str(T)]])
                for name in record["models"]) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--lengths", type=int, nargs="+", default=list(LENGTHS))
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "recall_seeds.md"),
                    help="markdown report path, or - to print it and write nothing")
    args = ap.parse_args(argv)
    setup(seed=0, threads=1)
    start = time.process_time()
    results = {name: {str(T): [] for T in args.lengths} for name in MODELS}
    for seed in range(args.seeds):
        for T in args.lengths:
            for name in MODELS:
                results[name][str(T)].append(run(name, T, seed))
            print(f"seed {seed} T={T}: " + ", ".join(
                f"{name} {results[name][str(T)][-1][-1]:.3f}" for name in MODELS), flush=True)
    record = dict(**provenance(), cpu_seconds=round(time.process_time() - start, 1),
                  seeds=list(range(args.seeds)), lengths=list(args.lengths),
                  steps=list(range(TRAIN.log_every, TRAIN.num_updates + 1, TRAIN.log_every)),
                  test_sequences=1000, models=list(MODELS), results=results)
    write_report(render(record), record, args.report, indent=2, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
