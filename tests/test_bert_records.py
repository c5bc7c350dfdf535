"""Chapter 7 reads its pre-training records, checkpoints and the fine-tuning record: they must
be complete, agree with each other, and match what the chapter says about them."""
import json
import sys

import pytest
from safetensors import safe_open

from attention_course.bert import count_parameters, file_sha256, load_pretrained
from attention_course.runtime import CHECKPOINT_DIR, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bert_finetune  # noqa: E402

VOCAB = CHECKPOINT_DIR / "ch7_wordpiece.txt"
RUNS = {"bert_nsp": ("bert", "nsp"), "albert_sop": ("albert", "sop")}
FINETUNE = ROOT / "benchmarks" / "bert_finetune.json"


def record(name):
    return json.loads((ROOT / "benchmarks" / "bert" / f"{name}.json").read_text())


@pytest.mark.parametrize("name", RUNS)
def test_pretraining_record_matches_its_checkpoint(name):
    r = record(name)
    assert (r["arch"], r["objective"]) == RUNS[name]
    assert r["vocab_sha256"] == file_sha256(VOCAB)
    path = CHECKPOINT_DIR / r["checkpoint"]
    model, header = load_pretrained(path, VOCAB)
    assert count_parameters(model) == r["params"]
    for key in ("steps", "dev_mlm_accuracy", "dev_mlm_perplexity", "dev_pair_accuracy_by_task",
                "command", "cpu_minutes"):
        assert header[key] == r[key], key
    with safe_open(str(path), framework="pt") as f:
        assert json.loads(f.metadata()["config"])["share_layers"] == (name == "albert_sop")
    curve = r["curve"]
    assert [p["step"] for p in curve] == sorted(p["step"] for p in curve)
    assert curve[-1]["step"] == r["steps"] and len(curve) >= 2
    assert set(r["dev_pair_accuracy_by_task"]) == {"nsp", "nsp_same_book", "sop"}


def test_bert_and_albert_had_the_same_budget():
    bert, albert = record("bert_nsp"), record("albert_sop")
    for key in ("minutes", "steps", "batch_size", "lr", "warmup", "threads", "seed",
                "max_len", "dev_pairs", "layers", "d_model", "d_ff", "heads"):
        assert bert["config"][key] == albert["config"][key], key
    assert bert["hardware"] == albert["hardware"]


def test_finetune_record_is_complete():
    r = json.loads(FINETUNE.read_text())
    assert len(r["seeds"]) >= 3 and len(r["sizes"]) >= 3
    assert r["tasks"] == list(bert_finetune.TASKS)
    assert r["methods"] == list(bert_finetune.METHODS)
    keys = [(r_["task"], r_["method"], r_["size"], r_["seed"]) for r_ in r["runs"]]
    assert sorted(keys) == sorted((t, m, n, s) for t in r["tasks"] for m in r["methods"]
                                  for n in r["sizes"] for s in r["seeds"])
    assert all(0.0 <= r_["test_accuracy"] <= 1.0 for r_ in r["runs"])
    assert r["checkpoint"] == "ch7_bert_nsp.safetensors"


def test_chapter_settings_are_the_scripts():
    # chapter 7 states: sizes 64, 512 and 4,096; 120 updates of 16 at 2e-4; 1,000 test
    # examples; three seeds
    r = json.loads(FINETUNE.read_text())
    assert (r["sizes"], r["updates"], r["batch_size"], r["lr"], r["eval"], r["seeds"]) == \
        ([64, 512, 4096], 120, 16, 2e-4, 1000, [0, 1, 2])
    assert (bert_finetune.SIZES, bert_finetune.UPDATES, bert_finetune.LR,
            bert_finetune.EVAL) == ((64, 512, 4096), 120, 2e-4, 1000)


def test_finetune_report_is_rendered_from_the_record():
    r = json.loads(FINETUNE.read_text())
    assert FINETUNE.with_suffix(".md").read_text() == bert_finetune.render(r), \
        "rerun: python benchmarks/bert_finetune.py --jobs 2"


def test_finetune_tasks_are_balanced_and_held_out():
    import torch
    for task in bert_finetune.TASKS:
        rows = bert_finetune.examples(task, "test", torch.Generator().manual_seed(0))
        labels = [label for *_, label in rows]
        assert labels.count(0) == labels.count(1) > 100


def test_scratch_learning_rate_was_chosen_on_dev():
    # the reviewer's point: scratch gets its own rate, the dev argmax of a small sweep
    # (seed 0), and every scratch run of the table uses it
    r = json.loads(FINETUNE.read_text())
    lrs = r["scratch_lrs"]
    assert tuple(lrs) == bert_finetune.SCRATCH_LRS and r["lr"] in lrs
    assert r["dev_size"] == bert_finetune.DEV and r["sweep_cpu_minutes"] > 0
    sweep = {(t["task"], t["size"], t["lr"]): t["dev_accuracy"]
             for t in r["scratch_sweep"]}
    assert len(sweep) == len(r["scratch_sweep"])
    assert set(sweep) == {(t, n, lr) for t in r["tasks"] for n in r["sizes"]
                          for lr in lrs}
    assert all(0.0 <= acc <= 1.0 for acc in sweep.values())
    chosen = {(c["task"], c["size"]): c["lr"] for c in r["scratch_lr_chosen"]}
    assert len(chosen) == len(r["scratch_lr_chosen"])
    assert set(chosen) == {(t, n) for t in r["tasks"] for n in r["sizes"]}
    for (task, size), lr in chosen.items():
        dev = [sweep[task, size, x] for x in lrs]
        assert lr == lrs[dev.index(max(dev))], (task, size)     # ties: the smaller rate
    for run in r["runs"]:
        if run["method"] == "scratch":
            assert run["lr"] == chosen[run["task"], run["size"]], run
        else:
            assert "lr" not in run, run                          # those use r["lr"]


def test_dev_examples_are_balanced_and_enough():
    import torch
    for task in bert_finetune.TASKS:
        rows = bert_finetune.examples(task, "dev", torch.Generator().manual_seed(0))
        labels = [label for *_, label in rows]
        assert labels.count(0) == labels.count(1) >= bert_finetune.DEV // 2


def test_shared_dev_record_scores_the_committed_checkpoints():
    # Chapter 7 compares BERT's and ALBERT's MLM on this record's one dev set; it must
    # describe the files that are committed, and BERT's NSP scores must be its own record's
    # (the same pairs and masks as during training).
    shared = json.loads((ROOT / "benchmarks" / "bert" / "shared_dev.json").read_text())
    for name, scored in shared["models"].items():
        assert scored["sha256"] == file_sha256(CHECKPOINT_DIR / scored["checkpoint"]), \
            f"{name}: rerun `python tools/train_bert.py --score-committed`"
        assert set(scored["by_task"]) == {"nsp", "nsp_same_book", "sop"}
        masked = {t: s["dev_masked_tokens"] for t, s in scored["by_task"].items()}
        assert masked == {t: s["dev_masked_tokens"]
                          for t, s in shared["models"]["bert_nsp"]["by_task"].items()}
    record = json.loads((ROOT / "benchmarks" / "bert" / "bert_nsp.json").read_text())
    nsp = shared["models"]["bert_nsp"]["by_task"]["nsp"]
    assert abs(nsp["mlm_accuracy"] - record["dev_mlm_accuracy"]) < 1e-9
    assert abs(nsp["pair_accuracy"] - record["dev_pair_accuracy_by_task"]["nsp"]) < 1e-9
