"""Typical wrong answers to exercise 01_rnn: see tests/grading_catalog.py."""
from grading_catalog_base import _w

WRONG_ANSWERS = [
    # ---------------------------------------------------------------- 01_rnn: rnn_cell_step
    _w("01_rnn", "rnn_cell_step", "missing_bias_hh", "adds bias_ih but forgets bias_hh", False, """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T)
        """),
    _w("01_rnn", "rnn_cell_step", "weight_hh_not_transposed", "h @ weight_hh instead of h @ weight_hh.T", False, """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh + bias_hh)
        """),
    _w("01_rnn", "rnn_cell_step", "relu_instead_of_tanh", "ReLU instead of tanh", True, """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return torch.relu(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)
        """),
    # ---------------------------------------------------------------- 01_rnn: rnn_forward
    _w("01_rnn", "rnn_forward", "final_state_at_padded_end",
       "keeps stepping through the padding: h_last is the state after step T-1", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = h0, []
            for t in range(T):
                h = step(X[:, t], h)
                outputs.append(h * (t < lengths).unsqueeze(1))
            return torch.stack(outputs, dim=1), h
        """),
    _w("01_rnn", "rnn_forward", "ignores_h0", "starts from zeros instead of h0", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = torch.zeros_like(h0), []
            for t in range(T):
                real = (t < lengths).unsqueeze(1)
                h = torch.where(real, step(X[:, t], h), h)
                outputs.append(h * real)
            return torch.stack(outputs, dim=1), h
        """),
    _w("01_rnn", "rnn_forward", "padded_outputs_not_zeroed",
       "freezes the state but outputs it again at padded steps instead of zeros", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = h0, []
            for t in range(T):
                real = (t < lengths).unsqueeze(1)
                h = torch.where(real, step(X[:, t], h), h)
                outputs.append(h)
            return torch.stack(outputs, dim=1), h
        """),
    # ---------------------------------------------------------------- 01_rnn: clip_grad_norm
    _w("01_rnn", "clip_grad_norm", "per_tensor_norm", "clips each gradient by its own norm, not the global one", False, """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            for g in grads:
                norm = g.norm()
                if norm > max_norm:
                    g.mul_(max_norm / (norm + 1e-6))
            return total_norm
        """),
    _w("01_rnn", "clip_grad_norm", "always_scales", "rescales to max_norm even when the norm is already smaller", False, """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            for g in grads:
                g.mul_(max_norm / (total_norm + 1e-6))
            return total_norm
        """),
    _w("01_rnn", "clip_grad_norm", "clips_by_value", "clamps every entry to [-max_norm, max_norm]", True, """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            for g in grads:
                g.clamp_(-max_norm, max_norm)
            return total_norm
        """),
    # ---------------------------------------------------------------- 01_rnn: temperature_softmax
    _w("01_rnn", "temperature_softmax", "multiplies_by_temperature", "logits * temperature instead of / temperature", False, """
        def temperature_softmax(logits, temperature):
            if temperature == 0:
                return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).float()
            return torch.softmax(logits * temperature, dim=-1)
        """),
    _w("01_rnn", "temperature_softmax", "softmax_over_first_axis", "normalises over dim 0 instead of the vocabulary", False, """
        def temperature_softmax(logits, temperature):
            if temperature == 0:
                return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).float()
            return torch.softmax(logits / temperature, dim=0)
        """),
    _w("01_rnn", "temperature_softmax", "unstable_exp", "exp without subtracting the maximum: nan for large logits", False, """
        def temperature_softmax(logits, temperature):
            if temperature == 0:
                return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).float()
            e = torch.exp(logits / temperature)
            return e / e.sum(dim=-1, keepdim=True)
        """),
]
