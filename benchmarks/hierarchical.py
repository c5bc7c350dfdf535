"""Chapter 11's records: classifying Bible passages by genre, and whether attention
explains the classifications.

    python benchmarks/hierarchical.py --part genre --jobs 2    # ch11_genre.*
    python benchmarks/hierarchical.py --part planted --jobs 2  # ch11_planted.*

genre: the hierarchical attention network against three baselines at the same budget
(the same passages, epochs, batches and optimiser): logistic regression on a bag of
words, a flat bidirectional GRU with attention over the whole passage, and the
hierarchy with mean pooling instead of attention; three seeds; the epoch kept is the
best on dev; accuracy on the held-out test chapters in the training translation (WEB)
and in the three translations never seen in training. Then, for the two hierarchies,
faithfulness on the WEB test passages: the drop in the true class's probability when
the most-attended verse, a random verse or the verse with the largest gradient x input
is erased, and the change of the output when the verse attention is shuffled or made
uniform at test time (Jain and Wallace 2019).
planted: the two hierarchies trained on planted passages (one verse of another genre
inserted, the label being its genre); how often the verse attention's peak is the
planted verse, against chance; the same erasures, and erasing the planted verse.

Each run uses one thread; --jobs runs several at once. Times are process CPU seconds.
Scores are computed from the weights rounded to float16, as the checkpoints hold them.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from _records import ROOT, command_line, provenance, run_cached, write_report

from attention_course.documents import TRANSLATIONS, make_passages, make_planted
from attention_course.hierarchical import (DocTrainConfig, HANConfig, WordVocab,
                                           accuracy, build_classifier,
                                           encode_passages, gradient_input,
                                           peak_accuracy, predict, random_real_verse,
                                           replaced_attention, save_classifier,
                                           total_variation, train_classifier,
                                           true_class_drop)

CHECKPOINTS = ROOT / "checkpoints"
SEEDS = (0, 1, 2)
MODELS = {"bow": ("bow", "attention"), "flat": ("flat", "attention"),
          "han_mean": ("han", "mean"), "han": ("han", "attention")}
PARTS = {"genre": ("bow", "flat", "han_mean", "han"), "planted": ("han_mean", "han")}
TRAIN_TRANSLATION = "web"
PLANT_SEED = 0        # one planted data set for every model and seed


def passages(part: str, split: str, translation: str = TRAIN_TRANSLATION):
    if part == "planted":
        return make_planted(split, seed=PLANT_SEED, translation=translation)
    return make_passages(split, translation)


def as_stored(model):
    """Weights rounded to float16 and back, as the checkpoint holds them."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model.eval()


def faithfulness(model, data, seed: int) -> dict:
    """Erasure of the top-attended, a random and the top gradient x input verse; the
    attention shuffled or made uniform. Means over the passages."""
    g = torch.Generator().manual_seed(1_000 + seed)
    base = predict(model, data)
    pred = base.probs.argmax(-1)
    chosen = {"random": random_real_verse(data.verse_mask, g),
              "gradient": gradient_input(model, data).argmax(-1)}
    if model.cfg.pooling == "attention":
        chosen["attention"] = base.verse_weights.masked_fill(
            ~data.verse_mask, -1.0).argmax(-1)
    if (data.planted >= 0).all():
        chosen["planted"] = data.planted
        gradient_hits = (chosen["gradient"] == data.planted).float().mean().item()
    out = {"erase": {}, "replace": {}}
    if "planted" in chosen:
        out["gradient_peak"] = gradient_hits
    for name, which in chosen.items():
        drop = true_class_drop(model, data, which)
        out["erase"][name] = {"drop": drop.mean().item(),
                              "drop_sd": drop.std().item()}
    # agreement of the two attributions' choices of verse
    out["gradient_is_attention"] = (
        (chosen["gradient"] == chosen["attention"]).float().mean().item()
        if "attention" in chosen else None)
    if model.cfg.pooling == "attention":
        for how in ("shuffle", "uniform"):
            w = replaced_attention(base.verse_weights, data.verse_mask, how, g)
            new = predict(model, data, verse_weights=w)
            out["replace"][how] = {
                "tvd": total_variation(base.probs, new.probs).mean().item(),
                "changed": (new.probs.argmax(-1) != pred).float().mean().item(),
                "accuracy": accuracy(new.probs, data.labels)}
    return out


def run_one(job: dict) -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(job["seed"])
    generator = torch.Generator().manual_seed(job["seed"])
    part, (kind, pooling) = job["part"], MODELS[job["model"]]
    train_passages = passages(part, "train")
    vocab = WordVocab(train_passages)
    train = encode_passages(train_passages, vocab)
    dev = encode_passages(passages(part, "dev"), vocab)
    model = build_classifier(kind, HANConfig(len(vocab), pooling=pooling))
    cfg = DocTrainConfig(epochs=job["epochs"])
    start = time.process_time()
    history = train_classifier(model, train, dev, cfg, generator)
    seconds = time.process_time() - start
    model = as_stored(model)
    if job["save"] and job["seed"] == 0 and job["model"] == "han":
        save_classifier(CHECKPOINTS / f"ch11_{part}.safetensors", model, kind,
                        epochs=job["epochs"], part=part)
    run = dict(job, params=sum(p.numel() for p in model.parameters()),
               cpu_seconds=round(seconds, 1), history=history,
               best_epoch=max(history, key=lambda h: h["dev_accuracy"])["epoch"])
    translations = [TRAIN_TRANSLATION] + sorted(set(TRANSLATIONS) - {TRAIN_TRANSLATION})
    run["test"] = {}
    for code in translations if part == "genre" else [TRAIN_TRANSLATION]:
        data = encode_passages(passages(part, "test", code), vocab)
        p = predict(model, data)
        run["test"][code] = {"accuracy": accuracy(p.probs, data.labels),
                             "unknown_words": vocab.unknown_share(
                                 passages(part, "test", code))}
    test = encode_passages(passages(part, "test"), vocab)
    if kind == "han":
        run["faithfulness"] = faithfulness(model, test, job["seed"])
        if part == "planted" and pooling == "attention":
            p = predict(model, test)
            hits, chance = peak_accuracy(p.verse_weights, test.verse_mask,
                                         test.planted)
            run["peak"] = {"accuracy": hits, "chance": chance}
    run.pop("save")
    return run


