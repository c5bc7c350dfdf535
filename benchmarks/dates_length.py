"""Chapter 6's length-generalisation check: the dates task with the source pushed to the right.

    python benchmarks/dates_length.py                   # writes benchmarks/dates_length.{json,md}
    python benchmarks/dates_length.py --seeds 1 --report -    # a quick look, nothing written

Chapter 4's GRU with attention and chapter 6's Transformer are trained exactly as in the
chapters (the same 20,000 dates, character tokenizer, batches of 64 random pairs, 300 updates of
chapter 1's `fit` at a learning rate of 0.003, the same sizes), once per seed. Each is then
asked to convert the same 1,000 test dates with k spaces put in front of the source, for several
k. The date is unchanged; only where it sits, and how long the input is, change. With k = 40 the
input is longer than any training source, so the Transformer meets positions (sinusoids) it was
never trained on, and the GRU reads more steps of input than it ever did.

Not a timed benchmark: the numbers are accuracies and do not depend on the machine (up to
floating-point differences between CPUs). Chapter 6 reads the JSON record.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _records import provenance, write_report  # noqa: E402
from attention_course.attention import AttentionSeq2Seq  # noqa: E402
from attention_course.runtime import setup  # noqa: E402
from attention_course.seq2seq import Seq2SeqConfig, random_batches, translate, translation_loss  # noqa: E402
from attention_course.train import TrainConfig, fit  # noqa: E402
from attention_course.transformer import Transformer, TransformerConfig  # noqa: E402
from attention_course.translation import CharTokenizer, encode_pairs, make_dates  # noqa: E402

SHIFTS = (0, 10, 20, 40)
TRAIN = TrainConfig(num_updates=300, lr=3e-3, log_every=25)     # chapters 4 and 6


def build(kind: str, vocab_size: int):
    if kind == "gru":      # chapter 4's dates model
        return AttentionSeq2Seq(Seq2SeqConfig(vocab_size=vocab_size, embed_size=32,
                                              hidden_size=128, dropout=0.0))
    # chapter 6's dates model; max_len only sizes the table of sinusoids
    return Transformer(TransformerConfig(vocab_size=vocab_size, d_model=64, num_heads=4,
                                         d_ff=128, num_layers=2, dropout=0.0, max_len=128))


def run(kind: str, seed: int, chars, train_ids, test, device) -> dict[int, float]:
    """Train one model; return {shift: exact-match rate on the shifted test dates}."""
    torch.manual_seed(seed)
    model = build(kind, chars.vocab_size).to(device)
    batches = random_batches(train_ids, batch_size=64,
                             generator=torch.Generator().manual_seed(seed))
    fit(model, batches, TRAIN, loss_fn=translation_loss, device=device)
    out = {}
    for k in SHIFTS:
        hyps = translate(model, [" " * k + s for s, _ in test], chars, chars, max_len=12)
        out[k] = sum(h == t for h, (_, t) in zip(hyps, test)) / len(test)
    return out


def render(record: dict) -> str:
    lines = ["# Dates with the source shifted right (chapter 6)", "",
             f"Measured {record['date']} on {record['hardware']}, torch {record['torch']}: "
             "`python benchmarks/dates_length.py`.", "",
             f"Exact match on the same {record['test_dates']} test dates with k spaces in front of "
             f"the source; training sources are {record['train_source_chars'][0]} to "
             f"{record['train_source_chars'][1]} characters long. Mean ± standard deviation over "
             f"seeds {record['seeds']}; each model trained {TRAIN.num_updates} updates as in its "
             "chapter.", "",
             "| k | longest shifted source | " + " | ".join(record["models"]) + " |",
             "|---|---|" + "---|" * len(record["models"])]
    for k in SHIFTS:
        cells = []
        for name in record["models"]:
            acc = record["results"][name][str(k)]
            cells.append(f"{statistics.mean(acc):.1%} ± {statistics.stdev(acc) if len(acc) > 1 else 0:.1%}")
        lines.append(f"| {k} | {record['test_source_chars'] + k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "dates_length.md"),
                    help="markdown report path, or - to print it and write nothing")
    args = ap.parse_args(argv)
    device, _ = setup(seed=0, threads=1)
    train, test = make_dates(20_000, seed=1), make_dates(1_000, seed=2)
    chars = CharTokenizer([s for s, _ in train] + [t for _, t in train])
    train_ids = encode_pairs(train, chars, chars)
    names = {"gru": "GRU + attention (ch. 4)", "transformer": "Transformer (ch. 6)"}
    results = {names[kind]: {str(k): [] for k in SHIFTS} for kind in names}
    for seed in range(args.seeds):
        for kind in names:
            for k, acc in run(kind, seed, chars, train_ids, test, device).items():
                results[names[kind]][str(k)].append(acc)
            print(f"seed {seed} {kind}: " + ", ".join(
                f"k={k} {results[names[kind]][str(k)][-1]:.1%}" for k in SHIFTS), flush=True)
    record = dict(**provenance(), seeds=list(range(args.seeds)), shifts=list(SHIFTS),
                  test_dates=len(test), models=list(results), results=results,
                  train_source_chars=[min(len(s) for s, _ in train), max(len(s) for s, _ in train)],
                  test_source_chars=max(len(s) for s, _ in test))
    write_report(render(record), record, args.report, indent=2, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
