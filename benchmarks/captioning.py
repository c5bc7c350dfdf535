"""Chapter 10's records: captioning Fashion-MNIST scenes with and without attention.

    python benchmarks/captioning.py --part attention --jobs 2  # ch10_attention.*
    python benchmarks/captioning.py --part hard --jobs 2       # ch10_hard.*
    python benchmarks/captioning.py --part transfer --jobs 2   # ch10_transfer.*

attention: Show and Tell (no attention) against Show, Attend and Tell (soft attention)
with and without the doubly stochastic penalty, on chapter 8's frozen CNN, three seeds,
the same training scenes, updates and batches; dev exact match every EVAL_EVERY
updates; test captions scored by number of items; the pointing game against a uniform
peak. Saves the seed-0 Show and Tell and soft-attention checkpoints.
hard: hard attention trained with REINFORCE and a moving-average baseline against soft
attention at the same budget, and the variance of its gradient estimate with and
without the baseline.
transfer: the soft-attention captioner with chapter 8's CNN frozen, fine-tuned or
trained from scratch, at two training-set sizes.

Each run uses one thread; --jobs runs several at once. Times are process CPU seconds.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

from _records import ROOT, command_line, provenance, run_cached, write_report

from attention_course.captioning import (CaptionConfig, CaptionTrainConfig,
                                         CaptionVocab, build_captioner,
                                         caption_loss, caption_scenes,
                                         caption_scores, location_centres,
                                         pointing_game, save_captioner,
                                         train_captioner)
from attention_course.scenes import make_scenes
from attention_course.vit import load_classifier

CHECKPOINTS = ROOT / "checkpoints"
CNN = CHECKPOINTS / "ch8_cnn.safetensors"
SEEDS = (0, 1, 2)
TRAIN_SCENES = 10_000
DEV_SCENES, TEST_SCENES = 300, 1_000
EVAL_EVERY = 250
UPDATES = {"attention": 1500, "hard": 1500, "transfer": 400}
TRANSFER_SIZES = (1_000, 10_000)
TRANSFER_BATCH = 16
VARIANCE_DRAWS = 32


def scenes(split: str, n: int):
    return make_scenes(n, split, seed=0)


def cpu() -> float:
    return time.process_time()


def annotations_file(n: int, folder: Path) -> Path:
    """The frozen encoder's annotation vectors of the first n training scenes, computed
    once and shared by every run that keeps the encoder frozen."""
    path = folder / f"annotations_{n}.pt"
    if not path.exists():
        torch.set_num_threads(1)
        model = build_captioner(CaptionConfig(len(CaptionVocab())),
                                load_classifier(CNN)).eval()
        images = scenes("train", n).images
        with torch.no_grad():
            a = torch.cat([model.encoder(images[i:i + 500])
                           for i in range(0, n, 500)])
        torch.save(a, path)
    return path


def as_stored(model):
    """Weights rounded to float16 and back, as the checkpoint holds them."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model.eval()


def train_one(job: dict):
    """Train one captioner; return (model, run record with its dev curve)."""
    torch.set_num_threads(1)
    torch.manual_seed(job["seed"])
    generator = torch.Generator().manual_seed(job["seed"])
    vocab = CaptionVocab()
    cfg = CaptionConfig(len(vocab), attention=job["attention"], image_pool=job["pool"])
    cnn = None if job["encoder"] == "scratch" else load_classifier(CNN)
    model = build_captioner(cfg, cnn)
    train = scenes("train", job["train_scenes"])
    dev = scenes("dev", DEV_SCENES)
    tcfg = CaptionTrainConfig(num_updates=job["updates"], batch_size=job["batch"],
                              encoder=job["encoder"], lam=job["lam"],
                              eval_every=EVAL_EVERY)
    annotations = (torch.load(job["annotations"]) if job.get("annotations")
                   else None)

    def dev_exact(m):
        return caption_scores(caption_scenes(m, dev.images, vocab)[0], dev)["exact"]

    start = cpu()
    losses, curve = train_captioner(model, train, vocab, tcfg, generator, dev_exact,
                                    annotations=annotations)
    seconds = cpu() - start
    run = {k: v for k, v in job.items() if k != "annotations"}
    run.update(params=sum(p.numel() for n, p in model.named_parameters()
                          if not n.startswith("encoder.")),
               cpu_seconds=round(seconds, 1), curve=curve,
               final_loss=sum(losses[-100:]) / 100)
    return as_stored(model), run


