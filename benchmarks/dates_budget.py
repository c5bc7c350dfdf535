"""Chapter 4's controlled comparison on dates: fixed vector against attention, and Luong's scores.

    python benchmarks/dates_budget.py                  # writes benchmarks/dates_budget.{json,md}
    python benchmarks/dates_budget.py --seeds 1 --updates 300 --report -   # a quick look

Every model is trained with the recipe of chapters 3 and 4: the same 20,000 dates, character
tokenizer, batches of 64 random pairs, chapter 1's `fit` (Adam, learning rate 0.003, gradient
norm clipped at 1), embeddings of 32 and GRUs of 128 units, no dropout. Seed s fixes both the
initial weights and the order of the batches, so two models with the same seed see the same
batches.

1. Chapter 3's `Seq2Seq` (one fixed vector c) and chapter 4's `AttentionSeq2Seq` (additive
   score) are trained for `--updates` updates (default 600, twice the chapters' 300;
   the CPU budget of this record allowed no more),
   logging the training loss every 25 updates and the exact match on the 1,000 test dates at
   the updates in EVAL_AT. The exact match at 300 updates is the chapters' number, measured
   inside the longer run: batches come from their own generator and nothing is random in
   greedy decoding, so stopping there would give the same model.
2. Luong's dot and general scores in the same attention decoder, trained for the chapters'
   300 updates; the additive score's row is the run of part 1 at 300 updates.

Not a timed benchmark: the numbers are losses and accuracies, the same on any machine up to
floating-point differences between CPUs. Chapter 4 reads the JSON record.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _records import provenance, write_report  # noqa: E402
from attention_course.attention import AttentionSeq2Seq, MultiplicativeAttention  # noqa: E402
from attention_course.runtime import setup  # noqa: E402
from attention_course.seq2seq import (  # noqa: E402
    Seq2Seq, Seq2SeqConfig, random_batches, translate, translation_loss)
from attention_course.train import TrainConfig, fit  # noqa: E402
from attention_course.translation import CharTokenizer, encode_pairs, make_dates  # noqa: E402

CHAPTER_UPDATES = 300                                  # chapters 3 and 4
RECIPE = dict(train_dates=20_000, train_seed=1, test_dates=1_000, test_seed=2, batch_size=64,
              embed_size=32, hidden_size=128, dropout=0.0, lr=3e-3, max_norm=1.0, log_every=25)
EVAL_AT = (100, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000, 3000)
MODELS = {"fixed": "seq2seq, fixed c (ch. 3)", "additive": "seq2seq + attention (ch. 4)"}
SCORES = ("dot", "general", "additive")


class SummedDirectionsDot(MultiplicativeAttention):
    """Luong's parameter-free dot score for a decoder state s (H) and annotations h_j (2H):
    score = s^T (forward h_j + backward h_j), the two directions summed to size H."""

    def __init__(self, hidden_size: int):
        super().__init__(hidden_size, hidden_size, kind="dot")

    def precompute_keys(self, keys):
        forward, backward = keys.chunk(2, dim=-1)                          # (B, S, H) each
        return forward + backward                                          # (B, S, H)


def build(kind: str, vocab_size: int):
    cfg = Seq2SeqConfig(vocab_size=vocab_size, embed_size=RECIPE["embed_size"],
                        hidden_size=RECIPE["hidden_size"], dropout=RECIPE["dropout"])
    if kind == "fixed":
        return Seq2Seq(cfg)
    model = AttentionSeq2Seq(cfg, score="general" if kind == "dot" else kind)
    if kind == "dot":  # the decoder always passes precomputed keys (keys_projected=True)
        model.decoder.attention = SummedDirectionsDot(cfg.hidden_size)
    return model


def exact_match(model, test, chars) -> float:
    hyps = translate(model, [s for s, _ in test], chars, chars, max_len=12)
    return sum(h == t for h, (_, t) in zip(hyps, test)) / len(test)


def run(kind: str, seed: int, updates: int, chars, train_ids, test, device) -> dict:
    """Train one model; return its loss curve [(update, loss)] and {update: exact match}."""
    torch.manual_seed(seed)
    model = build(kind, chars.vocab_size).to(device)
    batches = random_batches(train_ids, batch_size=RECIPE["batch_size"],
                             generator=torch.Generator().manual_seed(seed))
    exact = {}

    def on_log(step, _loss):
        if step in EVAL_AT:
            exact[str(step)] = exact_match(model, test, chars)

    train = TrainConfig(num_updates=updates, lr=RECIPE["lr"], max_norm=RECIPE["max_norm"],
                        log_every=RECIPE["log_every"])
    t0 = time.perf_counter()
    history = fit(model, batches, train, loss_fn=translation_loss, device=device, on_log=on_log)
    return dict(loss=[[s, round(l, 5)] for s, l in history], exact=exact,
                seconds=round(time.perf_counter() - t0, 1))


def one_task(task: tuple[str, int, int]) -> dict:
    """One training run, (kind, seed, updates), in its own process with one thread."""
    kind, seed, updates = task
    device, _ = setup(seed=0, threads=1)
    train = make_dates(RECIPE["train_dates"], seed=RECIPE["train_seed"])
    test = make_dates(RECIPE["test_dates"], seed=RECIPE["test_seed"])
    chars = CharTokenizer([s for s, _ in train] + [t for _, t in train])
    cpu0 = time.process_time()
    r = run(kind, seed, updates, chars, encode_pairs(train, chars, chars), test, device)
    r["cpu_seconds"] = time.process_time() - cpu0
    print(f"seed {seed} {kind}: {r['seconds']:.0f} s, exact "
          + ", ".join(f"{s}: {a:.1%}" for s, a in r["exact"].items()), flush=True)
    return r


def mean_std(xs) -> str:
    return f"{statistics.mean(xs):.1%} ± {statistics.stdev(xs) if len(xs) > 1 else 0:.1%}"


def render(record: dict) -> str:
    runs, luong = record["runs"], record["luong"]
    steps = [s for s in map(str, EVAL_AT) if all(s in r["exact"] for r in runs["fixed"])]
    lines = ["# Dates: fixed vector against attention, and Luong's scores (chapter 4)", "",
             f"Measured {record['date']} on {record['hardware']}, torch {record['torch']}: "
             f"`{record['command']}` ({record['cpu_minutes']:.0f} CPU-minutes).", "",
             f"Recipe of chapters 3 and 4: {record['recipe']['train_dates']:,} training dates, "
             f"batches of {record['recipe']['batch_size']}, Adam at {record['recipe']['lr']}, "
             f"E={record['recipe']['embed_size']}, H={record['recipe']['hidden_size']}. "
             f"Exact match on the same {record['recipe']['test_dates']:,} test dates (greedy), "
             f"mean ± standard deviation over seeds {record['seeds']}.", "",
             "| updates | " + " | ".join(MODELS[k] for k in runs) + " |",
             "|---:|" + "---:|" * len(runs)]
    for s in steps:
        lines.append(f"| {s} | " + " | ".join(
            mean_std([r["exact"][s] for r in runs[k]]) for k in runs) + " |")
    lines += ["", "Per seed, exact match at " + ", ".join(steps) + " updates:", ""]
    for k in runs:
        for seed, r in zip(record["seeds"], runs[k]):
            lines.append(f"- {MODELS[k]}, seed {seed}: "
                         + " / ".join(f"{r['exact'][s]:.1%}" for s in steps))
    lines += ["", f"Luong's scores in the same decoder, {record['chapter_updates']} updates:", "",
              "| score | exact match | per seed |", "|---|---:|---|"]
    for score in SCORES:
        lines.append(f"| {score} | {mean_std(luong[score])} | "
                     + " / ".join(f"{a:.1%}" for a in luong[score]) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=1, help="runs trained in parallel")
    ap.add_argument("--updates", type=int, default=600,
                    help="updates for the fixed-vector and attention runs")
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "dates_budget.md"),
                    help="markdown report path, or - to print it and write nothing")
    args = ap.parse_args(argv)
    assert args.updates >= CHAPTER_UPDATES
    seeds = range(args.seeds)
    tasks = ([(kind, seed, args.updates) for kind in MODELS for seed in seeds]
             + [(score, seed, CHAPTER_UPDATES) for score in ("dot", "general") for seed in seeds])
    with ProcessPoolExecutor(args.jobs) as pool:   # one run per process, 1 thread each
        done = dict(zip(tasks, pool.map(one_task, tasks)))
    cpu_seconds = sum(r.pop("cpu_seconds") for r in done.values())
    runs = {kind: [done[kind, seed, args.updates] for seed in seeds] for kind in MODELS}
    luong = {score: [done[score, seed, CHAPTER_UPDATES]["exact"][str(CHAPTER_UPDATES)]
                     for seed in seeds] for score in ("dot", "general")}
    luong["additive"] = [r["exact"][str(CHAPTER_UPDATES)] for r in runs["additive"]]
    command = "python benchmarks/dates_budget.py"
    if args.jobs != 1:
        command += f" --jobs {args.jobs}"
    if args.seeds != 3 or args.updates != 600:
        command += f" --seeds {args.seeds} --updates {args.updates}"
    record = dict(**provenance(command, per_run=True),
                  cpu_minutes=round(cpu_seconds / 60, 1),
                  recipe=RECIPE, chapter_updates=CHAPTER_UPDATES, updates=args.updates,
                  seeds=list(range(args.seeds)), models=MODELS, runs=runs, luong=luong)
    write_report(render(record), record, args.report, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