def mean_sd(xs) -> tuple[float, float]:
    xs = list(xs)
    return statistics.mean(xs), statistics.stdev(xs) if len(xs) > 1 else 0.0


def fmt(xs, pct=True) -> str:
    m, s = mean_sd(xs)
    return f"{100 * m:.1f} ± {100 * s:.1f}" if pct else f"{m:.3f} ± {s:.3f}"


def report(part: str, record: dict) -> str:
    runs = record["runs"]
    by = {}
    for r in runs:
        by.setdefault(r["model"], []).append(r)
    lines = [f"# Chapter 11, {part}: {record['date']}, {record['hardware']}",
             "", f"`{record['command']}`, torch {record['torch']}, seeds "
             f"{record['seeds']}, {record['epochs']} epochs (best dev epoch kept).", ""]
    codes = list(runs[0]["test"])
    lines += ["| model | params | CPU s | " + " | ".join(
        f"test {c} %" for c in codes) + " |",
        "|---|---|---|" + "---|" * len(codes)]
    for name, rs in by.items():
        lines.append(f"| {name} | {rs[0]['params']:,} | "
                     f"{statistics.mean(r['cpu_seconds'] for r in rs):.0f} | "
                     + " | ".join(fmt(r["test"][c]["accuracy"] for r in rs)
                                  for c in codes) + " |")
    lines += ["", "Faithfulness on the WEB test passages (mean ± sd over seeds): drop "
              "in the true class's probability when one verse is erased, in "
              "percentage points.", ""]
    for name, rs in by.items():
        if "faithfulness" not in rs[0]:
            continue
        f0 = rs[0]["faithfulness"]
        cells = [f"{k}: {fmt(r['faithfulness']['erase'][k]['drop'] for r in rs)}"
                 for k in f0["erase"]]
        lines.append(f"- {name}: " + "; ".join(cells))
        for how in f0["replace"]:
            lines.append(f"  - attention {how}: total variation "
                         f"{fmt((r['faithfulness']['replace'][how]['tvd'] for r in rs), False)}"  # noqa: E501
                         f", decisions changed "
                         f"{fmt(r['faithfulness']['replace'][how]['changed'] for r in rs)}"  # noqa: E501
                         " %")
        if "peak" in rs[0]:
            lines.append(f"  - attention peak on the planted verse: "
                         f"{fmt(r['peak']['accuracy'] for r in rs)} % (chance "
                         f"{100 * rs[0]['peak']['chance']:.1f} %)")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", required=True, choices=tuple(PARTS))
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--epochs", type=int, default=DocTrainConfig().epochs)
    ap.add_argument("--jobs", type=int, default=1, help="runs trained in parallel")
    ap.add_argument("--cache", type=Path, default=None,
                    help="JSON-lines file of finished runs (resume, parallel)")
    ap.add_argument("--report", default=None,
                    help="markdown report path (default benchmarks/ch11_PART.md), or - "
                         "to print it and write nothing (and save no checkpoint)")
    args = ap.parse_args(argv)
    part = args.part
    path = args.report or str(ROOT / "benchmarks" / f"ch11_{part}.md")
    save_ok = path != "-" and args.epochs == DocTrainConfig().epochs
    jobs = {(m, s): {"part": part, "model": m, "seed": s, "epochs": args.epochs,
                     "save": save_ok}
            for s in args.seeds for m in PARTS[part]}
    # the slow models first, so that two workers finish together
    jobs = dict(sorted(jobs.items(), key=lambda kv: kv[0][0] == "bow"))
    runs = run_cached(run_one, jobs, key=lambda r: (r["model"], r["seed"]),
                      cache=args.cache, workers=args.jobs,
                      stamp={"part_": part, "epochs_": args.epochs},
                      log=lambda r: f"{part} {r['model']} seed {r['seed']}: test "
                                    f"{r['test']['web']['accuracy']:.3f} "
                                    f"({r['cpu_seconds']} s)")
    runs.sort(key=lambda r: (list(MODELS).index(r["model"]), r["seed"]))
    for r in runs:        # mean pooling has no peak (early caches recorded its argmax)
        if MODELS[r["model"]][1] != "attention":
            r.pop("peak", None)
    record = dict(**provenance(command_line("hierarchical.py", argv), per_run=True),
                  seeds=args.seeds, epochs=args.epochs, runs=runs)
    write_report(report(part, record), record, path, indent=1, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
