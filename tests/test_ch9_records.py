"""Chapter 9 reads its four long-context records (benchmarks/ch9_*.json, written by
benchmarks/long_context.py) and three checkpoints: the records must be complete, match
their reports, and bear out what the chapter says; the checkpoints must load and give
the records' numbers.

The claims are stated against seed noise (the standard deviation over seeds), not
against today's numbers, so that they hold for any honest rerun of the script.
"""
import json
import statistics
import sys

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from attention_course.gpt import GPT, GPTConfig
from attention_course.runtime import CHECKPOINT_DIR, ROOT
from attention_course.transformer_xl import TransformerXL, XLConfig

sys.path.insert(0, str(ROOT / "benchmarks"))
import long_context  # noqa: E402

PARTS = ("positions", "memory", "copy", "dates")
FIELDS = {"positions": ("scheme", long_context.SCHEMES),
          "memory": ("model", long_context.MEMORY_MODELS),
          "copy": ("train_memory", (0, long_context.COPY_SEGMENT)),
          "dates": ("scheme", long_context.DATE_SCHEMES)}


def record(part: str) -> dict:
    return json.loads((ROOT / "benchmarks" / f"ch9_{part}.json").read_text())


def runs(r: dict, **where) -> list[dict]:
    found = [run for run in r["runs"] if all(run[k] == v for k, v in where.items())]
    assert len(found) == len(r["seeds"]), where
    return found


def seed_zero(r: dict, **where) -> dict:
    """The run of seed 0, the one whose model is saved under checkpoints/."""
    (run,) = [run for run in runs(r, **where) if run["seed"] == 0]
    return run


def mean_sd(xs) -> tuple[float, float]:
    return statistics.mean(xs), statistics.stdev(xs)


def beyond_noise(higher, lower) -> bool:
    """mean(higher) exceeds mean(lower) by more than the sum of their seed SDs."""
    (m_h, s_h), (m_l, s_l) = mean_sd(higher), mean_sd(lower)
    return m_h - m_l > s_h + s_l


@pytest.mark.parametrize("part", PARTS)
def test_record_has_every_run_and_matches_its_report(part):
    """A record holds one run per setting and seed (>= 3 seeds) and renders its .md."""
    r = record(part)
    assert len(r["seeds"]) >= 3 and len(set(r["seeds"])) == len(r["seeds"])
    field, values = FIELDS[part]
    keys = sorted((run[field], run["seed"]) for run in r["runs"])
    assert keys == sorted((v, s) for v in values for s in r["seeds"])
    assert all(run["updates"] == r["updates"] for run in r["runs"])
    report = (ROOT / "benchmarks" / f"ch9_{part}.md").read_text()
    assert report == long_context.report(part, r), \
        f"rerun: python benchmarks/long_context.py --part {part} --jobs 2"


def test_positions_every_scheme_is_scored_at_every_length():
    """Each scheme has a bpc at each length and seed; learned none beyond training."""
    r = record("positions")
    assert r["schemes"] == list(long_context.SCHEMES)
    assert r["lengths"] == list(long_context.LENGTHS)
    assert r["segment"] in r["lengths"] and max(r["lengths"]) > r["segment"]
    for scheme in r["schemes"]:
        for run in runs(r, scheme=scheme):
            assert set(run["bpc"]) == {str(L) for L in r["lengths"]}
            for L in r["lengths"]:
                value = run["bpc"][str(L)]
                if scheme == "learned" and L > r["segment"]:
                    assert value is None, (scheme, L)
                else:
                    assert isinstance(value, float) and 0 < value < 10, (scheme, L)


def bpc(r: dict, field: str, value, key) -> list[float]:
    return [run["bpc"][str(key)] for run in runs(r, **{field: value})]


