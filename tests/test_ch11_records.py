"""Chapter 11's records (benchmarks/ch11_*.json, `make train-ch11`) are complete, their
reports are rendered from them, they bear out what the chapter says beyond seed noise,
and the committed checkpoints are the seed-0 models the records scored."""
import json
import statistics
import sys

import pytest

from book_fixtures import ROOT
from record_stats import high, low, values

sys.path.insert(0, str(ROOT / "benchmarks"))
import hierarchical as bench  # noqa: E402

from attention_course.documents import make_passages, make_planted  # noqa: E402
from attention_course.hierarchical import (WordVocab, accuracy,  # noqa: E402
                                           encode_passages, load_classifier,
                                           peak_accuracy, predict)

UNSEEN = ("asv", "kjv", "ylt")


def record(part):
    return json.loads((ROOT / "benchmarks" / f"ch11_{part}.json").read_text())


def runs(part, model):
    return [r for r in record(part)["runs"] if r["model"] == model]


@pytest.mark.parametrize("part", tuple(bench.PARTS))
def test_record_is_complete_and_its_report_is_rendered_from_it(part):
    rec = record(part)
    assert list(rec)[:3] == ["date", "hardware", "torch"]
    assert rec["seeds"] == list(bench.SEEDS)
    assert {(r["model"], r["seed"]) for r in rec["runs"]} == {
        (m, s) for m in bench.PARTS[part] for s in bench.SEEDS}
    assert len(rec["runs"]) == len(bench.PARTS[part]) * len(bench.SEEDS)
    for r in rec["runs"]:
        assert r["epochs"] == rec["epochs"] == len(r["history"])
        assert set(r["test"]) == ({"web", *UNSEEN} if part == "genre" else {"web"})
        if r["model"] == "han":
            erase = r["faithfulness"]["erase"]
            want = {"attention", "random", "gradient"} | (
                {"planted"} if part == "planted" else set())
            assert set(erase) == want
            assert set(r["faithfulness"]["replace"]) == {"shuffle", "uniform"}
    report = (ROOT / "benchmarks" / f"ch11_{part}.md").read_text()
    assert report == bench.report(part, rec)


def test_the_committed_checkpoints_are_the_scored_seed_0_models():
    vocab = WordVocab(make_passages("train"))
    test = encode_passages(make_passages("test"), vocab)
    model = load_classifier(ROOT / "checkpoints" / "ch11_genre.safetensors")
    seed0 = runs("genre", "han")[0]
    assert seed0["seed"] == 0
    assert accuracy(predict(model, test).probs, test.labels) == pytest.approx(
        seed0["test"]["web"]["accuracy"], abs=1e-6)
    vocab = WordVocab(make_planted("train", seed=bench.PLANT_SEED))
    test = encode_passages(make_planted("test", seed=bench.PLANT_SEED), vocab)
    model = load_classifier(ROOT / "checkpoints" / "ch11_planted.safetensors")
    seed0 = runs("planted", "han")[0]
    p = predict(model, test)
    assert accuracy(p.probs, test.labels) == pytest.approx(
        seed0["test"]["web"]["accuracy"], abs=1e-6)
    hits, chance = peak_accuracy(p.verse_weights, test.verse_mask, test.planted)
    assert hits == pytest.approx(seed0["peak"]["accuracy"], abs=1e-6)
    assert chance == pytest.approx(seed0["peak"]["chance"], abs=1e-6)


def test_genre_claims_hold_beyond_seed_noise():
    acc = {m: {c: values(runs("genre", m), "test", c, "accuracy")
               for c in ("web", *UNSEEN)} for m in bench.PARTS["genre"]}
    # the bag of words ahead of every recurrent model, in every translation
    for m in ("flat", "han_mean", "han"):
        for c in ("web", *UNSEEN):
            assert low(acc["bow"][c]) > high(acc[m][c]), (m, c)
    # the hierarchy ahead of the flat GRU on the WEB; attention no better than mean
    assert low(acc["han"]["web"]) > high(acc["flat"]["web"])
    assert low(acc["han_mean"]["web"]) > high(acc["flat"]["web"])
    assert abs(statistics.mean(acc["han"]["web"])
               - statistics.mean(acc["han_mean"]["web"])) < statistics.stdev(
        acc["han"]["web"])
    # every run loses accuracy in every translation it never saw
    for m in acc:
        for c in UNSEEN:
            assert all(u < w for u, w in zip(acc[m][c], acc[m]["web"])), (m, c)


def test_erasure_claims_hold_beyond_seed_noise():
    rs = runs("genre", "han")
    drop = {k: values(rs, "faithfulness", "erase", k, "drop")
            for k in ("attention", "random", "gradient")}
    assert low(drop["attention"]) > high(drop["random"])
    assert low(drop["gradient"]) > high(drop["attention"])
    for how in ("shuffle", "uniform"):
        changed = values(rs, "faithfulness", "replace", how, "changed")
        assert max(changed) < 0.1


def test_planted_claims_hold_beyond_seed_noise():
    rs = runs("planted", "han")
    peak = values(rs, "peak", "accuracy")
    chance = rs[0]["peak"]["chance"]
    # the bar of the chapter: the attention peak on the planted verse above chance
    assert low(peak) > chance and min(peak) > 2 * chance
    assert all("peak" not in r for r in runs("planted", "han_mean"))
    drop = {k: values(rs, "faithfulness", "erase", k, "drop")
            for k in ("attention", "random", "gradient", "planted")}
    assert low(drop["attention"]) > high(drop["random"])
    assert low(drop["planted"]) > high(drop["random"])
    # erasing the most-attended verse is close to erasing the planted one
    assert abs(statistics.mean(drop["attention"]) - statistics.mean(drop["planted"])) \
        < statistics.stdev(drop["planted"])
    # replacing the attention matters here, unlike on the genre task
    planted_changed = values(rs, "faithfulness", "replace", "shuffle", "changed")
    genre_changed = values(runs("genre", "han"), "faithfulness", "replace", "shuffle",
                           "changed")
    assert low(planted_changed) > high(genre_changed)
    shuffled = values(rs, "faithfulness", "replace", "shuffle", "accuracy")
    assert max(shuffled) < min(values(rs, "test", "web", "accuracy"))


def test_shuffled_attention_falls_below_the_planted_majority():
    train = make_planted("train", seed=bench.PLANT_SEED).labels
    test = make_planted("test", seed=bench.PLANT_SEED).labels
    majority = (test == train.bincount().argmax()).float().mean().item()
    rs = runs("planted", "han")
    assert min(values(rs, "test", "web", "accuracy")) > majority
    assert max(values(rs, "faithfulness", "replace", "shuffle", "accuracy")) < majority
