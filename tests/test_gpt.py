"""Chapter 9's GPT (attention_course.gpt) and Transformer-XL
(attention_course.transformer_xl): parity with transformers' GPT-2, Llama's rotary
embedding and BLOOM's ALiBi slopes, the key-value cache, causality, the sampling
filters, and Transformer-XL's relative shift and memory.

Models are small and built with random weights (no download). `lively` gives the weights
order-one values, so that a wrong position, mask or cache would show in the logits.
"""
import os

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from attention_course.gpt import (GPT, POSITIONS, GPTConfig, alibi_bias, alibi_slopes,
                                  apply_rope, copy_weights_from_hf_gpt2, generate,
                                  rope_angles, sample_next, top_k_filter, top_p_filter)
from attention_course.transformer_xl import (TransformerXL, XLConfig, rel_shift,
                                             relative_scores_naive, update_memory)

os.environ["HF_HUB_OFFLINE"] = "1"

V = 23
ATOL = 1e-5


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()


def lively(model: nn.Module, seed: int = 0) -> nn.Module:
    """Add N(0, 0.3^2) to every parameter and switch to eval mode."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g))
    return model.eval()


def small_gpt(position: str, context: int = 16, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    cfg = GPTConfig(vocab_size=V, max_len=context, d_model=16, num_heads=2,
                    num_layers=2, position=position)
    return lively(GPT(cfg), seed)


def small_xl(memory: int = 6, segment: int = 6, seed: int = 0) -> TransformerXL:
    torch.manual_seed(seed)
    cfg = XLConfig(vocab_size=V, segment=segment, memory=memory, d_model=16,
                   num_heads=2, num_layers=2)
    return lively(TransformerXL(cfg), seed)


def random_ids(*shape, seed: int = 1):
    return torch.randint(0, V, shape, generator=torch.Generator().manual_seed(seed))


# ---------------------------------------------------------------- GPT-2 parity
def test_gpt_equals_transformers_gpt2():
    """Weights copied from GPT2LMHeadModel give the same logits (1e-5)."""
    transformers = pytest.importorskip("transformers")
    hf_cfg = transformers.GPT2Config(
        vocab_size=50, n_positions=32, n_embd=32, n_layer=2, n_head=4, resid_pdrop=0.0,
        embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5,
        activation_function="gelu_new", bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    ref = transformers.GPT2LMHeadModel(hf_cfg)
    lively(ref, seed=3)                          # biases and LayerNorms nontrivial too
    ours = GPT(GPTConfig(vocab_size=50, max_len=32, d_model=32, num_heads=4,
                         num_layers=2, position="learned"))
    assert copy_weights_from_hf_gpt2(ours, ref) is ours
    ours.eval()
    ids = torch.randint(0, 50, (3, 32), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        want = ref(input_ids=ids).logits
        got, _ = ours(ids)
    assert got.shape == want.shape == (3, 32, 50)
    assert max_diff(got, want) <= ATOL


@pytest.mark.parametrize("position", [p for p in POSITIONS if p != "learned"])
def test_copy_from_gpt2_needs_learned_positions(position):
    """Copying GPT-2's weights into a model without learned positions is refused."""
    transformers = pytest.importorskip("transformers")
    ref = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=V, n_positions=16, n_embd=16, n_layer=2, n_head=2,
        bos_token_id=0, eos_token_id=0))
    with pytest.raises(ValueError, match="learned"):
        copy_weights_from_hf_gpt2(small_gpt(position), ref)