def test_positions_ranking_at_the_training_length():
    """At 64, RoPE and XL lead ALiBi and learned, which lead sinusoidal and none."""
    r = record("positions")
    at = {s: bpc(r, "scheme", s, r["segment"]) for s in r["schemes"]}
    for lead in ("xl", "rope"):
        for other in ("alibi", "learned", "sinusoidal", "none"):
            assert beyond_noise(at[other], at[lead]), (lead, other)
    for middle in ("alibi", "learned"):
        for trail in ("sinusoidal", "none"):
            assert beyond_noise(at[trail], at[middle]), (middle, trail)


def test_positions_which_schemes_extrapolate():
    """ALiBi and XL gain at 8x the training length; RoPE, sinusoids and none lose."""
    r = record("positions")
    T, longest = r["segment"], max(r["lengths"])
    for s in ("alibi", "xl"):
        assert beyond_noise(bpc(r, "scheme", s, T), bpc(r, "scheme", s, longest)), s
    for s in ("rope", "sinusoidal", "none"):
        assert beyond_noise(bpc(r, "scheme", s, longest), bpc(r, "scheme", s, T)), s
    for s in ("rope", "sinusoidal"):
        assert beyond_noise(bpc(r, "scheme", s, 2 * T), bpc(r, "scheme", s, T)), s


def test_memory_helps_beyond_seed_noise():
    """XL with an evaluation memory >= 64 beats the GPT and XL without memory."""
    r = record("memory")
    gpt = bpc(r, "model", "gpt", "none")
    xl = runs(r, model="xl")
    assert all(set(run["bpc"]) == {str(M) for M in long_context.MEMORIES} for run in xl)
    no_memory = [run["bpc"]["0"] for run in xl]
    long = [M for M in long_context.MEMORIES if M >= 64]
    assert long
    for M in long:
        with_memory = [run["bpc"][str(M)] for run in xl]
        assert beyond_noise(gpt, with_memory), M
        assert beyond_noise(no_memory, with_memory), M


def test_memory_beats_the_gpt_at_equal_compute():
    """XL with its memory beats the GPT given XL's CPU time (more updates) too."""
    r = record("memory")
    gpt_cpu = runs(r, model="gpt_equal_cpu")
    xl = runs(r, model="xl")
    # the GPT really spent about XL's CPU time, with more updates than XL
    assert all(run["updates_run"] > r["updates"] for run in gpt_cpu)
    ratio = sum(run["cpu_s"] for run in gpt_cpu) / sum(run["cpu_s"] for run in xl)
    assert 0.85 < ratio < 1.15, ratio
    with_memory = [run["bpc"][str(r["segment"])] for run in xl]
    assert beyond_noise([run["bpc"]["none"] for run in gpt_cpu], with_memory)


def test_memory_gain_is_the_memory_and_arrives_early():
    """XL's gain is mostly memory, mostly its first 16 states; past 64 only noise."""
    r = record("memory")
    gpt = statistics.mean(bpc(r, "model", "gpt", "none"))
    xl = {M: bpc(r, "model", "xl", M) for M in long_context.MEMORIES}
    mean = {M: statistics.mean(b) for M, b in xl.items()}
    trained = r["segment"]
    assert mean[0] - mean[trained] > gpt - mean[0]
    assert mean[0] - mean[16] > (mean[0] - mean[trained]) / 2
    for M in long_context.MEMORIES:
        if M > trained:
            assert not beyond_noise(xl[M], xl[trained]), M
            assert not beyond_noise(xl[trained], xl[M]), M


def test_copy_is_at_chance_below_the_segment_and_solved_from_it():
    """Memory 16 solves the copy (at chance below 16); no memory stays at chance."""
    r = record("copy")
    chance, segment = 1 / long_context.COPY_VOCAB, long_context.COPY_SEGMENT
    memories = long_context.COPY_MEMORIES
    assert min(memories) < segment <= max(memories)
    for run in runs(r, train_memory=segment):
        for M in memories:
            acc = run["accuracy"][str(M)]
            if M >= segment:
                assert acc >= 0.95, (run["seed"], M, acc)
            else:
                assert abs(acc - chance) <= 0.05, (run["seed"], M, acc)
    for run in runs(r, train_memory=0):
        for M in memories:
            assert abs(run["accuracy"][str(M)] - chance) <= 0.05, (run["seed"], M)


