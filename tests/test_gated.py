"""Parity of the from-scratch gated cells and layers (attention_course.gated, exported from
book/02_lstm_gru.ipynb) with torch.nn.LSTM/GRU/LSTMCell/GRUCell, weights copied across."""
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from attention_course.gated import GRU, LSTM, GRUCell, LSTMCell, init_forget_bias_
from attention_course.rnn import copy_weights_from_torch

ATOL = 1e-5
I, H, B, T = 5, 7, 4, 9
LAYOUTS = [(1, False), (2, False), (1, True), (2, True)]       # (num_layers, bidirectional)
KINDS = {"LSTM": (LSTM, nn.LSTM), "GRU": (GRU, nn.GRU)}


def make_pair(kind, num_layers, bidirectional, seed=0):
    torch.manual_seed(seed)
    ours_class, ref_class = KINDS[kind]
    ref = ref_class(I, H, num_layers=num_layers, bidirectional=bidirectional, batch_first=True)
    return copy_weights_from_torch(ours_class(I, H, num_layers, bidirectional), ref), ref


def random_state(kind, num_layers, bidirectional):
    shape = (num_layers * (2 if bidirectional else 1), B, H)   # (L·D, B, H)
    return (torch.randn(shape), torch.randn(shape)) if kind == "LSTM" else torch.randn(shape)


def parts(state):
    return state if isinstance(state, tuple) else (state,)


def max_diff(a, b):
    return max((x - y).abs().max().item() for x, y in zip(parts(a), parts(b)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers,bidirectional", LAYOUTS)
@pytest.mark.parametrize("given_state", [False, True])
def test_full_length_matches_torch(kind, num_layers, bidirectional, given_state):
    ours, ref = make_pair(kind, num_layers, bidirectional)
    X = torch.randn(B, T, I)
    state = random_state(kind, num_layers, bidirectional) if given_state else None
    with torch.no_grad():
        out, final = ours(X, state)
        ref_out, ref_final = ref(X, state)
    assert out.shape == ref_out.shape == (B, T, H * (2 if bidirectional else 1))
    assert [p.shape for p in parts(final)] == [p.shape for p in parts(ref_final)]
    assert max_diff(out, ref_out) <= ATOL
    assert max_diff(final, ref_final) <= ATOL


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_layers,bidirectional", LAYOUTS)
@pytest.mark.parametrize("given_state", [False, True])
def test_padded_batch_matches_packed_torch(kind, num_layers, bidirectional, given_state):
    ours, ref = make_pair(kind, num_layers, bidirectional)
    X = torch.randn(B, T, I)
    lengths = torch.tensor([T, 2, 5, 1])
    state = random_state(kind, num_layers, bidirectional) if given_state else None
    with torch.no_grad():
        out, final = ours(X, state, lengths)
        packed = pack_padded_sequence(X, lengths, batch_first=True, enforce_sorted=False)
        ref_packed, ref_final = ref(packed, state)
        ref_out, _ = pad_packed_sequence(ref_packed, batch_first=True, total_length=T)
    assert max_diff(out, ref_out) <= ATOL          # padded positions are 0 in both
    assert max_diff(final, ref_final) <= ATOL      # taken at each sequence's last real step


@pytest.mark.parametrize("ours_class,ref_class", [(LSTMCell, nn.LSTMCell), (GRUCell, nn.GRUCell)])
def test_cells_match_torch_cells(ours_class, ref_class):
    torch.manual_seed(0)
    ref = ref_class(I, H)
    ours = ours_class(I, H)
    assert ours.weight_ih.shape == ref.weight_ih.shape and ours.weight_hh.shape == ref.weight_hh.shape
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(ours, name).copy_(getattr(ref, name))
        x = torch.randn(B, I)
        state = (torch.randn(B, H), torch.randn(B, H)) if ours_class is LSTMCell else torch.randn(B, H)
        assert max_diff(ours(x, state), ref(x, state)) <= ATOL
        zero = ours.init_state(B, x)
        assert max_diff(ours(x, zero), ref(x)) <= ATOL       # torch starts from zeros by default


def test_gradients_match_torch():
    ours, ref = make_pair("LSTM", 2, True)
    X = torch.randn(B, T, I)
    lengths = torch.tensor([T, 2, 5, 1])
    X_ours, X_ref = X.clone().requires_grad_(), X.clone().requires_grad_()
    out, (h_n, c_n) = ours(X_ours, lengths=lengths)
    (out.pow(2).sum() + h_n.sum() + c_n.sum()).backward()
    packed = pack_padded_sequence(X_ref, lengths, batch_first=True, enforce_sorted=False)
    ref_packed, (ref_h, ref_c) = ref(packed)
    ref_out, _ = pad_packed_sequence(ref_packed, batch_first=True, total_length=T)
    (ref_out.pow(2).sum() + ref_h.sum() + ref_c.sum()).backward()
    ref_params = dict(ref.named_parameters())
    for layer, cells in enumerate(ours.layers):
        for d, cell in enumerate(cells):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                ref_grad = ref_params[f"{name}_l{layer}{'_reverse' if d else ''}"].grad
                assert (getattr(cell, name).grad - ref_grad).abs().max() <= ATOL, (layer, d, name)
    assert (X_ours.grad - X_ref.grad).abs().max() <= ATOL


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_input_shape_raises(kind):
    ours, _ = make_pair(kind, 1, False)
    with pytest.raises(ValueError):
        ours(torch.randn(B, I, T))          # time and features swapped
    with pytest.raises(ValueError):
        ours(torch.randn(T, I))             # no batch dimension


def test_lstm_padding_does_not_leak():
    ours, _ = make_pair("LSTM", 1, True)
    X = torch.randn(2, 6, I)
    lengths = torch.tensor([3, 6])
    out, (h, c) = ours(X, lengths=lengths)
    X_changed = X.clone()
    X_changed[0, 3:] = 100.0                # garbage in the padding of sequence 0
    out2, (h2, c2) = ours(X_changed, lengths=lengths)
    assert torch.equal(out, out2) and torch.equal(h, h2) and torch.equal(c, c2)


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(I, H, num_layers=2, bidirectional=True),
    lambda: nn.LSTMCell(I, H),
    lambda: LSTM(I, H, num_layers=2, bidirectional=True),
    lambda: LSTMCell(I, H),
])
def test_init_forget_bias_sets_only_the_forget_rows(make):
    module = make()
    before = {n: p.detach().clone() for n, p in module.named_parameters()}
    assert init_forget_bias_(module, 2.0) is module
    params = dict(module.named_parameters())
    for name, p in params.items():
        keep = torch.ones_like(p, dtype=torch.bool)
        if "bias_" in name:
            keep[H:2 * H] = False
        assert torch.equal(p[keep], before[name][keep]), name       # nothing else moves
        if "bias_ih" in name:
            partner = params[name.replace("bias_ih", "bias_hh")]
            assert torch.allclose(p[H:2 * H] + partner[H:2 * H], torch.full((H,), 2.0))


def test_init_forget_bias_rejects_modules_without_lstm():
    with pytest.raises(ValueError):
        init_forget_bias_(nn.GRU(I, H))
