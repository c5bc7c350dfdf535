"""Typical wrong answers to the graded exercises, one catalog for the grading tests.

Each entry replaces ONE solution cell (the cell whose nbgrader grade_id is `task`) of an
otherwise correct notebook. `tests/test_grading.py` proves that every entry loses its task's
points while the other tasks keep theirs: in-process (fast), and through nbgrader's autograder
(slow). `caught_by_visible` says whether the visible part of the test cell already fails; for
every task at least one wrong answer must get past the visible checks, so that the hidden
tests are what catch it.

Add at least three entries when you add a task (CONTRIBUTING.md, "Adding a chapter").
"""
from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class WrongAnswer:
    assignment: str           # e.g. "01_rnn"
    task: str                 # the grade_id of the solution cell it replaces
    name: str                 # a short slug, unique within the task
    mistake: str              # what is wrong, in words
    caught_by_visible: bool   # does the visible part of the test already fail?
    code: str                 # the whole replacement cell

    @property
    def id(self) -> str:
        return f"{self.assignment}-{self.task}-{self.name}"


def _w(assignment, task, name, mistake, caught_by_visible, code) -> WrongAnswer:
    return WrongAnswer(assignment, task, name, mistake, caught_by_visible, dedent(code).strip("\n"))


WRONG_ANSWERS: list[WrongAnswer] = [
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
    # ---------------------------------------------------------------- 02_lstm_gru: lstm_cell_step
    _w("02_lstm_gru", "lstm_cell_step", "gate_order_ifog", "reads the gates as i, f, o, g instead of i, f, g, o", False, """
        def lstm_cell_step(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
            h, c = state
            i, f, o, g = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c
        """),
    _w("02_lstm_gru", "lstm_cell_step", "missing_bias_hh", "adds bias_ih but forgets bias_hh", False, """
        def lstm_cell_step(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
            h, c = state
            i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c
        """),
    _w("02_lstm_gru", "lstm_cell_step", "output_uses_old_cell", "h = o * tanh(c_old) instead of tanh(c_new)", True, """
        def lstm_cell_step(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
            h, c = state
            i, f, g, o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c_new
        """),
    # ---------------------------------------------------------------- 02_lstm_gru: gru_cell_step
    _w("02_lstm_gru", "gru_cell_step", "z_swapped", "h = z * n + (1 - z) * h: z and 1 - z swapped", False, """
        def gru_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
            h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            return z * n + (1 - z) * h
        """),
    _w("02_lstm_gru", "gru_cell_step", "reset_outside_bias", "r multiplies h W_hn^T but not b_hn", False, """
        def gru_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            H = h.shape[1]
            x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
            h_r, h_z, h_n = (h @ weight_hh.T).chunk(3, dim=1)
            b_r, b_z, b_n = bias_hh.chunk(3)
            r, z = torch.sigmoid(x_r + h_r + b_r), torch.sigmoid(x_z + h_z + b_z)
            n = torch.tanh(x_n + r * h_n + b_n)
            return (1 - z) * n + z * h
        """),
    _w("02_lstm_gru", "gru_cell_step", "gate_order_zrn", "reads the gates as z, r, n instead of r, z, n", False, """
        def gru_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            x_z, x_r, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
            h_z, h_r, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            return (1 - z) * n + z * h
        """),
    # ---------------------------------------------------------------- 02_lstm_gru: reverse_padded
    _w("02_lstm_gru", "reverse_padded", "ignores_lengths", "flips the whole time axis, padding included", False, """
        def reverse_padded(X, lengths):
            return X.flip(1)
        """),
    _w("02_lstm_gru", "reverse_padded", "zeroes_padding", "reverses each sequence but writes zeros at the padded steps", False, """
        def reverse_padded(X, lengths):
            out = torch.zeros_like(X)
            for b, n in enumerate(lengths.tolist()):
                out[b, :n] = X[b, :n].flip(0)
            return out
        """),
    _w("02_lstm_gru", "reverse_padded", "off_by_one", "reads step L_b - t instead of L_b - 1 - t", True, """
        def reverse_padded(X, lengths):
            B, T = X.shape[:2]
            t = torch.arange(T).expand(B, T)
            L = lengths.unsqueeze(1)
            source = torch.where(t < L, L - t, t)
            return X[torch.arange(B).unsqueeze(1), source]
        """),
    # ---------------------------------------------------------------- 02_lstm_gru: init_forget_bias
    _w("02_lstm_gru", "init_forget_bias", "sets_both_biases",
       "sets the forget rows of bias_ih AND bias_hh to value: the gate sees 2 * value", False, """
        def init_forget_bias(lstm, value=1.0):
            with torch.no_grad():
                for name, param in lstm.named_parameters():
                    if name.startswith("bias_"):
                        H = param.shape[0] // 4
                        param[H:2 * H] = value
            return lstm
        """),
    _w("02_lstm_gru", "init_forget_bias", "input_gate_slice", "sets rows 0:H (the input gate) instead of H:2H", True, """
        def init_forget_bias(lstm, value=1.0):
            with torch.no_grad():
                for name, param in lstm.named_parameters():
                    if name.startswith("bias_"):
                        H = param.shape[0] // 4
                        param[:H] = value if name.startswith("bias_ih") else 0.0
            return lstm
        """),
    _w("02_lstm_gru", "init_forget_bias", "only_first_layer", "changes bias_ih_l0 / bias_hh_l0 only, not every layer and direction", False, """
        def init_forget_bias(lstm, value=1.0):
            H = lstm.hidden_size
            with torch.no_grad():
                lstm.bias_ih_l0[H:2 * H] = value
                lstm.bias_hh_l0[H:2 * H] = 0.0
            return lstm
        """),
]
