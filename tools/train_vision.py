"""Train chapter 8's image classifiers on Fashion-MNIST: `make train-ch8` (both checkpoints).

    python tools/train_vision.py --arch vit --epochs 20 --augment                # the ViT,
    python tools/train_vision.py --arch vit --init checkpoints/ch8_vit.safetensors \
        --epochs 10 --lr 5e-4 --warmup 200 --augment                            # continued
    python tools/train_vision.py --arch cnn --epochs 20 --hidden 128 --augment   # the CNN
    python tools/train_vision.py --arch vit --updates 5 --out /tmp/x.safetensors   # smoke run

Writes
  checkpoints/<name>.safetensors    weights (float16) with the architecture and config in metadata
  benchmarks/vision/<name>.json     the command, machine, CPU-minutes, dev curve, test accuracy

The last 5,000 training images are the dev set (the curve); the model trains on the first
55,000 (or a class-balanced subset, --train-size) and is scored once, at the end, on the
10,000 test images. On CUDA the forward pass runs under bfloat16 autocast (--no-amp: off).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from attention_course.data import load_fashion_mnist  # noqa: E402
from attention_course.runtime import CHECKPOINT_DIR, cpu_name, get_device, set_seed  # noqa: E402
from attention_course.vit import (ImageTrainConfig, ViTConfig, accuracy,  # noqa: E402
                                  build_classifier, load_classifier, num_parameters,
                                  to_float_images, train_classifier)

DEV_SIZE = 5_000


def balanced_subset(labels, size: int, generator) -> torch.Tensor:
    """Indices of `size` examples, the same number from each class, drawn with generator."""
    classes = int(labels.max()) + 1
    if size % classes:
        raise ValueError(f"--train-size must be a multiple of {classes} (class-balanced)")
    picks = []
    for c in range(classes):
        idx = (labels == c).nonzero().squeeze(1)
        if len(idx) < size // classes:
            raise ValueError(f"only {len(idx)} images of class {c}; ask for fewer")
        picks.append(idx[torch.randperm(len(idx), generator=generator)[:size // classes]])
    return torch.cat(picks).sort().values


def splits(train_size: int | None, generator):
    """(train images, labels), (dev ...), (test ...) as float (N, 1, 28, 28) and int64."""
    images, labels = load_fashion_mnist("train")
    X, y = to_float_images(images), labels
    train, dev = (X[:-DEV_SIZE], y[:-DEV_SIZE]), (X[-DEV_SIZE:], y[-DEV_SIZE:])
    if train_size:
        idx = balanced_subset(train[1], train_size, generator)
        train = (train[0][idx], train[1][idx])
    images, labels = load_fashion_mnist("test")
    return train, dev, (to_float_images(images), labels)


def model_config(args) -> dict:
    if args.arch == "vit":
        return asdict(ViTConfig(patch_size=args.patch_size, d_model=args.d_model,
                                num_heads=args.heads, d_ff=args.d_ff,
                                num_layers=args.layers, dropout=args.dropout))
    return {"channels": args.channels, "hidden": args.hidden}


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=("vit", "cnn"), required=True)
    ap.add_argument("--epochs", type=float, default=10, help="passes over the training set")
    ap.add_argument("--updates", type=int, default=None, help="overrides --epochs")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--augment", action="store_true", help="random shifts of 2 px and flips")
    ap.add_argument("--train-size", type=int, default=None, help="class-balanced subset")
    # ViT sizes
    ap.add_argument("--patch-size", type=int, default=4)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--d-ff", type=int, default=128)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--dropout", type=float, default=0.0)
    # CNN sizes
    ap.add_argument("--channels", type=int, nargs=2, default=(32, 64))
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--eval-every", type=int, default=500, help="dev accuracy every N updates")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    ap.add_argument("--device", default=None, help="default: CUDA when available, else CPU")
    ap.add_argument("--no-amp", action="store_true", help="no bfloat16 autocast on CUDA")
    ap.add_argument("--init", type=Path, default=None,
                    help="start from this checkpoint's weights (a second training run, "
                         "e.g. a warm restart with a lower --lr); its config is used")
    ap.add_argument("--name", default=None, help="default: ch8_<arch>")
    ap.add_argument("--out", type=Path, default=None, help="checkpoint path (no record written)")
    return ap


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device)
    amp = device.type == "cuda" and not args.no_amp
    generator = set_seed(args.seed)
    train, dev, test = splits(args.train_size, generator)
    per_epoch = -(-len(train[0]) // args.batch_size)
    updates = args.updates or round(args.epochs * per_epoch)
    cfg = ImageTrainConfig(num_updates=updates, batch_size=args.batch_size, lr=args.lr,
                           weight_decay=args.weight_decay,
                           warmup=min(args.warmup, updates // 2),
                           label_smoothing=args.label_smoothing, augment=args.augment,
                           eval_every=args.eval_every)
    config = model_config(args)
    torch.manual_seed(args.seed)
    if args.init:
        from safetensors import safe_open
        with safe_open(str(args.init), "pt") as f:
            meta = f.metadata()
        if meta["arch"] != args.arch:
            raise SystemExit(f"{args.init} holds a {meta['arch']}, not a {args.arch}")
        config = json.loads(meta["config"])
        model = load_classifier(args.init, device)
        init_record = ROOT / "benchmarks" / "vision" / f"{args.init.stem}.json"
        earlier = json.loads(init_record.read_text()) if init_record.exists() else None
    else:
        model = build_classifier(args.arch, config).to(device)
        earlier = None
    name = args.name or f"ch8_{args.arch}"
    print(f"{name}: {args.arch}, {num_parameters(model):,} parameters, {len(train[0]):,} "
          f"training images, {updates} updates on {device}"
          f"{' (bf16 autocast)' if amp else ''}", flush=True)

    start, cpu_start = time.time(), time.process_time()
    log = []

    def progress(step, losses, curve):
        if curve and curve[-1][0] == step + 1:
            cpu = (time.process_time() - cpu_start) / 60
            log.append({"updates": step + 1, "cpu_minutes": round(cpu, 2),
                        "train_loss": round(sum(losses[-100:]) / len(losses[-100:]), 4),
                        "dev_accuracy": curve[-1][1]})
            print(f"  update {step + 1:6d}  loss {log[-1]['train_loss']:.4f}  dev "
                  f"{curve[-1][1]:.4f}  {cpu:.1f} CPU-min", flush=True)

    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        train_classifier(model, *train, cfg, generator, eval_data=dev, progress=progress)
    minutes, cpu_minutes = (time.time() - start) / 60, (time.process_time() - cpu_start) / 60

    from safetensors.torch import save_file
    out = args.out or CHECKPOINT_DIR / f"{name}.safetensors"
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).cpu().contiguous()
             for k, v in model.state_dict().items() if v.is_floating_point()}
    save_file(state, str(out), metadata={"arch": args.arch, "config": json.dumps(config)})
    print(f"wrote {out}")
    # The record describes the file that is committed: score the float16 weights as saved,
    # not the float32 model they were rounded from (the two can differ in the last digit).
    test_acc = accuracy(load_classifier(out, device), *test)
    print(f"test accuracy of {out.name}: {test_acc:.4f} after {minutes:.1f} min "
          f"({cpu_minutes:.1f} CPU-min)")
    if args.out is None:
        record = {"checkpoint": out.name, "arch": args.arch, "config": config,
                  "params": num_parameters(model), "train_images": len(train[0]),
                  "train": asdict(cfg), "epochs": round(updates / per_epoch, 2),
                  "train_minutes": round(minutes, 2), "cpu_minutes": round(cpu_minutes, 2),
                  "hardware": f"{cpu_name() if device.type == 'cpu' else device}, "
                              f"{torch.get_num_threads()} thread(s)",
                  "torch": torch.__version__,
                  "command": "python tools/train_vision.py " + " ".join(sys.argv[1:]),
                  "test_accuracy": test_acc, "curve": log}
        if earlier is not None:           # the run this one continued, kept whole
            record["continues"] = earlier
            record["total_cpu_minutes"] = round(cpu_minutes + earlier.get(
                "total_cpu_minutes", earlier["cpu_minutes"]), 2)
        path = ROOT / "benchmarks" / "vision" / f"{name}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
