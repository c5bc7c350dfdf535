"""Train chapter 3's seq2seq, chapter 4's attention or chapter 6's Transformer translation
model and publish a checkpoint.

    python tools/train_translation.py --arch seq2seq     --pair ylt-web   # make train-ch3
    python tools/train_translation.py --arch attention   --pair ylt-web   # make train-ch4
    python tools/train_translation.py --arch transformer --pair ylt-web   # make train-ch6
    python tools/train_translation.py --arch attention --updates 3 --out /tmp/x.safetensors   # smoke run
    python tools/train_translation.py --hypotheses checkpoints/ch4_attention_ylt_web.safetensors

Everything is seeded and the schedule is fixed by --epochs (not by wall time), so a run is
reproducible on the same hardware. The model keeps the weights with the lowest dev loss and writes

  checkpoints/<name>.safetensors          weights (float16), config, tokenizer, training record
  benchmarks/translation/<name>.json      command, hardware, time, CPU time, dev loss, test BLEU
                                          (greedy, beam 4), and after every epoch the dev loss and
                                          the greedy BLEU of the first --curve-verses dev verses
  benchmarks/translation/<name>.greedy.txt  the greedy translation of every test verse, one a line
  benchmarks/translation.md               the table of every record in benchmarks/translation/

--hypotheses CKPT writes only the .greedy.txt file of an existing checkpoint (chapter 6 reads
those of chapters 3 and 4 rather than decoding 1,835 verses three times).

On CUDA the Transformer trains under bfloat16 autocast (--no-amp to switch it off); pass a larger
--batch-size there (e.g. 256) with a proportionally larger --lr if you like: see
benchmarks/translation.md for the runs behind the committed checkpoints.

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
from safetensors import safe_open

from attention_course.attention import AttentionSeq2Seq
from attention_course.data import parallel_verses
from attention_course.runtime import CHECKPOINT_DIR, ROOT, cpu_name, get_device, set_seed
from attention_course.seq2seq import (Seq2Seq, Seq2SeqConfig, load_checkpoint, save_checkpoint,
                                      seq2seq_loss, translate)
from attention_course.transformer import Transformer, TransformerConfig
from attention_course.translation import SubwordTokenizer, bleu, encode_pairs, length_batches, make_batch

BENCH = ROOT / "benchmarks" / "translation"
PREFIX = {"seq2seq": "ch3_seq2seq", "attention": "ch4_attention", "transformer": "ch6_transformer"}


def build_model(arch: str, cfg):
    if arch == "transformer":
        return Transformer(cfg)
    return AttentionSeq2Seq(cfg) if arch == "attention" else Seq2Seq(cfg)


def make_config(args, vocab_size: int):
    if args.arch == "transformer":
        return TransformerConfig(vocab_size=vocab_size, d_model=args.d_model, num_heads=args.heads,
                                 d_ff=args.d_ff, num_layers=args.layers,
                                 num_decoder_layers=args.decoder_layers or args.layers,
                                 dropout=args.dropout, norm_first=not args.post_ln, max_len=256)
    return Seq2SeqConfig(vocab_size=vocab_size, embed_size=args.embed_size,
                         hidden_size=args.hidden_size, dropout=args.dropout)


def model_from_record(cfg, meta):
    """make_model for load_checkpoint: the class named by the checkpoint's record."""
    return build_model(meta.get("arch", "attention"), cfg)


def load_trained(path, device=None):
    """load_checkpoint for any checkpoint this command wrote: chapter 3's loader knows only
    its own config class, so the architecture in the header chooses the one to pass."""
    with safe_open(str(path), framework="pt") as f:
        arch = f.metadata().get("arch", "attention")
    config_class = TransformerConfig if arch == "transformer" else Seq2SeqConfig
    return load_checkpoint(path, model_from_record, device, config_class=config_class)