# ---------------------------------------------------------------- RoPE
@pytest.mark.parametrize("start", [0, 7])
@pytest.mark.parametrize("base, tol", [(10000.0, 1e-6), (500.0, 5e-6)])
def test_rope_equals_llama_rotary_embedding(start, base, tol):
    """apply_rope(x, *rope_angles(P, d, base, start)) equals Llama's rotary."""
    # at base 500 Llama's float32 1 / base^(2i/d) rounds differently from base^(-2i/d)
    # (both within 3e-8 of float64); over angles up to 15 radians that is ~2e-6
    pytest.importorskip("transformers")
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import (LlamaRotaryEmbedding,
                                                          apply_rotary_pos_emb)
    P, d, h = 9, 16, 4
    cfg = LlamaConfig(hidden_size=h * d, num_attention_heads=h,
                      rope_parameters={"rope_type": "default", "rope_theta": base})
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, h, P, d, generator=g), torch.randn(2, h, P, d, generator=g)
    positions = torch.arange(start, start + P)[None]
    ref_cos, ref_sin = LlamaRotaryEmbedding(cfg)(q, positions)
    want_q, want_k = apply_rotary_pos_emb(q, k, ref_cos, ref_sin)
    cos, sin = rope_angles(P, d, base, start)
    assert cos.shape == sin.shape == (P, d)
    assert max_diff(apply_rope(q, cos, sin), want_q) <= tol
    assert max_diff(apply_rope(k, cos, sin), want_k) <= tol


def test_rope_score_depends_only_on_the_offset():
    """The score of q at position m and k at position n depends on m - n only."""
    d = 16
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(d, generator=g), torch.randn(d, generator=g)

    def score(m, n):
        qm = apply_rope(q[None], *rope_angles(1, d, start=m))[0]
        kn = apply_rope(k[None], *rope_angles(1, d, start=n))[0]
        return (qm @ kn).item()

    by_offset = {}
    for offset in (0, 1, 5, -3):
        scores = [score(n + offset, n) for n in (3, 10, 17, 40)]
        assert max(scores) - min(scores) <= ATOL, offset
        by_offset[offset] = scores[0]
    assert len({round(s, 3) for s in by_offset.values()}) == 4   # offsets do matter
    # a rotation: lengths are kept
    x = torch.randn(5, d, generator=g)
    assert max_diff(apply_rope(x, *rope_angles(5, d, start=2)).norm(dim=-1),
                    x.norm(dim=-1)) <= ATOL


# ---------------------------------------------------------------- ALiBi
def test_alibi_slopes_for_eight_heads():
    """Eight heads get the slopes 2^-1, 2^-2, ..., 2^-8 of Press et al."""
    want = torch.tensor([2.0 ** -i for i in range(1, 9)])
    assert torch.allclose(alibi_slopes(8), want, rtol=0, atol=0)


@pytest.mark.parametrize("num_heads", range(1, 33))
def test_alibi_slopes_equal_bloom(num_heads):
    """The slopes for 1 .. 32 heads (powers of two or not) equal BLOOM's."""
    pytest.importorskip("transformers")
    from transformers.models.bloom.modeling_bloom import build_alibi_tensor
    # BLOOM returns slope * key position, (B * h, 1, S): position 1 is the slope
    alibi = build_alibi_tensor(torch.ones(1, 3), num_heads, torch.float32)
    assert alibi.shape == (num_heads, 1, 3)
    want = alibi[:, 0, 1]
    assert torch.allclose(alibi[:, 0, 2], 2 * want)
    got = alibi_slopes(num_heads)
    assert got.shape == (num_heads,)
    assert torch.allclose(got, want, rtol=1e-6, atol=0)


def test_alibi_slopes_refuse_zero_heads():
    """alibi_slopes(0) raises ValueError."""
    with pytest.raises(ValueError):
        alibi_slopes(0)


@pytest.mark.parametrize("Q, S", [(3, 7), (5, 5), (1, 4)])
def test_alibi_bias_is_minus_slope_times_distance(Q, S):
    """alibi_bias (h, Q, S) is 0 on a query's own key, -slope * distance before it."""
    slopes = alibi_slopes(4)
    bias = alibi_bias(slopes, Q, S)
    assert bias.shape == (4, Q, S)
    for i in range(Q):
        pos = S - Q + i
        assert (bias[:, i, pos] == 0).all()
        for j in range(pos + 1):
            assert torch.allclose(bias[:, i, j], -slopes * (pos - j))


