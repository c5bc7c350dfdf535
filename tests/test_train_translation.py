"""The training command of chapters 3-4 (tools/train_translation.py) and the checkpoints it published."""
import hashlib
import json
import subprocess
import sys

import pytest
import torch

from attention_course.attention import AttentionSeq2Seq
from attention_course.runtime import CHECKPOINT_DIR, ROOT
from attention_course.seq2seq import Seq2Seq, load_checkpoint, translate

sys.path.insert(0, str(ROOT / "tools"))
import train_translation  # noqa: E402

RECORDS = sorted((ROOT / "benchmarks" / "translation").glob("*.json"))


@pytest.mark.parametrize("arch", ["seq2seq", "attention"])
def test_training_command_runs_a_few_updates(tmp_path, arch):
    out = tmp_path / f"{arch}.safetensors"
    assert train_translation.main(["--arch", arch, "--updates", "3", "--batch-size", "8", "--vocab-size", "300",
                                   "--embed-size", "8", "--hidden-size", "8", "--max-dev", "16",
                                   "--no-record", "--out", str(out)]) == 0
    model, tok, meta = load_checkpoint(out, lambda cfg, m: train_translation.build_model(arch, cfg))
    assert meta["updates"] == "3" and meta["arch"] == arch
    assert isinstance(translate(model, ["And God saith"], tok, tok, max_len=5)[0], str)


def test_make_targets_call_the_training_command():
    dry = subprocess.run(["make", "-n", "train-ch4", "PAIR=kjv-asv"], cwd=ROOT, capture_output=True, text=True)
    assert "tools/train_translation.py --arch attention --pair kjv-asv" in dry.stdout


def test_every_published_checkpoint_has_a_record_that_matches_it():
    assert {r.stem for r in RECORDS} >= {"ch3_seq2seq_ylt_web", "ch4_attention_ylt_web"}
    for path in RECORDS:
        record = json.loads(path.read_text())
        ckpt = CHECKPOINT_DIR / record["checkpoint"]
        assert ckpt.exists(), f"{ckpt} is missing; rebuild it with: {record['command']}"
        assert hashlib.sha256(ckpt.read_bytes()).hexdigest() == record["sha256"], \
            f"{ckpt.name} differs from the one recorded in {path.name}"
        assert ckpt.stat().st_size < 10e6                                # a few MB, fit for git
        make = AttentionSeq2Seq if record["arch"] == "attention" else Seq2Seq
        model, _, meta = load_checkpoint(ckpt, lambda cfg, m: make(cfg))
        assert meta["command"] == record["command"]
        assert record["test_bleu_greedy"] > 0 and record["copy_bleu"] > 0


def test_benchmark_table_is_up_to_date():
    table = (ROOT / "benchmarks" / "translation.md").read_text()
    assert table == train_translation.render_table(), "run: python -c 'import tools.train_translation as t; t.write_table()'"
