"""Train the chapter 3 (seq2seq) or chapter 4 (attention) translation model and publish a checkpoint.

    python tools/train_translation.py --arch seq2seq   --pair ylt-web     # make train-ch3
    python tools/train_translation.py --arch attention --pair ylt-web     # make train-ch4
    python tools/train_translation.py --arch attention --updates 3 --out /tmp/x.safetensors   # smoke run

Everything is seeded and the schedule is fixed by --epochs (not by wall time), so a run is
reproducible on the same hardware. The model keeps the weights with the lowest dev loss and writes

  checkpoints/<name>.safetensors          weights (float16), config, tokenizer, training record
  benchmarks/translation/<name>.json      command, hardware, time, dev loss, test BLEU (greedy, beam)
  benchmarks/translation.md               the table of every record in benchmarks/translation/

The model classes, the tokenizer and the decoding loops are the package's, i.e. the chapters' own.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import shlex
import sys
import time
from pathlib import Path

import torch

from attention_course.attention import AttentionSeq2Seq
from attention_course.data import parallel_verses
from attention_course.runtime import CHECKPOINT_DIR, ROOT, cpu_name, get_device, set_seed
from attention_course.seq2seq import Seq2Seq, Seq2SeqConfig, save_checkpoint, seq2seq_loss, translate
from attention_course.translation import SubwordTokenizer, bleu, encode_pairs, length_batches, make_batch

BENCH = ROOT / "benchmarks" / "translation"


def build_model(arch: str, cfg: Seq2SeqConfig):
    return AttentionSeq2Seq(cfg) if arch == "attention" else Seq2Seq(cfg)


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_name()}, {torch.get_num_threads()} thread(s)"


@torch.no_grad()
def mean_loss(model, id_pairs, device, batch_size: int = 128) -> float:
    model.eval()
    total, count = 0.0, 0
    for idx in length_batches(id_pairs, batch_size, shuffle=False):
        src, src_len, tgt_in, tgt_out = (t.to(device) for t in make_batch([id_pairs[i] for i in idx]))
        n = int((tgt_out != 0).sum())
        total += seq2seq_loss(model(src, src_len, tgt_in), tgt_out).item() * n
        count += n
    return total / count


def render_table() -> str:
    """The markdown table of every JSON record in benchmarks/translation/."""
    rows = [json.loads(p.read_text()) for p in sorted(BENCH.glob("*.json"))]
    lines = ["# Translation checkpoints", "",
             "Written by `tools/train_translation.py` (`make train-ch3`, `make train-ch4`). BLEU is sacrebleu's",
             "default corpus BLEU on all verses of the four test books (Judges, 1 Samuel, Philippians, Hebrews).",
             "", "| checkpoint | pair | params | epochs (updates) | train time | hardware | dev loss "
             "| test BLEU greedy | test BLEU beam 4 | copy baseline | command |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['checkpoint']}` | {r['pair']} | {r['params'] / 1e6:.2f} M | {r['epochs']} "
                     f"({r['updates']}) | {r['train_minutes']:.1f} min | {r['hardware']} | {r['dev_loss']:.3f} "
                     f"| {r['test_bleu_greedy']:.2f} | {r['test_bleu_beam']:.2f} | {r['copy_bleu']:.2f} "
                     f"| `{r['command']}` |")
    return "\n".join(lines) + "\n"


def write_table() -> Path:
    path = ROOT / "benchmarks" / "translation.md"
    path.write_text(render_table())
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=["seq2seq", "attention"], required=True)
    ap.add_argument("--pair", default="ylt-web", help="source-target translations, e.g. ylt-web or kjv-asv")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--updates", type=int, default=None, help="stop after this many updates (smoke runs)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=80, help="drop training pairs longer than this (tokens)")
    ap.add_argument("--vocab-size", type=int, default=4000)
    ap.add_argument("--embed-size", type=int, default=128)
    ap.add_argument("--hidden-size", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--out", type=Path, default=None, help="checkpoint path (default: checkpoints/<name>)")
    ap.add_argument("--no-record", action="store_true", help="do not write benchmarks/ (smoke runs)")
    ap.add_argument("--max-dev", type=int, default=None, help="score dev loss on this many verses only (smoke runs)")
    args = ap.parse_args(argv)

    src_code, _, tgt_code = args.pair.partition("-")
    name = f"{'ch4_attention' if args.arch == 'attention' else 'ch3_seq2seq'}_{src_code}_{tgt_code}"
    out = args.out or CHECKPOINT_DIR / f"{name}.safetensors"
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device()
    generator = set_seed(args.seed)

    train = [(s, t) for _, s, t in parallel_verses(src_code, tgt_code, "train")]
    dev = [(s, t) for _, s, t in parallel_verses(src_code, tgt_code, "dev")]
    test = [(s, t) for _, s, t in parallel_verses(src_code, tgt_code, "test")]
    tok = SubwordTokenizer.train([s for s, _ in train] + [t for _, t in train], args.vocab_size)
    train_ids = encode_pairs(train, tok, tok, max_len=args.max_len)
    dev_ids = encode_pairs(dev[:args.max_dev], tok, tok)
    print(f"{len(train_ids)}/{len(train)} training pairs of <= {args.max_len} tokens; {len(dev)} dev, "
          f"{len(test)} test verses; vocabulary {tok.vocab_size}", flush=True)

    cfg = Seq2SeqConfig(vocab_size=tok.vocab_size, embed_size=args.embed_size,
                        hidden_size=args.hidden_size, dropout=args.dropout)
    model = build_model(args.arch, cfg).to(device)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    per_epoch = math.ceil(len(train_ids) / args.batch_size)
    total = args.updates or args.epochs * per_epoch
    # linear decay to 10% of the learning rate over the whole run
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda u: 1.0 - 0.9 * min(u, total) / total)

    best, best_state, updates, epoch, start = float("inf"), None, 0, 0, time.time()
    while updates < total:
        epoch += 1
        model.train()
        running, n = 0.0, 0
        for idx in length_batches(train_ids, args.batch_size, generator):
            src, src_len, tgt_in, tgt_out = (t.to(device) for t in make_batch([train_ids[i] for i in idx]))
            loss = seq2seq_loss(model(src, src_len, tgt_in), tgt_out, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            updates += 1
            running, n = running + loss.item(), n + 1
            if updates % args.log_every == 0:
                print(f"epoch {epoch} update {updates}/{total} train loss {running / n:.3f} "
                      f"({(time.time() - start) / 60:.1f} min)", flush=True)
            if updates >= total:
                break
        dev_loss = mean_loss(model, dev_ids, device)
        print(f"epoch {epoch}: dev loss {dev_loss:.3f} ({(time.time() - start) / 60:.1f} min)", flush=True)
        if dev_loss < best:
            best = dev_loss
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    minutes = (time.time() - start) / 60
    model.load_state_dict(best_state)

    command = "python tools/train_translation.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    record = dict(checkpoint=out.name, arch=args.arch, pair=args.pair, params=params,
                  epochs=epoch, updates=updates, train_minutes=minutes, hardware=hardware(device),
                  torch=torch.__version__, dev_loss=best, command=command)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.no_record:
        save_checkpoint(out, model, tok, **record)
        print(f"wrote {out} (smoke run: no test evaluation, no record)")
        return 0

    srcs, refs = [s for s, _ in test], [t for _, t in test]
    t0 = time.time()
    record["test_bleu_greedy"] = bleu(translate(model, srcs, tok, tok), refs)
    record["test_bleu_beam"] = bleu(translate(model, srcs, tok, tok, batch_size=32, beam_size=4), refs)
    record["copy_bleu"] = bleu(srcs, refs)
    record["eval_minutes"] = (time.time() - t0) / 60
    save_checkpoint(out, model, tok, **record)
    record["sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    record["megabytes"] = round(out.stat().st_size / 1e6, 2)
    BENCH.mkdir(parents=True, exist_ok=True)
    (BENCH / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    print(f"wrote {out} and {write_table().relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