# ---------------------------------------------------------------- KV cache
@pytest.mark.parametrize("position", POSITIONS)
def test_cache_gives_the_logits_of_one_full_pass(position):
    """A chunk, then one token at a time with the cache, equals one full pass."""
    model = small_gpt(position)
    ids = random_ids(2, 14)
    with torch.no_grad():
        want, _ = model(ids)
        pieces, cache = [], None
        for a, b in [(0, 5), (5, 9)] + [(t, t + 1) for t in range(9, 14)]:
            logits, cache = model(ids[:, a:b], cache)
            pieces.append(logits)
    got = torch.cat(pieces, dim=1)
    assert got.shape == want.shape == (2, 14, V)
    assert max_diff(got, want) <= ATOL
    assert len(cache) == 2 and all(k.shape[2] == v.shape[2] == 14 for k, v in cache)


@pytest.mark.parametrize("position", POSITIONS)
def test_generate_with_and_without_cache_agree(position):
    """generate's tokens are the same with and without the cache, greedy and sampled."""
    model = small_gpt(position)
    prompt = random_ids(2, 3)
    greedy = [generate(model, prompt, 10, use_cache=c, temperature=0)
              for c in (True, False)]
    assert greedy[0].shape == (2, 13) and torch.equal(greedy[0][:, :3], prompt)
    assert torch.equal(greedy[0], greedy[1])
    sampled = [generate(model, prompt, 10, use_cache=c, temperature=1.0, top_k=8,
                        top_p=0.95, generator=torch.Generator().manual_seed(5))
               for c in (True, False)]
    assert torch.equal(sampled[0], sampled[1])


# ---------------------------------------------------------------- causality
def changed_at(ids, j):
    other = ids.clone()
    other[:, j] = (other[:, j] + 1) % V
    return other


@pytest.mark.parametrize("position", POSITIONS)
def test_gpt_is_causal(position):
    """Changing token j leaves the logits before j unchanged and changes those at j."""
    model = small_gpt(position)
    ids = random_ids(2, 12)
    with torch.no_grad():
        base, _ = model(ids)
        for j in (0, 5, 11):
            logits, _ = model(changed_at(ids, j))
            if j:
                assert max_diff(logits[:, :j], base[:, :j]) <= 1e-6
            assert max_diff(logits[:, j], base[:, j]) > 1e-3


def test_transformer_xl_is_causal():
    """Changing token j leaves the logits before j alike, with and without memory."""
    model = small_xl(memory=8, segment=8)
    ids = random_ids(2, 16)
    with torch.no_grad():
        base1, mem = model(ids[:, :8])
        base2, _ = model(ids[:, 8:], mem)
        for j in (0, 3, 7):
            logits, _ = model(changed_at(ids, j)[:, :8])
            if j:
                assert max_diff(logits[:, :j], base1[:, :j]) <= 1e-6
            assert max_diff(logits[:, j], base1[:, j]) > 1e-3
        for j in (2, 7):                            # inside segment 2, same memory
            logits, _ = model(changed_at(ids, 8 + j)[:, 8:], mem)
            assert max_diff(logits[:, :j], base2[:, :j]) <= 1e-6
            assert max_diff(logits[:, j], base2[:, j]) > 1e-3


# ---------------------------------------------------------------- errors
def test_learned_positions_refuse_to_overflow():
    """Learned positions past the context raise ValueError naming it, cache or not."""
    model = small_gpt("learned", context=8)
    ids = random_ids(1, 9)
    with pytest.raises(ValueError, match="max_len=8"):
        model(ids)
    with torch.no_grad():
        _, cache = model(ids[:, :8])
    with pytest.raises(ValueError, match="max_len=8"):
        model(ids[:, 8:], cache)
    with pytest.raises(ValueError, match="max_len=8"):
        generate(model, ids[:, :4], 6, temperature=0)   # feeds position 8


