"""Exercise 11's solution against independent computations.

The grader compares a student's records with the *solution's* records
(tests/test_grading*.py), so the solution must itself be right. Its hidden checks cannot
compare anything, so the comparisons live here: the solution functions of
solutions/11_hierarchical, run in this process, against the definitions read literally
(Python loops over real positions, math.exp, exact fractions), autograd's gradcheck, the
unpadded computation of each passage, torch.nn.functional.softmax on the real entries
only, and word-level gradient × input from autograd on a small embedding model, against
a Python loop over the real words and against the exact change of a linear score when a
verse's words are zeroed. The setup cell's genres are attention_course.documents'.
Fast (no kernel, no nbgrader).
"""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch

from attention_course import documents
from grading_harness import source_notebook

TASKS = ("attention_pool", "hierarchical_pool", "erase_top_verse",
         "planted_peak_accuracy", "word_gradient_input", "majority_baseline")


def setup_namespace() -> dict:
    """What the exercise's setup cell defines (the cell after the install cell)."""
    cells = [c for c in source_notebook("11_hierarchical").cells
             if c.cell_type == "code"]
    assert "course-install" in cells[0].metadata.get("tags", [])
    namespace: dict = {}
    exec(compile(cells[1].source, "<setup>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def solution() -> dict:
    """The solution cells of exercise 11, run after its setup cell: name -> function."""
    namespace = setup_namespace()
    for cell in source_notebook("11_hierarchical").cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            exec(compile(cell.source, "<solution>", "exec"), namespace)
    return {name: namespace[name] for name in TASKS}


def test_the_setup_cell_names_the_chapters_genres():
    assert setup_namespace()["GENRE_NAMES"] == documents.GENRE_NAMES
    code = [c.source for c in source_notebook("11_hierarchical").cells
            if c.cell_type == "code" and c.id != "course-install"]      # what runs
    assert not any("attention_course" in line and "import" in line
                   for source in code for line in source.splitlines())


def random_mask(g, shape, p=0.6) -> torch.Tensor:
    return torch.rand(shape, generator=g) < p


# ----------------------------------------------------------------------- attention_pool
def pool_by_loops(h, u, context, mask):
    """The definition read literally, in Python floats: softmax over real positions."""
    B, T, D = h.shape
    pooled = [[0.0] * D for _ in range(B)]
    weights = [[0.0] * T for _ in range(B)]
    for b in range(B):
        real = [t for t in range(T) if mask[b, t]]
        if not real:
            continue
        scores = {t: sum(float(u[b, t, a]) * float(context[a])
                         for a in range(len(context))) for t in real}
        top = max(scores.values())
        total = sum(math.exp(s - top) for s in scores.values())
        for t in real:
            weights[b][t] = math.exp(scores[t] - top) / total
            for d in range(D):
                pooled[b][d] += weights[b][t] * float(h[b, t, d])
    return torch.tensor(pooled, dtype=torch.float64), torch.tensor(weights,
                                                                   dtype=torch.float64)


@pytest.mark.parametrize("seed", range(4))
def test_attention_pool_is_the_definition(solution, seed):
    g = torch.Generator().manual_seed(seed)
    B, T, D, A = 4, 7, 3, 5
    h = 1e3 * torch.randn(B, T, D, generator=g, dtype=torch.float64)
    u = torch.tanh(torch.randn(B, T, A, generator=g, dtype=torch.float64))
    context = 3 * torch.randn(A, generator=g, dtype=torch.float64)
    mask = random_mask(g, (B, T))
    mask[0] = False                                         # a row of padding only
    pooled, weights = solution["attention_pool"](h, u, context, mask)
    expected_pooled, expected_weights = pool_by_loops(h, u, context, mask)
    assert pooled.dtype == weights.dtype == torch.float64
    torch.testing.assert_close(weights, expected_weights, atol=1e-12, rtol=0)
    torch.testing.assert_close(pooled, expected_pooled, atol=1e-9, rtol=1e-12)
    assert (weights[~mask] == 0).all() and (pooled[0] == 0).all()


def test_attention_pool_gradients(solution):
    g = torch.Generator().manual_seed(9)
    h = torch.randn(3, 4, 2, generator=g, dtype=torch.float64, requires_grad=True)
    u = torch.randn(3, 4, 3, generator=g, dtype=torch.float64, requires_grad=True)
    context = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]]).bool()

    def both(h, u, context):
        return solution["attention_pool"](h, u, context, mask)

    assert torch.autograd.gradcheck(both, (h, u, context))
    pooled, weights = both(h, u, context)
    (pooled.sum() + (weights ** 2).sum()).backward()
    for grad in (h.grad, u.grad, context.grad):
        assert torch.isfinite(grad).all()
    assert (h.grad[~mask] == 0).all() and (u.grad[~mask] == 0).all()


