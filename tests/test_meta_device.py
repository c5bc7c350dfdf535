"""Every course model of chapters 1-11 runs forward and backward with its parameters and inputs on
PyTorch's `meta` device (shapes only, no data).

A module that creates a tensor on a fixed device inside forward (torch.zeros(...) without
device=, a literal "cpu") mixes devices here and fails, so the same module would fail on a GPU.
Lengths (`lengths`, `src_len`) stay on the CPU, as for torch's pack_padded_sequence: the
recurrent layers read their values to check them, which a meta tensor does not have.
"""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from attention_course.attention import AttentionSeq2Seq
from attention_course.bert import (BertConfig, BertForPreTraining, NEVER_MASKED, albert_config,
                                   mask_tokens, pretraining_loss, token_types_from_ids)
from attention_course.captioning import (CaptionConfig, CaptionTrainConfig,
                                         CaptionVocab, build_captioner, caption_loss)
from attention_course.gated import GRU, LSTM
from attention_course.gpt import GPT, POSITIONS, GPTConfig
from attention_course.hierarchical import HANConfig, build_classifier
from attention_course.lm import CharLM
from attention_course.rnn import RNN
from attention_course.seq2seq import Seq2Seq, Seq2SeqConfig, seq2seq_loss
from attention_course.transformer import (DecoderLayer, EncoderLayer,
                                          LearnedPositionalEmbedding, MultiHeadAttention,
                                          SinusoidalPositionalEncoding, Transformer,
                                          TransformerConfig, causal_mask)
from attention_course.transformer_xl import TransformerXL, XLConfig

META = torch.device("meta")
B, T, V = 3, 5, 20


def ids(*shape):
    return torch.randint(4, V, shape, device=META)


def backward_reaches_every_parameter(module: nn.Module, loss: torch.Tensor) -> None:
    assert loss.device == META
    loss.backward()
    for name, p in module.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        assert p.grad.device == META and p.grad.shape == p.shape, name


def build(make):
    with torch.device("meta"):
        module = make()
    params = list(module.parameters()) + list(module.buffers())
    assert params and all(t.device == META for t in params)
    return module