@pytest.mark.parametrize("position", ["rope", "alibi", "sinusoidal", "none"])
def test_schemes_without_a_table_run_past_the_context(position):
    """Positions other than learned run on sequences longer than cfg.max_len."""
    logits, _ = small_gpt(position, context=8)(random_ids(1, 20))
    assert logits.shape == (1, 20, V) and torch.isfinite(logits).all()


@pytest.mark.parametrize("kwargs, match", [
    (dict(position="absolute"), "position"),
    (dict(d_model=30, num_heads=4), "divisible"),
    (dict(d_model=12, num_heads=0), "divisible"),
    (dict(d_model=10, num_heads=2, position="rope"), "even"),
    (dict(d_model=15, num_heads=3, position="sinusoidal"), "even"),
    (dict(vocab_size=0), "vocab_size"),
])
def test_gpt_config_validation(kwargs, match):
    """GPTConfig refuses bad schemes, head counts, odd RoPE heads, no vocabulary."""
    with pytest.raises(ValueError, match=match):
        GPTConfig(**{"vocab_size": V, **kwargs})


def test_gpt_config_odd_heads_are_fine_without_rope():
    """An odd d_head is fine without RoPE; d_ff defaults to 4 d_model."""
    cfg = GPTConfig(vocab_size=V, d_model=10, num_heads=2, position="alibi")
    assert cfg.d_ff == 40


@pytest.mark.parametrize("bad", [
    torch.zeros(2, 5), torch.zeros(5, dtype=torch.long),
    torch.zeros(1, 2, 5, dtype=torch.long), [[1, 2, 3]],
], ids=["float", "1-D", "3-D", "list"])
@pytest.mark.parametrize("make", [lambda: small_gpt("rope"), lambda: small_xl()],
                         ids=["GPT", "TransformerXL"])
def test_bad_ids_are_refused(make, bad):
    """ids that are not an integer (B, n) tensor raise ValueError."""
    with pytest.raises(ValueError, match="ids"):
        make()(bad)


def test_gpt_refuses_a_cache_of_the_wrong_depth():
    """A cache without one (k, v) per layer raises ValueError."""
    model = small_gpt("rope")
    with torch.no_grad():
        _, cache = model(random_ids(1, 4))
    with pytest.raises(ValueError, match="cache"):
        model(random_ids(1, 1), cache[:1])


def test_gpt_refuses_a_cache_of_another_batch():
    """A cache built for another batch size raises ValueError, not torch.cat's error."""
    model = small_gpt("rope")
    with torch.no_grad():
        _, cache = model(random_ids(2, 3))
    with pytest.raises(ValueError, match="batch of 2"):
        model(random_ids(3, 1), cache)


# ---------------------------------------------------------------- sampling
def test_top_k_keeps_ties_with_the_kth():
    """top_k_filter sets what is below the k-th largest to -inf and keeps its ties."""
    logits = torch.tensor([[3.0, 2.0, 0.0, 2.0, 1.0], [0.0, 1.0, 2.0, 3.0, 4.0]])
    out = top_k_filter(logits, 2)
    keep = torch.tensor([[1, 1, 0, 1, 0], [0, 0, 0, 1, 1]], dtype=torch.bool)
    assert torch.equal(out[keep], logits[keep])
    assert (out[~keep] == float("-inf")).all()
    assert torch.equal(top_k_filter(logits, 99), logits)