def test_attention_pool_matches_softmax_on_real_positions(solution):
    g = torch.Generator().manual_seed(3)
    h, u = torch.randn(1, 6, 4, generator=g), torch.randn(1, 6, 2, generator=g)
    context = torch.randn(2, generator=g)
    mask = torch.tensor([[False, True, True, False, True, False]])
    pooled, weights = solution["attention_pool"](h, u, context, mask)
    real = torch.softmax(u[0, mask[0]] @ context, dim=0)
    torch.testing.assert_close(weights[0, mask[0]], real)
    torch.testing.assert_close(pooled[0], real @ h[0, mask[0]])


def test_attention_pool_runs_on_meta(solution):
    pooled, weights = solution["attention_pool"](
        torch.empty(2, 5, 3, device="meta"), torch.empty(2, 5, 4, device="meta"),
        torch.empty(4, device="meta"),
        torch.empty(2, 5, dtype=torch.bool, device="meta"))
    assert pooled.shape == (2, 3) and weights.shape == (2, 5)
    assert pooled.device.type == weights.device.type == "meta"


def test_attention_pool_refuses_bad_shapes(solution):
    h, u = torch.zeros(2, 3, 4), torch.zeros(2, 3, 5)
    c, m = torch.zeros(5), torch.ones(2, 3, dtype=torch.bool)
    for args in ((h, u, c, m[:, :2]), (h, u, c[:4], m), (h, u[:, :2], c, m),
                 (h[0], u[0], c, m[0]), (h, u, c[None], m)):
        with pytest.raises(ValueError, match="attention_pool"):
            solution["attention_pool"](*args)


# -------------------------------------------------------------------- hierarchical_pool
def softmax_pool(values, scores):
    """Plain softmax pooling of unpadded rows: values (N, D), scores (N,)."""
    weights = torch.softmax(scores, dim=0)
    return weights @ values, weights


@pytest.mark.parametrize("seed", range(4))
def test_hierarchical_pool_is_each_passage_unpadded(solution, seed):
    # every passage computed alone from its real verses and words, with no mask at all
    g = torch.Generator().manual_seed(100 + seed)
    B, S, T, D = 5, 4, 6, 3
    words = torch.randn(B, S, T, D, generator=g, dtype=torch.float64)
    mask = random_mask(g, (B, S, T), p=0.5)
    mask[1, 2] = False                                      # a padded verse
    mask[4] = False                                         # a passage of padding only
    junk = words.masked_fill(~mask[..., None], 1e4)
    c_w = torch.randn(D, generator=g, dtype=torch.float64)
    c_v = torch.randn(D, generator=g, dtype=torch.float64)
    passage, word_weights, verse_weights = solution["hierarchical_pool"](
        junk, mask, c_w, c_v)
    for n in range(B):
        verses, kept = [], []
        for j in range(S):
            real = mask[n, j]
            if not real.any():
                assert (word_weights[n, j] == 0).all() and verse_weights[n, j] == 0
                continue
            vector, w = softmax_pool(words[n, j, real], words[n, j, real] @ c_w)
            torch.testing.assert_close(word_weights[n, j, real], w)
            assert (word_weights[n, j, ~real] == 0).all()
            verses.append(vector)
            kept.append(j)
        if not verses:
            assert (passage[n] == 0).all() and (verse_weights[n] == 0).all()
            continue
        stacked = torch.stack(verses)
        expected, v = softmax_pool(stacked, stacked @ c_v)
        torch.testing.assert_close(verse_weights[n, kept], v)
        torch.testing.assert_close(passage[n], expected)


