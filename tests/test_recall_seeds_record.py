"""Chapter 2 reads benchmarks/recall_seeds.json: it must be complete and match its report."""
import json
import sys

from attention_course.runtime import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import recall_seeds  # noqa: E402

RECORD = ROOT / "benchmarks" / "recall_seeds.json"


def test_record_has_every_model_length_seed_and_step():
    record = json.loads(RECORD.read_text())
    assert len(record["seeds"]) >= 3
    assert record["models"] == list(recall_seeds.MODELS)
    assert record["lengths"] == list(recall_seeds.LENGTHS)
    train = recall_seeds.TRAIN
    assert record["steps"] == list(range(train.log_every, train.num_updates + 1,
                                         train.log_every))
    for name in recall_seeds.MODELS:
        for T in recall_seeds.LENGTHS:
            curves = record["results"][name][str(T)]
            assert len(curves) == len(record["seeds"])
            for curve in curves:
                assert len(curve) == len(record["steps"]) and all(0 <= a <= 1 for a in curve)


def test_chapter_settings_are_the_scripts():
    # the chapter trains 200 updates at lr 0.01, clipped at 1, on lengths 8 ... 64
    train = recall_seeds.TRAIN
    assert (train.num_updates, train.lr, train.max_norm) == (200, 1e-2, 1.0)
    assert recall_seeds.LENGTHS[:4] == (8, 16, 32, 64)


def test_report_is_rendered_from_the_record():
    record = json.loads(RECORD.read_text())
    assert RECORD.with_suffix(".md").read_text() == recall_seeds.render(record), \
        "rerun: python benchmarks/recall_seeds.py"