@pytest.mark.parametrize("probs, p, kept", [
    ([0.4, 0.2, 0.2, 0.1, 0.1], 0.5, 3),    # 0.4 + 0.2 reaches p; the tie stays
    ([0.4, 0.2, 0.2, 0.2], 0.5, 4),         # every 0.2 is tied with the last kept
    ([0.5, 0.3, 0.15, 0.05], 0.7, 2),       # 0.5 + 0.3 reaches 0.7
    ([0.5, 0.3, 0.15, 0.05], 0.9, 3),
    ([0.5, 0.3, 0.15, 0.05], 0.99, 4),
    ([0.5, 0.3, 0.15, 0.05], 1e-6, 1),      # at least the most likely token
])
def test_top_p_keeps_the_smallest_set_reaching_p(probs, p, kept):
    """top_p_filter keeps the fewest top tokens reaching p, and ties with the last."""
    logits = torch.tensor(probs).log()
    perm = torch.tensor([2, 0, 3, 1] + list(range(4, len(probs))))
    logits = logits[perm]                                   # not sorted
    out = top_p_filter(logits[None], p)[0]
    finite = torch.isfinite(out)
    assert finite.sum().item() == kept
    assert torch.equal(out[finite], logits[finite])
    if kept < len(probs):                           # the kept are the most likely
        assert logits[finite].min() > logits[~finite].max()


def test_top_p_of_one_returns_the_logits():
    """top_p_filter(x, 1.0) returns x unchanged, even with vanishing probabilities."""
    logits = torch.tensor([[0.0, -50.0, -120.0, -300.0], [5.0, 4.0, -1e4, 3.0]])
    assert torch.equal(top_p_filter(logits, 1.0), logits)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5])
def test_top_p_refuses_p_outside_zero_one(p):
    """top_p_filter raises ValueError for p outside (0, 1]."""
    with pytest.raises(ValueError):
        top_p_filter(torch.zeros(1, 4), p)


@pytest.mark.parametrize("k", [0, -1])
def test_top_k_refuses_k_below_one(k):
    """top_k_filter raises ValueError for k < 1."""
    with pytest.raises(ValueError):
        top_k_filter(torch.zeros(1, 4), k)


def distinct_max_logits(seed=0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(6, 11, generator=g)
    best = logits.argmax(-1)
    logits[torch.arange(6), best] += 0.1              # a margin of at least 0.1
    return logits, best


def test_sample_next_at_temperature_zero_is_argmax():
    """temperature=0 is greedy; a small temperature samples the argmax too."""
    logits, best = distinct_max_logits()
    assert torch.equal(sample_next(logits, temperature=0), best)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        assert torch.equal(sample_next(logits, temperature=1e-3, generator=g), best)


def test_sample_next_respects_the_filters_and_the_generator():
    """Samples stay in the top k; one seed gives one sequence of samples."""
    logits = torch.randn(500, 11, generator=torch.Generator().manual_seed(2))
    top2 = logits.topk(2, dim=-1).indices
    drawn = sample_next(logits, top_k=2, generator=torch.Generator().manual_seed(0))
    assert (drawn[:, None] == top2).any(-1).all()
    assert torch.equal(sample_next(logits, top_k=1), logits.argmax(-1))
    a, b = (sample_next(logits, generator=torch.Generator().manual_seed(9))
            for _ in range(2))
    assert torch.equal(a, b)


def test_sample_next_refuses_bad_arguments():
    """A negative temperature or logits that are not (B, V) raise ValueError."""
    with pytest.raises(ValueError, match="temperature"):
        sample_next(torch.zeros(2, 5), temperature=-0.5)
    with pytest.raises(ValueError):
        sample_next(torch.zeros(5))


# ---------------------------------------------------------------- Transformer-XL
@pytest.mark.parametrize("Q, S", [(3, 7), (5, 5), (1, 4), (4, 9), (6, 6)])
def test_rel_shift_equals_the_naive_scores(Q, S):
    """rel_shift(q @ rel^T) equals relative_scores_naive on the causal part."""
    g = torch.Generator().manual_seed(Q * 100 + S)
    queries = torch.randn(2, 3, Q, 8, generator=g)
    rel = torch.randn(S, 8, generator=g)
    shifted = rel_shift(queries @ rel.T)
    naive = relative_scores_naive(queries, rel, S)
    assert shifted.shape == naive.shape == (2, 3, Q, S)
    causal = torch.ones(Q, S, dtype=torch.bool).tril(S - Q)
    assert max_diff(shifted[..., causal], naive[..., causal]) <= ATOL
    assert (naive[..., ~causal] == 0).all()


@pytest.mark.parametrize("memory_length", [12, 100])
def test_xl_segments_with_full_memory_equal_one_pass(memory_length):
    """Segments with memory of all history equal one pass; a shorter memory does not."""
    model = small_xl(memory=6, segment=6)
    ids = random_ids(2, 18)
    with torch.no_grad():
        want, _ = model(ids)
        for length, same in ((memory_length, True), (6, False)):
            model.memory_length = length
            pieces, memory = [], None
            for s in range(0, 18, 6):
                logits, memory = model(ids[:, s:s + 6], memory)
                pieces.append(logits)
            got = torch.cat(pieces, dim=1)
            assert got.shape == want.shape == (2, 18, V)
            assert (max_diff(got, want) <= ATOL) == same, length
            assert all(m.shape == (2, min(length, 18), 16) for m in memory)


def test_xl_memory_carries_no_gradient():
    """Memory is a leaf; segment 2's gradient is as if segment 1 ran under no_grad."""
    model = small_xl(memory=6, segment=6).train()        # dropout is 0
    ids = random_ids(2, 12)

    def grads(no_grad_first: bool):
        model.zero_grad()
        if no_grad_first:
            with torch.no_grad():
                _, memory = model(ids[:, :6])
        else:
            _, memory = model(ids[:, :6])
        assert all(not m.requires_grad and m.grad_fn is None for m in memory)
        logits, _ = model(ids[:, 6:], memory)
        F.cross_entropy(logits.flatten(0, 1), random_ids(12, seed=7)).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters()}

    with_graph, without = grads(False), grads(True)
    for name in with_graph:
        assert torch.equal(with_graph[name], without[name]), name


