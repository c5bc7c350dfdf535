"""Pre-train chapter 7's BERT (or ALBERT) on verse pairs of the Bible's training books.

    python tools/train_bert.py                                   # make train-ch7: BERT, MLM + NSP
    python tools/train_bert.py --arch albert                     # ALBERT, MLM + SOP
    python tools/train_bert.py --objective sop --minutes 60      # BERT with SOP, one hour
    python tools/train_bert.py --layers 1 --d-model 32 --d-ff 64 --steps 20 --no-record  # smoke

Pairs are two consecutive verses of one book of the training split (the dev and test books
are held out), from all four translations, tokenized with the committed WordPiece vocabulary
(checkpoints/ch7_wordpiece.txt). NSP: B is the next verse or a random verse (label 0 = B
follows A, Hugging Face's convention); SOP: the two verses in order or swapped (0 = in order).
MLM masks 15% of the ordinary tokens with the 80/10/10 rule; a new masking and new random
pairs every epoch. Every --eval-every updates (and at the end) the model is scored on a fixed
set of dev pairs (fixed masks): MLM accuracy and perplexity on the masked tokens, and the
pair head's accuracy on three dev sets whatever it was trained on: NSP with random negatives,
NSP with negatives from the same book, SOP (ALBERT's argument: NSP is partly topic
detection). The run stops after --steps updates or --minutes of training, whichever comes
first; the learning rate warms up linearly, then decays linearly to zero at that end. Writes

  checkpoints/ch7_<name>.safetensors   float16 weights, config, vocabulary SHA-256, record
  benchmarks/bert/<name>.json          command, hardware, CPU-minutes, curve, final dev metrics

On CUDA the forward pass runs under bfloat16 autocast (--no-amp switches it off). The model,
the masking and the pair makers are the package's, i.e. the chapter's own code.
"""
from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import torch

from attention_course.bert import (IN_ORDER, IS_NEXT, NEVER_MASKED, TRANSLATION_CODES, BertConfig,
                                   BertForPreTraining, albert_config, collate_pairs,
                                   count_parameters, file_sha256, load_pretrained,
                                   load_wordpiece, make_pair, mask_tokens, nsp_pairs,
                                   pretraining_loss, save_pretrained, sop_pairs,
                                   verses_by_book, wordpiece_tokenizer)
from attention_course.runtime import CHECKPOINT_DIR, ROOT, cpu_name, get_device, set_seed

BENCH = ROOT / "benchmarks" / "bert"
VOCAB = CHECKPOINT_DIR / "ch7_wordpiece.txt"


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_name()}, {torch.get_num_threads()} thread(s)"


def encode_books(books, tokenizer):
    """[[verse text]] -> [[verse ids]] with tokenizers' WordPiece (the chapter shows that
    our own encoder gives the same ids)."""
    return [[e.ids for e in tokenizer.encode_batch(book)] for book in books]


def make_pairs(objective: str, books, generator):
    return (nsp_pairs if objective == "nsp" else sop_pairs)(books, generator)


def batches(pairs, batch_size: int, max_len: int, vocab_size: int, generator, device,
            shuffle: bool = True):
    """Yield (input_ids, token_type_ids, mask, mlm_labels, pair_labels) on device."""
    order = (torch.randperm(len(pairs), generator=generator).tolist() if shuffle
             else range(len(pairs)))
    order = list(order)
    for i in range(0, len(order), batch_size):
        chunk = [pairs[j] for j in order[i:i + batch_size]]
        input_ids, token_type_ids, mask = collate_pairs(
            [make_pair(a, b, max_len) for a, b, _ in chunk])
        masked, labels = mask_tokens(input_ids, NEVER_MASKED, vocab_size, generator)
        pair_labels = torch.tensor([label for *_, label in chunk])
        yield tuple(t.to(device) for t in (masked, token_type_ids, mask, labels, pair_labels))


