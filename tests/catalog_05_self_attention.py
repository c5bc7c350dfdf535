"""Typical wrong answers to exercise 05_self_attention: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
    # ---------------------------------------------------------------- 05_self_attention: scaled_dot_product
    _w("05_self_attention", "scaled_dot_product", "no_scaling",
       "forgets the division by sqrt(d_k)", True, """
        def scaled_dot_product(queries, keys, values, mask=None):
            scores = queries @ keys.transpose(-2, -1)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
            return weights @ values, weights
        """),
    _w("05_self_attention", "scaled_dot_product", "softmax_over_queries",
       "takes the softmax over the queries (dim=-2) instead of the keys", True, """
        def scaled_dot_product(queries, keys, values, mask=None):
            scores = queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=-2).nan_to_num(0.0)
            return weights @ values, weights
        """),
    _w("05_self_attention", "scaled_dot_product", "mask_inverted",
       "blocks where the mask is True (nn.MultiheadAttention's convention)", True, """
        def scaled_dot_product(queries, keys, values, mask=None):
            scores = queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(mask, float("-inf"))
            weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
            return weights @ values, weights
        """),
    _w("05_self_attention", "scaled_dot_product", "empty_row_nan",
       "masks with -inf and leaves the NaN of a fully masked row", False, """
        def scaled_dot_product(queries, keys, values, mask=None):
            scores = queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=-1)
            return weights @ values, weights
        """),
    _w("05_self_attention", "scaled_dot_product", "minus_1e9_fill",
       "fills blocked scores with -1e9: a fully masked row gets uniform weights, not zeros", False, """
        def scaled_dot_product(queries, keys, values, mask=None):
            scores = queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(~mask, -1e9)
            weights = torch.softmax(scores, dim=-1)
            return weights @ values, weights
        """),
    _w("05_self_attention", "scaled_dot_product", "scales_queries_in_place",
       "divides the caller's queries by sqrt(d_k) in place", True, """
        def scaled_dot_product(queries, keys, values, mask=None):
            queries /= math.sqrt(queries.shape[-1])
            scores = queries @ keys.transpose(-2, -1)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
            return weights @ values, weights
        """),
    _w("05_self_attention", "scaled_dot_product", "float32_softmax",
       "computes the softmax in float32 whatever the dtype of the inputs", False, """
        def scaled_dot_product(queries, keys, values, mask=None):
            scores = queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=-1, dtype=torch.float32).nan_to_num(0.0)
            return weights.to(values.dtype) @ values, weights
        """),
    _w("05_self_attention", "scaled_dot_product", "additive_minus_1e4",
       "subtracts 10000 from blocked scores (BERT's additive mask) and zeroes empty "
       "rows: a blocked score far beyond the thousands still wins", False, """
        def scaled_dot_product(queries, keys, values, mask=None):
            scores = queries @ keys.transpose(-2, -1) / math.sqrt(queries.shape[-1])
            if mask is None:
                weights = torch.softmax(scores, dim=-1)
                return weights @ values, weights
            weights = torch.softmax(scores - 10000.0 * (~mask), dim=-1)
            weights = weights * mask.any(dim=-1, keepdim=True)
            return weights @ values, weights
        """),
    # ---------------------------------------------------------------- 05_self_attention: multi_head_attention
    _w("05_self_attention", "multi_head_attention", "split_without_transpose",
       "splits the heads with reshape(B, h, T, d_head), without the transpose", True, """
        def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
            B, T, d_model = X.shape
            d_head = d_model // num_heads
            q, k, v = (Y.reshape(B, num_heads, T, d_head) for Y in (X @ W_q.T, X @ W_k.T, X @ W_v.T))
            scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
            if mask is not None:
                scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
            weights = torch.softmax(scores, dim=-1)
            return (weights @ v).reshape(B, T, d_model) @ W_o.T, weights
        """),
    _w("05_self_attention", "multi_head_attention", "merge_without_transpose",
       "splits correctly but merges the heads with a plain reshape to (B, T, d_model)", True, """
        def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
            B, T, d_model = X.shape
            d_head = d_model // num_heads
            q, k, v = (Y.reshape(B, T, num_heads, d_head).transpose(1, 2)
                       for Y in (X @ W_q.T, X @ W_k.T, X @ W_v.T))
            scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
            if mask is not None:
                scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
            weights = torch.softmax(scores, dim=-1)
            return (weights @ v).reshape(B, T, d_model) @ W_o.T, weights
        """),
    _w("05_self_attention", "multi_head_attention", "scale_by_d_model",
       "divides the scores by sqrt(d_model) instead of sqrt(d_head)", True, """
        def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
            B, T, d_model = X.shape
            d_head = d_model // num_heads
            q, k, v = (Y.reshape(B, T, num_heads, d_head).transpose(1, 2)
                       for Y in (X @ W_q.T, X @ W_k.T, X @ W_v.T))
            scores = q @ k.transpose(-2, -1) / math.sqrt(d_model)
            if mask is not None:
                scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
            weights = torch.softmax(scores, dim=-1)
            return (weights @ v).transpose(1, 2).reshape(B, T, d_model) @ W_o.T, weights
        """),
    _w("05_self_attention", "multi_head_attention", "padding_masks_queries",
       "broadcasts the key padding mask over the keys axis: it masks the padded queries' rows", False, """
        def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
            B, T, d_model = X.shape
            d_head = d_model // num_heads
            q, k, v = (Y.reshape(B, T, num_heads, d_head).transpose(1, 2)
                       for Y in (X @ W_q.T, X @ W_k.T, X @ W_v.T))
            scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
            if mask is not None:
                scores = scores.masked_fill(~mask[:, None, :, None], float("-inf"))
            weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
            return (weights @ v).transpose(1, 2).reshape(B, T, d_model) @ W_o.T, weights
        """),
    _w("05_self_attention", "multi_head_attention", "padding_mask_inverted",
       "treats the key padding mask as True = blocked", False, """
        def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
            B, T, d_model = X.shape
            d_head = d_model // num_heads
            q, k, v = (Y.reshape(B, T, num_heads, d_head).transpose(1, 2)
                       for Y in (X @ W_q.T, X @ W_k.T, X @ W_v.T))
            scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
            if mask is not None:
                scores = scores.masked_fill(mask[:, None, None, :], float("-inf"))
            weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
            return (weights @ v).transpose(1, 2).reshape(B, T, d_model) @ W_o.T, weights
        """),
    _w("05_self_attention", "multi_head_attention", "weights_not_transposed",
       "projects with X @ W_q instead of X @ W_q.T (nn.Linear's layout)", True, """
        def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
            B, T, d_model = X.shape
            d_head = d_model // num_heads
            q, k, v = (Y.reshape(B, T, num_heads, d_head).transpose(1, 2)
                       for Y in (X @ W_q, X @ W_k, X @ W_v))
            scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)
            if mask is not None:
                scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
            weights = torch.softmax(scores, dim=-1)
            return (weights @ v).transpose(1, 2).reshape(B, T, d_model) @ W_o, weights
        """),
    # ---------------------------------------------------------------- 05_self_attention: sliding_window_mask
    _w("05_self_attention", "sliding_window_mask", "strict_window",
       "|i - j| < window: one position too few on each side", True, """
        def sliding_window_mask(num_steps, window, causal=False):
            offset = torch.arange(num_steps)[:, None] - torch.arange(num_steps)
            mask = offset.abs() < window
            return mask & (offset >= 0) if causal else mask
        """),
    _w("05_self_attention", "sliding_window_mask", "causal_excludes_diagonal",
       "the causal window leaves out the position itself (0 < i - j)", True, """
        def sliding_window_mask(num_steps, window, causal=False):
            offset = torch.arange(num_steps)[:, None] - torch.arange(num_steps)
            mask = offset.abs() <= window
            return mask & (offset > 0) if causal else mask
        """),
    _w("05_self_attention", "sliding_window_mask", "causal_ignores_window",
       "with causal=True returns the plain causal mask, forgetting the window", False, """
        def sliding_window_mask(num_steps, window, causal=False):
            if causal:
                return torch.ones(num_steps, num_steps, dtype=torch.bool).tril()
            offset = torch.arange(num_steps)[:, None] - torch.arange(num_steps)
            return offset.abs() <= window
        """),
    _w("05_self_attention", "sliding_window_mask", "causal_one_future",
       "the causal window also lets position i see i + 1 (the off-by-one leak)", True, """
        def sliding_window_mask(num_steps, window, causal=False):
            offset = torch.arange(num_steps)[:, None] - torch.arange(num_steps)
            mask = offset.abs() <= window
            return mask & (offset >= -1) if causal else mask
        """),
    _w("05_self_attention", "sliding_window_mask", "causal_window_off_by_one",
       "the causal window stops one step short: 0 <= i - j < window", False, """
        def sliding_window_mask(num_steps, window, causal=False):
            offset = torch.arange(num_steps)[:, None] - torch.arange(num_steps)
            if causal:
                return (offset >= 0) & (offset < max(window, 1))
            return offset.abs() <= window
        """),
    _w("05_self_attention", "sliding_window_mask", "int_mask",
       "returns a 0/1 integer tensor instead of torch.bool", True, """
        def sliding_window_mask(num_steps, window, causal=False):
            offset = torch.arange(num_steps)[:, None] - torch.arange(num_steps)
            mask = offset.abs() <= window
            return (mask & (offset >= 0) if causal else mask).long()
        """),
    _w("05_self_attention", "sliding_window_mask", "diagonal_loop",
       "builds the band from torch.diag of ones(T - |d|): a window beyond T - 1 (not "
       "causal) asks for ones of a negative size", False, """
        def sliding_window_mask(num_steps, window, causal=False):
            if causal:
                i = torch.arange(num_steps)
                offset = i[:, None] - i[None, :]
                return (offset >= 0) & (offset <= window)
            mask = torch.zeros(num_steps, num_steps, dtype=torch.bool)
            for d in range(-window, window + 1):
                mask |= torch.diag(torch.ones(num_steps - abs(d), dtype=torch.bool), d)
            return mask
        """),
    # ---------------------------------------------------------------- 05_self_attention: to_torch_attn_mask
    _w("05_self_attention", "to_torch_attn_mask", "not_inverted",
       "repeats the mask per head but keeps True = attend", True, """
        def to_torch_attn_mask(mask, num_heads):
            return mask.repeat_interleave(num_heads, dim=0)
        """),
    _w("05_self_attention", "to_torch_attn_mask", "repeat_not_interleave",
       "tiles the whole batch per head (repeat): row i * B + b instead of b * h + i", False, """
        def to_torch_attn_mask(mask, num_heads):
            return (~mask).repeat(num_heads, 1, 1)
        """),
    _w("05_self_attention", "to_torch_attn_mask", "float_mask",
       "returns the inverted mask as 0/1 floats, which PyTorch adds to the scores", True, """
        def to_torch_attn_mask(mask, num_heads):
            return (~mask).float().repeat_interleave(num_heads, dim=0)
        """),
    _w("05_self_attention", "to_torch_attn_mask", "inverts_in_place",
       "inverts the caller's mask in place before repeating it", False, """
        def to_torch_attn_mask(mask, num_heads):
            return mask.logical_not_().repeat_interleave(num_heads, dim=0)
        """),
    _w("05_self_attention", "to_torch_attn_mask", "heads_not_repeated",
       "inverts the mask but returns (B, Q, S): one mask per sequence, not per head", True, """
        def to_torch_attn_mask(mask, num_heads):
            return ~mask
        """),
    # ---------------------------------------------------------------- 05_self_attention: sinusoidal_encoding
    _w("05_self_attention", "sinusoidal_encoding", "concatenated_halves",
       "all sines, then all cosines, instead of interleaved pairs", True, """
        def sinusoidal_encoding(positions, d_model, dtype=torch.float32):
            p = positions.to(torch.float64).unsqueeze(-1)
            angles = p * 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            return torch.cat([angles.sin(), angles.cos()], dim=-1).to(dtype)
        """),
    _w("05_self_attention", "sinusoidal_encoding", "exponent_i_not_2i",
       "omega_i = 10000^(-i / d_model) with i counting pairs: frequencies too high", False, """
        def sinusoidal_encoding(positions, d_model, dtype=torch.float32):
            p = positions.to(torch.float64).unsqueeze(-1)
            angles = p * 10000.0 ** (-torch.arange(d_model // 2, dtype=torch.float64) / d_model)
            return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2).to(dtype)
        """),
    _w("05_self_attention", "sinusoidal_encoding", "float32_angles",
       "computes the angles in float32: off by up to 1e-3 at position 10 000", False, """
        def sinusoidal_encoding(positions, d_model, dtype=torch.float32):
            p = positions.float().unsqueeze(-1)
            angles = p * 10000.0 ** (-torch.arange(0, d_model, 2).float() / d_model)
            return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2).to(dtype)
        """),
    _w("05_self_attention", "sinusoidal_encoding", "cosine_first",
       "puts the cosine at the even features and the sine at the odd ones", True, """
        def sinusoidal_encoding(positions, d_model, dtype=torch.float32):
            p = positions.to(torch.float64).unsqueeze(-1)
            angles = p * 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            return torch.stack([angles.cos(), angles.sin()], dim=-1).flatten(-2).to(dtype)
        """),
    _w("05_self_attention", "sinusoidal_encoding", "ignores_dtype",
       "always returns float32, whatever dtype asks for", False, """
        def sinusoidal_encoding(positions, d_model, dtype=torch.float32):
            p = positions.to(torch.float64).unsqueeze(-1)
            angles = p * 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2).float()
        """),
    _w("05_self_attention", "sinusoidal_encoding", "float64_leak",
       "returns the float64 table without converting it to dtype", True, """
        def sinusoidal_encoding(positions, d_model, dtype=torch.float32):
            p = positions.to(torch.float64).unsqueeze(-1)
            angles = p * 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
            return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)
        """),
    # ---------------------------------------------------------------- 05_self_attention: position_sensitivity
    _w("05_self_attention", "position_sensitivity", "transposed",
       "returns [j, i]: rows are inputs and columns outputs", True, """
        def position_sensitivity(layer, X):
            J = torch.autograd.functional.jacobian(layer, X)[0, :, :, 0]
            return J.pow(2).sum(dim=(1, 3)).sqrt().T
        """),
    _w("05_self_attention", "position_sensitivity", "gradient_of_feature_sum",
       "differentiates the sum of output i's features: the norm of a row sum, not of the block",
       False, """
        def position_sensitivity(layer, X):
            T = X.shape[1]
            rows = []
            for i in range(T):
                Y = X.detach().clone().requires_grad_()
                (grad,) = torch.autograd.grad(layer(Y)[0, i].sum(), Y)
                rows.append(grad[0].norm(dim=-1))
            return torch.stack(rows)
        """),
    _w("05_self_attention", "position_sensitivity", "assumes_causal",
       "only computes the entries j <= i, so a leak into the future never shows", False, """
        def position_sensitivity(layer, X):
            J = torch.autograd.functional.jacobian(layer, X)[0, :, :, 0]
            return J.pow(2).sum(dim=(1, 3)).sqrt().tril()
        """),
    _w("05_self_attention", "position_sensitivity", "absolute_sum",
       "sums the absolute derivatives instead of taking the Frobenius norm", True, """
        def position_sensitivity(layer, X):
            J = torch.autograd.functional.jacobian(layer, X)[0, :, :, 0]
            return J.abs().sum(dim=(1, 3))
        """),
    _w("05_self_attention", "position_sensitivity", "float32_always",
       "converts X to float32 first: float64 in, float32 out", False, """
        def position_sensitivity(layer, X):
            J = torch.autograd.functional.jacobian(layer, X.float())[0, :, :, 0]
            return J.pow(2).sum(dim=(1, 3)).sqrt()
        """),
    _w("05_self_attention", "position_sensitivity", "requires_grad_in_place",
       "calls X.requires_grad_() on the caller's X to differentiate it: the values are "
       "right, X has changed", False, """
        def position_sensitivity(layer, X):
            X.requires_grad_()
            Y = layer(X)[0]
            rows = []
            for i in range(Y.shape[0]):
                block = torch.stack([
                    torch.autograd.grad(Y[i, a], X, retain_graph=True)[0][0]
                    for a in range(Y.shape[1])])
                rows.append(block.pow(2).sum(dim=(0, 2)).sqrt())
            return torch.stack(rows)
        """),
]

# Correct answers written another way: each keeps every point.
RIGHT_ANSWERS = [
    _r("05_self_attention", "scaled_dot_product", "where_then_zero_rows",
       "torch.where(mask, scores, -inf), then torch.where zeroes the rows with no "
       "allowed key", """
        def scaled_dot_product(queries, keys, values, mask=None):
            scale = queries.shape[-1] ** -0.5
            scores = torch.matmul(queries, keys.transpose(-1, -2)) * scale
            if mask is None:
                weights = scores.softmax(dim=-1)
            else:
                blocked = torch.full_like(scores, float("-inf"))
                weights = torch.where(mask, scores, blocked).softmax(dim=-1)
                weights = torch.where(mask.any(dim=-1, keepdim=True), weights,
                                      torch.zeros_like(weights))
            return torch.matmul(weights, values), weights
        """),
    _r("05_self_attention", "multi_head_attention", "loop_over_heads",
       "a loop over the heads on feature slices, then torch.cat of the heads' outputs"
       "", """
        def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
            d_head = X.shape[-1] // num_heads
            Q, K, V = X @ W_q.T, X @ W_k.T, X @ W_v.T
            outputs, all_weights = [], []
            for i in range(num_heads):
                part = slice(i * d_head, (i + 1) * d_head)
                scores = Q[..., part] @ K[..., part].transpose(1, 2) / math.sqrt(d_head)
                if mask is not None:
                    scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
                weights = scores.softmax(dim=-1)
                outputs.append(weights @ V[..., part])
                all_weights.append(weights)
            return torch.cat(outputs, dim=-1) @ W_o.T, torch.stack(all_weights, dim=1)
        """),
    _r("05_self_attention", "sliding_window_mask", "triu_tril",
       "a band cut with triu and tril", """
        def sliding_window_mask(num_steps, window, causal=False):
            ones = torch.ones(num_steps, num_steps, dtype=torch.bool)
            return ones.triu(-window).tril(0 if causal else window)
        """),
    _r("05_self_attention", "to_torch_attn_mask", "expand_reshape",
       "logical_not, a head axis expanded after the batch axis, then reshape", """
        def to_torch_attn_mask(mask, num_heads):
            B, Q, S = mask.shape
            blocked = mask.logical_not().unsqueeze(1).expand(B, num_heads, Q, S)
            return blocked.reshape(B * num_heads, Q, S)
        """),
    _r("05_self_attention", "sinusoidal_encoding", "strided_assignment",
       "frequencies from exp(-log(10000) 2i / d), written into the even and odd "
       "features", """
        def sinusoidal_encoding(positions, d_model, dtype=torch.float32):
            two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
            omega = torch.exp(-math.log(10000.0) * two_i / d_model)
            angles = positions.double()[..., None] * omega
            pe = torch.empty(*positions.shape, d_model, dtype=torch.float64)
            pe[..., 0::2] = torch.sin(angles)
            pe[..., 1::2] = torch.cos(angles)
            return pe.to(dtype)
        """),
    _r("05_self_attention", "position_sensitivity", "grad_on_a_copy",
       "torch.autograd.grad for every output feature, on a detached copy of X", """
        def position_sensitivity(layer, X):
            Y = X.detach().clone().requires_grad_()
            out = layer(Y)[0]
            rows = []
            for i in range(out.shape[0]):
                squares = sum(
                    torch.autograd.grad(out[i, a], Y, retain_graph=True)[0][0] ** 2
                    for a in range(out.shape[1]))
                rows.append(squares.sum(dim=-1).sqrt())
            return torch.stack(rows)
        """),
]
