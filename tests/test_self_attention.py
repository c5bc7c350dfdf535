"""Chapter 5's self-attention (attention_course.transformer): against PyTorch and the equations.

Parity tests run in float32 and allow a max abs difference of 1e-6.
"""
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from attention_course.transformer import (LearnedPositionalEmbedding, MultiHeadAttention,
                                          SinusoidalPositionalEncoding, causal_mask,
                                          copy_weights_from_torch_mha, linear_attention,
                                          scaled_dot_product_attention, sinusoidal_encoding,
                                          sliding_window_attention)

ATOL = 1e-6


def qkv(seed=0, B=2, h=3, Q=5, S=7, d_k=8, d_v=4):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, h, Q, d_k, generator=g), torch.randn(B, h, S, d_k, generator=g),
            torch.randn(B, h, S, d_v, generator=g))


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()


# ---- scaled dot-product attention -------------------------------------------------------------

def test_sdpa_matches_torch_without_mask():
    q, k, v = qkv()
    out, weights = scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 3, 5, 4) and weights.shape == (2, 3, 5, 7)
    assert max_diff(out, F.scaled_dot_product_attention(q, k, v)) <= ATOL
    assert torch.allclose(weights.sum(-1), torch.ones(2, 3, 5))


@pytest.mark.parametrize("shape", [(5, 7), (2, 1, 5, 7), (2, 3, 5, 7), (2, 1, 1, 7)])
def test_sdpa_matches_torch_with_a_boolean_mask(shape):
    q, k, v = qkv(1)
    mask = torch.rand(shape, generator=torch.Generator().manual_seed(2)) > 0.4
    mask[..., 0] = True                                     # every row keeps one key
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert max_diff(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask)) <= ATOL
    assert weights.masked_select(~mask.expand_as(weights)).abs().max() == 0


def test_sdpa_with_causal_mask_matches_is_causal():
    q, k, v = qkv(3, S=5)
    out, weights = scaled_dot_product_attention(q, k, v, causal_mask(5))
    assert max_diff(out, F.scaled_dot_product_attention(q, k, v, is_causal=True)) <= ATOL
    assert torch.triu(weights, diagonal=1).abs().max() == 0


def test_causal_mask_is_true_on_and_below_the_diagonal():
    m = causal_mask(4)
    assert m.dtype == torch.bool and m.shape == (4, 4)
    assert torch.equal(m, torch.tensor([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]).bool())


def test_fully_masked_row_gives_zero_weights_zero_output_and_finite_gradients():
    q, k, v = qkv(4)
    q.requires_grad_(True)
    mask = torch.ones(2, 3, 5, 7, dtype=torch.bool)
    mask[0, 1, 2] = False                                  # one query sees nothing
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert weights[0, 1, 2].abs().max() == 0 and out[0, 1, 2].abs().max() == 0
    # the same as F.scaled_dot_product_attention on the CPU (math path)
    assert max_diff(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask)) <= ATOL
    out.sum().backward()
    assert torch.isfinite(q.grad).all() and q.grad[0, 1, 2].abs().max() == 0


def test_sdpa_scale_is_one_over_sqrt_d_k():
    q, k, v = qkv(5, d_k=16)
    _, weights = scaled_dot_product_attention(q, k, v)
    expected = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(16), dim=-1)
    assert max_diff(weights, expected) <= ATOL


@pytest.mark.parametrize("kwargs, message", [
    (dict(mask=torch.ones(5, 7)), "torch.bool"),
    (dict(mask=torch.ones(5, 7, dtype=torch.long)), "mask.bool"),
    (dict(mask=torch.ones(5, 6, dtype=torch.bool)), "does not broadcast"),
    (dict(mask=torch.ones(4, 2, 3, 5, 7, dtype=torch.bool)), "does not broadcast"),
    (dict(keys="k"), "keys must be a tensor"),
    (dict(queries=torch.randn(8)), "queries must be a tensor of shape"),
    (dict(keys=torch.randn(2, 3, 7, 6)), "same last dim d_k"),
    (dict(values=torch.randn(2, 3, 6, 4)), "same length S"),
    (dict(values=torch.randn(1, 3, 7, 4)), "leading dims"),
])
def test_sdpa_bad_inputs_raise_clear_value_errors(kwargs, message):
    q, k, v = qkv()
    args = dict(queries=q, keys=k, values=v) | kwargs
    with pytest.raises(ValueError, match=message):
        scaled_dot_product_attention(**args)