@torch.no_grad()
def evaluate(model, dev_batches, amp: bool) -> dict:
    """MLM accuracy and perplexity over the masked dev tokens, sentence-pair accuracy."""
    model.eval()
    ce_sum, correct, tokens, pair_correct, pairs = 0.0, 0, 0, 0, 0
    for input_ids, token_type_ids, mask, labels, pair_labels in dev_batches:
        chosen = labels != -100
        with torch.autocast(input_ids.device.type, dtype=torch.bfloat16, enabled=amp):
            mlm_logits, pair_logits = model(input_ids, token_type_ids, mask, chosen)
        logits = mlm_logits.float()                                       # (N, V)
        ce_sum += torch.nn.functional.cross_entropy(logits, labels[chosen],
                                                    reduction="sum").item()
        correct += int((logits.argmax(-1) == labels[chosen]).sum())
        tokens += int(chosen.sum())
        pair_correct += int((pair_logits.argmax(-1) == pair_labels).sum())
        pairs += len(pair_labels)
    model.train()
    return {"mlm_accuracy": correct / tokens, "mlm_perplexity": math.exp(ce_sum / tokens),
            "pair_accuracy": pair_correct / pairs, "dev_masked_tokens": tokens,
            "dev_pairs": pairs}


def fixed_dev_sets(dev_books, dev_pairs: int, max_len: int, vocab_size: int, device):
    """The fixed dev sets, the same in every run (pairs and masks): every model's pair head
    is scored on NSP with random and with same-book negatives and on SOP (label 0 = "B may
    follow A" in all). {task: list of batches}."""
    dev_sets = {}
    for task, make in (("nsp", lambda g: nsp_pairs(dev_books, g)),
                       ("nsp_same_book", lambda g: nsp_pairs(dev_books, g, same_book=True)),
                       ("sop", lambda g: sop_pairs(dev_books, g))):
        dev_gen = torch.Generator().manual_seed(1234)
        every = make(dev_gen)
        pick = sorted(torch.randperm(len(every), generator=dev_gen)[:dev_pairs].tolist())
        dev_sets[task] = list(batches([every[i] for i in pick], 128, max_len, vocab_size,
                                      dev_gen, device, shuffle=False))
    return dev_sets


