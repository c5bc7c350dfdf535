"""Exercise 9's solution against independent implementations.

The grader compares a student's records with the *solution's* records (tests/test_grading*.py),
so the solution must itself be right. Its hidden checks cannot compare anything, so the
comparisons live here: the solution functions of solutions/09_gpt, run in this process, against
transformers' BLOOM ALiBi (built locally, nothing downloaded), complex multiplication,
chapter 9's rotate-half RoPE under a permutation of the features, a literal reading of the
nucleus definition, and PyTorch's cross-entropy. Fast (no kernel, no nbgrader).
"""
from __future__ import annotations

import math

import pytest
import torch

from grading_harness import source_notebook

TASKS = ("causal_alibi_bias", "top_p_filter", "update_memory", "apply_rope_interleaved",
         "trim_cache", "bits_per_character")


@pytest.fixture(scope="module")
def solution() -> dict:
    """The solution cells of exercise 9, executed: name -> function."""
    namespace: dict = {"math": math, "torch": torch}
    for cell in source_notebook("09_gpt").cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            exec(compile(cell.source, "<solution>", "exec"), namespace)
    return {name: namespace[name] for name in TASKS}


@pytest.mark.parametrize("num_heads", [1, 2, 3, 5, 6, 7, 8, 12, 16, 24, 32])
def test_alibi_matches_bloom(solution, num_heads):
    modeling_bloom = pytest.importorskip("transformers.models.bloom.modeling_bloom")
    T = 7
    bias = solution["causal_alibi_bias"](num_heads, T)
    # BLOOM adds m_h * j for key j (in float32): -m_h (i - j) up to m_h * i in each row
    bloom = modeling_bloom.build_alibi_tensor(torch.ones(1, T), num_heads, torch.float64)
    bloom = bloom.reshape(num_heads, 1, T).expand(num_heads, T, T)
    slopes = bloom[:, 0, 1]
    i = torch.arange(T, dtype=torch.float64)[:, None]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    expected = (bloom - slopes[:, None, None] * i).masked_fill(~causal, -math.inf)
    assert bias.dtype == torch.float32
    torch.testing.assert_close(bias.double(), expected, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("num_heads", [1, 3, 6, 8, 12])
def test_alibi_matches_the_chapter(solution, num_heads):
    from attention_course.gpt import alibi_bias, alibi_slopes
    T = 6
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    chapter = alibi_bias(alibi_slopes(num_heads), T, T).masked_fill(~causal, -math.inf)
    torch.testing.assert_close(solution["causal_alibi_bias"](num_heads, T), chapter.float())


def nucleus_by_definition(row: torch.Tensor, p: float) -> torch.Tensor:
    """One row, read off the task's text in float64: the kept tokens as a bool mask."""
    probs = torch.softmax(row.double(), dim=-1).tolist()
    order = sorted(range(len(probs)), key=lambda k: -probs[k])
    total, last = 0.0, order[-1]
    for k in order:
        total += probs[k]
        if total >= p:
            last = k
            break
    return torch.tensor([q >= probs[last] for q in probs])


def test_top_p_matches_the_definition(solution):
    top_p_filter = solution["top_p_filter"]
    g = torch.Generator().manual_seed(0)
    checked = 0
    for _ in range(200):
        V = int(torch.randint(2, 40, (1,), generator=g))
        logits = torch.randn(3, V, generator=g) * float(4 * torch.rand(1, generator=g))
        logits[0, : V // 2] = logits[0, V // 2: 2 * (V // 2)]        # ties
        p = 0.01 + 0.98 * float(torch.rand(1, generator=g))
        running = torch.softmax(logits.double(), -1).sort(-1, descending=True).values.cumsum(-1)
        if (running - p).abs().min() < 1e-6:
            continue                  # too close to call in float32: not a fair case
        filtered = top_p_filter(logits, p)
        for row, out in zip(logits, filtered):
            kept = nucleus_by_definition(row, p)
            assert torch.equal(out > -math.inf, kept)
            assert torch.equal(out[kept], row[kept])
        checked += 1
    assert checked > 150


def test_top_p_one_keeps_everything(solution):
    logits = torch.tensor([[0.0, -30.0, -60.0, -90.0, -200.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    assert torch.equal(solution["top_p_filter"](logits, 1.0), logits)


def test_memory_matches_the_chapter_where_both_apply(solution):
    from attention_course.transformer_xl import update_memory
    memory, hidden = torch.randn(2, 3, 4), torch.randn(2, 5, 4, requires_grad=True)
    for length in range(0, 9):      # up to M + T (beyond it the two may differ)
        mine = solution["update_memory"](memory, hidden, length)
        assert torch.equal(mine, update_memory(memory, hidden, length))
        assert not mine.requires_grad and mine.grad_fn is None


@pytest.mark.parametrize("d", [2, 4, 8, 16])
def test_rope_is_complex_multiplication(solution, d):
    x = torch.randn(2, 3, 7, d, dtype=torch.float64)
    positions = torch.tensor([0, 3, 4, 9, 20, 21, 100])
    for base in (10000.0, 500.0):
        theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
        turn = torch.polar(torch.ones(7, d // 2, dtype=torch.float64),
                           positions[:, None].double() * theta)
        z = torch.view_as_complex(x.reshape(2, 3, 7, d // 2, 2).contiguous())
        expected = torch.view_as_real(z * turn).flatten(-2)
        got = solution["apply_rope_interleaved"](x, positions, base)
        torch.testing.assert_close(got, expected, atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("d", [4, 8, 64])
def test_rope_is_the_chapters_up_to_a_permutation(solution, d):
    from attention_course.gpt import apply_rope, rope_angles
    x = torch.randn(2, 3, 9, d)
    order = torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])
    cos, sin = rope_angles(9, d)
    ours = solution["apply_rope_interleaved"](x, torch.arange(9))
    torch.testing.assert_close(ours[..., order], apply_rope(x[..., order], cos, sin),
                               atol=1e-5, rtol=1e-5)


def test_trim_cache_keeps_the_last_positions(solution):
    cache = [(torch.randn(2, 3, 7, 4), torch.randn(2, 3, 7, 4)) for _ in range(3)]
    for window in range(1, 10):
        trimmed = solution["trim_cache"](cache, window)
        for (k, v), (k_all, v_all) in zip(trimmed, cache, strict=True):
            assert torch.equal(k, k_all[:, :, max(0, 7 - window):])
            assert torch.equal(v, v_all[:, :, max(0, 7 - window):])


def test_bits_per_character_is_cross_entropy_over_ln2(solution):
    logits, targets = 3 * torch.randn(3, 4, 9), torch.randint(0, 9, (3, 4))
    nats = torch.nn.functional.cross_entropy(logits.reshape(-1, 9), targets.reshape(-1))
    torch.testing.assert_close(solution["bits_per_character"](logits, targets),
                               nats / math.log(2))