def test_self_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(0)
    mha = MultiHeadAttention(16, 4).eval()
    X = torch.randn(3, 9, 16)
    perm = torch.randperm(9)
    with torch.no_grad():
        assert max_diff(mha(X[:, perm])[0], mha(X)[0][:, perm]) <= 1e-5
        pos = SinusoidalPositionalEncoding(16, max_len=9)
        assert max_diff(mha(pos(X[:, perm]))[0], mha(pos(X))[0][:, perm]) > 1e-2


# ---- multi-head attention ---------------------------------------------------------------------

def pair(d_model=16, num_heads=4, bias=True, seed=0):
    torch.manual_seed(seed)
    ref = nn.MultiheadAttention(d_model, num_heads, bias=bias, batch_first=True).eval()
    with torch.no_grad():                  # non-zero biases, so a bias mix-up would show
        for p in ref.parameters():
            p.normal_(0, 0.3)
    ours = copy_weights_from_torch_mha(MultiHeadAttention(d_model, num_heads, bias=bias), ref)
    return ours.eval(), ref


def test_copy_puts_the_fused_in_proj_weight_in_q_k_v_order():
    ours, ref = pair()
    fused = torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight])
    assert torch.equal(fused, ref.in_proj_weight)
    assert torch.equal(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]), ref.in_proj_bias)
    assert torch.equal(ours.W_o.weight, ref.out_proj.weight)


@pytest.mark.parametrize("bias", [True, False])
def test_mha_matches_torch_self_attention_outputs_and_per_head_weights(bias):
    ours, ref = pair(bias=bias)
    X = torch.randn(3, 6, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out, weights = ours(X)
        ref_out, ref_weights = ref(X, X, X, average_attn_weights=False)
    assert out.shape == (3, 6, 16) and weights.shape == (3, 4, 6, 6)
    assert max_diff(out, ref_out) <= ATOL and max_diff(weights, ref_weights) <= ATOL


def test_mha_matches_torch_cross_attention_with_key_padding_mask():
    ours, ref = pair(d_model=12, num_heads=3, seed=2)
    g = torch.Generator().manual_seed(3)
    queries, memory = torch.randn(3, 4, 12, generator=g), torch.randn(3, 7, 12, generator=g)
    src_mask = torch.arange(7) < torch.tensor([7, 5, 1]).unsqueeze(1)        # True = real token
    with torch.no_grad():
        out, weights = ours(queries, memory, memory, mask=src_mask)
        ref_out, ref_weights = ref(queries, memory, memory, key_padding_mask=~src_mask,
                                   average_attn_weights=False)             # True = ignore
    assert max_diff(out, ref_out) <= ATOL and max_diff(weights, ref_weights) <= ATOL
    assert weights[2, :, :, 1:].abs().max() == 0
    # averaged over heads, as nn.MultiheadAttention returns by default
    _, ref_avg = ref(queries, memory, memory, key_padding_mask=~src_mask)
    assert max_diff(weights.mean(1), ref_avg) <= ATOL


def test_mha_causal_matches_torch_attn_mask_and_padding_combines():
    ours, ref = pair(seed=4)
    X = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(5))
    pad = torch.tensor([[True] * 5, [True, True, True, False, False]])
    with torch.no_grad():
        out, _ = ours(X, mask=pad, is_causal=True)
        ref_out, _ = ref(X, X, X, attn_mask=~causal_mask(5), key_padding_mask=~pad)
        same, _ = ours(X, mask=(pad[:, None, :] & causal_mask(5)))            # (B, Q, S) form
    assert max_diff(out, ref_out) <= ATOL and max_diff(out, same) <= ATOL