@pytest.mark.parametrize("make", [
    lambda: RNN(4, 6, num_layers=2, bidirectional=True),
    lambda: LSTM(4, 6, num_layers=2, bidirectional=True),
    lambda: GRU(4, 6, num_layers=2, bidirectional=True),
], ids=["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_recurrent_layers_run_on_meta(make, with_lengths):
    layer = build(make)
    X = torch.randn(B, T, 4, device=META)
    lengths = torch.tensor([5, 3, 1]) if with_lengths else None
    out, state = layer(X, lengths=lengths)
    assert out.shape == (B, T, 12) and out.device == META
    h = state[0] if isinstance(state, tuple) else state
    assert h.shape == (4, B, 6) and h.device == META
    backward_reaches_every_parameter(layer, out.sum())


def test_char_lm_runs_on_meta():
    model = build(lambda: CharLM(V, 8, LSTM(8, 16)))
    logits, _ = model(ids(B, T))
    assert logits.shape == (B, T, V)
    loss = F.cross_entropy(logits.reshape(-1, V), ids(B, T).reshape(-1))
    backward_reaches_every_parameter(model, loss)


@pytest.mark.parametrize("make", [
    lambda cfg: Seq2Seq(cfg),
    lambda cfg: AttentionSeq2Seq(cfg),
    lambda cfg: AttentionSeq2Seq(cfg, score="general"),
], ids=["Seq2Seq", "AttentionSeq2Seq", "AttentionSeq2Seq-general"])
def test_recurrent_seq2seq_models_run_on_meta(make):
    cfg = Seq2SeqConfig(vocab_size=V, embed_size=8, hidden_size=16)
    model = build(lambda: make(cfg))
    src_len = torch.tensor([6, 4, 2])                       # lengths on the CPU
    logits = model(ids(B, 6), src_len, ids(B, T))
    assert logits.shape == (B, T, V) and logits.device == META
    backward_reaches_every_parameter(model, seq2seq_loss(logits, ids(B, T),
                                                         label_smoothing=0.1))
    memory, s = model.encode(ids(B, 6), src_len)
    step_logits, s, _ = model.step(ids(B), s, memory)
    assert step_logits.shape == (B, V) and step_logits.device == META


def test_multi_head_attention_and_positions_run_on_meta():
    mha = build(lambda: MultiHeadAttention(16, 4))
    X = torch.randn(B, T, 16, device=META)
    mask = torch.ones(B, T, dtype=torch.bool, device=META)
    out, weights = mha(X, mask=mask, is_causal=True)
    assert out.shape == (B, T, 16) and weights.shape == (B, 4, T, T)
    backward_reaches_every_parameter(mha, out.sum())
    assert causal_mask(T, META).device == META
    for make in (lambda: SinusoidalPositionalEncoding(16, 32),
                 lambda: LearnedPositionalEmbedding(32, 16)):
        assert build(make)(X).device == META


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_layers_and_model_run_on_meta(norm_first):
    cfg = TransformerConfig(vocab_size=V, d_model=16, num_heads=4, d_ff=32, num_layers=2,
                            dropout=0.1, norm_first=norm_first, max_len=32)
    X = torch.randn(B, 6, 16, device=META)
    Y = torch.randn(B, T, 16, device=META)
    src_mask = torch.ones(B, 6, dtype=torch.bool, device=META)
    enc_layer, dec_layer = build(lambda: EncoderLayer(cfg)), build(lambda: DecoderLayer(cfg))
    backward_reaches_every_parameter(enc_layer, enc_layer(X, src_mask).sum())
    out = dec_layer(Y, X, memory_mask=src_mask, is_causal=True)
    backward_reaches_every_parameter(dec_layer, out.sum())

    model = build(lambda: Transformer(cfg))
    src_len = torch.tensor([6, 4, 2])
    logits = model(ids(B, 6), src_len, ids(B, T))
    assert logits.shape == (B, T, V) and logits.device == META
    backward_reaches_every_parameter(model, seq2seq_loss(logits, ids(B, T)))
    model.eval()
    for kv_cache in (True, False):
        model.kv_cache = kv_cache
        memory, state = model.encode(ids(B, 6), src_len)
        for _ in range(3):
            step_logits, state, weights = model.step(ids(B), state, memory)
        assert step_logits.shape == (B, V) and step_logits.device == META
        assert weights.shape == (B, 6)


def test_the_check_catches_a_tensor_made_on_a_fixed_device():
    """The premise of this file: mixing a meta tensor with one created on the CPU fails."""
    class Careless(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(4, 4)

        def forward(self, X):
            mask = torch.ones(X.shape[1], dtype=torch.bool)              # no device=: the CPU
            return self.linear(X) * mask[:, None]

    module = build(Careless)
    with pytest.raises(RuntimeError, match="device"):
        module(torch.randn(B, T, 4, device=META))


def test_vit_and_cnn_run_on_meta():
    from attention_course.vit import SmallCNN, ViT, ViTConfig
    vit = build(lambda: ViT(ViTConfig(patch_size=7, d_model=16, num_heads=2, d_ff=32,
                                      num_layers=2)))
    images = torch.rand(B, 1, 28, 28, device=META)
    labels = torch.randint(0, 10, (B,), device=META)
    logits = vit(images)
    assert logits.shape == (B, 10)
    backward_reaches_every_parameter(vit, F.cross_entropy(logits, labels))
    cnn = build(lambda: SmallCNN())
    backward_reaches_every_parameter(cnn, F.cross_entropy(cnn(images), labels))


@pytest.mark.parametrize("make_cfg", [
    lambda: BertConfig(vocab_size=V, d_model=16, num_heads=4, d_ff=32, num_layers=2,
                       max_len=32, dropout=0.1),
    lambda: albert_config(embed_size=8, vocab_size=V, d_model=16, num_heads=4, d_ff=32,
                          num_layers=2, max_len=32, dropout=0.1),
], ids=["BERT", "ALBERT"])
def test_bert_and_albert_run_on_meta(make_cfg):
    cfg = make_cfg()
    model = build(lambda: BertForPreTraining(cfg))
    assert model.mlm.decoder.weight is model.bert.embeddings.word.weight   # tied on meta too
    input_ids = ids(B, 6)
    token_type_ids = token_types_from_ids(input_ids)        # no value check on meta
    mask = torch.ones(B, 6, dtype=torch.bool, device=META)
    masked, labels = mask_tokens(input_ids, NEVER_MASKED, V, torch.Generator())
    assert masked.device == META and labels.device == META
    mlm_logits, pair_logits = model(masked, token_type_ids, mask)
    assert mlm_logits.shape == (B, 6, V) and pair_logits.shape == (B, 2)
    assert mlm_logits.device == META
    loss, _, _ = pretraining_loss(mlm_logits, pair_logits, ids(B, 6),
                                  torch.zeros(B, dtype=torch.long, device=META))
    backward_reaches_every_parameter(model, loss)


@pytest.mark.parametrize("position", POSITIONS)
def test_gpt_runs_on_meta(position):
    """Chapter 9's GPT, each position scheme: forward, backward, cached steps."""
    cfg = GPTConfig(vocab_size=V, max_len=16, d_model=16, num_heads=4, num_layers=2,
                    dropout=0.1, position=position)
    model = build(lambda: GPT(cfg))
    logits, cache = model(ids(B, T))
    assert logits.shape == (B, T, V) and logits.device == META
    loss = F.cross_entropy(logits.reshape(-1, V), ids(B, T).reshape(-1))
    backward_reaches_every_parameter(model, loss)
    model.eval()
    with torch.no_grad():
        for _ in range(3):
            step_logits, cache = model(ids(B, 1), cache)
    assert step_logits.shape == (B, 1, V) and step_logits.device == META
    assert all(k.shape == (B, 4, T + 3, 4) and k.device == META for k, _ in cache)


def test_transformer_xl_runs_on_meta():
    """Chapter 9's Transformer-XL: two segments through the memory, backward on meta."""
    cfg = XLConfig(vocab_size=V, segment=T, memory=4, d_model=16, num_heads=4,
                   num_layers=2, dropout=0.1)
    model = build(lambda: TransformerXL(cfg))
    _, memory = model(ids(B, T))
    assert all(m.shape == (B, 4, 16) and m.device == META for m in memory)
    logits, memory = model(ids(B, T), memory)
    assert logits.shape == (B, T, V) and logits.device == META
    loss = F.cross_entropy(logits.reshape(-1, V), ids(B, T).reshape(-1))
    backward_reaches_every_parameter(model, loss)


@pytest.mark.parametrize("attention", ["none", "soft"])
def test_captioner_runs_on_meta(attention):
    """Chapter 10's captioners on uint8 scenes: encoder, decoder, loss with the doubly
    stochastic penalty, backward; and greedy steps. (Hard attention samples with
    torch.multinomial, which the meta device cannot run: it has no values to draw
    from.)"""
    vocab = CaptionVocab()
    model = build(lambda: build_captioner(CaptionConfig(len(vocab), attention=attention)))
    images = torch.empty(B, 64, 64, dtype=torch.uint8, device=META)
    tgt_in = torch.randint(4, len(vocab), (B, T), device=META)
    tgt_out = torch.randint(4, len(vocab), (B, T), device=META)
    loss, nll = caption_loss(model, images, tgt_in, tgt_out, CaptionTrainConfig())
    assert nll.shape == (B,) and nll.device == META
    backward_reaches_every_parameter(model, loss)
    model.eval()
    with torch.no_grad():
        memory, state = model.encode(images)
        logits, state, alpha = model.step(tgt_in[:, 0], state, memory)
    assert logits.shape == (B, len(vocab)) and logits.device == META
    assert (alpha is None) == (attention == "none")


@pytest.mark.parametrize("kind,pooling", [("han", "attention"), ("han", "mean"),
                                          ("flat", "attention"), ("bow", "attention")])
def test_document_classifiers_run_on_meta(kind, pooling):
    """Chapter 11's hierarchical attention network and its baselines: forward, loss,
    backward; the hierarchy also with replaced verse weights, as in the attention
    test."""
    model = build(lambda: build_classifier(kind, HANConfig(V, pooling=pooling)))
    S, W = 4, 6
    word_ids = ids(B, S, W)
    word_mask = torch.ones(B, S, W, dtype=torch.bool, device=META)
    verse_mask = torch.ones(B, S, dtype=torch.bool, device=META)
    out = model(word_ids, word_mask, verse_mask)
    assert out.logits.shape == (B, 7) and out.logits.device == META
    loss = F.cross_entropy(out.logits, ids(B) % 7)
    backward_reaches_every_parameter(model, loss)
    if kind == "han":
        out = model(word_ids, word_mask, verse_mask, out.verse_weights.detach())
        assert out.verse_weights.shape == (B, S) and out.logits.device == META
