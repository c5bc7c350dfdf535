"""Parity of the from-scratch RNN (attention_course.rnn, exported from book/01_rnn.ipynb) with torch.nn.RNN."""
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from attention_course.rnn import RNN, RNNCell, copy_weights_from_torch, reverse_padded

ATOL = 1e-5
CASES = [  # (num_layers, bidirectional, nonlinearity)
    (1, False, "tanh"), (2, False, "tanh"), (1, True, "tanh"), (2, True, "tanh"), (1, False, "relu"),
]


def make_pair(num_layers, bidirectional, nonlinearity, input_size=5, hidden_size=7, seed=0):
    torch.manual_seed(seed)
    ref = nn.RNN(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                 nonlinearity=nonlinearity, batch_first=True)
    ours = RNN(input_size, hidden_size, num_layers, bidirectional, nonlinearity)
    return copy_weights_from_torch(ours, ref), ref


@pytest.mark.parametrize("num_layers,bidirectional,nonlinearity", CASES)
def test_full_length_matches_torch(num_layers, bidirectional, nonlinearity):
    ours, ref = make_pair(num_layers, bidirectional, nonlinearity)
    X = torch.randn(3, 11, 5)                                          # (B, T, I)
    h0 = torch.randn(num_layers * (2 if bidirectional else 1), 3, 7)   # (L*D, B, H)
    for state in (None, h0):
        out, h = ours(X, state)
        ref_out, ref_h = ref(X, state)
        assert out.shape == ref_out.shape and h.shape == ref_h.shape
        assert (out - ref_out).abs().max() <= ATOL
        assert (h - ref_h).abs().max() <= ATOL


@pytest.mark.parametrize("num_layers,bidirectional,nonlinearity", CASES)
def test_padded_batch_matches_packed_torch(num_layers, bidirectional, nonlinearity):
    ours, ref = make_pair(num_layers, bidirectional, nonlinearity)
    X = torch.randn(4, 9, 5)
    lengths = torch.tensor([9, 2, 5, 1])
    out, h = ours(X, lengths=lengths)
    packed, ref_h = ref(pack_padded_sequence(X, lengths, batch_first=True, enforce_sorted=False))
    ref_out, _ = pad_packed_sequence(packed, batch_first=True, total_length=9)
    assert (out - ref_out).abs().max() <= ATOL       # padded positions are 0 in both
    assert (h - ref_h).abs().max() <= ATOL           # final state taken at each sequence's last real step


def test_padding_does_not_leak_into_real_steps():
    ours, _ = make_pair(1, True, "tanh")
    X = torch.randn(2, 6, 5)
    lengths = torch.tensor([3, 6])
    out, _ = ours(X, lengths=lengths)
    X_changed = X.clone()
    X_changed[0, 3:] = 100.0                                   # garbage in the padding of sequence 0
    out_changed, _ = ours(X_changed, lengths=lengths)
    assert torch.equal(out, out_changed)


def test_gradients_match_torch():
    ours, ref = make_pair(2, True, "tanh")
    X = torch.randn(3, 6, 5)
    ours(X)[0].sum().backward()
    ref(X)[0].sum().backward()
    for layer, cells in enumerate(ours.layers):
        for d, cell in enumerate(cells):
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                g = getattr(cell, name).grad
                g_ref = getattr(ref, name + suffix).grad
                assert (g - g_ref).abs().max() <= ATOL, name + suffix


def test_cell_matches_torch_rnncell():
    torch.manual_seed(1)
    ref = nn.RNNCell(4, 6)
    cell = RNNCell(4, 6)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(ref, name))
    x, h = torch.randn(5, 4), torch.randn(5, 6)
    assert (cell(x, h) - ref(x, h)).abs().max() <= ATOL


def test_reverse_padded_reverses_within_length():
    X = torch.arange(1, 6).repeat(2, 1).unsqueeze(-1).float()      # (2, 5, 1)
    out = reverse_padded(X, torch.tensor([5, 3]))[..., 0]
    assert out.tolist() == [[5, 4, 3, 2, 1], [3, 2, 1, 4, 5]]


def test_wrong_input_shape_is_a_clear_error():
    ours, _ = make_pair(1, False, "tanh")
    with pytest.raises(ValueError, match=r"\(batch, steps, 5\)"):
        ours(torch.randn(4, 5))                                     # forgot the time axis
    with pytest.raises(ValueError, match=r"\(batch, steps, 5\)"):
        ours(torch.randn(2, 3, 4))                                  # wrong feature size
