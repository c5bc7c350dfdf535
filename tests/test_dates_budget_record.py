"""Chapter 4 reads benchmarks/dates_budget.json: it must be complete, match its report, and be
trained with the recipe the chapter itself uses on dates."""
import json
import sys

from attention_course.runtime import ROOT
from attention_course.train import TrainConfig

sys.path.insert(0, str(ROOT / "benchmarks"))
import dates_budget  # noqa: E402

RECORD = ROOT / "benchmarks" / "dates_budget.json"
CHAPTER = ROOT / "book" / "04_attention.ipynb"


def load():
    assert RECORD.exists(), "the record is missing: python benchmarks/dates_budget.py"
    return json.loads(RECORD.read_text())


def test_record_has_every_model_seed_curve_and_checkpoint():
    record = load()
    assert len(record["seeds"]) >= 3
    assert record["updates"] > record["chapter_updates"] == dates_budget.CHAPTER_UPDATES
    log_every = record["recipe"]["log_every"]
    expected_steps = list(range(log_every, record["updates"] + 1, log_every))
    expected_exact = [str(s) for s in dates_budget.EVAL_AT if s <= record["updates"]]
    assert str(record["chapter_updates"]) in expected_exact
    assert list(record["runs"]) == list(dates_budget.MODELS)
    for kind, runs in record["runs"].items():
        assert len(runs) == len(record["seeds"]), kind
        for r in runs:
            assert [s for s, _ in r["loss"]] == expected_steps
            assert all(0 < loss < 10 for _, loss in r["loss"])
            assert list(r["exact"]) == expected_exact
            assert all(0 <= a <= 1 for a in r["exact"].values())


def test_luong_table_has_every_score_and_reuses_the_additive_runs():
    record = load()
    assert sorted(record["luong"]) == sorted(dates_budget.SCORES)
    for accs in record["luong"].values():
        assert len(accs) == len(record["seeds"]) and all(0 <= a <= 1 for a in accs)
    step = str(record["chapter_updates"])
    assert record["luong"]["additive"] == [r["exact"][step] for r in record["runs"]["additive"]]


def test_recorded_recipe_is_the_scripts():
    record = load()
    assert record["recipe"] == dates_budget.RECIPE
    assert record["chapter_updates"] == dates_budget.CHAPTER_UPDATES


def test_scripts_recipe_is_the_chapters():
    recipe = dates_budget.RECIPE
    assert recipe["max_norm"] == TrainConfig().max_norm   # fit's default clipping, used by both
    cells = json.loads(CHAPTER.read_text())["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    for line in (
        f"make_dates({recipe['train_dates']:_}, seed={recipe['train_seed']}), "
        f"make_dates({recipe['test_dates']:_}, seed={recipe['test_seed']})",
        f"random_batches(dates_ids, batch_size={recipe['batch_size']}",
        f"embed_size={recipe['embed_size']}, hidden_size={recipe['hidden_size']}, "
        f"dropout={recipe['dropout']}",
        f"TrainConfig(num_updates={dates_budget.CHAPTER_UPDATES}, lr={recipe['lr']:.0e}, "
        f"log_every={recipe['log_every']})".replace("e-03", "e-3"),
    ):
        assert line in source, f"chapter 4 no longer trains dates with {line!r}"


def test_report_is_rendered_from_the_record():
    record = load()
    assert RECORD.with_suffix(".md").read_text() == dates_budget.render(record), \
        "rerun: " + record["command"]
