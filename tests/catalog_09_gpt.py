"""Typical wrong answers to exercise 09_gpt: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
    # ---------------------------------------------------------------- 09_gpt: causal_alibi_bias
    _w("09_gpt", "causal_alibi_bias", "power_of_two_formula_for_all",
       "uses 2^(-8k/h) for every number of heads: right for powers of two only (6 heads get "
       "another geometric sequence)", False, """
        def causal_alibi_bias(num_heads, length):
            if num_heads < 1 or length < 1:
                raise ValueError("num_heads and length must be at least 1")
            slopes = 2.0 ** (-8.0 * torch.arange(1, num_heads + 1) / num_heads)
            i = torch.arange(length)[:, None]
            j = torch.arange(length)[None, :]
            bias = -slopes[:, None, None] * (i - j)
            return bias.masked_fill(j > i, float("-inf")).float()
        """),
    _w("09_gpt", "causal_alibi_bias", "odd_slopes_of_double",
       "for a number of heads that is not a power of two, appends the 2nd, 4th, ... slopes "
       "of twice as many heads (the ones already taken) instead of the 1st, 3rd, ...",
       False, """
        def causal_alibi_bias(num_heads, length):
            if num_heads < 1 or length < 1:
                raise ValueError("num_heads and length must be at least 1")
            def geometric(n):
                return [2.0 ** (-8.0 * k / n) for k in range(1, n + 1)]
            n = 2 ** math.floor(math.log2(num_heads))
            slopes = torch.tensor(geometric(n) + geometric(2 * n)[1::2][:num_heads - n])
            i = torch.arange(length)[:, None]
            j = torch.arange(length)[None, :]
            bias = -slopes[:, None, None] * (i - j)
            return bias.masked_fill(j > i, float("-inf")).float()
        """),
    _w("09_gpt", "causal_alibi_bias", "j_minus_i",
       "writes the distance as j - i: the bias rewards the keys furthest back instead of "
       "penalising them", True, """
        def causal_alibi_bias(num_heads, length):
            if num_heads < 1 or length < 1:
                raise ValueError("num_heads and length must be at least 1")
            def geometric(n):
                return [2.0 ** (-8.0 * k / n) for k in range(1, n + 1)]
            n = 2 ** math.floor(math.log2(num_heads))
            slopes = torch.tensor(geometric(n) + geometric(2 * n)[0::2][:num_heads - n])
            i = torch.arange(length)[:, None]
            j = torch.arange(length)[None, :]
            bias = -slopes[:, None, None] * (j - i)
            return bias.masked_fill(j > i, float("-inf")).float()
        """),
    _w("09_gpt", "causal_alibi_bias", "no_causal_mask",
       "returns the distance penalty alone, without the -inf above the diagonal (as the "
       "chapter's bias, whose mask is applied elsewhere)", True, """
        def causal_alibi_bias(num_heads, length):
            if num_heads < 1 or length < 1:
                raise ValueError("num_heads and length must be at least 1")
            def geometric(n):
                return [2.0 ** (-8.0 * k / n) for k in range(1, n + 1)]
            n = 2 ** math.floor(math.log2(num_heads))
            slopes = torch.tensor(geometric(n) + geometric(2 * n)[0::2][:num_heads - n])
            i = torch.arange(length)[:, None]
            j = torch.arange(length)[None, :]
            return (-slopes[:, None, None] * (i - j).clamp(min=0)).float()
        """),
    _w("09_gpt", "causal_alibi_bias", "slopes_from_zero",
       "counts k from 0: the first head gets slope 1 and the last 2^(-8(n-1)/n)", True, """
        def causal_alibi_bias(num_heads, length):
            if num_heads < 1 or length < 1:
                raise ValueError("num_heads and length must be at least 1")
            def geometric(n):
                return [2.0 ** (-8.0 * k / n) for k in range(n)]
            n = 2 ** math.floor(math.log2(num_heads))
            slopes = torch.tensor(geometric(n) + geometric(2 * n)[0::2][:num_heads - n])
            i = torch.arange(length)[:, None]
            j = torch.arange(length)[None, :]
            bias = -slopes[:, None, None] * (i - j)
            return bias.masked_fill(j > i, float("-inf")).float()
        """),
    _w("09_gpt", "causal_alibi_bias", "no_value_error",
       "no check of the sizes: 0 heads give an empty tensor, a length of 0 an empty "
       "bias, instead of a ValueError", False, """
        def causal_alibi_bias(num_heads, length):
            def geometric(n):
                return [2.0 ** (-8.0 * k / n) for k in range(1, n + 1)]
            n = 2 ** math.floor(math.log2(num_heads)) if num_heads > 0 else 0
            slopes = torch.tensor(geometric(n) + geometric(2 * n)[0::2][:num_heads - n])
            i = torch.arange(length)[:, None]
            j = torch.arange(length)[None, :]
            bias = -slopes[:, None, None] * (i - j)
            return bias.masked_fill(j > i, float("-inf")).float()
        """),
    # ---------------------------------------------------------------- 09_gpt: top_p_filter
    _w("09_gpt", "top_p_filter", "stops_below_p",
       "keeps the tokens whose running total (themselves included) stays below p: drops "
       "the token that makes the total reach p", True, """
        def top_p_filter(logits, p):
            if not 0 < p <= 1:
                raise ValueError("p must be in (0, 1]")
            probs = torch.softmax(logits, dim=-1)
            ranked, order = probs.sort(dim=-1, descending=True)
            keep_sorted = ranked.cumsum(dim=-1) < p
            keep_sorted[..., 0] = True
            keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
            return logits.masked_fill(~keep, float("-inf"))
        """),
    _w("09_gpt", "top_p_filter", "none_kept_when_top_exceeds_p",
       "keeps the tokens whose running total is at most p, with no minimum: drops the "
       "token that crosses p, and every token when the most probable one alone exceeds p",
       True, """
        def top_p_filter(logits, p):
            if not 0 < p <= 1:
                raise ValueError("p must be in (0, 1]")
            probs = torch.softmax(logits, dim=-1)
            ranked, order = probs.sort(dim=-1, descending=True)
            keep_sorted = ranked.cumsum(dim=-1) <= p
            keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
            return logits.masked_fill(~keep, float("-inf"))
        """),
    _w("09_gpt", "top_p_filter", "no_ties",
       "keeps exactly the tokens ranked up to the one that reaches p: a token tied in "
       "probability with the last one kept is dropped or kept by the sort's whim", False, """
        def top_p_filter(logits, p):
            if not 0 < p <= 1:
                raise ValueError("p must be in (0, 1]")
            if p == 1:
                return logits.clone()
            probs = torch.softmax(logits, dim=-1)
            ranked, order = probs.sort(dim=-1, descending=True)
            before = ranked.cumsum(dim=-1) - ranked
            keep_sorted = before < p
            keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
            return logits.masked_fill(~keep, float("-inf"))
        """),
    _w("09_gpt", "top_p_filter", "ascending_sort",
       "sorts the probabilities in ascending order: keeps the least probable tokens",
       True, """
        def top_p_filter(logits, p):
            if not 0 < p <= 1:
                raise ValueError("p must be in (0, 1]")
            probs = torch.softmax(logits, dim=-1)
            ranked = probs.sort(dim=-1).values
            before = ranked.cumsum(dim=-1) - ranked
            n_keep = (before < p).sum(dim=-1, keepdim=True)
            border = ranked.gather(-1, n_keep - 1)
            return logits.masked_fill(probs > border, float("-inf"))
        """),
    _w("09_gpt", "top_p_filter", "rows_of_2d_only",
       "sorts and sums along dim 1: right for (B, V) logits only", False, """
        def top_p_filter(logits, p):
            if not 0 < p <= 1:
                raise ValueError("p must be in (0, 1]")
            if p == 1:
                return logits.clone()
            probs = torch.softmax(logits, dim=1)
            ranked = probs.sort(dim=1, descending=True).values
            before = ranked.cumsum(dim=1) - ranked
            n_keep = (before < p).sum(dim=1, keepdim=True)
            border = ranked.gather(1, n_keep - 1)
            return logits.masked_fill(probs < border, float("-inf"))
        """),
    _w("09_gpt", "top_p_filter", "no_shortcut_for_p_one",
       "treats p = 1 like any other p: tokens of probability below float32's resolution "
       "near 1 are dropped, although p = 1 keeps every token", False, """
        def top_p_filter(logits, p):
            if not 0 < p <= 1:
                raise ValueError("p must be in (0, 1]")
            probs = torch.softmax(logits, dim=-1)
            ranked = probs.sort(dim=-1, descending=True).values
            before = ranked.cumsum(dim=-1) - ranked
            n_keep = (before < p).sum(dim=-1, keepdim=True)
            border = ranked.gather(-1, n_keep - 1)
            return logits.masked_fill(probs < border, float("-inf"))
        """),
    _w("09_gpt", "top_p_filter", "in_place",
       "writes -inf into the logits it is given (masked_fill_) and returns them", False, """
        def top_p_filter(logits, p):
            if not 0 < p <= 1:
                raise ValueError("p must be in (0, 1]")
            if p == 1:
                return logits.clone()
            probs = torch.softmax(logits, dim=-1)
            ranked = probs.sort(dim=-1, descending=True).values
            before = ranked.cumsum(dim=-1) - ranked
            n_keep = (before < p).sum(dim=-1, keepdim=True)
            border = ranked.gather(-1, n_keep - 1)
            return logits.masked_fill_(probs < border, float("-inf"))
        """),
    # ---------------------------------------------------------------- 09_gpt: update_memory
    _w("09_gpt", "update_memory", "not_detached",
       "keeps the states in the graph: the next segment would send gradients back into "
       "this one", True, """
        def update_memory(memory, hidden, length):
            if length < 0:
                raise ValueError("length must be at least 0")
            states = hidden if memory is None else torch.cat([memory, hidden], dim=1)
            return states[:, max(states.shape[1] - length, 0):]
        """),
    _w("09_gpt", "update_memory", "keeps_first",
       "keeps the first `length` states instead of the last", True, """
        def update_memory(memory, hidden, length):
            if length < 0:
                raise ValueError("length must be at least 0")
            states = hidden if memory is None else torch.cat([memory, hidden], dim=1)
            return states[:, :length].detach()
        """),
    _w("09_gpt", "update_memory", "fails_for_none",
       "concatenates without looking at memory: memory=None (the first segment) raises a "
       "TypeError", False, """
        def update_memory(memory, hidden, length):
            if length < 0:
                raise ValueError("length must be at least 0")
            states = torch.cat([memory, hidden], dim=1)
            return states[:, max(states.shape[1] - length, 0):].detach()
        """),
    _w("09_gpt", "update_memory", "minus_length_slice",
       "slices with [:, -length:]: length = 0 gives -0 = 0, the whole sequence, instead of "
       "nothing", False, """
        def update_memory(memory, hidden, length):
            if length < 0:
                raise ValueError("length must be at least 0")
            states = hidden if memory is None else torch.cat([memory, hidden], dim=1)
            return states[:, -length:].detach()
        """),
    _w("09_gpt", "update_memory", "start_may_be_negative",
       "slices from M + T - length without clamping at 0: with more room than states "
       "(length between M + T and 2 (M + T)) the start is negative and Python counts it "
       "from the end, so only length - (M + T) states survive", False, """
        def update_memory(memory, hidden, length):
            if length < 0:
                raise ValueError("length must be at least 0")
            states = hidden if memory is None else torch.cat([memory, hidden], dim=1)
            return states[:, states.shape[1] - length:].detach()
        """),
    _w("09_gpt", "update_memory", "no_value_error",
       "no check of length: a negative length gives an empty memory instead of a "
       "ValueError", False, """
        def update_memory(memory, hidden, length):
            states = hidden if memory is None else torch.cat([memory, hidden], dim=1)
            start = min(max(states.shape[1] - length, 0), states.shape[1])
            return states[:, start:].detach()
        """),
    # ---------------------------------------------------------------- 09_gpt: apply_rope_interleaved
    _w("09_gpt", "apply_rope_interleaved", "rotate_half_pairing",
       "pairs feature i with feature i + d/2 (the chapter's Llama convention), not 2i with "
       "2i + 1", True, """
        def apply_rope_interleaved(x, positions, base=10000.0):
            T, d = x.shape[-2:]
            if d % 2 or positions.shape != (T,):
                raise ValueError("d must be even and positions of shape (T,)")
            theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            angles = (positions.double()[:, None] * theta).to(x.dtype)
            cos, sin = angles.cos().repeat(1, 2), angles.sin().repeat(1, 2)
            first, second = x.chunk(2, dim=-1)
            return x * cos + torch.cat([-second, first], dim=-1) * sin
        """),
    _w("09_gpt", "apply_rope_interleaved", "exponent_i_over_d",
       "uses theta_i = base^(-i/d) for pair i instead of base^(-2i/d): the frequencies fall "
       "off half as fast", True, """
        def apply_rope_interleaved(x, positions, base=10000.0):
            T, d = x.shape[-2:]
            if d % 2 or positions.shape != (T,):
                raise ValueError("d must be even and positions of shape (T,)")
            theta = base ** (-torch.arange(d // 2, dtype=torch.float64) / d)
            angles = positions.double()[:, None] * theta
            cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
            even, odd = x[..., 0::2], x[..., 1::2]
            out = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
            return out.flatten(-2)
        """),
    _w("09_gpt", "apply_rope_interleaved", "clockwise",
       "swaps the sign of the sines: turns every pair by -t theta_i (clockwise)", True, """
        def apply_rope_interleaved(x, positions, base=10000.0):
            T, d = x.shape[-2:]
            if d % 2 or positions.shape != (T,):
                raise ValueError("d must be even and positions of shape (T,)")
            theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            angles = positions.double()[:, None] * theta
            cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
            even, odd = x[..., 0::2], x[..., 1::2]
            out = torch.stack([even * cos + odd * sin, odd * cos - even * sin], dim=-1)
            return out.flatten(-2)
        """),
    _w("09_gpt", "apply_rope_interleaved", "ignores_positions",
       "turns row r by r, as if positions were always 0 .. T-1 (wrong after a cache)",
       False, """
        def apply_rope_interleaved(x, positions, base=10000.0):
            T, d = x.shape[-2:]
            if d % 2 or positions.shape != (T,):
                raise ValueError("d must be even and positions of shape (T,)")
            theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            angles = torch.arange(T, dtype=torch.float64)[:, None] * theta
            cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
            even, odd = x[..., 0::2], x[..., 1::2]
            out = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
            return out.flatten(-2)
        """),
    _w("09_gpt", "apply_rope_interleaved", "base_ignored",
       "hard-codes 10000 as the base: the base argument does nothing", False, """
        def apply_rope_interleaved(x, positions, base=10000.0):
            T, d = x.shape[-2:]
            if d % 2 or positions.shape != (T,):
                raise ValueError("d must be even and positions of shape (T,)")
            theta = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            angles = positions.double()[:, None] * theta
            cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
            even, odd = x[..., 0::2], x[..., 1::2]
            out = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
            return out.flatten(-2)
        """),
    _w("09_gpt", "apply_rope_interleaved", "float32_always",
       "computes the angles in float32 and returns float32 whatever the dtype of x",
       False, """
        def apply_rope_interleaved(x, positions, base=10000.0):
            T, d = x.shape[-2:]
            if d % 2 or positions.shape != (T,):
                raise ValueError("d must be even and positions of shape (T,)")
            theta = base ** (-torch.arange(0, d, 2) / d)
            angles = positions.float()[:, None] * theta
            even, odd = x[..., 0::2].float(), x[..., 1::2].float()
            out = torch.stack([even * angles.cos() - odd * angles.sin(),
                               even * angles.sin() + odd * angles.cos()], dim=-1)
            return out.flatten(-2)
        """),
    _w("09_gpt", "apply_rope_interleaved", "no_shape_checks",
       "checks nothing: an odd d fails inside stack with a RuntimeError, and positions of "
       "the wrong length broadcast or fail the same way", False, """
        def apply_rope_interleaved(x, positions, base=10000.0):
            d = x.shape[-1]
            theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
            angles = positions.double().reshape(-1, 1) * theta
            cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
            even, odd = x[..., 0::2], x[..., 1::2]
            out = torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1)
            return out.flatten(-2)
        """),
    # ---------------------------------------------------------------- 09_gpt: trim_cache
    _w("09_gpt", "trim_cache", "keeps_first",
       "keeps the first `window` positions: the oldest, not the most recent", True, """
        def trim_cache(cache, window):
            if window < 1:
                raise ValueError("window must be at least 1")
            return [(k[:, :, :window], v[:, :, :window]) for k, v in cache]
        """),
    _w("09_gpt", "trim_cache", "keys_only",
       "cuts the keys and leaves the values whole", True, """
        def trim_cache(cache, window):
            if window < 1:
                raise ValueError("window must be at least 1")
            return [(k[:, :, -window:], v) for k, v in cache]
        """),
    _w("09_gpt", "trim_cache", "changes_the_list",
       "writes the cut pairs back into the list it was given, then returns a copy", False, """
        def trim_cache(cache, window):
            if window < 1:
                raise ValueError("window must be at least 1")
            for layer, (k, v) in enumerate(cache):
                cache[layer] = (k[:, :, -window:], v[:, :, -window:])
            return list(cache)
        """),
    _w("09_gpt", "trim_cache", "start_t_minus_window",
       "starts the slice at t - window, negative for a cache shorter than the window: "
       "Python then counts from the end and keeps only the last 2t - window positions",
       False, """
        def trim_cache(cache, window):
            if window < 1:
                raise ValueError("window must be at least 1")
            trimmed = []
            for k, v in cache:
                start = k.shape[2] - window
                trimmed.append((k[:, :, start:], v[:, :, start:]))
            return trimmed
        """),
    _w("09_gpt", "trim_cache", "no_value_error",
       "no check of window: 0 gives [-0:], the whole cache, instead of a ValueError",
       False, """
        def trim_cache(cache, window):
            return [(k[:, :, -window:], v[:, :, -window:]) for k, v in cache]
        """),
    # ---------------------------------------------------------------- 09_gpt: bits_per_character
    _w("09_gpt", "bits_per_character", "nats",
       "returns the cross-entropy in nats (natural log), not bits", True, """
        def bits_per_character(logits, targets):
            if logits.shape[:-1] != targets.shape:
                raise ValueError("targets must have the shape of logits without V")
            log_p = torch.log_softmax(logits, dim=-1)
            return -log_p.gather(-1, targets.unsqueeze(-1)).mean()
        """),
    _w("09_gpt", "bits_per_character", "sum",
       "sums the bits of all positions instead of averaging them", True, """
        def bits_per_character(logits, targets):
            if logits.shape[:-1] != targets.shape:
                raise ValueError("targets must have the shape of logits without V")
            log_p = torch.log_softmax(logits, dim=-1)
            return -log_p.gather(-1, targets.unsqueeze(-1)).sum() / math.log(2)
        """),
    _w("09_gpt", "bits_per_character", "log2_of_softmax",
       "takes log2 of the softmax: exact for moderate logits, but a probability that "
       "underflows to 0 gives infinitely many bits", False, """
        def bits_per_character(logits, targets):
            if logits.shape[:-1] != targets.shape:
                raise ValueError("targets must have the shape of logits without V")
            probs = torch.softmax(logits, dim=-1)
            return -torch.log2(probs.gather(-1, targets.unsqueeze(-1))).mean()
        """),
    _w("09_gpt", "bits_per_character", "no_shape_check",
       "no check of the shapes: mismatched targets fail inside gather with a "
       "RuntimeError, or broadcast silently", False, """
        def bits_per_character(logits, targets):
            log_p = torch.log_softmax(logits, dim=-1).reshape(-1, logits.shape[-1])
            picked = log_p.gather(-1, targets.reshape(-1, 1)[:log_p.shape[0]])
            return -picked.mean() / math.log(2)
        """),
    _w("09_gpt", "bits_per_character", "float32_always",
       "converts the logits to float32: float64 in, float32 out", False, """
        def bits_per_character(logits, targets):
            if logits.shape[:-1] != targets.shape:
                raise ValueError("targets must have the shape of logits without V")
            log_p = torch.log_softmax(logits.float(), dim=-1)
            return -log_p.gather(-1, targets.unsqueeze(-1)).mean() / math.log(2)
        """),
]

RIGHT_ANSWERS = [
    _r("09_gpt", "causal_alibi_bias", "bloom_closed_form",
       "the slopes from a closed form (a base 2^(-2^-(log2 n - 3)) raised to 1..n, then "
       "an extra base to the odd powers), computed in float32, and the mask with "
       "torch.where on a tril", """
        def causal_alibi_bias(num_heads, length):
            if num_heads < 1 or length < 1:
                raise ValueError(f"bad sizes {num_heads}, {length}")
            n = 2 ** math.floor(math.log2(num_heads))
            base = torch.tensor(2 ** (-(2 ** -(math.log2(n) - 3))), dtype=torch.float32)
            slopes = base ** torch.arange(1, n + 1, dtype=torch.float32)
            if n < num_heads:
                extra = torch.tensor(2 ** (-(2 ** -(math.log2(2 * n) - 3))))
                odd = torch.arange(1, 1 + 2 * (num_heads - n), 2, dtype=torch.float32)
                slopes = torch.cat([slopes, extra ** odd])
            pos = torch.arange(length, dtype=torch.float32)
            distance = pos.view(-1, 1) - pos.view(1, -1)
            allowed = torch.ones(length, length, dtype=torch.bool).tril()
            bias = -slopes.view(-1, 1, 1) * distance
            return torch.where(allowed, bias, torch.tensor(float("-inf")))
        """),
    _r("09_gpt", "top_p_filter", "mass_strictly_above",
       "no sort: a token is kept when the probability of the tokens strictly more "
       "probable than it is still below p (which keeps ties), by an outer comparison", """
        def top_p_filter(logits, p):
            if not (0 < p <= 1):
                raise ValueError(f"p = {p}")
            if p == 1:
                return logits.clone()
            probs = logits.softmax(-1)
            above = (probs.unsqueeze(-2) > probs.unsqueeze(-1)).to(probs.dtype)
            mass_above = (above * probs.unsqueeze(-2)).sum(-1)
            return torch.where(mass_above < p, logits,
                               torch.full_like(logits, float("-inf")))
        """),
    _r("09_gpt", "update_memory", "no_grad_narrow",
       "torch.narrow under torch.no_grad() and a clone, memory=None replaced by an empty "
       "tensor", """
        def update_memory(memory, hidden, length):
            if length < 0:
                raise ValueError("negative length")
            if memory is None:
                memory = hidden.new_zeros(hidden.shape[0], 0, hidden.shape[2])
            with torch.no_grad():
                both = torch.cat((memory, hidden), 1)
                n = min(length, both.size(1))
                return both.narrow(1, both.size(1) - n, n).clone()
        """),
    _r("09_gpt", "apply_rope_interleaved", "complex_float32",
       "multiplies complex numbers (torch.view_as_complex, torch.polar), with the "
       "angles computed in float32 as GPT-J and Llama's reference code do", """
        def apply_rope_interleaved(x, positions, base=10000.0):
            *lead, T, d = x.shape
            if d % 2 != 0:
                raise ValueError("odd d")
            if positions.dim() != 1 or positions.numel() != T:
                raise ValueError("positions must be (T,)")
            freqs = 1.0 / base ** (torch.arange(0, d, 2).float() / d)
            angles = torch.outer(positions.float(), freqs)
            rotation = torch.polar(torch.ones_like(angles), angles)
            z = torch.view_as_complex(x.float().reshape(*lead, T, d // 2, 2).contiguous())
            return torch.view_as_real(z * rotation).reshape(x.shape).to(x.dtype)
        """),
    _r("09_gpt", "trim_cache", "narrow_lists",
       "torch.narrow on dim 2 in a list comprehension", """
        def trim_cache(cache, window):
            if window < 1:
                raise ValueError("window < 1")
            out = []
            for k, v in cache:
                n = min(window, k.size(2))
                out.append((k.narrow(2, k.size(2) - n, n), v.narrow(2, v.size(2) - n, n)))
            return out
        """),
    _r("09_gpt", "bits_per_character", "logsumexp",
       "log-sum-exp minus the target's logit, flattened, divided by ln 2 at the end", """
        def bits_per_character(logits, targets):
            if tuple(targets.shape) != tuple(logits.shape[:-1]):
                raise ValueError("shape mismatch")
            flat = logits.reshape(-1, logits.shape[-1])
            right = flat[torch.arange(flat.shape[0]), targets.reshape(-1)]
            nats = (torch.logsumexp(flat, dim=-1) - right).mean()
            return nats / math.log(2.0)
        """),
]
