"""Chapter 10's records (benchmarks/ch10_*.json, `make train-ch10`) are complete, their
reports are rendered from them, they bear out what the chapter says beyond seed noise,
and the committed checkpoints are the seed-0 models the record scored."""
import json
import statistics
import sys

import pytest

from book_fixtures import ROOT
from record_stats import high, low, values

sys.path.insert(0, str(ROOT / "benchmarks"))
import captioning as bench  # noqa: E402

from attention_course.captioning import (CaptionVocab, caption_scenes,  # noqa: E402
                                         load_captioner)
from attention_course.scenes import make_scenes  # noqa: E402

PARTS = ("attention", "hard", "transfer")


def record(part):
    return json.loads((ROOT / "benchmarks" / f"ch10_{part}.json").read_text())


def runs(part, **where):
    return [r for r in record(part)["runs"]
            if all(r[k] == v for k, v in where.items())]


@pytest.mark.parametrize("part", PARTS)
def test_record_is_complete_and_its_report_is_rendered_from_it(part):
    rec = record(part)
    assert list(rec)[:3] == ["date", "hardware", "torch"]
    assert rec["seeds"] == list(bench.SEEDS) and rec["updates"] == bench.UPDATES[part]
    keys = {(r["attention"], r["lam"], r["pool"], r["encoder"], r["train_scenes"],
             r["seed"]) for r in rec["runs"]}
    assert len(keys) == len(rec["runs"])
    per_model = {"attention": 4, "hard": 1, "transfer": 6}[part]
    assert len(rec["runs"]) == per_model * len(bench.SEEDS)
    for r in rec["runs"]:
        assert set(r["test"]["by_items"]) == {"2", "3", "4"}
        assert r["test"]["by_items"]["2"]["n"] + r["test"]["by_items"]["3"]["n"] + \
            r["test"]["by_items"]["4"]["n"] == bench.TEST_SCENES
        assert r["curve"][-1][0] == rec["updates"]
        assert ("pointing" in r) == (r["attention"] != "none")
    report = (ROOT / "benchmarks" / f"ch10_{part}.md").read_text()
    assert report == bench.report(part, rec)


def test_soft_attention_points_at_the_item_beyond_seed_noise():
    """The issue's bar: the pointing game above the uniform baseline, every seed."""
    for lam in (0.0, 1.0):
        rs = runs("attention", attention="soft", lam=lam)
        hits, uniform = values(rs, "pointing", "hits"), values(rs, "pointing", "uniform")
        assert low(hits) > high(uniform) + 0.2, (lam, hits, uniform)


def test_attention_against_no_attention_by_number_of_items():
    """The record compares the two by number of items, three seeds each."""
    soft = runs("attention", attention="soft", lam=0.0)
    show_tell = runs("attention", attention="none", pool=1)
    assert len(soft) == len(show_tell) == 3
    for k in ("2", "3", "4"):
        assert all(r["test"]["by_items"][k]["n"] > 100 for r in soft + show_tell)


def test_the_committed_checkpoints_are_the_scored_seed_0_models():
    """Each checkpoint captions the first test scenes as its record says it did."""
    vocab = CaptionVocab()
    test = make_scenes(8, "test", seed=0)
    for name, where in (("soft", dict(attention="soft", lam=0.0)),
                        ("none", dict(attention="none", pool=1))):
        run = runs("attention", seed=0, **where)[0]
        model = load_captioner(ROOT / "checkpoints" / f"ch10_{name}.safetensors")
        captions, _ = caption_scenes(model, test.images, vocab)
        assert captions == run["examples"], name


def test_hard_attention_baseline_reduces_the_gradient_variance():
    for r in runs("hard", attention="hard"):
        g = r["gradient"]
        assert g["baseline"]["variance"] < g["no_baseline"]["variance"], r["seed"]


def test_the_chapter_claims_on_attention_and_hard_attention_hold():
    """What the prose says: soft attention ahead of Show and Tell beyond seed noise,
    Show and Tell losing a larger share of its score from two items to four, and every
    hard-attention seed below every soft-attention seed at every evaluation."""
    soft = runs("attention", attention="soft", lam=0.0)
    exact = values(soft, "test", "exact")
    for pool in (1, 2):
        show_tell = runs("attention", attention="none", pool=pool)
        assert low(exact) > high(values(show_tell, "test", "exact")), pool

    def keep(rs):
        two = statistics.mean(values(rs, "test", "by_items", "2", "exact"))
        return statistics.mean(values(rs, "test", "by_items", "4", "exact")) / two
    assert keep(soft) > keep(runs("attention", attention="none", pool=2))
    hard = runs("hard", attention="hard")
    for i in range(len(soft[0]["curve"])):
        assert min(r["curve"][i][1] for r in soft) > max(r["curve"][i][1] for r in hard)