def test_mha_fully_masked_query_returns_the_output_bias():
    ours, _ = pair(seed=6)
    X = torch.randn(1, 3, 16)
    mask = torch.ones(1, 3, 3, dtype=torch.bool)
    mask[0, 1] = False
    with torch.no_grad():
        out, weights = ours(X, mask=mask)
    assert weights[0, :, 1].abs().max() == 0
    assert max_diff(out[0, 1], ours.W_o.bias) <= ATOL           # zero context -> W_o(0) = bias
    assert torch.isfinite(out).all()


def test_mha_dropout_only_in_training():
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, dropout=0.5)
    X = torch.randn(2, 4, 8)
    mha.eval()
    assert torch.equal(mha(X)[0], mha(X)[0])
    mha.train()
    assert not torch.equal(mha(X)[1], mha(X)[1])


@pytest.mark.parametrize("call, message", [
    (lambda m, X: MultiHeadAttention(16, 3), r"divisible by num_heads=3.*pass num_heads in \[1, 2, 4, 8, 16\]"),
    (lambda m, X: MultiHeadAttention(16, 0), "divisible"),
    (lambda m, X: m(X, mask=causal_mask(6)), r"key padding mask \(B, S\)"),
    (lambda m, X: m(X, mask=torch.ones(3, 6)), "torch.bool"),
    (lambda m, X: m(X, mask=torch.ones(3, 6, 5, dtype=torch.bool)), "does not broadcast"),
    (lambda m, X: m(X, mask=torch.ones(6, dtype=torch.bool)), r"\(B, S\), \(B, Q, S\) or"),
    (lambda m, X: m(X[0]), r"queries must be \(B, length, d_model=16\)"),
    (lambda m, X: m(X, torch.randn(3, 6, 8)), "keys must be"),
    (lambda m, X: m(X, torch.randn(3, 5, 16), is_causal=True), "is_causal needs"),
])
def test_mha_bad_inputs_raise_clear_value_errors(call, message):
    ours, _ = pair()
    with pytest.raises(ValueError, match=message):
        call(ours, torch.randn(3, 6, 16))


# ---- positions --------------------------------------------------------------------------------

