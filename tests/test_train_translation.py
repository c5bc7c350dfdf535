"""The training command of chapters 3, 4 and 6 (tools/train_translation.py) and the checkpoints it published."""
import hashlib
import json
import subprocess
import sys

import pytest
import torch

from attention_course.data import parallel_verses
from attention_course.runtime import CHECKPOINT_DIR, ROOT
from attention_course.seq2seq import load_checkpoint, translate
from attention_course.translation import bleu

sys.path.insert(0, str(ROOT / "tools"))
import train_translation  # noqa: E402

RECORDS = sorted((ROOT / "benchmarks" / "translation").glob("*.json"))


SMALL = {"seq2seq": ["--embed-size", "8", "--hidden-size", "8"],
         "attention": ["--embed-size", "8", "--hidden-size", "8"],
         "transformer": ["--d-model", "16", "--heads", "2", "--d-ff", "32", "--layers", "1"]}


@pytest.mark.parametrize("arch", sorted(SMALL))
def test_training_command_runs_a_few_updates(tmp_path, arch):
    out = tmp_path / f"{arch}.safetensors"
    assert train_translation.main(["--arch", arch, "--updates", "3", "--batch-size", "8", "--vocab-size", "300",
                                   *SMALL[arch], "--max-dev", "16", "--curve-verses", "4",
                                   "--no-record", "--out", str(out)]) == 0
    model, tok, meta = train_translation.load_trained(out)
    assert meta["updates"] == "3" and meta["arch"] == arch
    assert type(model) is type(train_translation.build_model(arch, model.cfg))
    assert isinstance(translate(model, ["And God saith"], tok, tok, max_len=5)[0], str)
    assert float(meta["cpu_minutes"]) > 0


def test_training_command_without_an_arch_says_what_to_pass(capsys):
    with pytest.raises(SystemExit):
        train_translation.main(["--pair", "ylt-web"])
    assert "--arch is required" in capsys.readouterr().err


@pytest.mark.parametrize("target, arch", [("train-ch3", "seq2seq"), ("train-ch4", "attention"),
                                          ("train-ch6", "transformer")])
def test_make_targets_call_the_training_command(target, arch):
    dry = subprocess.run(["make", "-n", target, "PAIR=kjv-asv"], cwd=ROOT, capture_output=True, text=True)
    assert f"tools/train_translation.py --arch {arch} --pair kjv-asv" in dry.stdout


def test_every_published_checkpoint_has_a_record_that_matches_it():
    assert {r.stem for r in RECORDS} >= {"ch3_seq2seq_ylt_web", "ch4_attention_ylt_web",
                                         "ch6_transformer_ylt_web", "ch6_transformer_kjv_asv"}
    for path in RECORDS:
        record = json.loads(path.read_text())
        ckpt = CHECKPOINT_DIR / record["checkpoint"]
        assert ckpt.exists(), f"{ckpt} is missing; rebuild it with: {record['command']}"
        assert hashlib.sha256(ckpt.read_bytes()).hexdigest() == record["sha256"], \
            f"{ckpt.name} differs from the one recorded in {path.name}"
        assert ckpt.stat().st_size < 10e6                                # a few MB, fit for git
        model, _, meta = train_translation.load_trained(ckpt)
        assert meta["command"] == record["command"]
        assert record["test_bleu_greedy"] > 0 and record["copy_bleu"] > 0


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: p.stem)
def test_committed_test_translations_score_the_recorded_bleu(record):
    """Chapter 6 reads these files instead of decoding 1,835 verses with every model."""
    r = json.loads(record.read_text())
    hyps_file = record.with_name(record.stem + ".greedy.txt")
    assert hyps_file.exists(), f"missing; run: python tools/train_translation.py --hypotheses checkpoints/{r['checkpoint']}"
    hyps = hyps_file.read_text().split("\n")[:-1]
    src, _, tgt = r["pair"].partition("-")
    refs = [t for _, _, t in parallel_verses(src, tgt, "test")]
    assert len(hyps) == len(refs)
    # float16 checkpoint against the float32 weights the record was scored with
    assert abs(bleu(hyps, refs) - r["test_bleu_greedy"]) < 0.05


def test_benchmark_table_is_up_to_date():
    table = (ROOT / "benchmarks" / "translation.md").read_text()
    assert table == train_translation.render_table(), "run: python -c 'import tools.train_translation as t; t.write_table()'"
