"""Chapter 4 reads benchmarks/bottleneck.json: it must be complete, match its report, and use
chapter 3's digit-reversal recipe."""
import json
import sys

import nbformat

from attention_course.runtime import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import bottleneck  # noqa: E402

RECORD = ROOT / "benchmarks" / "bottleneck.json"


def test_record_has_every_model_seed_and_length():
    record = json.loads(RECORD.read_text())
    assert len(record["seeds"]) >= 3
    assert record["models"] == list(bottleneck.MODELS)
    assert (record["train_max"], record["test_max"]) == (bottleneck.TRAIN_MAX, bottleneck.TEST_MAX)
    for name in record["models"]:
        runs = record["results"][name]
        assert len(runs) == len(record["seeds"])
        for run in runs:
            assert run["loss"][-1][0] == record["updates"]       # the same budget for both
            for score in ("exact", "digit_accuracy"):
                assert sorted(map(int, run[score])) == list(range(2, record["test_max"] + 1))
                assert all(0 <= v <= 1 for v in run[score].values())


def test_report_is_rendered_from_the_record():
    record = json.loads(RECORD.read_text())
    assert RECORD.with_suffix(".md").read_text() == bottleneck.render(record), \
        "rerun: python benchmarks/bottleneck.py"


def test_recipe_is_chapter_3s():
    """Same sizes and learning rate as chapter 3's reversal model, so the record and the
    chapters tell one story."""
    record = json.loads(RECORD.read_text())
    ch3 = "\n".join(c.source for c in nbformat.read(ROOT / "book" / "03_seq2seq.ipynb", 4).cells
                    if c.cell_type == "code")
    assert (f"embed_size={record['embed_size']}, hidden_size={record['hidden_size']}"
            in ch3.replace("\n    ", " "))
    assert "batch_size=64" in ch3 and "lr=3e-3" in ch3