def test_xl_memory_length_zero_is_the_segment_alone():
    """memory_length 0 keeps no states: segment 2 scores as if fed alone."""
    model = small_xl(memory=6, segment=6)
    model.memory_length = 0
    ids = random_ids(2, 12)
    with torch.no_grad():
        _, memory = model(ids[:, :6])
        assert all(m.shape == (2, 0, 16) for m in memory)
        got, _ = model(ids[:, 6:], memory)
        want, _ = model(ids[:, 6:])
    assert max_diff(got, want) <= ATOL


@pytest.mark.parametrize("length, kept", [(0, 0), (5, 5), (7, 7), (10, 7), (13, 7),
                                          (14, 7), (100, 7)])
def test_update_memory_keeps_the_last_states(length, kept):
    """update_memory keeps the last `length` states (all if fewer exist), detached."""
    memory = torch.randn(2, 3, 4)
    hidden = torch.randn(2, 4, 4, requires_grad=True)
    both = torch.cat([memory, hidden.detach()], dim=1)
    out = update_memory(memory, hidden, length)
    assert out.shape == (2, kept, 4)
    assert torch.equal(out, both[:, both.shape[1] - kept:])
    assert not out.requires_grad and out.grad_fn is None


def test_update_memory_refuses_a_negative_length():
    """A negative memory length raises ValueError."""
    with pytest.raises(ValueError):
        update_memory(torch.zeros(1, 2, 4), torch.zeros(1, 3, 4), -1)


def test_xl_refuses_a_memory_that_does_not_fit():
    """A memory of another batch size or number of layers raises ValueError."""
    model = small_xl()
    with torch.no_grad():
        _, memory = model(random_ids(2, 6))
    with pytest.raises(ValueError, match="memory"):
        model(random_ids(3, 6), memory)
    with pytest.raises(ValueError, match="memory"):
        model(random_ids(2, 6), memory[:1])


@pytest.mark.parametrize("kwargs", [dict(d_model=30, num_heads=4), dict(memory=-1),
                                    dict(segment=0), dict(vocab_size=0)])
def test_xl_config_validation(kwargs):
    """XLConfig refuses bad head counts, negative memory, no segment or vocabulary."""
    with pytest.raises(ValueError):
        XLConfig(**{"vocab_size": V, **kwargs})
