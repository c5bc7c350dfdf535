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
    # ---------------------------------------------------------------- 03_seq2seq: decoder_io
    _w("03_seq2seq", "decoder_io", "pads_targets_with_eos", "fills the padding of tgt_out with EOS instead of PAD", False, """
        def decoder_io(targets):
            T = max(len(y) for y in targets) + 1
            tgt_in = torch.full((len(targets), T), PAD, dtype=torch.long)
            tgt_out = torch.full((len(targets), T), EOS, dtype=torch.long)
            for b, y in enumerate(targets):
                tgt_in[b, : len(y) + 1] = torch.tensor([BOS] + list(y))
                tgt_out[b, : len(y)] = torch.tensor(list(y), dtype=torch.long)
            return tgt_in, tgt_out
        """),
    _w("03_seq2seq", "decoder_io", "pads_at_the_front", "pads every sentence at the start instead of the end", False, """
        def decoder_io(targets):
            T = max(len(y) for y in targets) + 1
            tgt_in = torch.full((len(targets), T), PAD, dtype=torch.long)
            tgt_out = torch.full((len(targets), T), PAD, dtype=torch.long)
            for b, y in enumerate(targets):
                n = len(y) + 1
                tgt_in[b, T - n:] = torch.tensor([BOS] + list(y))
                tgt_out[b, T - n:] = torch.tensor(list(y) + [EOS])
            return tgt_in, tgt_out
        """),
    _w("03_seq2seq", "decoder_io", "mutates_targets", "inserts BOS into the caller's lists (y.insert) instead of copying them", False, """
        def decoder_io(targets):
            T = max(len(y) for y in targets) + 1
            rows_in, rows_out = [], []
            for y in targets:
                y.insert(0, BOS)
                rows_in.append(y + [PAD] * (T - len(y)))
                rows_out.append(y[1:] + [EOS] + [PAD] * (T - len(y)))
            return torch.tensor(rows_in), torch.tensor(rows_out)
        """),
    _w("03_seq2seq", "decoder_io", "language_model_shift",
       "shifts y against itself (input [BOS] + y[:-1], target y): no EOS, one step short", True, """
        def decoder_io(targets):
            T = max(len(y) for y in targets)
            tgt_in = torch.full((len(targets), T), PAD, dtype=torch.long)
            tgt_out = torch.full((len(targets), T), PAD, dtype=torch.long)
            for b, y in enumerate(targets):
                tgt_in[b, : len(y)] = torch.tensor([BOS] + list(y)[:-1])
                tgt_out[b, : len(y)] = torch.tensor(list(y))
            return tgt_in, tgt_out
        """),
    # ---------------------------------------------------------------- 03_seq2seq: masked_cross_entropy
    _w("03_seq2seq", "masked_cross_entropy", "divides_by_all_positions",
       "zeroes the loss at PAD positions but divides by B * T instead of the number of real tokens", False, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            return (nll * (tgt_out != PAD)).sum() / nll.numel()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "mean_of_sentence_means",
       "averages each sentence's mean loss: short sentences weigh as much as long ones", False, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            real = tgt_out != PAD
            return ((nll * real).sum(dim=1) / real.sum(dim=1)).mean()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "log_of_softmax",
       "torch.log(torch.softmax(...)): inf when a probability underflows to 0", False, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log(torch.softmax(logits, dim=-1))
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            real = tgt_out != PAD
            return nll[real].sum() / real.sum()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "sum_not_mean", "sums the losses of the real tokens instead of averaging", True, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            return nll[tgt_out != PAD].sum()
        """),
    # ---------------------------------------------------------------- 03_seq2seq: greedy_decode
    _w("03_seq2seq", "greedy_decode", "keeps_tokens_after_eos",
       "removes the EOS tokens but keeps what a finished sentence produced after its EOS", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [[token for token in row if token != EOS] for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "never_stops_early",
       "always runs max_len steps, even after every sentence has produced EOS", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "state_not_passed_on", "calls step with the initial state at every step", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, _ = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "includes_eos", "returns each sentence with its EOS at the end", True, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS) + 1] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "feeds_back_bos", "feeds BOS at every step instead of the previous prediction", True, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(torch.full((B,), BOS, dtype=torch.long), state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    # ---------------------------------------------------------------- 03_seq2seq: beam_step
    _w("03_seq2seq", "beam_step", "best_token_per_hypothesis",
       "extends every hypothesis with its own best token, instead of ranking all K·V extensions", False, """
        def beam_step(scores, logp):
            best_logp, best_token = logp.max(dim=-1)
            new_scores, parent = (scores + best_logp).sort(dim=-1, descending=True)
            return new_scores, parent, best_token.gather(1, parent)
        """),
    _w("03_seq2seq", "beam_step", "topk_over_whole_batch",
       "ranks the extensions of all sentences together instead of sentence by sentence", False, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            new_scores, flat = (scores.unsqueeze(-1) + logp).reshape(-1).topk(B * K)
            flat = flat % (K * V)
            return new_scores.reshape(B, K), (flat // V).reshape(B, K), (flat % V).reshape(B, K)
        """),
    _w("03_seq2seq", "beam_step", "forgets_parent_scores", "ranks by the token's log-probability alone", True, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            new_scores, flat = logp.reshape(B, K * V).topk(K, dim=-1)
            return new_scores, flat // V, flat % V
        """),
    _w("03_seq2seq", "beam_step", "index_divided_by_K", "splits the flat index with K instead of V", True, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            new_scores, flat = (scores.unsqueeze(-1) + logp).reshape(B, K * V).topk(K, dim=-1)
            return new_scores, flat // K, flat % K
        """),
    # ---------------------------------------------------------------- 03_seq2seq: best_hypothesis
    _w("03_seq2seq", "best_hypothesis", "length_without_eos", "takes |Y| = len(ids), forgetting the EOS", False, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0] / ((5 + len(h[1])) / 6) ** alpha)[1]
        """),
    _w("03_seq2seq", "best_hypothesis", "alpha_fixed_at_0_6", "uses GNMT's alpha = 0.6 whatever alpha is given", False, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0] / ((5 + len(h[1]) + 1) / 6) ** 0.6)[1]
        """),
    _w("03_seq2seq", "best_hypothesis", "not_normalised", "ranks by the log-probability alone: favours short hypotheses", True, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0])[1]
        """),
    _w("03_seq2seq", "best_hypothesis", "multiplies_by_penalty", "multiplies the log-probability by lp(Y) instead of dividing", True, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0] * ((5 + len(h[1]) + 1) / 6) ** alpha)[1]
        """),
    # ---------------------------------------------------------------- 04_attention: bidirectional_annotations
    _w("04_attention", "bidirectional_annotations", "flips_whole_row",
       "flips the backward outputs over all S positions, ignoring each sentence's length", False, """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            S = forward_outputs.shape[1]
            real = torch.arange(S) < lengths.unsqueeze(1)
            annotations = torch.cat([forward_outputs, backward_outputs.flip(1)], dim=-1)
            return annotations * real.unsqueeze(-1)
        """),
    _w("04_attention", "bidirectional_annotations", "padding_not_zeroed",
       "puts the backward outputs back in order but keeps the values at padded positions", False, """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            B, S, _ = forward_outputs.shape
            j = torch.arange(S).expand(B, S)
            L = lengths.unsqueeze(1)
            t = torch.where(j < L, L - 1 - j, j)
            backward = backward_outputs[torch.arange(B).unsqueeze(1), t]
            return torch.cat([forward_outputs, backward], dim=-1)
        """),
    _w("04_attention", "bidirectional_annotations", "backward_not_reversed",
       "concatenates the backward outputs in their reading order, not in source order", True, """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            S = forward_outputs.shape[1]
            real = torch.arange(S) < lengths.unsqueeze(1)
            return torch.cat([forward_outputs, backward_outputs], dim=-1) * real.unsqueeze(-1)
        """),
    _w("04_attention", "bidirectional_annotations", "concatenated_over_time",
       "concatenates on the time axis: (B, 2S, H) instead of (B, S, 2H)", True, """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            B, S, _ = forward_outputs.shape
            j = torch.arange(S).expand(B, S)
            L = lengths.unsqueeze(1)
            t = torch.where(j < L, L - 1 - j, j)
            backward = backward_outputs[torch.arange(B).unsqueeze(1), t]
            return torch.cat([forward_outputs, backward], dim=1)
        """),
    # ---------------------------------------------------------------- 04_attention: additive_scores
    _w("04_attention", "additive_scores", "state_outside_tanh",
       "v_a^T tanh(U_a h_j) + v_a^T W_a s: the state shifts all scores of a sentence equally", False, """
        def additive_scores(s_prev, annotations, W_a, U_a, v_a):
            return torch.tanh(annotations @ U_a.T) @ v_a + ((s_prev @ W_a.T) @ v_a).unsqueeze(1)
        """),
    _w("04_attention", "additive_scores", "no_tanh", "leaves out the tanh: the score becomes linear", True, """
        def additive_scores(s_prev, annotations, W_a, U_a, v_a):
            return ((s_prev @ W_a.T).unsqueeze(1) + annotations @ U_a.T) @ v_a
        """),
    _w("04_attention", "additive_scores", "returns_weights", "applies a softmax: returns weights instead of scores", True, """
        def additive_scores(s_prev, annotations, W_a, U_a, v_a):
            e = torch.tanh((s_prev @ W_a.T).unsqueeze(1) + annotations @ U_a.T) @ v_a
            return torch.softmax(e, dim=-1)
        """),
    _w("04_attention", "additive_scores", "state_not_broadcast",
       "adds the (B, A) state term to the (B, S, A) keys without unsqueeze(1)", True, """
        def additive_scores(s_prev, annotations, W_a, U_a, v_a):
            return torch.tanh(s_prev @ W_a.T + annotations @ U_a.T) @ v_a
        """),
    # ---------------------------------------------------------------- 04_attention: luong_scores
    _w("04_attention", "luong_scores", "general_transposed", "computes h_j^T W_a s instead of s^T W_a h_j", False, """
        def luong_scores(s, annotations, kind, W_a=None):
            query = s if kind == "dot" else s @ W_a.T
            return (annotations @ query.unsqueeze(-1)).squeeze(-1)
        """),
    _w("04_attention", "luong_scores", "general_ignores_W_a", "treats 'general' like 'dot'", False, """
        def luong_scores(s, annotations, kind, W_a=None):
            return (annotations @ s.unsqueeze(-1)).squeeze(-1)
        """),
    _w("04_attention", "luong_scores", "scaled_by_sqrt_d", "divides by sqrt(D) like the Transformer", True, """
        def luong_scores(s, annotations, kind, W_a=None):
            query = s if kind == "dot" else s @ W_a
            return (annotations @ query.unsqueeze(-1)).squeeze(-1) / annotations.shape[-1] ** 0.5
        """),
    _w("04_attention", "luong_scores", "returns_weights", "applies a softmax: returns weights instead of scores", True, """
        def luong_scores(s, annotations, kind, W_a=None):
            query = s if kind == "dot" else s @ W_a
            return torch.softmax((annotations @ query.unsqueeze(-1)).squeeze(-1), dim=-1)
        """),
    # ---------------------------------------------------------------- 04_attention: masked_softmax
    _w("04_attention", "masked_softmax", "fills_with_zero", "fills masked scores with 0 instead of -inf: padding keeps weight", False, """
        def masked_softmax(scores, mask):
            return torch.softmax(scores.masked_fill(~mask.unsqueeze(1), 0.0), dim=-1)
        """),
    _w("04_attention", "masked_softmax", "zeroes_after_softmax",
       "multiplies the weights by the mask after the softmax, without renormalising", False, """
        def masked_softmax(scores, mask):
            return torch.softmax(scores, dim=-1) * mask.unsqueeze(1)
        """),
    _w("04_attention", "masked_softmax", "nan_for_empty_sentence", "fills with -inf but leaves the nan of an all-masked row", False, """
        def masked_softmax(scores, mask):
            return torch.softmax(scores.masked_fill(~mask.unsqueeze(1), float("-inf")), dim=-1)
        """),
    _w("04_attention", "masked_softmax", "fills_in_place", "masked_fill_ changes the caller's scores", False, """
        def masked_softmax(scores, mask):
            weights = torch.softmax(scores.masked_fill_(~mask.unsqueeze(1), float("-inf")), dim=-1)
            return torch.nan_to_num(weights, nan=0.0)
        """),
    _w("04_attention", "masked_softmax", "softmax_over_queries", "normalises over the queries (dim 1) instead of the source positions", True, """
        def masked_softmax(scores, mask):
            weights = torch.softmax(scores.masked_fill(~mask.unsqueeze(1), float("-inf")), dim=1)
            return torch.nan_to_num(weights, nan=0.0)
        """),
    # ---------------------------------------------------------------- 04_attention: context_vector
    _w("04_attention", "context_vector", "ignores_weights", "averages the annotations uniformly", False, """
        def context_vector(weights, annotations):
            return annotations.mean(dim=1)
        """),
    _w("04_attention", "context_vector", "squeeze_drops_batch", "squeeze() without an axis: one sentence loses its batch axis", False, """
        def context_vector(weights, annotations):
            return (weights.unsqueeze(1) @ annotations).squeeze()
        """),
    _w("04_attention", "context_vector", "sums_over_features", "sums over the feature axis: (B, S) instead of (B, 2H)", True, """
        def context_vector(weights, annotations):
            return (weights.unsqueeze(-1) * annotations).sum(dim=-1)
        """),
]