def score(model, run: dict, test) -> dict:
    """Greedy test captions scored, and the pointing game when the model attends."""
    vocab = CaptionVocab()
    captions, maps = caption_scenes(model, test.images, vocab)
    run["test"] = caption_scores(captions, test)
    run["dev"] = caption_scores(caption_scenes(model, scenes("dev", DEV_SCENES).images,
                                               vocab)[0], scenes("dev", DEV_SCENES))
    if maps[0] is not None:
        grid = round(model.cfg.num_locations ** 0.5)
        run["pointing"] = pointing_game(captions, maps, test, location_centres(grid))
        coverage = torch.stack([m.sum(0) for m in maps])               # (N, L)
        run["coverage_std"] = coverage.std(dim=1).mean().item()
    run["examples"] = captions[:8]
    return run


def run_attention(job: dict) -> dict:
    model, run = train_one(job)
    test = scenes("test", TEST_SCENES)
    if job["save"] and job["seed"] == 0 and job["lam"] in (0.0, None) and job["pool"] == 1:
        save_captioner(CHECKPOINTS / f"ch10_{job['attention']}.safetensors", model,
                       updates=job["updates"])
    return score(model, run, test)


def gradient_variance(model, job: dict, baseline: float) -> dict:
    """The REINFORCE estimate of the attention's gradient, drawn VARIANCE_DRAWS times
    on one batch (new locations each time): its total variance across draws with the
    trained moving-average baseline and with none, and its mean's norm."""
    vocab = CaptionVocab()
    batch = scenes("train", 64)
    tgt_in, tgt_out = vocab.batch(batch.captions)
    generator = torch.Generator().manual_seed(1234)
    cfg = CaptionTrainConfig(lam=job["lam"])
    params = [p for n, p in model.named_parameters() if n.startswith("attn.")]
    out = {}
    for name, b in (("baseline", baseline), ("no_baseline", 0.0)):
        grads = []
        model.train()
        model.encoder.eval()
        for _ in range(VARIANCE_DRAWS):
            loss, _ = caption_loss(model, batch.images, tgt_in, tgt_out, cfg, b,
                                   generator)
            g = torch.autograd.grad(loss, params)
            grads.append(torch.cat([x.flatten() for x in g]))
        G = torch.stack(grads)                                  # (draws, P)
        out[name] = {"variance": G.var(dim=0).sum().item(),
                     "mean_norm": G.mean(0).norm().item()}
    model.eval()
    return out


def run_hard(job: dict) -> dict:
    model, run = train_one(job)
    if job["attention"] == "hard":
        run["gradient"] = gradient_variance(model, job, model.reinforce_baseline)
    return score(model, run, scenes("test", TEST_SCENES))


def run_transfer(job: dict) -> dict:
    model, run = train_one(job)
    return score(model, run, scenes("test", TEST_SCENES))


def mean_std(xs):
    xs = torch.tensor([float(x) for x in xs])
    return xs.mean().item(), (xs.std().item() if len(xs) > 1 else 0.0)


def fmt(xs, pct=True):
    m, s = mean_std(xs)
    return f"{100 * m:.1f} ± {100 * s:.1f}%" if pct else f"{m:.2f} ± {s:.2f}"


def label(run: dict) -> str:
    if run["attention"] == "none":
        return f"Show and Tell (pool {run['pool']})"
    name = "soft" if run["attention"] == "soft" else "hard"
    return f"{name} attention, lambda {run['lam']:g}"