def test_sinusoidal_encoding_is_interleaved_sin_cos():
    P, D = 50, 12
    pe = sinusoidal_encoding(P, D)
    p = torch.arange(P, dtype=torch.float64)[:, None]
    for i in range(D // 2):
        angle = p[:, 0] / 10000 ** (2 * i / D)
        assert max_diff(pe[:, 2 * i].double(), torch.sin(angle)) <= ATOL
        assert max_diff(pe[:, 2 * i + 1].double(), torch.cos(angle)) <= ATOL
    assert pe[0, 0::2].abs().max() == 0 and torch.equal(pe[0, 1::2], torch.ones(D // 2))


@pytest.mark.parametrize("offset", [1, 3, 40])
def test_sinusoidal_shift_is_one_fixed_rotation(offset):
    """PE(p + k) = M_k PE(p) for every p, with M_k found by least squares from the table
    itself: the fit is exact, M_k is orthogonal, and it is block-diagonal 2x2 rotations.
    (The slowest frequencies turn little over 120 positions, so the fit is ill-conditioned
    there: 1e-6 on M_k itself, 1e-9 on the fitted table.)"""
    P, D = 120, 10
    pe = sinusoidal_encoding(P, D, dtype=torch.float64)
    A, Bm = pe[:-offset], pe[offset:]                          # rows: PE(p), PE(p + k)
    M = torch.linalg.lstsq(A, Bm).solution.T                   # Bm ≈ A @ M.T
    assert max_diff(A @ M.T, Bm) < 1e-9
    assert max_diff(M @ M.T, torch.eye(D, dtype=torch.float64)) < 1e-6
    blocks = torch.block_diag(*[torch.ones(2, 2)] * (D // 2)).bool()
    assert M.masked_select(~blocks).abs().max() < 1e-6
    omega = 10000.0 ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
    assert max_diff(M[0::2, 0::2].diagonal(), torch.cos(omega * offset)) < 1e-6
    assert max_diff(M[0::2, 1::2].diagonal(), torch.sin(omega * offset)) < 1e-6


def test_positional_modules_add_their_table():
    X = torch.randn(2, 7, 8)
    sin = SinusoidalPositionalEncoding(8, max_len=10)
    assert torch.equal(sin(X), X + sinusoidal_encoding(10, 8)[:7])
    assert not list(sin.parameters()) and "pe" not in sin.state_dict()
    learned = LearnedPositionalEmbedding(10, 8)
    assert torch.equal(learned(X), X + learned.embedding.weight[:7])
    assert sum(p.numel() for p in learned.parameters()) == 80


@pytest.mark.parametrize("module", [SinusoidalPositionalEncoding(8, max_len=10),
                                    LearnedPositionalEmbedding(10, 8)])
def test_positional_modules_reject_bad_inputs(module):
    with pytest.raises(ValueError, match="longer than max_len=10"):
        module(torch.randn(1, 11, 8))
    with pytest.raises(ValueError, match=r"\(B, T, d_model=8\)"):
        module(torch.randn(7, 8))
    with pytest.raises(ValueError, match="must be even"):
        sinusoidal_encoding(4, 7)


# ---- cheaper attention ------------------------------------------------------------------------

@pytest.mark.parametrize("window", [0, 2, 20])
def test_sliding_window_attention_equals_masked_full_attention(window):
    q, k, v = qkv(7, Q=9, S=9)
    band = (torch.arange(9)[:, None] - torch.arange(9)).abs() <= window
    out, weights = sliding_window_attention(q, k, v, window)
    ref, _ = scaled_dot_product_attention(q, k, v, band)
    assert weights.shape == (2, 3, 9, 2 * window + 1)
    assert max_diff(out, ref) <= ATOL


def test_linear_attention_matches_its_quadratic_form():
    q, k, v = qkv(8)
    phi_q, phi_k = F.elu(q) + 1, F.elu(k) + 1
    sim = phi_q @ phi_k.transpose(-2, -1)                       # (..., Q, S), all > 0
    ref = (sim / sim.sum(-1, keepdim=True)) @ v
    assert max_diff(linear_attention(q, k, v), ref) <= 1e-5


def test_a_2d_mask_is_refused_when_batch_size_equals_the_number_of_queries():
    # With B == T a causal (T, T) mask has the shape of key padding (B, S); read as padding,
    # row b would hide keys of sequence b. The layer refuses to guess and says what to pass.
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2).eval()
    X = torch.randn(4, 4, 8)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    with pytest.raises(ValueError, match="ambiguous.*key_padding=mask"):
        mha(X, mask=causal)
    out, _ = mha(X, mask=causal[None])                   # (1, Q, S): a causal mask
    ref, _ = mha(X, is_causal=True)
    assert torch.equal(out, ref)
    lengths = torch.tensor([4, 3, 2, 1])
    padding = torch.arange(4)[None, :] < lengths[:, None]  # (B, S)
    by_keyword, w = mha(X, key_padding=padding)
    assert torch.equal(by_keyword, mha(X, mask=padding[:, None, :])[0])
    assert (w[padding[:, None, None, :].expand_as(w) == 0] == 0).all()
    both, _ = mha(X, key_padding=padding, is_causal=True)
    assert torch.equal(both, mha(X, mask=(padding[:, None, :] & causal))[0])
    with pytest.raises(ValueError, match="key_padding is a key padding mask: torch.bool"):
        mha(X, key_padding=padding.float())
    # B != Q: a 2-D mask is key padding, as before
    out3, _ = mha(X[:3], mask=padding[:3])
    assert torch.equal(out3, mha(X[:3], key_padding=padding[:3])[0])
