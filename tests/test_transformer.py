"""Chapter 6's Transformer (attention_course.transformer): against torch.nn's Transformer layers.

Parity tests copy the weights of the PyTorch module into ours, run both in float32 with dropout 0,
and allow a max abs difference of 1e-5. The course's masks are True = attend; torch.nn's are
True = blocked, so PyTorch always gets ~mask.
"""
import pytest
import torch
from torch import nn

from attention_course.seq2seq import beam_search, greedy_decode
from attention_course.transformer import (Decoder, DecoderLayer, Encoder, EncoderLayer,
                                          FeedForward, Transformer, TransformerConfig,
                                          causal_mask, copy_weights_from_torch_transformer,
                                          noam_lr)
from attention_course.translation import BOS, PAD

ATOL = 1e-5
D, H, FF = 16, 4, 32


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()


def randomize(module: nn.Module, seed: int) -> nn.Module:
    """Non-trivial weights and biases (LayerNorm gains near 1), so a mix-up would show."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            p.copy_(1 + 0.1 * noise if "norm" in name and "weight" in name else 0.2 * noise)
    return module


def config(**kw) -> TransformerConfig:
    return TransformerConfig(**(dict(d_model=D, num_heads=H, d_ff=FF, num_layers=3,
                                     dropout=0.0) | kw))


def torch_kw(norm_first, activation="relu"):
    return dict(dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first)


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(3, 6, D, generator=g)                                   # (B, S, D)
    Y = torch.randn(3, 5, D, generator=g)                                   # (B, T, D)
    src_mask = torch.tensor([[True] * 6, [True] * 4 + [False] * 2, [True] * 2 + [False] * 4])
    tgt_mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2, [True] * 5])
    attn = torch.rand(6, 6, generator=g) > 0.4                              # (S, S)
    attn |= torch.eye(6, dtype=torch.bool)                                  # no empty row
    cross = torch.rand(5, 6, generator=g) > 0.4                             # (T, S)
    cross[:, 0] = True
    return X, Y, src_mask, tgt_mask, attn, cross


# ---- layers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_encoder_layer_matches_torch_with_padding_and_attention_masks(data, norm_first,
                                                                      activation, mode):
    X, _, src_mask, _, attn, _ = data
    ref = randomize(nn.TransformerEncoderLayer(D, H, FF, **torch_kw(norm_first, activation)), 1)
    ours = copy_weights_from_torch_transformer(
        EncoderLayer(config(norm_first=norm_first, activation=activation)), ref)
    getattr(ours, mode)()
    getattr(ref, mode)()
    with torch.no_grad():
        out = ours(X, attn[None] & src_mask[:, None, :])
        ref_out = ref(X, src_mask=~attn, src_key_padding_mask=~src_mask)
        out_pad = ours(X, src_mask)
        ref_pad = ref(X, src_key_padding_mask=~src_mask)
    # In eval mode PyTorch's fast path may return zeros at padded positions: real tokens only.
    assert max_diff(out[src_mask], ref_out[src_mask]) <= ATOL
    assert max_diff(out_pad[src_mask], ref_pad[src_mask]) <= ATOL


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_layer_matches_torch_with_all_four_masks(data, norm_first, activation):
    X, Y, src_mask, tgt_mask, _, cross = data
    ref = randomize(nn.TransformerDecoderLayer(D, H, FF, **torch_kw(norm_first, activation)), 2)
    ours = copy_weights_from_torch_transformer(
        DecoderLayer(config(norm_first=norm_first, activation=activation)), ref).eval()
    ref.eval()
    causal = causal_mask(5)
    with torch.no_grad():
        out = ours(Y, X, self_mask=causal[None] & tgt_mask[:, None, :],
                   memory_mask=cross[None] & src_mask[:, None, :])
        ref_out = ref(Y, X, tgt_mask=~causal, memory_mask=~cross,
                      tgt_key_padding_mask=~tgt_mask, memory_key_padding_mask=~src_mask)
    assert max_diff(out, ref_out) <= ATOL
    assert ours.cross_weights.shape == (3, H, 5, 6)
    assert ours.cross_weights[2, :, :, 2:].abs().max() == 0                # padded source


def test_decoder_layer_is_causal_flag_equals_a_causal_mask(data):
    X, Y, src_mask, _, _, _ = data
    layer = randomize(DecoderLayer(config()), 3).eval()
    with torch.no_grad():
        a = layer(Y, X, memory_mask=src_mask, is_causal=True)
        b = layer(Y, X, self_mask=causal_mask(5)[None], memory_mask=src_mask)
    assert max_diff(a, b) == 0


def test_decoder_layer_does_not_look_ahead(data):
    X, Y, src_mask, _, _, _ = data
    layer = randomize(DecoderLayer(config()), 4).eval()
    Y2 = Y.clone()
    Y2[:, 3:] += 10.0                                                      # change the future
    with torch.no_grad():
        a = layer(Y, X, memory_mask=src_mask, is_causal=True)
        b = layer(Y2, X, memory_mask=src_mask, is_causal=True)
    assert max_diff(a[:, :3], b[:, :3]) <= 1e-6 and max_diff(a[:, 3:], b[:, 3:]) > 0.1


# ---- stacks ------------------------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("final_norm", [False, True])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_stacks_match_torch_encoder_and_decoder(data, norm_first, final_norm, mode):
    X, Y, src_mask, tgt_mask, _, _ = data
    cfg = config(norm_first=norm_first, final_norm=final_norm)
    norm = (lambda: nn.LayerNorm(D)) if final_norm else (lambda: None)
    enc_ref = randomize(nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, H, FF, **torch_kw(norm_first)), 3, norm=norm(),
        enable_nested_tensor=False), 5)
    dec_ref = randomize(nn.TransformerDecoder(
        nn.TransformerDecoderLayer(D, H, FF, **torch_kw(norm_first)), 3, norm=norm()), 6)
    enc = copy_weights_from_torch_transformer(Encoder(cfg), enc_ref)
    dec = copy_weights_from_torch_transformer(Decoder(cfg), dec_ref)
    for m in (enc, dec, enc_ref, dec_ref):
        getattr(m, mode)()
    with torch.no_grad():
        memory = enc(X, src_mask)
        ref_memory = enc_ref(X, src_key_padding_mask=~src_mask)
        out = dec(Y, memory, self_mask=tgt_mask, memory_mask=src_mask, is_causal=True)
        ref_out = dec_ref(Y, ref_memory, tgt_mask=~causal_mask(5), tgt_is_causal=True,
                          tgt_key_padding_mask=~tgt_mask, memory_key_padding_mask=~src_mask)
    assert max_diff(memory[src_mask], ref_memory[src_mask]) <= ATOL
    assert max_diff(out[tgt_mask], ref_out[tgt_mask]) <= ATOL


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_torch_fast_path_returns_zeros_at_padding_and_ours_does_not(data):
    """Why the parity tests compare real positions only: nn.TransformerEncoder in eval mode
    (nested tensors on, no grad) returns exact zeros at padded positions."""
    X, _, src_mask, _, _, _ = data
    ref = randomize(nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, H, FF, **torch_kw(False)), 2), 7).eval()
    ours = copy_weights_from_torch_transformer(Encoder(config(num_layers=2)), ref).eval()
    with torch.no_grad():
        ref_out = ref(X, src_key_padding_mask=~src_mask)
        out = ours(X, src_mask)
    assert ref_out[~src_mask].abs().max() == 0 and out[~src_mask].abs().max() > 0
    assert max_diff(out[src_mask], ref_out[src_mask]) <= ATOL


def test_final_norm_defaults_to_norm_first_and_matches_nn_transformer_when_asked():
    assert TransformerConfig(norm_first=False).final_norm is False
    assert TransformerConfig(norm_first=True).final_norm is True
    assert isinstance(Encoder(config(final_norm=True)).norm, nn.LayerNorm)
    assert isinstance(Decoder(config(norm_first=False)).norm, nn.Identity)
    tr = nn.Transformer(D, H, 1, 1, FF, batch_first=True)
    assert isinstance(tr.encoder.norm, nn.LayerNorm)        # even though norm_first=False


def test_copy_refuses_a_stack_whose_final_norm_differs():
    ref = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, H, FF, batch_first=True), 2,
                                norm=nn.LayerNorm(D), enable_nested_tensor=False)
    with pytest.raises(ValueError, match="final LayerNorm"):
        copy_weights_from_torch_transformer(Encoder(config(num_layers=2)), ref)
    with pytest.raises(ValueError, match="layers"):
        copy_weights_from_torch_transformer(Encoder(config(num_layers=3)), ref)


def test_config_options_reach_the_layers():
    cfg = config(activation="gelu", norm_first=True, layer_norm_eps=1e-12, d_ff=24)
    layer = EncoderLayer(cfg)
    assert layer.norm_first and layer.norm1.eps == 1e-12 and layer.ffn.W_1.out_features == 24
    assert FeedForward(cfg).act is torch.nn.functional.gelu
    assert len(Decoder(config(num_layers=2, num_decoder_layers=5)).layers) == 5


# ---- the model, decoding and the cache ---------------------------------------------------------

def small_model(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = TransformerConfig(**(dict(vocab_size=30, d_model=32, num_heads=4, d_ff=64,
                                    num_layers=2, dropout=0.0, max_len=64) | kw))
    return randomize(Transformer(cfg), seed + 10).eval()


def source(seed=0):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, 30, (4, 9), generator=g)
    src[1, 6:], src[2, 3:] = PAD, PAD
    return src, (src != PAD).sum(1)


@pytest.mark.parametrize("norm_first", [False, True])
def test_cached_steps_equal_teacher_forcing(norm_first):
    model = small_model(norm_first=norm_first)
    src, src_len = source()
    tgt_in = torch.randint(4, 30, (4, 7), generator=torch.Generator().manual_seed(1))
    tgt_in[:, 0] = BOS
    with torch.no_grad():
        logits = model(src, src_len, tgt_in)
        memory, state = model.encode(src, src_len)
        steps = []
        for i in range(7):
            step_logits, state, weights = model.step(tgt_in[:, i], state, memory)
            steps.append(step_logits)
    assert max_diff(torch.stack(steps, 1), logits) <= ATOL
    assert state[0][0].shape == (4, 4, 7, 8) and weights.shape == (4, 9)
    assert weights[2, 3:].abs().max() == 0 and torch.allclose(weights.sum(-1), torch.ones(4))


@pytest.fixture(scope="module")
def copier():
    """A small model trained for a few seconds to copy its source, so that greedy decoding
    produces varied tokens (an untrained one tends to repeat one token)."""
    model = small_model(norm_first=True).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        src = torch.randint(4, 30, (32, 8), generator=g)
        tgt_in = torch.cat([torch.full((32, 1), BOS), src], 1)
        tgt_out = torch.cat([src, torch.full((32, 1), 3)], 1)              # 3 = EOS
        loss = nn.functional.cross_entropy(model(src, None, tgt_in).flatten(0, 1),
                                           tgt_out.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_greedy_and_beam_decoding_give_the_same_tokens_with_and_without_the_cache(copier,
                                                                                 seed):
    src, src_len = source(seed)
    results = {}
    for cache in (True, False):
        copier.kv_cache = cache
        results[cache] = (greedy_decode(copier, src, src_len, max_len=20),
                          beam_search(copier, src, src_len, beam_size=3, max_len=20))
    copier.kv_cache = True
    assert results[True] == results[False]
    greedy = results[True][0]
    assert len({t for row in greedy for t in row}) > 5                     # varied tokens


def test_greedy_decode_returns_cross_attention_weights():
    model = small_model()
    src, src_len = source()
    out, W = greedy_decode(model, src, src_len, max_len=6, return_weights=True)
    assert len(W) == 4 and W[2].shape[1] == 3                              # its real tokens


def test_tied_embeddings_share_one_matrix_and_scale_by_sqrt_d_model():
    tied, untied = small_model(), small_model(tie_embeddings=False)
    n_tied = sum(p.numel() for p in tied.parameters())
    assert sum(p.numel() for p in untied.parameters()) - n_tied == 30 * 32
    ids = torch.tensor([[5, 6]])
    pe = tied.positions.pe[:2]
    assert max_diff(tied.embed(ids), tied.embedding.weight[[5, 6]] * 32 ** 0.5 + pe) <= 1e-6
    H = torch.randn(2, 32)
    assert max_diff(tied.logits(H), H @ tied.embedding.weight.T) == 0


def test_noam_schedule_peaks_at_warmup():
    assert noam_lr(4000, 512, 4000) == pytest.approx((512 * 4000) ** -0.5)
    assert noam_lr(1000, 512, 4000) == pytest.approx(512 ** -0.5 * 1000 * 4000 ** -1.5)
    assert noam_lr(16000, 512, 4000) == pytest.approx(noam_lr(4000, 512, 4000) / 2)
    assert noam_lr(0, 512) == noam_lr(1, 512) > 0


def test_model_trains_one_step_and_all_parameters_get_gradients():
    model = small_model().train()
    src, src_len = source()
    tgt = torch.randint(4, 30, (4, 5))
    loss = model(src, src_len, tgt).logsumexp(-1).mean()
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, missing


# ---- clear errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    (dict(d_model=30, num_heads=4), "divisible"),
    (dict(activation="swish"), "activation must be one of"),
    (dict(dropout=1.0), "dropout"),
])
def test_bad_configs_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerConfig(**kwargs)


def test_bad_inputs_raise_clear_value_errors(data):
    X, Y, src_mask, _, _, _ = data
    layer, dec_layer = EncoderLayer(config()), DecoderLayer(config())
    with pytest.raises(ValueError, match=r"X must be \(B, length, d_model=16\)"):
        layer(X[0])
    with pytest.raises(ValueError, match="d_model=16"):
        layer(torch.randn(3, 6, 8))
    with pytest.raises(ValueError, match="torch.bool"):
        layer(X, src_mask.long())
    with pytest.raises(ValueError, match="key padding mask"):
        layer(X, src_mask[:, :4])
    with pytest.raises(ValueError, match="does not broadcast"):
        layer(X, torch.ones(3, 5, 6, dtype=torch.bool))
    with pytest.raises(ValueError, match="memory must be"):
        dec_layer(Y, X[..., :8])
    with pytest.raises(ValueError, match="same batch size"):
        dec_layer(Y, X[:2])
    with pytest.raises(ValueError, match="torch.bool"):
        dec_layer(Y, X, memory_mask=src_mask.float())
    model = small_model()
    src, src_len = source()
    with pytest.raises(ValueError, match="integer tensor"):
        model(src.float(), src_len, src)
    with pytest.raises(ValueError, match="batch of one"):
        model(src[0], src_len, src)
    with pytest.raises(ValueError, match="src_len"):
        model.encode(src, src_len[:2])
    with pytest.raises(ValueError, match="max_len=64"):
        model(src, src_len, torch.ones(4, 65, dtype=torch.long))
    with pytest.raises(ValueError, match="vocab_size"):
        Transformer(config())


def test_decoder_layer_step_equals_forward_without_a_memory_mask(data):
    from attention_course.transformer import decoder_layer_step
    X, Y, _, _, _, _ = data
    layer = randomize(DecoderLayer(config(norm_first=True)), 8).eval()
    a = layer.cross_attn
    with torch.no_grad():
        full = layer(Y, X, is_causal=True)
        cross_kv = (a.split_heads(a.W_k(X)), a.split_heads(a.W_v(X)))
        empty = X.new_zeros(3, H, 0, D // H)
        first, cache = decoder_layer_step(layer, Y[:, :2], (empty, empty), cross_kv, None)
        rest, cache = decoder_layer_step(layer, Y[:, 2:], cache, cross_kv, None)
    assert max_diff(torch.cat([first, rest], 1), full) <= ATOL     # two tokens, then three
    assert cache[0].shape == (3, H, 5, D // H)