def write_hypotheses(hyps: list[str], name: str) -> Path:
    """The greedy test translations, one a line, next to the record."""
    path = BENCH / f"{name}.greedy.txt"
    path.write_text("".join(h.replace("\n", " ") + "\n" for h in hyps))
    return path


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
             "Written by `tools/train_translation.py` (`make train-ch3`, `make train-ch4`, "
             "`make train-ch6`). BLEU is",
             "sacrebleu's default corpus BLEU on all verses of the four test books (Judges, 1 Samuel,",
             "Philippians, Hebrews). *CPU min* is the training process's CPU time (all its threads),",
             "the measure of compute used to match models; *train time* is wall-clock. Records made",
             "before CPU time was recorded show –.", "",
             "On a GPU, the Transformer trains under bfloat16 autocast (`--no-amp` turns it off) and",
             "a larger batch pays off, e.g. `make train-ch6 ARGS='--batch-size 256 --lr 2e-3'`; CPU",
             "time then measures only the host. No GPU run is recorded here: none of the runs below",
             "had a GPU.", "",
             "| checkpoint | pair | params | epochs (updates) | train time | CPU min | hardware | dev loss "
             "| test BLEU greedy | test BLEU beam 4 | copy baseline | command |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cpu = f"{r['cpu_minutes']:.1f}" if "cpu_minutes" in r else "–"
        lines.append(f"| `{r['checkpoint']}` | {r['pair']} | {r['params'] / 1e6:.2f} M | {r['epochs']} "
                     f"({r['updates']}) | {r['train_minutes']:.1f} min | {cpu} | {r['hardware']} "
                     f"| {r['dev_loss']:.3f} | {r['test_bleu_greedy']:.2f} | {r['test_bleu_beam']:.2f} "
                     f"| {r['copy_bleu']:.2f} | `{r['command']}` |")
    curves = [r for r in rows if r.get("curve")]
    if curves:
        lines += ["", "## Dev BLEU against training CPU time", "",
                  "Greedy BLEU on the first dev verses (`--curve-verses`), after every epoch, for the "
                  "runs that recorded it.", "",
                  "| checkpoint | epoch | CPU min | dev loss | dev BLEU (greedy) |", "|---|---|---|---|---|"]
        for r in curves:
            for c in r["curve"]:
                lines.append(f"| `{r['checkpoint']}` | {c['epoch']} | {c['cpu_minutes']:.1f} "
                             f"| {c['dev_loss']:.3f} | {c['dev_bleu']:.2f} |")
    return "\n".join(lines) + "\n"


