"""Chapter 7's fine-tuning experiment: when does pre-training pay?

    python benchmarks/bert_finetune.py --jobs 2        # writes benchmarks/bert_finetune.{json,md}
    python benchmarks/bert_finetune.py --sizes 64 --seeds 0 --updates 5 --eval 64 --report -

Two downstream tasks made from the corpus, with no new data:

  same_verse  sentence pair [CLS] A [SEP] B [SEP]: A is a verse in one translation, B the same
              verse in another (label 1) or, as a hard negative, the verse before or after it
              in the other translation (label 0). Shared names and topic do not give it away.
  testament   single sentence [CLS] A [SEP]: Old (0) or New (1) Testament.

Labelled training examples come from the training books (class-balanced subsets of SIZES
examples); every run is scored on the same EVAL balanced examples from the test books, which
pre-training never saw (not even unlabelled). Three ways to use chapter 7's encoder, the
same architecture in all three:

  probe      the pre-trained BERT frozen; its features (pooled [CLS] output and the mean of
             the last hidden states, concatenated) feed a logistic regression
  finetune   the pre-trained BERT and a new linear head on the pooled output, all trained
  scratch    the same model and head from a random initialisation, trained the same way

Controlled: finetune and scratch get the same budget (UPDATES updates of BATCH examples, AdamW,
learning rate LR with 10% warm-up and linear decay, dropout 0.1) and, for a given seed, the
same labelled subset and batch order; the probe gets the same subset. Seeds 0, 1, 2. Not a
timed benchmark: the record holds accuracies.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attention_course.bert import (BertClassifier, BertForPreTraining,  # noqa: E402
                                   collate_pairs, load_pretrained, load_wordpiece,
                                   make_pair, sentence_features, single_input,
                                   wordpiece_tokenizer)
from attention_course.data import load_bible, split_of  # noqa: E402
from attention_course.runtime import CHECKPOINT_DIR, cpu_name  # noqa: E402

CHECKPOINT = CHECKPOINT_DIR / "ch7_bert_nsp.safetensors"
VOCAB = CHECKPOINT_DIR / "ch7_wordpiece.txt"
TASKS = ("same_verse", "testament")
METHODS = ("probe", "finetune", "scratch")
SIZES = (64, 512, 4096)
SEEDS = (0, 1, 2)
UPDATES = 120
LR = 2e-4
BATCH = 16
EVAL = 1000
MAX_LEN = 96
FIRST_NT_BOOK = 40                      # Matthew: verse ids >= 40_000_000 are New Testament
PAIR_CODES = ("kjv", "web")             # A from one, B from the other (order random)


def examples(task: str, split: str, generator) -> list[tuple[str, str | None, int]]:
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
            else:                                  # the verse before or after, same book
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
    return [(x, y.ids if r[1] is not None else None, r[2]) for x, y, r in zip(a, b, rows)]


def batch(rows):
    """(input_ids, token_type_ids, mask, labels): pairs as [CLS] A [SEP] B [SEP], single
    sentences as [CLS] A [SEP] (segment 0)."""
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


def train(model, rows, updates: int, generator) -> list[float]:
    """UPDATES updates of BATCH examples (reshuffled each pass), warm-up then linear decay."""
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    warmup, losses, order = max(1, updates // 10), [], []
    model.train()
    for step in range(updates):
        if len(order) < BATCH:
            order += torch.randperm(len(rows), generator=generator).tolist()
        chunk, order = [rows[i] for i in order[:BATCH]], order[BATCH:]
        for group in opt.param_groups:
            group["lr"] = LR * min((step + 1) / warmup, (updates - step) / (updates - warmup))
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


def data(task: str, size: int, seed: int, eval_size: int, tokenizer):
    train_rows = examples(task, "train", torch.Generator().manual_seed(100))
    test_rows = examples(task, "test", torch.Generator().manual_seed(200))
    test_rows = subset(test_rows, eval_size, torch.Generator().manual_seed(300))
    chosen = subset(train_rows, size, torch.Generator().manual_seed(seed))
    return encode(chosen, tokenizer), encode(test_rows, tokenizer)


def one_run(job) -> dict:
    task, method, size, seed, updates, eval_size, checkpoint = job
    torch.set_num_threads(1)
    tokenizer = wordpiece_tokenizer(load_wordpiece(VOCAB))
    train_rows, test_rows = data(task, size, seed, eval_size, tokenizer)
    pretrained, _ = load_pretrained(checkpoint, VOCAB)
    start = time.process_time()
    if method == "probe":
        acc = probe(pretrained.bert, train_rows, test_rows, seed)
    else:
        if method == "scratch":
            torch.manual_seed(seed)
            pretrained = BertForPreTraining(pretrained.cfg)     # same shape, random weights
        torch.manual_seed(seed)
        model = BertClassifier(pretrained.bert)
        train(model, train_rows, updates, torch.Generator().manual_seed(seed))
        acc = score(model, test_rows)
    return {"task": task, "method": method, "size": size, "seed": seed,
            "test_accuracy": acc, "cpu_seconds": round(time.process_time() - start, 1)}


def summary(runs, task, method, size):
    accs = [r["test_accuracy"] for r in runs
            if (r["task"], r["method"], r["size"]) == (task, method, size)]
    return statistics.mean(accs), (statistics.stdev(accs) if len(accs) > 1 else 0.0)


def render(record: dict) -> str:
    lines = ["# Frozen features, fine-tuning and training from scratch (chapter 7)", "",
             f"Measured {record['date']} on {record['hardware']}, torch {record['torch']}: "
             f"`{record['command']}` ({record['cpu_minutes']:.0f} CPU-minutes).", "",
             f"Pre-trained model: `{record['checkpoint']}`. Fine-tuning and scratch: "
             f"{record['updates']} updates of {BATCH} examples, learning rate {LR:g}; "
             f"test accuracy on {record['eval']} balanced examples from the test books, "
             f"mean ± standard deviation over seeds {record['seeds']}.", "",
             "| task | labelled examples | probe | fine-tune | scratch |",
             "|---|---:|---:|---:|---:|"]
    for task in record["tasks"]:
        for size in record["sizes"]:
            cells = [f"{m:.1%} ± {s:.1%}" for m, s in
                     (summary(record["runs"], task, method, size) for method in METHODS)]
            lines.append(f"| {task} | {size:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=TASKS, choices=TASKS)
    ap.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    ap.add_argument("--seeds", type=int, nargs="+", default=SEEDS)
    ap.add_argument("--updates", type=int, default=UPDATES)
    ap.add_argument("--eval", type=int, default=EVAL, help="test examples scored")
    ap.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    ap.add_argument("--jobs", type=int, default=1, help="runs in parallel, 1 thread each")
    ap.add_argument("--cache", type=Path, default=None,
                    help="a JSON-lines file of finished runs: reused and appended to")
    ap.add_argument("--report", default=str(ROOT / "benchmarks" / "bert_finetune.md"),
                    help="'-' prints the report and writes nothing")
    args = ap.parse_args(argv)
    if not args.checkpoint.exists():
        ap.error(f"{args.checkpoint} is missing: run `make train-ch7` first")
    jobs = [(task, method, size, seed, args.updates, args.eval, str(args.checkpoint))
            for task in args.tasks for size in args.sizes for seed in args.seeds
            for method in METHODS]
    key = lambda r: (r["task"], r["method"], r["size"], r["seed"])  # noqa: E731
    cached = {}
    if args.cache and args.cache.exists():
        for line in args.cache.read_text().splitlines():
            r = json.loads(line)
            if r.get("updates") == args.updates and r.get("eval") == args.eval:
                cached[key(r)] = r
    runs = [cached[j[:4]] for j in jobs if j[:4] in cached]
    todo = [j for j in jobs if j[:4] not in cached]
    start = time.time()
    with ProcessPoolExecutor(args.jobs) as pool:
        for r in pool.map(one_run, todo):
            runs.append(r)
            if args.cache:
                with args.cache.open("a") as f:
                    f.write(json.dumps({**r, "updates": args.updates, "eval": args.eval}) + "\n")
            print(f"{r['task']:10} {r['method']:8} {r['size']:>5} seed {r['seed']}: "
                  f"{r['test_accuracy']:.3f} ({r['cpu_seconds']} CPU-s)", flush=True)
    order = [j[:4] for j in jobs]
    record = {"date": dt.date.today().isoformat(), "hardware": f"{cpu_name()}, 1 thread per run",
              "torch": torch.__version__,
              "command": " ".join(["python benchmarks/bert_finetune.py"] + sys.argv[1:]),
              "checkpoint": args.checkpoint.name, "tasks": list(args.tasks),
              "methods": list(METHODS), "sizes": list(args.sizes), "seeds": list(args.seeds),
              "updates": args.updates, "lr": LR, "batch_size": BATCH, "eval": args.eval,
              "cpu_minutes": sum(r["cpu_seconds"] for r in runs) / 60,
              "wall_minutes": (time.time() - start) / 60,
              "runs": sorted(({k: v for k, v in r.items() if k not in ("updates", "eval")}
                              for r in runs), key=lambda r: order.index(key(r)))}
    report = render(record)
    if args.report == "-":
        print(report)
        return 0
    Path(args.report).write_text(report)
    Path(args.report).with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {args.report} and its .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
