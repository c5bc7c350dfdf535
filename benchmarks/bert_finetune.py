"""Chapter 7's fine-tuning experiment: when does pre-training pay?

    python benchmarks/bert_finetune.py --jobs 2    # writes bert_finetune.{json,md}
    python benchmarks/bert_finetune.py --sizes 64 --seeds 0 --updates 5 --eval 64 \
        --report -                                 # a quick look, nothing written

Two downstream tasks made from the corpus, with no new data:

  same_verse  sentence pair [CLS] A [SEP] B [SEP]: A is a verse in one translation,
              B the same verse in another (label 1) or, as a hard negative, the verse
              before or after it in the other translation (label 0). Shared names and
              topic do not give it away.
  testament   single sentence [CLS] A [SEP]: Old (0) or New (1) Testament.

Labelled training examples come from the training books (class-balanced subsets of
SIZES examples); every run is scored on the same EVAL balanced examples from the test
books, which pre-training never saw (not even unlabelled). Three ways to use chapter 7's
encoder, the same architecture in all three:

  probe      the pre-trained BERT frozen; its features (pooled [CLS] output and the
             mean of the last hidden states, concatenated) feed a logistic regression
  finetune   the pre-trained BERT and a new linear head on the pooled output, all
             trained
  scratch    the same model and head from a random initialisation, trained the same way

Controlled: finetune and scratch get the same budget (UPDATES updates of BATCH
examples, AdamW, 10% warm-up and linear decay, dropout 0.1) and, for a given seed, the
same labelled subset and batch order; the probe gets the same subset. Seeds 0, 1, 2.

Learning rates. Fine-tuning uses LR = 2e-4. BERT's authors recommend 2e-5 to 5e-5 for
fine-tuning their large models; ours is small and briefly pre-trained, and 2e-4 stays
as the chapter has it. A rate chosen for fine-tuning would handicap a random
initialisation, so scratch gets its own: for each task and size, seed 0 is trained at
every rate of SCRATCH_LRS (LR among them, so the old choice competes) and scored on DEV
balanced examples from the dev books (in neither training nor test); the best dev
accuracy wins (a tie goes to the smaller rate), and seeds 0, 1, 2 at that rate are
scored on the test examples. Only the chosen rate is ever scored on test: seed 0's
test score is the chosen sweep model's.

`--reuse OLD.json` takes the runs of an earlier record made with the same settings
instead of training them again (the new record says so); `--cache` keeps finished runs
so that an interrupted experiment resumes. Not a timed benchmark: the record holds
accuracies.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _records import command_line, provenance, run_cached, write_report  # noqa: E402
from attention_course.bert import (BertClassifier, BertForPreTraining,  # noqa: E402
                                   collate_pairs, load_pretrained, load_wordpiece,
                                   make_pair, sentence_features, single_input,
                                   wordpiece_tokenizer)
from attention_course.data import load_bible, split_of  # noqa: E402
from attention_course.runtime import CHECKPOINT_DIR  # noqa: E402

CHECKPOINT = CHECKPOINT_DIR / "ch7_bert_nsp.safetensors"
VOCAB = CHECKPOINT_DIR / "ch7_wordpiece.txt"
TASKS = ("same_verse", "testament")
METHODS = ("probe", "finetune", "scratch")
SIZES = (64, 512, 4096)
SEEDS = (0, 1, 2)
UPDATES = 120
LR = 2e-4                               # fine-tuning (and, before the sweep, scratch)
SCRATCH_LRS = (2e-4, 3e-4, 1e-3, 3e-3)  # scratch's candidates, LR first
BATCH = 16
EVAL = 1000
DEV = 500
MAX_LEN = 96
FIRST_NT_BOOK = 40                  # Matthew: verse ids >= 40_000_000 are New Testament
PAIR_CODES = ("kjv", "web")         # A from one, B from the other (order random)
TRAIN_SEED = 100                    # generator of the training books' examples
# generators of the held-out examples and of their balanced subset, per split
HELD_OUT = {"test": (200, 300), "dev": (210, 310)}


def examples(task: str, split: str,
             generator) -> list[tuple[str, str | None, int]]:
    """(A, B or None, label) for every verse of `split`'s books, classes balanced by
    sampling the larger class down."""
    if task == "testament":
        verses = load_bible("web")
        rows = [(t, None, int(v >= FIRST_NT_BOOK * 1_000_000))
                for v, t in verses.items() if split_of(v) == split and t.strip()]
    else:
        one, two = (load_bible(c) for c in PAIR_CODES)
        ids = [v for v in one if split_of(v) == split and v in two]
        rows = []
        for i, v in enumerate(ids):
            swap = bool(torch.rand((), generator=generator) < 0.5)
            first, other = (two, one) if swap else (one, two)
            if torch.rand((), generator=generator) < 0.5:
                rows.append((first[v], other[v], 1))
            else:                         # the verse before or after, same book
                step = 1 if torch.rand((), generator=generator) < 0.5 else -1
                j = i + step
                if not 0 <= j < len(ids) or ids[j] // 1_000_000 != v // 1_000_000:
                    j = i - step
                rows.append((first[v], other[ids[j]], 0))
    by_label = [[r for r in rows if r[2] == k] for k in (0, 1)]
    n = min(map(len, by_label))
    out = []
    for group in by_label:
        pick = torch.randperm(len(group), generator=generator)[:n].tolist()
        out += [group[i] for i in pick]
    return out


def subset(rows, size: int, generator):
    """A class-balanced subset of `size` rows, shuffled."""
    by_label = [[r for r in rows if r[2] == k] for k in (0, 1)]
    out = []
    for group in by_label:
        pick = torch.randperm(len(group), generator=generator)[:size // 2].tolist()
        out += [group[i] for i in pick]
    return [out[i] for i in torch.randperm(len(out), generator=generator).tolist()]


def encode(rows, tokenizer):
    """[(ids_a, ids_b or None, label)] with the chapter's WordPiece vocabulary."""
    a = [e.ids for e in tokenizer.encode_batch([r[0] for r in rows])]
    b = tokenizer.encode_batch([r[1] or "" for r in rows])
    return [(x, y.ids if r[1] is not None else None, r[2])
            for x, y, r in zip(a, b, rows)]