def test_hierarchical_pool_is_attention_pool_twice(solution):
    # with u = h (keys the states themselves), both levels are task 1's pooling
    g = torch.Generator().manual_seed(7)
    words = torch.randn(3, 4, 5, 6, generator=g)
    mask = random_mask(g, (3, 4, 5))
    c_w, c_v = torch.randn(6, generator=g), torch.randn(6, generator=g)
    passage, word_weights, verse_weights = solution["hierarchical_pool"](words, mask,
                                                                         c_w, c_v)
    flat = words.reshape(12, 5, 6)
    verses, ww = solution["attention_pool"](flat, flat, c_w, mask.reshape(12, 5))
    verses = verses.reshape(3, 4, 6)
    p, vw = solution["attention_pool"](verses, verses, c_v, mask.any(-1))
    torch.testing.assert_close(word_weights, ww.reshape(3, 4, 5))
    torch.testing.assert_close(verse_weights, vw)
    torch.testing.assert_close(passage, p)


def test_hierarchical_pool_refuses_bad_shapes(solution):
    w, c = torch.zeros(2, 3, 4, 5), torch.zeros(5)
    m = torch.ones(2, 3, 4, dtype=torch.bool)
    for args in ((w[0], m[0], c, c), (w, m[..., :3], c, c), (w, m, c[:4], c),
                 (w, m, c, c[None])):
        with pytest.raises(ValueError, match="hierarchical_pool"):
            solution["hierarchical_pool"](*args)


# ---------------------------------------------------------------------- erase_top_verse
def test_erase_top_verse_by_loops(solution):
    g = torch.Generator().manual_seed(11)
    B, S, D, C = 8, 6, 4, 7
    vectors = torch.randn(B, S, D, generator=g)
    torch.manual_seed(0)
    classifier = torch.nn.Linear(D, C)
    calls = []

    def probs(mask):
        calls.append(mask.clone())
        kept = vectors * mask[..., None]
        mean = kept.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
        return torch.softmax(classifier(mean), -1)

    mask = random_mask(g, (B, S))
    mask[:, 2] = True                                       # a real verse in each
    weights = torch.rand(B, S, generator=g)
    weights[0, [1, 2, 4]] = 2.0                  # ties (verse 1 may be padding)
    labels = torch.randint(0, C, (B,), generator=g)
    before = mask.clone()
    drop = solution["erase_top_verse"](probs, mask, weights, labels)
    assert torch.equal(mask, before) and not drop.requires_grad
    for n in range(B):
        real = [s for s in range(S) if mask[n, s]]
        top = max(real, key=lambda s: (float(weights[n, s]), -s))   # first of ties
        erased = mask[n:n + 1].clone()
        erased[0, top] = False
        with torch.no_grad():
            full = probs(mask)[n, labels[n]]
            cut = probs(mask.clone().index_put_((torch.tensor([n]),), erased[0]))[
                n, labels[n]]
        assert float(drop[n]) == pytest.approx(float(full - cut), abs=1e-6)


def test_erase_top_verse_refuses(solution):
    mask = torch.tensor([[True, False], [False, False]])
    with pytest.raises(ValueError, match="erase_top_verse"):
        solution["erase_top_verse"](lambda m: torch.ones(2, 3) / 3, mask,
                                    torch.rand(2, 2), torch.tensor([0, 1]))