def write_table() -> Path:
    path = ROOT / "benchmarks" / "translation.md"
    path.write_text(render_table())
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(PREFIX))
    ap.add_argument("--hypotheses", type=Path, default=None, metavar="CKPT",
                    help="only write the greedy test translations of this checkpoint")
    ap.add_argument("--pair", default="ylt-web", help="source-target translations, e.g. ylt-web or kjv-asv")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--updates", type=int, default=None, help="stop after this many updates (smoke runs)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=80, help="drop training pairs longer than this (tokens)")
    ap.add_argument("--vocab-size", type=int, default=4000)
    ap.add_argument("--embed-size", type=int, default=128)
    ap.add_argument("--hidden-size", type=int, default=256)
    ap.add_argument("--dropout", type=float, default=None, help="default 0.2 (GRUs), 0.1 (Transformer)")
    ap.add_argument("--lr", type=float, default=None, help="peak rate; default 2e-3 (GRUs), 1e-3 (Transformer)")
    ap.add_argument("--d-model", type=int, default=128, help="Transformer width")
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=512)
    ap.add_argument("--layers", type=int, default=3, help="encoder layers")
    ap.add_argument("--decoder-layers", type=int, default=None, help="default: as many as --layers")
    ap.add_argument("--post-ln", action="store_true", help="post-LN as in the paper (default: pre-LN)")
    ap.add_argument("--warmup", type=int, default=None,
                    help="linear warm-up updates (default 0 for GRUs, 1000 for the Transformer)")
    ap.add_argument("--no-amp", action="store_true", help="no bfloat16 autocast on CUDA")
    ap.add_argument("--name", default=None, help="checkpoint name (default: ch<N>_<arch>_<pair>)")
    ap.add_argument("--curve-verses", type=int, default=300,
                    help="dev verses scored with greedy BLEU after every epoch (0: none)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: PyTorch's)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--out", type=Path, default=None, help="checkpoint path (default: checkpoints/<name>)")
    ap.add_argument("--no-record", action="store_true", help="do not write benchmarks/ (smoke runs)")
    ap.add_argument("--max-dev", type=int, default=None, help="score dev loss on this many verses only (smoke runs)")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device()
    if args.hypotheses:
        return hypotheses_only(args.hypotheses, device)
    if args.arch is None:
        ap.error("--arch is required (or --hypotheses CKPT)")
    is_tf = args.arch == "transformer"
    args.dropout = args.dropout if args.dropout is not None else (0.1 if is_tf else 0.2)
    args.lr = args.lr if args.lr is not None else (1e-3 if is_tf else 2e-3)
    args.warmup = args.warmup if args.warmup is not None else (1000 if is_tf else 0)
    amp = is_tf and device.type == "cuda" and not args.no_amp

    src_code, _, tgt_code = args.pair.partition("-")
    name = args.name or f"{PREFIX[args.arch]}_{src_code}_{tgt_code}"
    out = args.out or CHECKPOINT_DIR / f"{name}.safetensors"
    generator = set_seed(args.seed)

    train = [(s, t) for _, s, t in parallel_verses(src_code, tgt_code, "train")]
    dev = [(s, t) for _, s, t in parallel_verses(src_code, tgt_code, "dev")]
    test = [(s, t) for _, s, t in parallel_verses(src_code, tgt_code, "test")]
    tok = SubwordTokenizer.train([s for s, _ in train] + [t for _, t in train], args.vocab_size)
    train_ids = encode_pairs(train, tok, tok, max_len=args.max_len)
    dev_ids = encode_pairs(dev[:args.max_dev], tok, tok)
    print(f"{len(train_ids)}/{len(train)} training pairs of <= {args.max_len} tokens; {len(dev)} dev, "
          f"{len(test)} test verses; vocabulary {tok.vocab_size}", flush=True)

    curve_src = [s for s, _ in dev[:args.curve_verses]]
    curve_ref = [t for _, t in dev[:args.curve_verses]]

    cfg = make_config(args, tok.vocab_size)
    model = build_model(args.arch, cfg).to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.arch}: {params / 1e6:.2f} M parameters on {device}{' (bf16 autocast)' if amp else ''}",
          flush=True)
    # Adam's beta2 = 0.98 for the Transformer, as in Vaswani et al. (2017), section 5.3
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98 if is_tf else 0.999))
    per_epoch = math.ceil(len(train_ids) / args.batch_size)
    total = args.updates or args.epochs * per_epoch
    warmup = min(args.warmup, total // 2)

    def rate(u: int) -> float:
        """Linear warm-up over `warmup` updates, then linear decay to 10% at the end."""
        if u < warmup:
            return (u + 1) / warmup
        return 1.0 - 0.9 * (min(u, total) - warmup) / max(total - warmup, 1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, rate)

    best, best_state, updates, epoch, curve = float("inf"), None, 0, 0, []
    start, cpu_start, eval_cpu = time.time(), time.process_time(), 0.0
    while updates < total:
        epoch += 1
        model.train()
        running, n = 0.0, 0
        for idx in length_batches(train_ids, args.batch_size, generator):
            src, src_len, tgt_in, tgt_out = (t.to(device) for t in make_batch([train_ids[i] for i in idx]))
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(src, src_len, tgt_in)
            loss = seq2seq_loss(logits.float(), tgt_out, label_smoothing=0.1)
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
        cpu_minutes = (time.process_time() - cpu_start - eval_cpu) / 60
        e0 = time.process_time()
        dev_loss = mean_loss(model, dev_ids, device)
        point = dict(epoch=epoch, updates=updates, cpu_minutes=cpu_minutes, dev_loss=dev_loss)
        if args.curve_verses:
            point["dev_bleu"] = bleu(translate(model, curve_src, tok, tok), curve_ref)
        curve.append(point)
        eval_cpu += time.process_time() - e0
        print(f"epoch {epoch}: dev loss {dev_loss:.3f}, dev BLEU {point.get('dev_bleu', float('nan')):.2f} "
              f"({(time.time() - start) / 60:.1f} min, {cpu_minutes:.1f} CPU min)", flush=True)
        if dev_loss < best:
            best = dev_loss
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    minutes = (time.time() - start) / 60
    cpu_minutes = (time.process_time() - cpu_start - eval_cpu) / 60
    model.load_state_dict(best_state)

    command = "python tools/train_translation.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    record = dict(checkpoint=out.name, arch=args.arch, pair=args.pair, params=params,
                  epochs=epoch, updates=updates, train_minutes=minutes, cpu_minutes=cpu_minutes,
                  hardware=hardware(device), torch=torch.__version__, dev_loss=best, command=command)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.no_record:
        save_checkpoint(out, model, tok, **record)
        print(f"wrote {out} (smoke run: no test evaluation, no record)")
        return 0

    srcs, refs = [s for s, _ in test], [t for _, t in test]
    t0 = time.time()
    greedy = translate(model, srcs, tok, tok)
    record["test_bleu_greedy"] = bleu(greedy, refs)
    record["test_bleu_beam"] = bleu(translate(model, srcs, tok, tok, batch_size=32, beam_size=4), refs)
    record["copy_bleu"] = bleu(srcs, refs)
    record["eval_minutes"] = (time.time() - t0) / 60
    save_checkpoint(out, model, tok, **record)
    record["curve"], record["curve_verses"] = curve, args.curve_verses
    write_hypotheses(greedy, name)
    record["sha256"] = hashlib.sha256(out.read_bytes()).hexdigest()
    record["megabytes"] = round(out.stat().st_size / 1e6, 2)
    BENCH.mkdir(parents=True, exist_ok=True)
    (BENCH / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    print(f"wrote {out} and {write_table().relative_to(ROOT)}")
    return 0


def hypotheses_only(path: Path, device) -> int:
    model, tok, meta = load_trained(path, device)
    src_code, _, tgt_code = meta["pair"].partition("-")
    srcs = [s for _, s, _ in parallel_verses(src_code, tgt_code, "test")]
    name = Path(meta["checkpoint"]).name.removesuffix(".safetensors")
    out = write_hypotheses(translate(model, srcs, tok, tok), name)
    print(f"wrote {out.relative_to(ROOT)} ({len(srcs)} verses)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
