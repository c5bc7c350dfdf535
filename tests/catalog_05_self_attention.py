"""Typical wrong answers to exercise 05_self_attention: see tests/grading_catalog.py."""
from grading_catalog_base import _w

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
]