# ---------------------------------------------------------------- planted_peak_accuracy
def test_planted_peak_accuracy_is_the_definition(solution):
    g = torch.Generator().manual_seed(12)
    B, S = 60, 7
    lengths = torch.randint(1, S + 1, (B,), generator=g)
    mask = torch.arange(S)[None, :] < lengths[:, None]
    weights = torch.rand(B, S, generator=g).round(decimals=1)      # ties happen
    weights[~mask] = 5.0
    planted = (torch.rand(B, generator=g) * lengths).long()
    accuracy, chance = solution["planted_peak_accuracy"](weights, mask, planted)
    assert type(accuracy) is float and type(chance) is float
    hits = 0
    for n in range(B):
        real = [s for s in range(S) if mask[n, s]]
        peak = max(real, key=lambda s: (float(weights[n, s]), -s))
        hits += peak == int(planted[n])
    exact_chance = sum(Fraction(1, int(k)) for k in lengths) / B
    assert accuracy == pytest.approx(hits / B, abs=1e-12)
    assert chance == pytest.approx(float(exact_chance), abs=1e-12)


def test_planted_peak_accuracy_refuses(solution):
    weights, mask = torch.rand(2, 3), torch.tensor([[True, True, False], [True] * 3])
    for planted in ([0, 3], [-1, 0], [2, 0]):
        with pytest.raises(ValueError, match="planted_peak_accuracy"):
            solution["planted_peak_accuracy"](weights, mask, torch.tensor(planted))


# ------------------------------------------------------------------ word_gradient_input
def word_attribution_by_loops(x, g, mask):
    """The definition read literally: per verse, the sum over its real words and the
    features of x * g in Python floats; -inf for a verse with no real word."""
    B, S, T, D = x.shape
    out = [[float("-inf")] * S for _ in range(B)]
    for b in range(B):
        for s in range(S):
            real = [t for t in range(T) if mask[b, s, t]]
            if real:
                out[b][s] = sum(float(x[b, s, t, d]) * float(g[b, s, t, d])
                                for t in real for d in range(D))
    return torch.tensor(out, dtype=torch.float64)


def tiny_model(dtype, V: int = 11, D: int = 5, C: int = 3):
    """A word embedding and a small classifier that reads the padding too, so that the
    gradients at padded words are not zero: (embedding, log_prob), log_prob(x, mask,
    labels) the true class's log-probability of each passage from its embedded words
    x (B, S, T, D)."""
    torch.manual_seed(1)
    embedding = torch.nn.Embedding(V, D).to(dtype)
    hidden, head = torch.nn.Linear(D, 4).to(dtype), torch.nn.Linear(4, C).to(dtype)

    def log_prob(x, mask, labels):
        h = torch.tanh(hidden(x))                                   # (B, S, T, 4)
        real = mask[..., None].to(dtype)
        pooled = (h * real).sum((1, 2)) + 0.3 * (h * (1 - real)).sum((1, 2))
        return head(pooled).log_softmax(-1).gather(1, labels[:, None])[:, 0]

    return embedding, log_prob


@pytest.mark.parametrize("dtype", (torch.float32, torch.float64))
def test_word_gradient_input_is_autograds_gradient_times_input(solution, dtype):
    # the gradient of the true class's log-probability with respect to the word
    # embeddings, from autograd; each verse's attribution is the loops' definition
    g = torch.Generator().manual_seed(13)
    B, S, T = 3, 4, 5
    embedding, log_prob = tiny_model(dtype)
    ids = torch.randint(0, 11, (B, S, T), generator=g)
    mask = random_mask(g, (B, S, T))
    mask[0, 1] = False                                      # an empty middle verse
    mask[0, 2, 0] = True                                    # with a real verse after it
    mask[2] = True                                          # every word real
    labels = torch.randint(0, 3, (B,), generator=g)
    x = embedding(ids).detach().requires_grad_()
    (grads,) = torch.autograd.grad(log_prob(x, mask, labels).sum(), x)
    x = x.detach()
    assert (grads[~mask] != 0).any()                        # padding gets gradients
    before = (x.clone(), grads.clone(), mask.clone())
    got = solution["word_gradient_input"](x, grads, mask)
    assert got.shape == (B, S) and got.dtype == dtype
    assert all(torch.equal(a, b) for a, b in zip(before, (x, grads, mask)))
    expected = word_attribution_by_loops(x, grads, mask)
    assert torch.equal(torch.isinf(got), ~mask.any(-1)) and got[0, 1] == float("-inf")
    real = mask.any(-1)
    torch.testing.assert_close(got[real].double(), expected[real],
                               atol=1e-6 if dtype == torch.float32 else 1e-12,
                               rtol=1e-5 if dtype == torch.float32 else 1e-12)