def report(part: str, record: dict) -> str:
    runs = record["runs"]
    lines = [f"# Chapter 10: {part}", "",
             f"`{record['command']}` on {record['hardware']}, torch "
             f"{record['torch']}, {record['date']}. Mean ± standard deviation over seeds "
             f"{record['seeds']}; test = {TEST_SCENES} test scenes (seed 0), greedy "
             "decoding.", ""]
    groups: dict = {}
    for r in runs:
        key = (r["encoder"], r["train_scenes"], label(r))
        groups.setdefault(key, []).append(r)
    lines += ["| model | encoder | train scenes | decoder params | dev exact | test exact "
              "| 2 items | 3 items | 4 items | item F1 | BLEU | pointing (uniform) "
              "| CPU s |", "|" + " --- |" * 13]
    for (enc, n, name), rs in groups.items():
        t = [r["test"] for r in rs]
        by = [fmt([x["by_items"][k]["exact"] for x in t]) for k in ("2", "3", "4")]
        point = "–"
        if "pointing" in rs[0]:
            point = (fmt([r["pointing"]["hits"] for r in rs]) + " ("
                     + fmt([r["pointing"]["uniform"] for r in rs]) + ")")
        lines.append(
            f"| {name} | {enc} | {n:,} | {rs[0]['params']:,} | "
            f"{fmt([r['dev']['exact'] for r in rs])} | {fmt([x['exact'] for x in t])} | "
            + " | ".join(by) + f" | {fmt([x['item_f1'] for x in t])} | "
            f"{fmt([x['bleu'] / 100 for x in t])} | {point} | "
            f"{mean_std([r['cpu_seconds'] for r in rs])[0]:.0f} |")
    hard = [r for r in runs if "gradient" in r]
    if hard:
        lines += ["", "REINFORCE estimate of the attention's gradient, "
                  f"{VARIANCE_DRAWS} draws on one batch of 64 training scenes:", "",
                  "| seed | variance with baseline | without | mean-gradient norm |",
                  "| --- | --- | --- | --- |"]
        for r in hard:
            g = r["gradient"]
            lines.append(f"| {r['seed']} | {g['baseline']['variance']:.4g} | "
                         f"{g['no_baseline']['variance']:.4g} | "
                         f"{g['baseline']['mean_norm']:.4g} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", required=True, choices=("attention", "hard", "transfer"))
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--updates", type=int, default=None)
    ap.add_argument("--jobs", type=int, default=1, help="runs trained in parallel")
    ap.add_argument("--cache", type=Path, default=None,
                    help="JSON-lines file of finished runs (resume, parallel)")
    ap.add_argument("--report", default=None,
                    help="markdown report path (default benchmarks/ch10_PART.md), or - "
                         "to print it and write nothing (and save no checkpoint)")
    args = ap.parse_args(argv)
    part = args.part
    updates = args.updates or UPDATES[part]
    path = args.report or str(ROOT / "benchmarks" / f"ch10_{part}.md")
    save_ok = path != "-" and args.updates is None
    with tempfile.TemporaryDirectory() as tmp:
        base = {"updates": updates, "save": save_ok, "batch": 64,
                "train_scenes": TRAIN_SCENES, "encoder": "frozen", "pool": 1}
        if part == "attention":
            models = [("soft", 0.0, 1), ("soft", 1.0, 1), ("none", None, 1),
                      ("none", None, 2)]
            fn = run_attention
        elif part == "hard":
            models, fn = [("hard", 0.0, 1)], run_hard
        else:
            models, fn = [], run_transfer
        jobs = {}
        for s in args.seeds:
            for att, lam, pool in models:
                job = dict(base, attention=att, lam=lam, pool=pool, seed=s)
                jobs[(att, lam, pool, "frozen", TRAIN_SCENES, s)] = job
            if part == "transfer":
                for n in TRANSFER_SIZES:
                    for enc in ("frozen", "finetune", "scratch"):
                        job = dict(base, attention="soft", lam=0.0, seed=s,
                                   encoder=enc, train_scenes=n, batch=TRANSFER_BATCH)
                        jobs[("soft", 0.0, 1, enc, n, s)] = job
        for job in jobs.values():        # frozen runs share one pass of the encoder
            if job["encoder"] == "frozen":
                job["annotations"] = str(annotations_file(job["train_scenes"],
                                                          Path(tmp)))
        key = lambda r: (r["attention"], r["lam"], r["pool"], r["encoder"],  # noqa
                         r["train_scenes"], r["seed"])
        runs = run_cached(fn, jobs, key=key, cache=args.cache, workers=args.jobs,
                          stamp={"part": part, "updates_": updates},
                          log=lambda r: f"{part} {label(r)} {r['encoder']} "
                                        f"{r['train_scenes']} seed {r['seed']}: "
                                        f"test exact {r['test']['exact']:.3f}")
    record = dict(**provenance(command_line("captioning.py", argv), per_run=True),
                  seeds=args.seeds, updates=updates, test_scenes=TEST_SCENES,
                  dev_scenes=DEV_SCENES, runs=[{k: v for k, v in r.items()
                                                if k != "save"} for r in runs])
    write_report(report(part, record), record, path, indent=1, echo=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