def test_rope_beats_learned_positions_on_shifted_dates():
    """RoPE beats learned positions beyond noise at shifts up to the longest date."""
    r = record("dates")
    rope, learned = runs(r, scheme="rope"), runs(r, scheme="learned")
    # at a shift longer than every training input (k=40; the dates have at most 29
    # characters) RoPE too converts few, as the chapter says: there the test asks
    # only that RoPE is not worse
    longest = max(run["train_chars"][1] for run in rope + learned)
    shifts = [k for k in long_context.SHIFTS if k > 0]
    assert [k for k in shifts if k <= longest]
    for k in shifts:
        ours = [run["accuracy"][str(k)] for run in rope]
        theirs = [run["accuracy"][str(k)] for run in learned]
        if k <= longest:
            assert beyond_noise(ours, theirs), k
        else:
            assert statistics.mean(ours) >= statistics.mean(theirs), k


# name: (record, run), the run whose seed 0 the checkpoint holds
CHECKPOINTS = {"ch9_gpt_rope": ("positions", "rope"), "ch9_gpt": ("memory", "gpt"),
               "ch9_xl": ("memory", "xl")}


@pytest.fixture(scope="module")
def held_out_ids():
    """The test books, as long_context.py encodes them."""
    return long_context.corpus()[2]


def load_checkpoint(name: str):
    path = CHECKPOINT_DIR / f"{name}.safetensors"
    state = load_file(str(path))
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    # metadata (long_context.save): arch "gpt" or "xl", the config as JSON, updates
    config = json.loads(meta["config"])
    model = (TransformerXL(XLConfig(**config)) if meta["arch"] == "xl"
             else GPT(GPTConfig(**config)))
    return model, state, config, meta


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_checkpoint_loads_and_is_its_records_model(name):
    """The float16 checkpoint rebuilds from its metadata and loads strictly."""
    model, state, config, meta = load_checkpoint(name)
    assert state and all(t.dtype == torch.float16 for t in state.values())
    model.load_state_dict({k: t.float() for k, t in state.items()}, strict=True)
    part, kind = CHECKPOINTS[name]
    assert meta["arch"] == ("xl" if kind == "xl" else "gpt")
    r = record(part)
    assert int(meta["updates"]) == r["updates"]
    assert {k: config[k] for k in r["size"]} == r["size"]
    if name == "ch9_xl":
        assert config["segment"] == config["memory"] == r["segment"]
    else:
        assert config["max_len"] == r["segment"]
        assert config["position"] == ("rope" if kind == "rope" else "learned")
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters == seed_zero(r, **{FIELDS[part][0]: kind})["parameters"]


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_checkpoint_gives_its_records_seed_zero_number(name, held_out_ids):
    """The checkpoint scores the bits per character its record gives for seed 0."""
    model, state, _, _ = load_checkpoint(name)
    model.load_state_dict({k: t.float() for k, t in state.items()})
    model.eval()
    r = record(CHECKPOINTS[name][0])
    if name == "ch9_gpt_rope":
        want = seed_zero(r, scheme="rope")["bpc"][str(r["segment"])]
        got = long_context.bits_per_char(model, held_out_ids, r["segment"])
    elif name == "ch9_gpt":
        want = seed_zero(r, model="gpt")["bpc"]["none"]
        got, _ = long_context.score_stream(model, held_out_ids, None)
    else:
        want = seed_zero(r, model="xl")["bpc"][str(r["segment"])]
        got, _ = long_context.score_stream(model, held_out_ids, r["segment"])
    assert abs(got - want) <= 1e-4, (got, want)