def test_word_gradient_input_is_the_change_of_a_linear_score(solution):
    # first order is exact for a score linear in the word vectors: a verse's attribution
    # is the change of the true class's score when its real words are replaced by zeros
    # (the padding, which this score reads too, left as it is)
    g = torch.Generator().manual_seed(14)
    B, S, T, D, C = 3, 4, 5, 6, 3
    x = torch.randn(B, S, T, D, generator=g, dtype=torch.float64, requires_grad=True)
    mask = random_mask(g, (B, S, T))
    mask[1, 0] = False
    torch.manual_seed(2)
    head = torch.nn.Linear(D, C).double()
    pad_head = torch.nn.Linear(D, C).double()
    labels = torch.randint(0, C, (B,), generator=g)

    def score(x):
        real = mask[..., None].double()
        logits = head((x * real).sum((1, 2))) + pad_head((x * (1 - real)).sum((1, 2)))
        return logits.gather(1, labels[:, None])[:, 0]               # (B,)

    (grads,) = torch.autograd.grad(score(x).sum(), x)
    x = x.detach()
    got = solution["word_gradient_input"](x, grads, mask)
    with torch.no_grad():
        for s in range(S):
            zeroed = x.clone()
            zeroed[:, s][mask[:, s]] = 0.0
            change = score(x) - score(zeroed)                        # (B,)
            real = mask[:, s].any(-1)
            torch.testing.assert_close(got[real, s], change[real], atol=1e-12,
                                       rtol=1e-10)
            assert (got[~real, s] == float("-inf")).all()


def test_word_gradient_input_refuses_bad_shapes(solution):
    x, m = torch.zeros(2, 3, 4, 5), torch.ones(2, 3, 4, dtype=torch.bool)
    for args in ((x, x[..., :4], m), (x, x, m[..., :3]), (x, x, m[..., 0]),
                 (x[0], x[0], m[0]), (x, x[None], m)):
        with pytest.raises(ValueError, match="word_gradient_input"):
            solution["word_gradient_input"](*args)


# -------------------------------------------------------------------- majority_baseline
@pytest.mark.parametrize("seed", range(5))
def test_majority_baseline_by_counting(solution, seed):
    g = torch.Generator().manual_seed(seed)
    train = torch.randint(0, 7, (int(torch.randint(1, 40, (1,), generator=g)),),
                          generator=g)
    test = torch.randint(0, 7, (25,), generator=g)
    counts = {k: train.tolist().count(k) for k in set(train.tolist())}
    majority = min(counts, key=lambda k: (-counts[k], k))
    got = solution["majority_baseline"](train, test)
    assert type(got) is float
    assert got == pytest.approx(test.tolist().count(majority) / 25, abs=1e-12)


def test_majority_baseline_on_the_chapters_passages(solution):
    # the baseline of the real training passages, scored on their test split
    train = documents.make_passages("train").labels
    test = documents.make_passages("test").labels
    got = solution["majority_baseline"](train, test)
    majority = int(torch.bincount(train).argmax())
    assert got == pytest.approx(float((test == majority).double().mean()))
    assert got > 1 / len(documents.GENRE_NAMES)


def test_majority_baseline_refuses_empty_labels(solution):
    empty = torch.tensor([], dtype=torch.long)
    for train, test in ((empty, torch.tensor([1])), (torch.tensor([1]), empty)):
        with pytest.raises(ValueError, match="majority_baseline"):
            solution["majority_baseline"](train, test)
