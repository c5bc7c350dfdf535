"""Chapter 4's analogue of Bahdanau et al.'s Figure 2: accuracy against input length, with and
without attention, on digit reversal.

    python benchmarks/bottleneck.py                 # writes benchmarks/bottleneck.{json,md}
    python benchmarks/bottleneck.py --seeds 1 --updates 100 --report -   # a quick look, nothing written

Chapter 3's fixed-vector encoder-decoder (`Seq2Seq`) and chapter 4's `AttentionSeq2Seq` get the
same task, data, sizes and budget: reverse a string of random digits, trained on strings of
2 to TRAIN_MAX digits (uniform), with the chapters' recipe (embeddings of 16, GRUs of 128, Adam at
0.003, batches of 64 random pairs) for the same number of updates, once per seed. Each model is
then scored on 100 fresh strings of every length from 2 to TEST_MAX digits, so the lengths above
TRAIN_MAX were never seen in training. Nothing can be guessed from context: every digit has to
get through the encoder to the decoder, which is what makes this a clean test of the bottleneck.

Scores: exact match (the whole string right) and digit accuracy (position by position; an output
of the wrong length counts against its longer side, as in chapter 3). Not a timed benchmark: the
numbers do not depend on the machine beyond floating-point differences between CPUs.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _records import provenance, write_report  # noqa: E402
from attention_course.attention import AttentionSeq2Seq  # noqa: E402
from attention_course.seq2seq import Seq2Seq, Seq2SeqConfig, random_batches, translate, translation_loss  # noqa: E402
from attention_course.train import TrainConfig, fit  # noqa: E402
from attention_course.translation import CharTokenizer, encode_pairs  # noqa: E402

TRAIN_MAX, TEST_MAX = 12, 20
TRAIN_STRINGS, TEST_PER_LENGTH = 20_000, 100
MODELS = {"fixed vector (ch. 3)": Seq2Seq, "attention (ch. 4)": AttentionSeq2Seq}


def reversals(n: int, rng: random.Random, min_len: int, max_len: int) -> list[tuple[str, str]]:
    strings = ["".join(rng.choice("0123456789") for _ in range(rng.randint(min_len, max_len)))
               for _ in range(n)]
    return [(s, s[::-1]) for s in strings]


def digit_accuracy(hyp: str, ref: str) -> float:
    # position by position; a wrong length counts against the longer of the two (chapter 3)
    return sum(a == b for a, b in zip(hyp, ref)) / max(len(hyp), len(ref))


def run(name: str, seed: int, updates: int, digits, train_ids, test, device) -> dict:
    torch.manual_seed(seed)
    config = Seq2SeqConfig(vocab_size=digits.vocab_size, embed_size=16, hidden_size=128,
                           dropout=0.0)
    model = MODELS[name](config).to(device)
    batches = random_batches(train_ids, batch_size=64,
                             generator=torch.Generator().manual_seed(seed))
    t0 = time.process_time()
    history = fit(model, batches, TrainConfig(num_updates=updates, lr=3e-3, log_every=50),
                  loss_fn=translation_loss, device=device)
    cpu_s = time.process_time() - t0
    hyps = translate(model, [s for s, _ in test], digits, digits, max_len=TEST_MAX + 2)
    exact, acc = {}, {}
    for n in range(2, TEST_MAX + 1):
        rows = [(h, t) for h, (s, t) in zip(hyps, test) if len(s) == n]
        exact[n] = sum(h == t for h, t in rows) / len(rows)
        acc[n] = sum(digit_accuracy(h, t) for h, t in rows) / len(rows)
    return {"loss": history, "exact": exact, "digit_accuracy": acc, "cpu_seconds": cpu_s}


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def render(record: dict) -> str:
    seeds = record["seeds"]
    lines = [
        "# The bottleneck, measured: digit reversal by length",
        "",
        f"Measured {record['date']} on {record['hardware']}, torch {record['torch']}.",
        "",
        f"Command: `{record['command']}`, {record['cpu_minutes']:.1f} CPU-minutes in all. "
        "Chapter 4 reads `bottleneck.json`.",
        "",
        f"Both models trained on {TRAIN_STRINGS:,} strings of 2 to {record['train_max']} digits, "
        f"{record['updates']} updates of 64 pairs, seeds {seeds}; tested on "
        f"{TEST_PER_LENGTH} fresh strings per length. Exact match, mean ± standard deviation "
        "over seeds (lengths above the training maximum were never seen in training):",
        "",
        "| digits | " + " | ".join(record["models"]) + " |",
        "| ---: | " + " | ".join("---:" for _ in record["models"]) + " |",
    ]
    for n in range(2, record["test_max"] + 1):
        cells = []
        for name in record["models"]:
            m, s = summary([r["exact"][str(n)] for r in record["results"][name]])
            cells.append(f"{m:.1%} ± {s:.1%}")
        mark = " (unseen)" if n > record["train_max"] else ""
        lines.append(f"| {n}{mark} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--updates", type=int, default=2000)
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "bottleneck.md"),
                    help="Markdown report path, or - for standard output (then no JSON)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    device = torch.device("cpu")
    digits = CharTokenizer("0123456789")
    train = reversals(TRAIN_STRINGS, random.Random(1), 2, TRAIN_MAX)
    train_ids = encode_pairs(train, digits, digits)
    rng = random.Random(2)
    test = [p for n in range(2, TEST_MAX + 1) for p in reversals(TEST_PER_LENGTH, rng, n, n)]
    seeds = list(range(args.seeds))
    results = {name: [] for name in MODELS}
    for seed in seeds:
        for name in MODELS:
            out = run(name, seed, args.updates, digits, train_ids, test, device)
            results[name].append(out)
            print(f"seed {seed} {name}: exact@2-{TRAIN_MAX} "
                  f"{statistics.mean(out['exact'][n] for n in range(2, TRAIN_MAX + 1)):.3f}, "
                  f"final loss {out['loss'][-1][1]:.3f}, {out['cpu_seconds']:.0f} CPU-s", flush=True)
    record = {
        **provenance("python benchmarks/bottleneck.py" + (
            f" --seeds {args.seeds}" if args.seeds != 3 else "") + (
            f" --updates {args.updates}" if args.updates != 2000 else "")),
        "seeds": seeds, "updates": args.updates, "batch_size": 64, "lr": 3e-3,
        "embed_size": 16, "hidden_size": 128,
        "train_strings": TRAIN_STRINGS, "train_max": TRAIN_MAX, "test_max": TEST_MAX,
        "test_per_length": TEST_PER_LENGTH, "models": list(MODELS),
        "cpu_minutes": sum(r["cpu_seconds"] for rs in results.values() for r in rs) / 60,
        "results": {name: [{k: ({str(n): v for n, v in r[k].items()} if isinstance(r[k], dict)
                                else r[k]) for k in r} for r in rs]
                    for name, rs in results.items()},
    }
    write_report(render(record), record, args.report)


if __name__ == "__main__":
    main()
