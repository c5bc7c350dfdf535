"""Typical wrong answers to exercise 01_rnn: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

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
    _w("01_rnn", "rnn_cell_step", "squeezes_batch", "squeezes the result: a batch of one gives shape (H,), not (1, H)", False, """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return torch.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).squeeze()
        """),
    _w("01_rnn", "rnn_cell_step", "casts_to_float32", "casts everything to float32: float64 inputs give a float32 state", False, """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            x, h = x.float(), h.float()
            return torch.tanh(x @ weight_ih.float().T + bias_ih.float() + h @ weight_hh.float().T + bias_hh.float())
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
    _w("01_rnn", "rnn_forward", "blends_with_mask",
       "blends new and old state with a 0/1 mask: nan in the padding leaks into the state", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = h0, []
            for t in range(T):
                real = (t < lengths).unsqueeze(1).to(h0.dtype)
                h = real * step(X[:, t], h) + (1 - real) * h
                outputs.append(h * real)
            return torch.stack(outputs, dim=1), h
        """),
    _w("01_rnn", "rnn_forward", "float32_buffer",
       "preallocates outputs with torch.zeros(B, T, H): float64 inputs give float32 outputs", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = h0, torch.zeros(B, T, h0.shape[1])
            for t in range(T):
                real = (t < lengths).unsqueeze(1)
                h = torch.where(real, step(X[:, t], h), h)
                outputs[:, t] = h * real
            return outputs, h
        """),
    _w("01_rnn", "rnn_forward", "reads_step_weights",
       "calls rnn_cell_step with step's weights instead of calling step: fails for any other cell", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = h0, []
            for t in range(T):
                real = (t < lengths).unsqueeze(1)
                new = rnn_cell_step(X[:, t], h, step.weight_ih, step.weight_hh, step.bias_ih, step.bias_hh)
                h = torch.where(real, new, h)
                outputs.append(h * real)
            return torch.stack(outputs, dim=1), h
        """),
    _w("01_rnn", "rnn_forward", "h_last_squeezed",
       "gathers h_last from the outputs and squeezes it: a batch of one gives shape (H,)", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = h0, []
            for t in range(T):
                real = (t < lengths).unsqueeze(1)
                h = torch.where(real, step(X[:, t], h), h)
                outputs.append(h * real)
            outputs = torch.stack(outputs, dim=1)
            return outputs, outputs[torch.arange(B), lengths - 1].squeeze()
        """),
    _w("01_rnn", "rnn_forward", "writes_into_h0", "updates the state in place, overwriting the caller's h0", True, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            h, outputs = h0, []
            for t in range(T):
                real = (t < lengths).unsqueeze(1)
                h.copy_(torch.where(real, step(X[:, t], h), h))
                outputs.append(h * real)
            return torch.stack(outputs, dim=1), h.clone()
        """),
    _w("01_rnn", "rnn_forward", "cleans_nan_in_place",
       "replaces nan in X in place (X.nan_to_num_()): the results are right, the "
       "caller's X has changed at its padded steps", False, """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            if lengths is None:
                lengths = torch.full((B,), T)
            X.nan_to_num_(0.0)
            h, outputs = h0, []
            for t in range(T):
                real = (t < lengths).unsqueeze(1)
                h = torch.where(real, step(X[:, t], h), h)
                outputs.append(h * real)
            return torch.stack(outputs, dim=1), h
        """),
    # ---------------------------------------------------------------- 01_rnn: clip_grad_norm
    _w("01_rnn", "clip_grad_norm", "per_tensor_norm", "clips each gradient by its own norm, not the global one", False, """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            if not grads:
                return torch.tensor(0.0)
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
            if not grads:
                return torch.tensor(0.0)
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            for g in grads:
                g.mul_(max_norm / (total_norm + 1e-6))
            return total_norm
        """),
    _w("01_rnn", "clip_grad_norm", "clips_by_value", "clamps every entry to [-max_norm, max_norm]", True, """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            if not grads:
                return torch.tensor(0.0)
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            for g in grads:
                g.clamp_(-max_norm, max_norm)
            return total_norm
        """),
    _w("01_rnn", "clip_grad_norm", "returns_python_float", "returns the norm as a Python float (.item()), not a 0-dim tensor", False, """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            if not grads:
                return 0.0
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(scale)
            return total_norm.item()
        """),
    _w("01_rnn", "clip_grad_norm", "assigns_new_grad", "p.grad = p.grad * scale: a new tensor instead of changing the gradient in place", False, """
        def clip_grad_norm(parameters, max_norm):
            params = [p for p in parameters if p.grad is not None]
            if not params:
                return torch.tensor(0.0)
            total_norm = torch.sqrt(sum((p.grad ** 2).sum() for p in params))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for p in params:
                p.grad = p.grad * scale
            return total_norm
        """),
    _w("01_rnn", "clip_grad_norm", "no_gradients_crash", "crashes when no parameter has a gradient (sqrt of the int 0)", False, """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            total_norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
            scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
            for g in grads:
                g.mul_(scale)
            return total_norm
        """),
    # ---------------------------------------------------------------- 01_rnn: temperature_softmax
    _w("01_rnn", "temperature_softmax", "multiplies_by_temperature", "logits * temperature instead of / temperature", False, """
        def temperature_softmax(logits, temperature):
            if temperature <= 0:
                raise ValueError(f"temperature must be > 0, got {temperature}")
            return torch.softmax(logits * temperature, dim=-1)
        """),
    _w("01_rnn", "temperature_softmax", "softmax_over_first_axis", "normalises over dim 0 instead of the vocabulary", False, """
        def temperature_softmax(logits, temperature):
            if temperature <= 0:
                raise ValueError(f"temperature must be > 0, got {temperature}")
            return torch.softmax(logits / temperature, dim=0)
        """),
    _w("01_rnn", "temperature_softmax", "unstable_exp", "exp without subtracting the maximum: nan for large logits", False, """
        def temperature_softmax(logits, temperature):
            if temperature <= 0:
                raise ValueError(f"temperature must be > 0, got {temperature}")
            e = torch.exp(logits / temperature)
            return e / e.sum(dim=-1, keepdim=True)
        """),
    _w("01_rnn", "temperature_softmax", "greedy_at_zero",
       "returns a one-hot arg-max for temperature 0 instead of raising ValueError (chapter 1's sample raises)", False, """
        def temperature_softmax(logits, temperature):
            if temperature == 0:
                return torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
            if temperature < 0:
                raise ValueError(f"temperature must be > 0, got {temperature}")
            return torch.softmax(logits / temperature, dim=-1)
        """),
    _w("01_rnn", "temperature_softmax", "accepts_negative", "rejects temperature 0 but accepts a negative temperature", False, """
        def temperature_softmax(logits, temperature):
            if temperature == 0:
                raise ValueError("temperature must not be 0")
            return torch.softmax(logits / temperature, dim=-1)
        """),
    _w("01_rnn", "temperature_softmax", "modifies_logits", "subtracts the maximum and divides in place: the caller's logits change", False, """
        def temperature_softmax(logits, temperature):
            if temperature <= 0:
                raise ValueError(f"temperature must be > 0, got {temperature}")
            logits -= logits.max(dim=-1, keepdim=True).values
            logits /= temperature
            e = torch.exp(logits)
            return e / e.sum(dim=-1, keepdim=True)
        """),
    _w("01_rnn", "temperature_softmax", "returns_float32", "computes in float32: float64 logits give float32 probabilities", False, """
        def temperature_softmax(logits, temperature):
            if temperature <= 0:
                raise ValueError(f"temperature must be > 0, got {temperature}")
            return torch.softmax(logits.float() / temperature, dim=-1)
        """),
    # ---------------------------------------------------------------- 01_rnn: truncated_bptt_forward
    _w("01_rnn", "truncated_bptt_forward", "no_detach",
       "never cuts the graph: full backpropagation through time, chunk_size is ignored", True, """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0, []
            for t in range(X.shape[1]):
                h = step(X[:, t], h)
                outputs.append(h)
            return torch.stack(outputs, dim=1), h.detach()
        """),
    _w("01_rnn", "truncated_bptt_forward", "restarts_each_chunk",
       "starts every chunk from h0 again (as the chapter's windows start from zero) instead of carrying the state",
       True, """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0, []
            for t in range(X.shape[1]):
                if t % chunk_size == 0:
                    h = h0
                h = step(X[:, t], h)
                outputs.append(h)
            return torch.stack(outputs, dim=1), h.detach()
        """),
    _w("01_rnn", "truncated_bptt_forward", "detach_every_step",
       "detaches the state at every step, whatever chunk_size is", True, """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0, []
            for t in range(X.shape[1]):
                h = step(X[:, t], h.detach())
                outputs.append(h)
            return torch.stack(outputs, dim=1), h.detach()
        """),
    _w("01_rnn", "truncated_bptt_forward", "detaches_h0",
       "cuts at t = 0 too (t % chunk_size == 0): no gradient reaches h0", False, """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0, []
            for t in range(X.shape[1]):
                if t % chunk_size == 0:
                    h = h.detach()
                h = step(X[:, t], h)
                outputs.append(h)
            return torch.stack(outputs, dim=1), h.detach()
        """),
    _w("01_rnn", "truncated_bptt_forward", "h_last_attached",
       "returns h_last still attached to the last chunk's graph", False, """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0, []
            for t in range(X.shape[1]):
                if t > 0 and t % chunk_size == 0:
                    h = h.detach()
                h = step(X[:, t], h)
                outputs.append(h)
            return torch.stack(outputs, dim=1), h
        """),
    _w("01_rnn", "truncated_bptt_forward", "drops_short_chunk",
       "loops over T // chunk_size whole chunks: the steps of a shorter last chunk are dropped", False, """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0, []
            for start in range(0, X.shape[1] // chunk_size * chunk_size, chunk_size):
                if start > 0:
                    h = h.detach()
                for t in range(start, start + chunk_size):
                    h = step(X[:, t], h)
                    outputs.append(h)
            return torch.stack(outputs, dim=1), h.detach()
        """),
    _w("01_rnn", "truncated_bptt_forward", "cut_one_step_late",
       "cuts after step chunk_size instead of before it: every chunk but the first is shifted one step", True, """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0, []
            for t in range(X.shape[1]):
                h = step(X[:, t], h)
                outputs.append(h)
                if t > 0 and t % chunk_size == 0:
                    h = h.detach()
            return torch.stack(outputs, dim=1), h.detach()
        """),
    _w("01_rnn", "truncated_bptt_forward", "sets_h0_requires_grad",
       "calls h0.requires_grad_() so that gradient can reach h0: the caller's h0 "
       "changes", False,
       """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            h, outputs = h0.requires_grad_(), []
            for t in range(X.shape[1]):
                if t > 0 and t % chunk_size == 0:
                    h = h.detach()
                h = step(X[:, t], h)
                outputs.append(h)
            return torch.stack(outputs, dim=1), h.detach()
        """),
]

# Correct answers written another way: each keeps every point.
RIGHT_ANSWERS = [
    _r("01_rnn", "rnn_cell_step", "addmm",
       "torch.addmm with the biases as the added term", """
        def rnn_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            return torch.tanh(torch.addmm(bias_ih, x, weight_ih.T)
                              + torch.addmm(bias_hh, h, weight_hh.T))
        """),
    _r("01_rnn", "rnn_forward", "gather_h_last",
       "stacks the frozen states, zeroes the padding afterwards and gathers h_last at "
       "L_b - 1", """
        def rnn_forward(step, X, h0, lengths=None):
            B, T, _ = X.shape
            lengths = torch.full((B,), T) if lengths is None else lengths
            h, states = h0, []
            for t in range(T):
                h = torch.where((t < lengths)[:, None], step(X[:, t], h), h)
                states.append(h)
            states = torch.stack(states, dim=1)
            real = torch.arange(T)[None, :] < lengths[:, None]
            outputs = torch.where(real[..., None], states, torch.zeros_like(states))
            return outputs, states[torch.arange(B), lengths - 1]
        """),
    _r("01_rnn", "clip_grad_norm", "vector_norm_if",
       "torch.linalg.vector_norm of the per-tensor norms, and an if instead of a clamp"
       "", """
        def clip_grad_norm(parameters, max_norm):
            grads = [p.grad for p in parameters if p.grad is not None]
            if len(grads) == 0:
                return torch.tensor(0.0)
            total = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
            if total > max_norm:
                for g in grads:
                    g.mul_(max_norm / (total + 1e-6))
            return total
        """),
    _r("01_rnn", "temperature_softmax", "manual_stable",
       "exp after subtracting the row maximum, by hand", """
        def temperature_softmax(logits, temperature):
            if not temperature > 0:
                raise ValueError("temperature must be positive")
            z = logits / temperature
            e = torch.exp(z - z.amax(dim=-1, keepdim=True))
            return e / e.sum(dim=-1, keepdim=True)
        """),
    _r("01_rnn", "truncated_bptt_forward", "loop_over_chunks",
       "an outer loop over the chunks, detaching between them", """
        def truncated_bptt_forward(step, X, h0, chunk_size):
            T = X.shape[1]
            h, outputs = h0, []
            for start in range(0, T, chunk_size):
                if start > 0:
                    h = h.detach()
                for t in range(start, min(start + chunk_size, T)):
                    h = step(X[:, t], h)
                    outputs.append(h)
            return torch.stack(outputs, dim=1), h.detach()
        """),
]
