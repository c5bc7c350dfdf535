"""Typical wrong answers to exercise 02_lstm_gru: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
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
    _w("02_lstm_gru", "lstm_cell_step", "hand_written_sigmoid",
       "sigmoid written as exp(a) / (1 + exp(a)): nan when the gates saturate", False, """
        def lstm_cell_step(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
            h, c = state
            a_i, a_f, a_g, a_o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
            sigmoid = lambda a: torch.exp(a) / (1 + torch.exp(a))
            c = sigmoid(a_f) * c + sigmoid(a_i) * torch.tanh(a_g)
            return sigmoid(a_o) * torch.tanh(c), c
        """),
    _w("02_lstm_gru", "lstm_cell_step", "updates_c_in_place", "c.mul_(f).add_(i * g): overwrites the caller's cell state", True, """
        def lstm_cell_step(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
            h, c = state
            a_i, a_f, a_g, a_o = (x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh).chunk(4, dim=1)
            c.mul_(torch.sigmoid(a_f)).add_(torch.sigmoid(a_i) * torch.tanh(a_g))
            return torch.sigmoid(a_o) * torch.tanh(c), c
        """),
    _w("02_lstm_gru", "lstm_cell_step", "casts_to_float32", "casts the inputs to float32: float64 inputs give float32 states", False, """
        def lstm_cell_step(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
            h, c = (s.float() for s in state)
            gates = x.float() @ weight_ih.float().T + bias_ih.float() + h @ weight_hh.float().T + bias_hh.float()
            a_i, a_f, a_g, a_o = gates.chunk(4, dim=1)
            c = torch.sigmoid(a_f) * c + torch.sigmoid(a_i) * torch.tanh(a_g)
            return torch.sigmoid(a_o) * torch.tanh(c), c
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
    _w("02_lstm_gru", "gru_cell_step", "hand_written_tanh",
       "tanh written as (exp(2a) - 1) / (exp(2a) + 1): nan when the gates saturate", False, """
        def gru_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
            h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            a = x_n + r * h_n
            n = (torch.exp(2 * a) - 1) / (torch.exp(2 * a) + 1)
            return (1 - z) * n + z * h
        """),
    _w("02_lstm_gru", "gru_cell_step", "updates_h_in_place", "h.mul_(z).add_((1 - z) * n): overwrites the caller's state", True, """
        def gru_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
            h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            return h.mul_(z).add_((1 - z) * n)
        """),
    _w("02_lstm_gru", "gru_cell_step", "squeezes_batch", "squeezes the result: a batch of one gives shape (H,), not (1, H)", False, """
        def gru_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            x_r, x_z, x_n = (x @ weight_ih.T + bias_ih).chunk(3, dim=1)
            h_r, h_z, h_n = (h @ weight_hh.T + bias_hh).chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            return ((1 - z) * n + z * h).squeeze()
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
    _w("02_lstm_gru", "reverse_padded", "reverses_in_place", "reverses X in place and returns it", True, """
        def reverse_padded(X, lengths):
            for b, n in enumerate(lengths.tolist()):
                X[b, :n] = X[b, :n].flip(0)
            return X
        """),
    _w("02_lstm_gru", "reverse_padded", "float_buffer", "fills a torch.empty(X.shape) buffer: token ids come back as floats", False, """
        def reverse_padded(X, lengths):
            out = torch.empty(X.shape)
            for b, n in enumerate(lengths.tolist()):
                out[b, :n] = X[b, :n].flip(0)
                out[b, n:] = X[b, n:]
            return out
        """),
    _w("02_lstm_gru", "reverse_padded", "squeezed_lengths", "lengths.squeeze().tolist(): fails for a batch of one", False, """
        def reverse_padded(X, lengths):
            out = X.clone()
            for b, n in enumerate(lengths.squeeze().tolist()):
                out[b, :n] = X[b, :n].flip(0)
            return out
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
    _w("02_lstm_gru", "init_forget_bias", "replaces_parameters",
       "builds new Parameter objects instead of changing the module's parameters in place", False, """
        def init_forget_bias(lstm, value=1.0):
            for name, param in list(lstm.named_parameters()):
                if name.startswith("bias_"):
                    new = param.detach().clone()
                    H = new.shape[0] // 4
                    new[H:2 * H] = value if name.startswith("bias_ih") else 0.0
                    setattr(lstm, name, torch.nn.Parameter(new))
            return lstm
        """),
    _w("02_lstm_gru", "init_forget_bias", "ignores_value", "always sets the forget bias to 1, whatever value is", False, """
        def init_forget_bias(lstm, value=1.0):
            with torch.no_grad():
                for name, param in lstm.named_parameters():
                    if name.startswith("bias_"):
                        H = param.shape[0] // 4
                        param[H:2 * H] = 1.0 if name.startswith("bias_ih") else 0.0
            return lstm
        """),
    _w("02_lstm_gru", "init_forget_bias", "freezes_biases",
       "turns requires_grad off to write the biases in place and never turns it back "
       "on: the values are right, the biases no longer train", False, """
        def init_forget_bias(lstm, value=1.0):
            for name, param in lstm.named_parameters():
                if name.startswith("bias_"):
                    param.requires_grad_(False)
                    H = param.shape[0] // 4
                    param[H:2 * H] = value if name.startswith("bias_ih") else 0.0
            return lstm
        """),
    # ---------------------------------------------------------------- 02_lstm_gru: lstm_forget_gates
    _w("02_lstm_gru", "lstm_forget_gates", "input_gate_rows",
       "reads the first block of rows, 0:H (the input gate), instead of H:2H", True, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                outputs, _ = lstm(X, state)
                h0 = torch.zeros_like(outputs[:, 0]) if state is None else state[0][0]
                h_prev = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
                W_if, W_hf = lstm.weight_ih_l0[:H], lstm.weight_hh_l0[:H]
                b_f = lstm.bias_ih_l0[:H] + lstm.bias_hh_l0[:H]
                return torch.sigmoid(X @ W_if.T + h_prev @ W_hf.T + b_f)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "bias_ih_only",
       "adds b_if but forgets b_hf", True, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                outputs, _ = lstm(X, state)
                h0 = torch.zeros_like(outputs[:, 0]) if state is None else state[0][0]
                h_prev = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
                W_if, W_hf = lstm.weight_ih_l0[H:2 * H], lstm.weight_hh_l0[H:2 * H]
                b_f = lstm.bias_ih_l0[H:2 * H]
                return torch.sigmoid(X @ W_if.T + h_prev @ W_hf.T + b_f)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "no_sigmoid",
       "returns the pre-activation, without the sigmoid", True, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                outputs, _ = lstm(X, state)
                h0 = torch.zeros_like(outputs[:, 0]) if state is None else state[0][0]
                h_prev = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
                W_if, W_hf = lstm.weight_ih_l0[H:2 * H], lstm.weight_hh_l0[H:2 * H]
                b_f = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
                return X @ W_if.T + h_prev @ W_hf.T + b_f
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "current_output",
       "uses the output h_t of the same step instead of the previous one, h_{t-1}", False, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                outputs, _ = lstm(X, state)
                h0 = torch.zeros_like(outputs[:, 0]) if state is None else state[0][0]
                h_prev = outputs
                W_if, W_hf = lstm.weight_ih_l0[H:2 * H], lstm.weight_hh_l0[H:2 * H]
                b_f = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
                return torch.sigmoid(X @ W_if.T + h_prev @ W_hf.T + b_f)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "ignores_initial_h0",
       "passes state to lstm but takes zeros as the previous output of step 0", False, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                outputs, _ = lstm(X, state)
                h0 = torch.zeros_like(outputs[:, 0])
                h_prev = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
                W_if, W_hf = lstm.weight_ih_l0[H:2 * H], lstm.weight_hh_l0[H:2 * H]
                b_f = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
                return torch.sigmoid(X @ W_if.T + h_prev @ W_hf.T + b_f)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "state_not_passed",
       "uses h_0 at step 0 but runs lstm from zeros (state not passed on)", False, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                outputs, _ = lstm(X)
                h0 = torch.zeros_like(outputs[:, 0]) if state is None else state[0][0]
                h_prev = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
                W_if, W_hf = lstm.weight_ih_l0[H:2 * H], lstm.weight_hh_l0[H:2 * H]
                b_f = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
                return torch.sigmoid(X @ W_if.T + h_prev @ W_hf.T + b_f)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "no_recurrent_term",
       "computes the gate from the input alone and leaves out the recurrent term h_{t-1} W_hf^T", False, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                W_if = lstm.weight_ih_l0[H:2 * H]
                b_f = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
                return torch.sigmoid(X @ W_if.T + b_f)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "step_by_step",
       "calls lstm once per step on X[:, t:t+1], carrying its state: the gates are "
       "right, but lstm runs T times instead of once", False, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            B, T, _ = X.shape
            with torch.no_grad():
                h = torch.zeros(B, H, dtype=X.dtype) if state is None else state[0][0]
                gates = []
                for t in range(T):
                    pre = (X[:, t] @ lstm.weight_ih_l0.T + lstm.bias_ih_l0
                           + h @ lstm.weight_hh_l0.T + lstm.bias_hh_l0)
                    gates.append(torch.sigmoid(pre[:, H:2 * H]))
                    output, state = lstm(X[:, t:t + 1], state)
                    h = output[:, 0]
                return torch.stack(gates, dim=1)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "freezes_parameters",
       "lstm.requires_grad_(False) instead of torch.no_grad(): the values are right, "
       "the caller's lstm no longer trains", False, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            lstm.requires_grad_(False)
            outputs, _ = lstm(X, state)
            h0 = torch.zeros_like(outputs[:, 0]) if state is None else state[0][0]
            h_prev = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
            W_if, W_hf = lstm.weight_ih_l0[H:2 * H], lstm.weight_hh_l0[H:2 * H]
            b_f = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
            return torch.sigmoid(X @ W_if.T + h_prev @ W_hf.T + b_f)
        """),
    _w("02_lstm_gru", "lstm_forget_gates", "squeezes_h0",
       "takes h_0 as state[0].squeeze(): a batch of one with a given state loses its "
       "batch axis", False, """
        def lstm_forget_gates(lstm, X, state=None):
            H = lstm.hidden_size
            with torch.no_grad():
                outputs, _ = lstm(X, state)
                if state is None:
                    h0 = torch.zeros_like(outputs[:, 0])
                else:
                    h0 = state[0].squeeze()
                h_prev = torch.cat([h0.unsqueeze(1), outputs[:, :-1]], dim=1)
                W_if, W_hf = lstm.weight_ih_l0[H:2 * H], lstm.weight_hh_l0[H:2 * H]
                b_f = lstm.bias_ih_l0[H:2 * H] + lstm.bias_hh_l0[H:2 * H]
                return torch.sigmoid(X @ W_if.T + h_prev @ W_hf.T + b_f)
        """),
]

# Correct answers written another way: each keeps every point.
RIGHT_ANSWERS = [
    _r("02_lstm_gru", "lstm_cell_step", "row_blocks",
       "slices the weights into the four gates' row blocks and computes each gate "
       "apart", """
        def lstm_cell_step(x, state, weight_ih, weight_hh, bias_ih, bias_hh):
            h, c = state
            H = h.shape[1]
            def gate(k):
                rows = slice(k * H, (k + 1) * H)
                return (x @ weight_ih[rows].T + bias_ih[rows]
                        + h @ weight_hh[rows].T + bias_hh[rows])
            i, f, o = (torch.sigmoid(gate(k)) for k in (0, 1, 3))
            c_new = f * c + i * torch.tanh(gate(2))
            return o * torch.tanh(c_new), c_new
        """),
    _r("02_lstm_gru", "gru_cell_step", "lerp",
       "torch.split and torch.lerp(n, h, z)", """
        def gru_cell_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
            H = h.shape[1]
            x_r, x_z, x_n = torch.split(torch.addmm(bias_ih, x, weight_ih.T), H, dim=1)
            h_r, h_z, h_n = torch.split(torch.addmm(bias_hh, h, weight_hh.T), H, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            return torch.lerp(n, h, z)
        """),
    _r("02_lstm_gru", "reverse_padded", "loop_and_cat",
       "a loop over the sentences that flips each real part and concatenates the "
       "padding", """
        def reverse_padded(X, lengths):
            rows = [torch.cat([X[b, :n].flip(0), X[b, n:]])
                    for b, n in enumerate(lengths.tolist())]
            return torch.stack(rows)
        """),
    _r("02_lstm_gru", "init_forget_bias", "fill_data",
       "writes through param.data with fill_, outside torch.no_grad()", """
        def init_forget_bias(lstm, value=1.0):
            for name, param in lstm.named_parameters():
                if "bias" in name:
                    H = param.shape[0] // 4
                    param.data[H:2 * H].fill_(value if "bias_ih" in name else 0.0)
            return lstm
        """),
    _r("02_lstm_gru", "lstm_forget_gates", "loop_over_steps",
       "one call of lstm, then a loop over t that computes all four gates and keeps "
       "the second", """
        def lstm_forget_gates(lstm, X, state=None):
            B, T, _ = X.shape
            H = lstm.hidden_size
            with torch.no_grad():
                outputs = lstm(X, state)[0]
                h = X.new_zeros(B, H) if state is None else state[0][0]
                gates = []
                for t in range(T):
                    pre = (X[:, t] @ lstm.weight_ih_l0.T + h @ lstm.weight_hh_l0.T
                           + lstm.bias_ih_l0 + lstm.bias_hh_l0)
                    gates.append(pre.chunk(4, dim=-1)[1].sigmoid())
                    h = outputs[:, t]
                return torch.stack(gates, dim=1)
        """),
]
