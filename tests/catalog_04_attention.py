"""Typical wrong answers to exercise 04_attention: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
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
    _w("04_attention", "bidirectional_annotations", "zeroes_padding_in_place",
       "zeroes the padded forward outputs in place (masked_fill_ on the caller's tensor)", False, """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            B, S, _ = forward_outputs.shape
            j = torch.arange(S).expand(B, S)
            L = lengths.unsqueeze(1)
            real = j < L
            forward_outputs.masked_fill_(~real.unsqueeze(-1), 0.0)
            t = torch.where(real, L - 1 - j, j)
            backward = backward_outputs[torch.arange(B).unsqueeze(1), t].masked_fill(~real.unsqueeze(-1), 0.0)
            return torch.cat([forward_outputs, backward], dim=-1)
        """),
    _w("04_attention", "bidirectional_annotations", "float32_buffer",
       "fills a torch.zeros(B, S, 2H) buffer: float32 whatever the dtype of the outputs", False, """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            B, S, H = forward_outputs.shape
            annotations = torch.zeros(B, S, 2 * H)
            for b, n in enumerate(lengths.tolist()):
                annotations[b, :n, :H] = forward_outputs[b, :n]
                annotations[b, :n, H:] = backward_outputs[b, :n].flip(0)
            return annotations
        """),
    _w("04_attention", "bidirectional_annotations", "multiplies_by_mask",
       "zeroes the padding by multiplying with a 0/1 mask: nan * 0 is nan, inf * 0 is "
       "nan", False, """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            B, S, _ = forward_outputs.shape
            j = torch.arange(S).expand(B, S)
            L = lengths.unsqueeze(1)
            t = torch.where(j < L, L - 1 - j, j)
            backward = backward_outputs[torch.arange(B).unsqueeze(1), t]
            annotations = torch.cat([forward_outputs, backward], dim=-1)
            return annotations * (j < L).unsqueeze(-1)
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
    _w("04_attention", "additive_scores", "python_floats_loop",
       "computes each score as a Python float and rebuilds a tensor: float32 always, and no gradient", False, """
        def additive_scores(s_prev, annotations, W_a, U_a, v_a):
            B, S, _ = annotations.shape
            return torch.tensor([[float(v_a @ torch.tanh(W_a @ s_prev[b] + U_a @ annotations[b, j])) for j in range(S)]
                                 for b in range(B)])
        """),
    _w("04_attention", "additive_scores", "v_a_from_floats",
       "rebuilds v_a from Python floats (torch.tensor(v_a.tolist())): the scores still "
       "require a gradient through W_a and U_a, but v_a never learns", False, """
        def additive_scores(s_prev, annotations, W_a, U_a, v_a):
            v = torch.tensor(v_a.tolist(), dtype=v_a.dtype)
            hidden = torch.tanh((s_prev @ W_a.T).unsqueeze(1) + annotations @ U_a.T)
            return hidden @ v
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
    _w("04_attention", "luong_scores", "squeeze_all", "squeeze() without an axis: one sentence, or one position, loses its axis", False, """
        def luong_scores(s, annotations, kind, W_a=None):
            query = s if kind == "dot" else s @ W_a
            return (annotations @ query.unsqueeze(-1)).squeeze()
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
    _w("04_attention", "masked_softmax", "pushes_down_by_1000",
       "subtracts 1000 from the masked scores instead of filling -inf, then zeroes their weights: a masked +1000 still takes weight", False, """
        def masked_softmax(scores, mask):
            keep = mask.unsqueeze(1)
            return torch.softmax(scores - 1000.0 * ~keep, dim=-1) * keep
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
    _w("04_attention", "context_vector", "softmax_of_weights", "applies a softmax to the weights again before averaging", False, """
        def context_vector(weights, annotations):
            weights = torch.softmax(weights, dim=-1)
            return (weights.unsqueeze(1) @ annotations).squeeze(1)
        """),
    # ---------------------------------------------------------------- 04_attention: alignment_accuracy
    _w("04_attention", "alignment_accuracy", "counts_padded_rows",
       "scores all T rows of every sentence, padding and EOS rows included", False, """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            B, T, S = weights.shape
            real_source = torch.arange(S) < src_lengths.unsqueeze(1)
            looked_at = weights.masked_fill(~real_source.unsqueeze(1), float("-inf")).argmax(-1)
            mirror = src_lengths.unsqueeze(1) - 1 - torch.arange(T)
            return (looked_at == mirror).float().mean().item()
        """),
    _w("04_attention", "alignment_accuracy", "mirrors_with_padded_width",
       "mirrors step i to S - 1 - i, with the padded width instead of the sentence's length", False, """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            B, T, S = weights.shape
            real_source = torch.arange(S) < src_lengths.unsqueeze(1)
            looked_at = weights.masked_fill(~real_source.unsqueeze(1), float("-inf")).argmax(-1)
            i = torch.arange(T)
            scored = i < tgt_lengths.unsqueeze(1)
            hits = (looked_at == S - 1 - i) & scored
            return hits.sum().item() / scored.sum().item()
        """),
    _w("04_attention", "alignment_accuracy", "mean_of_string_accuracies",
       "averages each string's own accuracy: a short string weighs as much as a long one", False, """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            B, T, S = weights.shape
            real_source = torch.arange(S) < src_lengths.unsqueeze(1)
            looked_at = weights.masked_fill(~real_source.unsqueeze(1), float("-inf")).argmax(-1)
            i = torch.arange(T)
            scored = i < tgt_lengths.unsqueeze(1)
            hits = (looked_at == src_lengths.unsqueeze(1) - 1 - i) & scored
            return (hits.sum(1) / scored.sum(1)).mean().item()
        """),
    _w("04_attention", "alignment_accuracy", "argmax_over_padding",
       "takes the argmax over all S columns: a padded position with more weight wins", False, """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            B, T, S = weights.shape
            looked_at = weights.argmax(-1)
            i = torch.arange(T)
            scored = i < tgt_lengths.unsqueeze(1)
            hits = (looked_at == src_lengths.unsqueeze(1) - 1 - i) & scored
            return hits.sum().item() / scored.sum().item()
        """),
    _w("04_attention", "alignment_accuracy", "mirror_off_by_one", "mirrors step i to L_b - i instead of L_b - 1 - i", True, """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            B, T, S = weights.shape
            real_source = torch.arange(S) < src_lengths.unsqueeze(1)
            looked_at = weights.masked_fill(~real_source.unsqueeze(1), float("-inf")).argmax(-1)
            i = torch.arange(T)
            scored = i < tgt_lengths.unsqueeze(1)
            hits = (looked_at == src_lengths.unsqueeze(1) - i) & scored
            return hits.sum().item() / scored.sum().item()
        """),
    _w("04_attention", "alignment_accuracy", "masks_in_place",
       "fills the caller's weights at padded columns with -inf in place (masked_fill_)", False, """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            B, T, S = weights.shape
            real_source = torch.arange(S) < src_lengths.unsqueeze(1)
            looked_at = weights.masked_fill_(~real_source.unsqueeze(1), float("-inf")).argmax(-1)
            i = torch.arange(T)
            scored = i < tgt_lengths.unsqueeze(1)
            hits = (looked_at == src_lengths.unsqueeze(1) - 1 - i) & scored
            return hits.sum().item() / scored.sum().item()
        """),
    _w("04_attention", "alignment_accuracy", "zeroes_padding_in_place",
       "zeroes the padded columns of weights in place before the argmax: the accuracy "
       "is right, the caller's weights change", False, """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            B, T, S = weights.shape
            for b in range(B):
                weights[b, :, int(src_lengths[b]):] = 0.0
            looked_at = weights.argmax(-1)
            i = torch.arange(T)
            mirror = src_lengths.unsqueeze(1) - 1 - i
            scored = i < tgt_lengths.unsqueeze(1)
            return ((looked_at == mirror) & scored).sum().item() / scored.sum().item()
        """),
]

# Correct answers written another way: each keeps every point.
RIGHT_ANSWERS = [
    _r("04_attention", "bidirectional_annotations", "loop_and_pad",
       "a loop over the sentences: flip the real backward steps, concatenate, pad with "
       "zeros", """
        def bidirectional_annotations(forward_outputs, backward_outputs, lengths):
            B, S, H = forward_outputs.shape
            rows = []
            for b, n in enumerate(lengths.tolist()):
                backward = backward_outputs[b, :n].flip(0)
                real = torch.cat([forward_outputs[b, :n], backward], dim=-1)
                rows.append(torch.cat([real, real.new_zeros(S - n, 2 * H)]))
            return torch.stack(rows)
        """),
    _r("04_attention", "additive_scores", "einsum",
       "torch.einsum for every product", """
        def additive_scores(s_prev, annotations, W_a, U_a, v_a):
            query = torch.einsum("ah,bh->ba", W_a, s_prev)
            keys = torch.einsum("ad,bsd->bsa", U_a, annotations)
            return torch.einsum("bsa,a->bs", torch.tanh(query[:, None] + keys), v_a)
        """),
    _r("04_attention", "luong_scores", "bmm",
       "torch.bmm, with the identity standing in for dot", """
        def luong_scores(s, annotations, kind, W_a=None):
            if kind == "dot":
                W_a = torch.eye(s.shape[1], dtype=s.dtype)
            query = (s @ W_a).unsqueeze(2)
            return torch.bmm(annotations, query)[..., 0]
        """),
    _r("04_attention", "masked_softmax", "manual",
       "subtracts the row maximum over the real positions, exponentiates, masks and "
       "normalises by hand", """
        def masked_softmax(scores, mask):
            m = mask.unsqueeze(1).expand_as(scores)
            top = scores.masked_fill(~m, float("-inf")).amax(dim=-1, keepdim=True)
            top = torch.where(torch.isinf(top), torch.zeros_like(top), top)
            e = torch.exp((scores - top).masked_fill(~m, float("-inf")))
            return e / e.sum(dim=-1, keepdim=True).clamp_min(1e-30)
        """),
    _r("04_attention", "context_vector", "weighted_sum",
       "broadcast product and a sum over S", """
        def context_vector(weights, annotations):
            return (weights.unsqueeze(-1) * annotations).sum(dim=1)
        """),
    _r("04_attention", "alignment_accuracy", "python_loops",
       "Python loops over the sentences and their scored steps, argmax over the real "
       "columns", """
        def alignment_accuracy(weights, src_lengths, tgt_lengths):
            hits = total = 0
            for b in range(weights.shape[0]):
                L, n = int(src_lengths[b]), int(tgt_lengths[b])
                for i in range(n):
                    hits += int(weights[b, i, :L].argmax()) == L - 1 - i
                    total += 1
            return hits / total
        """),
]
