"""Chapter 4's attention (attention_course.attention): against the equations and against PyTorch."""
import pytest
import torch
from torch.nn import functional as F

from attention_course.attention import (AdditiveAttention, AttentionSeq2Seq, MultiplicativeAttention,
                                        masked_softmax)
from attention_course.seq2seq import Seq2SeqConfig, beam_search, greedy_decode
from attention_course.translation import PAD


def test_masked_softmax_matches_softmax_on_real_positions_and_has_finite_gradients():
    torch.manual_seed(0)
    scores = torch.randn(3, 2, 5, requires_grad=True)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False], [False] * 5]).unsqueeze(1)
    w = masked_softmax(scores, mask)
    assert torch.allclose(w[0], torch.softmax(scores[0], -1))
    assert torch.allclose(w[1, :, :2], torch.softmax(scores[1, :, :2], -1))
    assert w[1, :, 2:].abs().max() == 0 and w[2].abs().max() == 0      # padding and empty rows: 0, not NaN
    (w * torch.randn_like(w)).sum().backward()
    assert torch.isfinite(scores.grad).all() and scores.grad[2].abs().max() == 0
    assert torch.equal(masked_softmax(scores, None), torch.softmax(scores, -1))


def test_additive_attention_follows_the_equations():
    torch.manual_seed(0)
    attn = AdditiveAttention(query_size=6, key_size=8, attn_size=5)
    q, h = torch.randn(2, 3, 6), torch.randn(2, 4, 8)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    context, alpha = attn(q, h, h, mask)
    Wa, Ua, va = attn.W_a.weight, attn.U_a.weight, attn.v_a.weight[0]
    for b in range(2):
        for i in range(3):
            e = torch.stack([va @ torch.tanh(Wa @ q[b, i] + Ua @ h[b, j]) for j in range(4)])
            e[~mask[b]] = float("-inf")
            a = torch.softmax(e, 0)
            assert torch.allclose(alpha[b, i], a, atol=1e-6)
            assert torch.allclose(context[b, i], a @ h[b], atol=1e-6)
    # precomputed keys give the same result
    c2, a2 = attn(q, attn.precompute_keys(h), h, mask, keys_projected=True)
    assert torch.allclose(c2, context) and torch.allclose(a2, alpha)


@pytest.mark.parametrize("kind", ["dot", "general"])
def test_multiplicative_attention_equals_scaled_dot_product_attention(kind):
    torch.manual_seed(1)
    attn = MultiplicativeAttention(8, 8, kind)
    q, h = torch.randn(3, 4, 8), torch.randn(3, 6, 8)
    mask = torch.arange(6) < torch.tensor([6, 3, 1]).unsqueeze(1)
    context, weights = attn(q, h, h, mask)
    ref = F.scaled_dot_product_attention(q, attn.precompute_keys(h), h, attn_mask=mask[:, None, :], scale=1.0)
    assert torch.allclose(context, ref, atol=1e-6)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 4))


def test_multiplicative_attention_rejects_bad_kinds():
    with pytest.raises(ValueError, match="'dot' or 'general'"):
        MultiplicativeAttention(4, 4, "cosine")
    with pytest.raises(ValueError, match="query_size == key_size"):
        MultiplicativeAttention(4, 8, "dot")


@pytest.mark.parametrize("score", ["additive", "general", "dot"])
def test_attention_decoder_ignores_padding(score):
    torch.manual_seed(0)
    hidden = 12
    cfg = Seq2SeqConfig(vocab_size=30, embed_size=8, hidden_size=hidden, dropout=0.0)
    if score == "dot":                         # dot needs the query (H) and keys (2H) to match
        with pytest.raises(ValueError):
            AttentionSeq2Seq(cfg, score="dot")
        return
    model = AttentionSeq2Seq(cfg, score=score).eval()
    src = torch.randint(4, 30, (3, 6))
    src_len = torch.tensor([6, 4, 1])
    src[torch.arange(6) >= src_len.unsqueeze(1)] = PAD
    logits, alpha = model(src, src_len, torch.randint(4, 30, (3, 5)), return_weights=True)
    assert alpha.shape == (3, 5, 6)
    assert torch.allclose(alpha.sum(-1), torch.ones(3, 5), atol=1e-6)
    assert alpha[1, :, 4:].abs().max() == 0 and alpha[2, :, 1:].abs().max() == 0
    out, weights = greedy_decode(model, src, src_len, max_len=6, return_weights=True)
    for b in range(3):
        n = int(src_len[b])
        alone = greedy_decode(model, src[b:b + 1, :n], src_len[b:b + 1], max_len=6)
        assert alone[0] == out[b]                                   # padding does not change the translation
        assert weights[b].shape == (len(out[b]) + 1 if len(out[b]) < 6 else 6, n)
    assert beam_search(model, src, src_len, beam_size=1, max_len=6, alpha=0.0) == out