def batch(rows):
    """(input_ids, token_type_ids, mask, labels): pairs as [CLS] A [SEP] B [SEP],
    single sentences as [CLS] A [SEP] (segment 0)."""
    items = [make_pair(a, b, MAX_LEN) if b is not None else single_input(a, MAX_LEN)
             for a, b, _ in rows]
    return (*collate_pairs(items), torch.tensor([r[2] for r in rows]))


def features(bert, rows) -> torch.Tensor:
    """(N, 2D) frozen features of the chapter's sentence_features."""
    bert.eval()
    return torch.cat([sentence_features(bert, *batch(rows[i:i + 128])[:3])
                      for i in range(0, len(rows), 128)])


def probe(bert, train, test, seed: int) -> float:
    """Logistic regression on frozen, standardised features (full-batch AdamW)."""
    X, Y = features(bert, train), torch.tensor([r[2] for r in train])
    Xt, Yt = features(bert, test), torch.tensor([r[2] for r in test])
    mu, sd = X.mean(0), X.std(0) + 1e-6
    torch.manual_seed(seed)
    head = nn.Linear(X.shape[1], 2)
    opt = torch.optim.AdamW(head.parameters(), lr=1e-2, weight_decay=1e-2)
    for _ in range(300):
        loss = nn.functional.cross_entropy(head((X - mu) / sd), Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float((head((Xt - mu) / sd).argmax(-1) == Yt).float().mean())


def train(model, rows, updates: int, generator, lr: float = LR) -> list[float]:
    """`updates` updates of BATCH examples (reshuffled each pass) at peak rate `lr`,
    warm-up then linear decay."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup, losses, order = max(1, updates // 10), [], []
    model.train()
    for step in range(updates):
        if len(order) < BATCH:
            order += torch.randperm(len(rows), generator=generator).tolist()
        chunk, order = [rows[i] for i in order[:BATCH]], order[BATCH:]
        for group in opt.param_groups:
            group["lr"] = lr * min((step + 1) / warmup,
                                   (updates - step) / (updates - warmup))
        ids, types, mask, labels = batch(chunk)
        loss = nn.functional.cross_entropy(model(ids, types, mask), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def score(model, rows) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(rows), 128):
        ids, types, mask, labels = batch(rows[i:i + 128])
        correct += int((model(ids, types, mask).argmax(-1) == labels).sum())
    return correct / len(rows)


def labelled(task: str, size: int, seed: int, tokenizer):
    """Seed `seed`'s balanced subset of `size` examples from the training books."""
    rows = examples(task, "train", torch.Generator().manual_seed(TRAIN_SEED))
    return encode(subset(rows, size, torch.Generator().manual_seed(seed)), tokenizer)


def held_out(task: str, split: str, size: int, tokenizer):
    """The fixed balanced `size` examples of the dev or the test books: the same for
    every run, whatever its seed."""
    first, second = HELD_OUT[split]
    rows = examples(task, split, torch.Generator().manual_seed(first))
    return encode(subset(rows, size, torch.Generator().manual_seed(second)), tokenizer)


@dataclass(frozen=True)
class Job:
    task: str
    method: str              # one of METHODS, or "sweep": scratch's search for a rate
    size: int
    seed: int
    lrs: tuple[float, ...]   # the rate of a run; a sweep's candidates
    updates: int
    eval_size: int
    dev_size: int
    checkpoint: str


def key(run: dict) -> tuple:
    """What identifies a run in the cache and the record: a scratch run by its rate too,
    a sweep by its task, size and seed."""
    lr = run.get("lr") if run["method"] == "scratch" else None
    return run["task"], run["method"], run["size"], run["seed"], lr


def fresh(cfg, seed: int) -> BertClassifier:
    """Chapter 7's model and head with random weights: seed `seed`'s initialisation."""
    torch.manual_seed(seed)
    pretrained = BertForPreTraining(cfg)            # same shape as the checkpoint's
    torch.manual_seed(seed)
    return BertClassifier(pretrained.bert)


def sweep(job: Job, pretrained, tokenizer) -> dict:
    """Train seed job.seed from scratch at every rate of job.lrs, score each on the dev
    examples, and score only the best one (the first of equals) on the test examples."""
    train_rows = labelled(job.task, job.size, job.seed, tokenizer)
    dev_rows = held_out(job.task, "dev", job.dev_size, tokenizer)
    trials, best = [], None
    for lr in job.lrs:
        start = time.process_time()
        model = fresh(pretrained.cfg, job.seed)
        batches = torch.Generator().manual_seed(job.seed)
        train(model, train_rows, job.updates, batches, lr)
        acc = score(model, dev_rows)
        trials.append({"lr": lr, "dev_accuracy": acc,
                       "cpu_seconds": round(time.process_time() - start, 1)})
        if best is None or acc > best[0]:
            best = (acc, lr, model, time.process_time() - start)
    _, lr, model, cpu = best
    del train_rows, dev_rows
    test_rows = held_out(job.task, "test", job.eval_size, tokenizer)
    start = time.process_time()
    chosen = {"task": job.task, "method": "scratch", "size": job.size, "seed": job.seed,
              "lr": lr, "test_accuracy": score(model, test_rows),
              "cpu_seconds": round(cpu + time.process_time() - start, 1)}
    return {"task": job.task, "method": "sweep", "size": job.size, "seed": job.seed,
            "trials": trials, "chosen": chosen}


def one_run(job: Job) -> dict:
    """One run of the record (or one sweep) in this process, with one thread."""
    torch.set_num_threads(1)
    tokenizer = wordpiece_tokenizer(load_wordpiece(VOCAB))
    pretrained, _ = load_pretrained(job.checkpoint, VOCAB)
    if job.method == "sweep":
        return sweep(job, pretrained, tokenizer)
    train_rows = labelled(job.task, job.size, job.seed, tokenizer)
    test_rows = held_out(job.task, "test", job.eval_size, tokenizer)
    start = time.process_time()
    run = {"task": job.task, "method": job.method, "size": job.size, "seed": job.seed}
    if job.method == "probe":
        acc = probe(pretrained.bert, train_rows, test_rows, job.seed)
    else:
        if job.method == "scratch":
            model = fresh(pretrained.cfg, job.seed)
            run["lr"] = job.lrs[0]
        else:
            torch.manual_seed(job.seed)
            model = BertClassifier(pretrained.bert)
        train(model, train_rows, job.updates, torch.Generator().manual_seed(job.seed),
              job.lrs[0])
        acc = score(model, test_rows)
    return {**run, "test_accuracy": acc,
            "cpu_seconds": round(time.process_time() - start, 1)}


def log(run: dict) -> str:
    """A line per finished run (a sweep's shows every rate's dev accuracy)."""
    if run["method"] == "sweep":
        chosen = run["chosen"]
        trials = ", ".join(f"{t['lr']:g} {t['dev_accuracy']:.3f}"
                           for t in run["trials"])
        cpu = sum(t["cpu_seconds"] for t in run["trials"])
        return (f"{run['task']:10} sweep    {run['size']:>5} seed {run['seed']}: dev "
                f"{trials}; chosen {chosen['lr']:g}: test "
                f"{chosen['test_accuracy']:.3f} ({cpu:.0f} CPU-s)")
    return (f"{run['task']:10} {run['method']:8} {run['size']:>5} seed {run['seed']}: "
            f"{run['test_accuracy']:.3f} ({run['cpu_seconds']} CPU-s)")


def reusable(path: Path, updates: int, eval_size: int, checkpoint: str):
    """An earlier record's provenance and its runs {key: run}, if it was made with
    these settings (otherwise no runs). Scratch runs from before the sweep were at
    LR."""
    old = json.loads(path.read_text())
    if (old["updates"], old["eval"], old["checkpoint"]) != (updates, eval_size,
                                                            checkpoint):
        return None, {}
    runs = {}
    for run in old["runs"]:
        if run["method"] == "scratch" and "lr" not in run:     # the new runs' layout
            head = {k: run[k] for k in ("task", "method", "size", "seed")}
            run = {**head, "lr": old["lr"], **run}
        runs[key(run)] = run
    return {k: old[k] for k in ("date", "hardware", "torch", "command")}, runs


def summary(runs, task, method, size):
    accs = [r["test_accuracy"] for r in runs
            if (r["task"], r["method"], r["size"]) == (task, method, size)]
    return statistics.mean(accs), (statistics.stdev(accs) if len(accs) > 1 else 0.0)


def render(record: dict) -> str:
    r = record
    swept = "scratch_sweep" in record          # records from before the sweep have none
    lines = ["# Frozen features, fine-tuning and training from scratch (chapter 7)", ""]
    if swept:
        lines += [f"Measured {r['date']} on {r['hardware']}, torch {r['torch']}: "
                  f"`{r['command']}` ({r['cpu_minutes']:.0f} CPU-minutes for the runs "
                  "in the table; scratch's learning-rate sweep "
                  f"{r['sweep_cpu_minutes']:.0f} more, its seed-0 models at the chosen "
                  "rates being the table's).", ""]
        if "reused" in r:
            old = r["reused"]
            counts = [f"{n} {m}" for m, n in old["runs"].items()]
            counts = ", ".join(counts[:-1]) + " and " * (len(counts) > 1) + counts[-1]
            scratch = (f"; the scratch ones are at {r['lr']:g}, where the sweep chose "
                       "that rate" if "scratch" in old["runs"] else "")
            lines += [f"Not trained again: {counts} runs come from the record "
                      f"measured {old['date']} on {old['hardware']}, torch "
                      f"{old['torch']} (`{old['command']}`){scratch}.", ""]
        lines += [f"Pre-trained model: `{r['checkpoint']}`. Fine-tuning and scratch: "
                  f"{r['updates']} updates of {BATCH} examples, fine-tuning at "
                  f"learning rate {r['lr']:g}, scratch at its own rate (below); test "
                  f"accuracy on {r['eval']} balanced examples from the test books, "
                  f"mean ± standard deviation over seeds {r['seeds']}.", ""]
    else:
        lines += [f"Measured {r['date']} on {r['hardware']}, torch {r['torch']}: "
                  f"`{r['command']}` ({r['cpu_minutes']:.0f} CPU-minutes).", "",
                  f"Pre-trained model: `{r['checkpoint']}`. Fine-tuning and scratch: "
                  f"{r['updates']} updates of {BATCH} examples, learning rate {LR:g}; "
                  f"test accuracy on {r['eval']} balanced examples from the test "
                  f"books, mean ± standard deviation over seeds {r['seeds']}.", ""]
    lines += ["| task | labelled examples | probe | fine-tune | scratch |",
              "|---|---:|---:|---:|---:|"]
    for task in record["tasks"]:
        for size in record["sizes"]:
            cells = [f"{m:.1%} ± {s:.1%}" for m, s in
                     (summary(r["runs"], task, method, size) for method in METHODS)]
            lines.append(f"| {task} | {size:,} | " + " | ".join(cells) + " |")
    if swept:
        lrs = record["scratch_lrs"]
        chosen = {(c["task"], c["size"]): c["lr"] for c in record["scratch_lr_chosen"]}
        dev = {(t["task"], t["size"], t["lr"]): t["dev_accuracy"]
               for t in record["scratch_sweep"]}
        lines += ["", "Scratch's learning rate was chosen for each task and size on "
                  f"the dev accuracy of seed 0 ({r['dev_size']} balanced examples from "
                  "the dev books, in neither training nor test); only the chosen rate "
                  "(bold) was scored on test. Dev accuracy of seed 0 at each rate:", "",
                  "| task | labelled examples | " + " | ".join(f"{lr:g}" for lr in lrs)
                  + " | chosen |", "|---|---:|" + "---:|" * (len(lrs) + 1)]
        for task in record["tasks"]:
            for size in record["sizes"]:
                cells = [f"**{dev[task, size, lr]:.1%}**" if lr == chosen[task, size]
                         else f"{dev[task, size, lr]:.1%}" for lr in lrs]
                lines.append(f"| {task} | {size:,} | " + " | ".join(cells)
                             + f" | {chosen[task, size]:g} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS)
    ap.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    ap.add_argument("--seeds", type=int, nargs="+", default=SEEDS,
                    help="the first one is the seed of scratch's rate sweep")
    ap.add_argument("--updates", type=int, default=UPDATES)
    ap.add_argument("--eval", type=int, default=EVAL, help="test examples scored")
    ap.add_argument("--dev", type=int, default=DEV,
                    help="dev examples that choose scratch's learning rate")
    ap.add_argument("--scratch-lrs", type=float, nargs="+", default=SCRATCH_LRS)
    ap.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    ap.add_argument("--jobs", type=int, default=1,
                    help="runs in parallel, 1 thread each")
    ap.add_argument("--cache", type=Path, default=None,
                    help="a JSON-lines file of finished runs: reused and appended to")
    ap.add_argument("--reuse", type=Path, default=None,
                    help="an earlier record whose runs with the same settings are "
                         "taken instead of trained again "
                         "(e.g. benchmarks/bert_finetune.json)")
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "bert_finetune.md"),
                    help="'-' prints the report and writes nothing")
    args = ap.parse_args(argv)
    if not args.checkpoint.exists():
        ap.error(f"{args.checkpoint} is missing: run `make train-ch7` first")
    pairs = [(task, size) for task in args.tasks for size in args.sizes]
    lrs = tuple(args.scratch_lrs)
    sweep_seed = args.seeds[0]

    def job(task, method, size, seed, rates):
        return Job(task, method, size, seed, tuple(rates), args.updates, args.eval,
                   args.dev, str(args.checkpoint))

    def jobs_of(method, rate):
        return {(task, method, size, seed, rate): job(task, method, size, seed, [LR])
                for task, size in pairs for seed in args.seeds}

    old, found = (reusable(args.reuse, args.updates, args.eval, args.checkpoint.name)
                  if args.reuse else (None, {}))
    # seed 0's scratch run is always the sweep's model at the chosen rate
    found = {k: r for k, r in found.items() if k[1:4:2] != ("scratch", sweep_seed)}
    stamp = {"updates": args.updates, "eval": args.eval, "dev": args.dev}
    cached = dict(cache=args.cache, workers=args.jobs, stamp=stamp, log=log)
    start = time.time()
    # first the pre-trained runs and the sweeps (independent of each other), ...
    first = {**jobs_of("probe", None), **jobs_of("finetune", None),
             **{(task, "sweep", size, sweep_seed, None): job(task, "sweep", size,
                                                             sweep_seed, lrs)
                for task, size in pairs}}
    done = dict(zip(first, run_cached(one_run, first, key, found=found, **cached)))
    sweeps = {(task, size): done[task, "sweep", size, sweep_seed, None]
              for task, size in pairs}
    chosen = {pair: s["chosen"]["lr"] for pair, s in sweeps.items()}
    # ... then scratch's other seeds at the rate its sweep chose
    second = {(task, "scratch", size, seed, chosen[task, size]):
              job(task, "scratch", size, seed, [chosen[task, size]])
              for task, size in pairs for seed in args.seeds if seed != sweep_seed}
    done.update(zip(second, run_cached(one_run, second, key, found=found, **cached)))
    for s in sweeps.values():
        done[key(s["chosen"])] = s["chosen"]
    order = [(task, method, size, seed,
              chosen[task, size] if method == "scratch" else None)
             for task, size in pairs for seed in args.seeds for method in METHODS]
    runs = [done[k] for k in order]
    reused = [done[k] for k in order if k in found]          # found wins over the cache
    trials = [{"task": task, "size": size, **t} for (task, size), s in sweeps.items()
              for t in s["trials"]]
    record = {**provenance(command_line("bert_finetune.py"), per_run=True),
              "checkpoint": args.checkpoint.name, "tasks": list(args.tasks),
              "methods": list(METHODS), "sizes": list(args.sizes),
              "seeds": list(args.seeds), "updates": args.updates, "lr": LR,
              "batch_size": BATCH, "eval": args.eval, "dev_size": args.dev,
              "scratch_lrs": list(lrs),
              "cpu_minutes": sum(r["cpu_seconds"] for r in runs) / 60,
              "sweep_cpu_minutes": sum(t["cpu_seconds"] for t in trials) / 60,
              "wall_minutes": (time.time() - start) / 60,
              "scratch_sweep": trials,
              "scratch_lr_chosen": [{"task": task, "size": size, "lr": lr}
                                    for (task, size), lr in chosen.items()]}
    if reused:
        counts = {m: sum(r["method"] == m for r in reused) for m in METHODS}
        record["reused"] = {**old, "runs": {m: n for m, n in counts.items() if n}}
    record["runs"] = runs
    write_report(render(record), record, args.report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