def score_committed(args, device) -> int:
    """Score the committed BERT and ALBERT on the same dev sets, MLM included: during
    training each run scored its MLM on its own task's pairs, whose masks differ, so the two
    records' MLM numbers are not on one set. Writes benchmarks/bert/shared_dev.json."""
    tokens = load_wordpiece(VOCAB)
    tok = wordpiece_tokenizer(tokens)
    dev_books = encode_books(verses_by_book(TRANSLATION_CODES, "dev"), tok)
    dev_sets = fixed_dev_sets(dev_books, args.dev_pairs, args.max_len, len(tokens), device)
    cpu_start = time.process_time()
    models = {}
    for name in ("bert_nsp", "albert_sop"):
        path = CHECKPOINT_DIR / f"ch7_{name}.safetensors"
        model = load_pretrained(path, VOCAB, device)[0]
        models[name] = {"checkpoint": path.name, "sha256": file_sha256(path),
                        "by_task": {task: evaluate(model, b, amp=False)
                                    for task, b in dev_sets.items()}}
        print(name, json.dumps(models[name]["by_task"]), flush=True)
    command = "python tools/train_bert.py --score-committed"
    record = dict(command=command, hardware=hardware(device), torch=torch.__version__,
                  dev_pairs=args.dev_pairs, max_len=args.max_len,
                  cpu_minutes=round((time.process_time() - cpu_start) / 60, 2), models=models)
    BENCH.mkdir(parents=True, exist_ok=True)
    path = BENCH / "shared_dev.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=("bert", "albert"), default="bert")
    ap.add_argument("--objective", choices=("nsp", "sop"), default=None,
                    help="sentence-pair task (default: nsp for bert, sop for albert)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=1024)
    ap.add_argument("--embed-size", type=int, default=128, help="ALBERT's E")
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (AdamW)")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=1000, help="linear warm-up updates")
    ap.add_argument("--steps", type=int, default=None, help="stop after this many updates")
    ap.add_argument("--minutes", type=float, default=None,
                    help="stop after this many minutes of training (wall clock, excl. eval)")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--dev-pairs", type=int, default=2000, help="fixed dev pairs scored")
    ap.add_argument("--device", default=None, help="default: cuda if available, else cpu")
    ap.add_argument("--no-amp", action="store_true", help="no bfloat16 autocast on CUDA")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--name", default=None, help="default: <arch>_<objective>")
    ap.add_argument("--out", type=Path, default=None,
                    help="checkpoint path (default: checkpoints/ch7_<name>.safetensors)")
    ap.add_argument("--no-record", action="store_true", help="do not write benchmarks/")
    ap.add_argument("--score-committed", action="store_true",
                    help="train nothing: score the committed BERT and ALBERT on the same "
                         "dev sets into benchmarks/bert/shared_dev.json")
    args = ap.parse_args(argv)
    if args.score_committed:
        if args.threads:
            torch.set_num_threads(args.threads)
        return score_committed(args, get_device(args.device))
    if args.steps is None and args.minutes is None:
        ap.error("pass --steps and/or --minutes")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    amp = device.type == "cuda" and not args.no_amp
    args.objective = args.objective or ("nsp" if args.arch == "bert" else "sop")
    name = args.name or f"{args.arch}_{args.objective}"
    out = args.out or CHECKPOINT_DIR / f"ch7_{name}.safetensors"
    generator = set_seed(args.seed)

    tokens = load_wordpiece(VOCAB)
    tok = wordpiece_tokenizer(tokens)
    train_books = encode_books(verses_by_book(TRANSLATION_CODES, "train"), tok)
    dev_books = encode_books(verses_by_book(TRANSLATION_CODES, "dev"), tok)
    dev_sets = fixed_dev_sets(dev_books, args.dev_pairs, args.max_len, len(tokens), device)
    dev_batches = dev_sets[args.objective]
    # baseline: always predict the most frequent training token
    counts = Counter(i for book in train_books for verse in book for i in verse)
    top = counts.most_common(1)[0][0]
    labels = torch.cat([b[3][b[3] != -100] for b in dev_batches])
    baseline = float((labels == top).float().mean())

    sizes = dict(vocab_size=len(tokens), d_model=args.d_model, num_heads=args.heads,
                 d_ff=args.d_ff, num_layers=args.layers, max_len=args.max_len,
                 dropout=args.dropout)
    cfg = albert_config(args.embed_size, **sizes) if args.arch == "albert" else BertConfig(**sizes)
    model = BertForPreTraining(cfg).to(device)
    params = count_parameters(model)
    n_train = sum(len(b) - 1 for b in train_books)
    print(f"{args.arch} + {args.objective}: {params / 1e6:.2f} M parameters on {device}"
          f"{' (bf16 autocast)' if amp else ''}; {n_train:,} training pairs per epoch, "
          f"{args.dev_pairs} dev pairs per task; most-frequent-token baseline {baseline:.3f}", flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)

    start, cpu_start, eval_cpu, eval_wall = time.time(), time.process_time(), 0.0, 0.0
    steps, epoch, seen, curve = 0, 0, 0, []

    def progress() -> float:
        """Fraction of the run done, by updates or by training minutes."""
        done = [steps / args.steps] if args.steps else []
        if args.minutes:
            done.append((time.time() - start - eval_wall) / 60 / args.minutes)
        return max(done)

    def rate() -> float:
        warm = min(1.0, (steps + 1) / max(args.warmup, 1))
        return args.lr * warm * max(0.0, 1.0 - progress())

    def record_point():
        nonlocal eval_cpu, eval_wall
        c0, w0 = time.process_time(), time.time()
        point = dict(step=steps, epoch=epoch, pairs_seen=seen,
                     cpu_minutes=(c0 - cpu_start - eval_cpu) / 60,
                     train_minutes=(w0 - start - eval_wall) / 60,
                     **evaluate(model, dev_batches, amp))
        for task, task_batches in dev_sets.items():
            point[f"pair_accuracy_{task}"] = (
                point["pair_accuracy"] if task == args.objective
                else evaluate(model, task_batches, amp)["pair_accuracy"])
        eval_cpu += time.process_time() - c0
        eval_wall += time.time() - w0
        curve.append(point)
        print(f"step {steps}: dev MLM acc {point['mlm_accuracy']:.3f}, ppl "
              f"{point['mlm_perplexity']:.1f}; pair acc: NSP {point['pair_accuracy_nsp']:.3f}, "
              f"NSP same book {point['pair_accuracy_nsp_same_book']:.3f}, SOP "
              f"{point['pair_accuracy_sop']:.3f} ({point['cpu_minutes']:.1f} CPU min)",
              flush=True)

    model.train()
    running, n, done = 0.0, 0, False
    while not done:
        epoch += 1
        pairs = make_pairs(args.objective, train_books, generator)
        for input_ids, token_type_ids, mask, labels, pair_labels in batches(
                pairs, args.batch_size, args.max_len, len(tokens), generator, device):
            for group in opt.param_groups:
                group["lr"] = rate()
            chosen = labels != -100            # MLM logits only there: ~35% faster on a CPU
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                mlm_logits, pair_logits = model(input_ids, token_type_ids, mask, chosen)
            loss, mlm, pair = pretraining_loss(mlm_logits[None], pair_logits,
                                               labels[chosen][None], pair_labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            steps, seen = steps + 1, seen + len(pair_labels)
            running, n = running + loss.item(), n + 1
            if steps % args.log_every == 0:
                print(f"epoch {epoch} step {steps} loss {running / n:.3f} "
                      f"(MLM {mlm.item():.3f}, pair {pair.item():.3f}) lr {rate():.2e} "
                      f"({(time.time() - start) / 60:.1f} min)", flush=True)
                running, n = 0.0, 0
            if steps % args.eval_every == 0:
                record_point()
            if progress() >= 1.0:
                done = True
                break
    if not curve or curve[-1]["step"] != steps:
        record_point()
    final = curve[-1]

    command = "python tools/train_bert.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    record = dict(checkpoint=out.name, arch=args.arch, objective=args.objective, params=params,
                  config=vars(args) | {"out": str(args.out) if args.out else None},
                  model_config=cfg.__dict__.copy(), steps=steps, epochs=epoch, pairs_seen=seen,
                  train_minutes=final["train_minutes"], cpu_minutes=final["cpu_minutes"],
                  hardware=hardware(device), amp=amp, torch=torch.__version__,
                  vocab_sha256=file_sha256(VOCAB),
                  labels={"nsp": {"IS_NEXT": IS_NEXT, "NOT_NEXT": 1 - IS_NEXT},
                          "sop": {"IN_ORDER": IN_ORDER, "SWAPPED": 1 - IN_ORDER}},
                  dev_mlm_accuracy=final["mlm_accuracy"],
                  dev_mlm_perplexity=final["mlm_perplexity"],
                  dev_pair_accuracy=final["pair_accuracy"],
                  dev_pair_accuracy_by_task={t: final[f"pair_accuracy_{t}"] for t in dev_sets},
                  baseline_most_frequent_token=baseline, command=command)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_pretrained(out, model, VOCAB, **{k: v for k, v in record.items() if k != "config"})
    print(f"wrote {out}")
    if args.no_record:
        return 0
    record["curve"] = curve
    record["megabytes"] = round(out.stat().st_size / 1e6, 2)
    BENCH.mkdir(parents=True, exist_ok=True)
    path = BENCH / f"{name}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "curve"}, indent=2))
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
