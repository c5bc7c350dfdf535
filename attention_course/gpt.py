import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from attention_course.transformer import (FeedForward, MultiHeadAttention,
                                          TransformerConfig, sinusoidal_encoding)

POSITIONS = ("learned", "sinusoidal", "rope", "alibi", "none")


@dataclass
class GPTConfig:
    """Sizes and choices of a decoder-only Transformer (Radford et al. 2019), named
    once. Chapter 9."""
    vocab_size: int = 0                 # V
    context: int = 128                  # T: the window trained on; learned positions
    #                                     exist for 0 .. T-1 only
    d_model: int = 128                  # D
    num_heads: int = 4                  # h
    num_layers: int = 4                 # L
    d_ff: int | None = None             # None: 4 D, as GPT-2
    dropout: float = 0.0
    position: str = "learned"           # one of POSITIONS
    layer_norm_eps: float = 1e-5
    rope_base: float = 10000.0          # RoPE's theta (Su et al. 2021)

    def __post_init__(self):
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        if self.position not in POSITIONS:
            raise ValueError(f"position must be one of {POSITIONS}; "
                             f"got {self.position!r}")
        if self.num_heads < 1 or self.d_model % self.num_heads != 0:
            raise ValueError(f"d_model={self.d_model} must be divisible by "
                             f"num_heads={self.num_heads}")
        if self.position == "rope" and (self.d_model // self.num_heads) % 2:
            raise ValueError("RoPE rotates pairs of features: d_model / num_heads "
                             f"= {self.d_model // self.num_heads} must be even")
        if self.vocab_size < 1:
            raise ValueError(f"vocab_size must be positive; got {self.vocab_size}")

def rope_angles(num_positions: int, d_head: int, base: float = 10000.0, start: int = 0,
                device=None):
    """cos and sin (P, d_head) of RoPE's angles (Su et al. 2021) for positions start ..
    start + P - 1: feature i and i + d_head/2 form a pair, turned by p * base^(-2i/d).
    Chapter 9."""
    inv_freq = base ** -(torch.arange(0, d_head, 2, device=device) / d_head)  # (d/2,)
    pos = torch.arange(start, start + num_positions, device=device)           # (P,)
    angles = pos[:, None].float() * inv_freq[None, :]                       # (P, d/2)
    angles = torch.cat([angles, angles], dim=-1)                               # (P, d)
    return angles.cos(), angles.sin()


def rotate_half(X):
    """(x1, x2) -> (-x2, x1) on the two halves of the last dim."""
    x1, x2 = X.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(X, cos, sin):
    """Turn each pair (x_i, x_{i+d/2}) of X (..., P, d_head) by its position's angle:
    the 2-D rotation of chapter 5, one angle per pair. cos, sin: (P, d_head)."""
    return X * cos + rotate_half(X) * sin

def alibi_slopes(num_heads: int) -> torch.Tensor:
    """ALiBi's head slopes (Press et al. 2022): for h a power of two, the geometric
    sequence 2^(-8/h), 2^(-16/h), ..., 2^(-8); otherwise the slopes of the nearest
    lower power of two, then every other slope of twice that many. (h,)"""
    if num_heads < 1:
        raise ValueError(f"num_heads must be positive; got {num_heads}")

    def geometric(n):
        return [2 ** (-8 * (i + 1) / n) for i in range(n)]

    low = 2 ** math.floor(math.log2(num_heads))
    slopes = geometric(low) + geometric(2 * low)[0::2][:num_heads - low]
    return torch.tensor(slopes)


def alibi_bias(slopes, num_queries: int, num_keys: int, device=None):
    """(h, Q, S) additive scores: -slope * (distance from query to key). The queries
    are the last Q of the S positions (earlier keys come from a cache). Positive
    distances only matter: the causal mask hides the keys after a query."""
    q_pos = torch.arange(num_keys - num_queries, num_keys, device=device)      # (Q,)
    k_pos = torch.arange(num_keys, device=device)                              # (S,)
    distance = (q_pos[:, None] - k_pos[None, :]).clamp(min=0)                  # (Q, S)
    return -slopes.to(device)[:, None, None] * distance                     # (h, Q, S)

class CausalSelfAttention(MultiHeadAttention):
    """Chapter 6's multi-head attention, causal, with a key-value cache and the
    position schemes that act inside attention: RoPE turns queries and keys, ALiBi
    biases the scores. Chapter 9.

    forward(X (B, n, D), cache=None) -> output (B, n, D), cache (k, v) of all t + n
    steps (each (B, h, t + n, d_head)); `cache` holds the t earlier steps."""

    def __init__(self, cfg: GPTConfig):
        super().__init__(cfg.d_model, cfg.num_heads, dropout=cfg.dropout)
        self.position, self.rope_base = cfg.position, cfg.rope_base
        if cfg.position == "alibi":
            self.register_buffer("slopes", alibi_slopes(cfg.num_heads),
                                 persistent=False)

    def forward(self, X, cache=None):
        n, t = X.shape[1], 0 if cache is None else cache[0].shape[2]
        q = self.split_heads(self.W_q(X))                          # (B, h, n, d_head)
        k = self.split_heads(self.W_k(X))
        v = self.split_heads(self.W_v(X))
        if self.position == "rope":
            # the new steps sit at positions t .. t+n-1; cached keys are turned already
            cos, sin = rope_angles(n, self.d_head, self.rope_base, t, X.device)
            q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if cache is not None:
            k = torch.cat([cache[0], k], dim=2)                  # (B, h, t+n, d_head)
            v = torch.cat([cache[1], v], dim=2)
        # step i (position t + i) may see positions 0 .. t + i
        mask = torch.ones(n, t + n, dtype=torch.bool, device=X.device).tril(t)
        if self.position == "alibi":
            bias = alibi_bias(self.slopes, n, t + n, X.device).to(q.dtype)  # (h, n, S)
            mask = bias.masked_fill(~mask, float("-inf"))
        p = self.dropout if self.training else 0.0
        # PyTorch's fused attention: chapter 5 showed it equals ours
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.W_o(self.merge_heads(out)), (k, v)                # (B, n, D)

def gelu_tanh(X):
    """GPT-2's GELU: the tanh approximation (Hendrycks & Gimpel 2016), not the exact
    erf form chapter 7's BERT uses."""
    return F.gelu(X, approximate="tanh")


class GPTBlock(nn.Module):
    """A pre-LN decoder block without cross-attention: X + attn(LN(X)), then
    X + MLP(LN(X)). Chapter 9."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        D = cfg.d_model
        self.ln_1 = nn.LayerNorm(D, eps=cfg.layer_norm_eps)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(D, eps=cfg.layer_norm_eps)
        self.mlp = FeedForward(TransformerConfig(D, cfg.num_heads, cfg.d_ff,
                                                 dropout=cfg.dropout))
        self.mlp.act = gelu_tanh
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, X, cache=None):
        out, cache = self.attn(self.ln_1(X), cache)
        X = X + self.drop(out)
        return X + self.drop(self.mlp(self.ln_2(X))), cache          # (B, n, D)

class GPT(nn.Module):
    """A decoder-only language model (Radford et al. 2018, 2019): token embeddings
    (and absolute positions, if cfg.position says so), L pre-LN blocks, a final
    LayerNorm, and the token embedding matrix again as the output layer. Chapter 9.

    forward(ids (B, n), cache=None) -> logits (B, n, V), cache (one (k, v) per
    layer). With a cache of t earlier steps, ids are positions t .. t + n - 1."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = cfg
        self.tok_embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_embed = (nn.Embedding(cfg.context, cfg.d_model)
                          if cfg.position == "learned" else None)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(GPTBlock(cfg) for _ in range(cfg.num_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        self.apply(self._init)
        # GPT-2: each residual branch's last layer is scaled by 1/sqrt(2 L), so that
        # the sum of 2 L branches keeps the residual stream's variance in check
        for block in self.blocks:
            for W in (block.attn.W_o, block.mlp.W_2):
                nn.init.normal_(W.weight, std=0.02 / math.sqrt(2 * cfg.num_layers))
        if cfg.position == "sinusoidal":
            # chapter 6's convention (Vaswani et al. 2017): N(0, 1/D) embeddings times
            # sqrt(D) have unit scale, like the sinusoids; at GPT-2's std 0.02 the
            # fixed sinusoids would drown the tokens
            nn.init.normal_(self.tok_embed.weight, std=cfg.d_model ** -0.5)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def embed(self, ids, start: int):
        n = ids.shape[1]
        X = self.tok_embed(ids)                                       # (B, n, D)
        if self.cfg.position == "sinusoidal":
            X = X * math.sqrt(self.cfg.d_model)
        if self.cfg.position == "learned":
            if start + n > self.cfg.context:
                raise ValueError(
                    f"learned positions exist for 0 .. {self.cfg.context - 1}; "
                    f"positions {start} .. {start + n - 1} were asked for. Feed at "
                    f"most context={self.cfg.context} tokens (crop the prompt), or "
                    "use a scheme without a table (rope, alibi)")
            X = X + self.pos_embed(torch.arange(start, start + n, device=ids.device))
        elif self.cfg.position == "sinusoidal":
            table = sinusoidal_encoding(start + n, self.cfg.d_model).to(ids.device)
            X = X + table[start:]
        return self.drop(X)

    def forward(self, ids, cache=None):
        if (not isinstance(ids, torch.Tensor) or ids.dim() != 2
                or ids.is_floating_point()):
            raise ValueError("ids must be an integer tensor (B, n) of token ids; got "
                             f"{getattr(ids, 'dtype', type(ids).__name__)} "
                             f"{tuple(getattr(ids, 'shape', ()))}")
        if cache is not None and len(cache) != len(self.blocks):
            raise ValueError(f"cache must hold one (k, v) per layer "
                             f"({len(self.blocks)}); got {len(cache)}")
        start = 0 if cache is None else cache[0][0].shape[2]
        X = self.embed(ids, start)
        new_cache = []
        for i, block in enumerate(self.blocks):
            X, kv = block(X, None if cache is None else cache[i])
            new_cache.append(kv)
        H = self.ln_f(X)                                              # (B, n, D)
        return H @ self.tok_embed.weight.T, new_cache                 # (B, n, V)

@torch.no_grad()
def copy_weights_from_hf_gpt2(ours: GPT, ref: nn.Module) -> GPT:
    """Load the weights of transformers' GPT2LMHeadModel into ours and return ours.
    GPT-2's Conv1D stores a weight as (in, out), the transpose of nn.Linear's, and
    its c_attn fuses W_q, W_k, W_v side by side along the output dim."""
    if ours.cfg.position != "learned":
        raise ValueError("GPT-2 has learned positions; build ours with "
                         f"position='learned', not {ours.cfg.position!r}")
    t, D = ref.transformer, ours.cfg.d_model
    ours.tok_embed.weight.copy_(t.wte.weight)
    ours.pos_embed.weight.copy_(t.wpe.weight[:ours.cfg.context])
    for block, h in zip(ours.blocks, t.h, strict=True):
        a = block.attn
        for i, W in enumerate((a.W_q, a.W_k, a.W_v)):
            W.weight.copy_(h.attn.c_attn.weight[:, i * D:(i + 1) * D].T)
            W.bias.copy_(h.attn.c_attn.bias[i * D:(i + 1) * D])
        pairs = [(a.W_o, h.attn.c_proj), (block.mlp.W_1, h.mlp.c_fc),
                 (block.mlp.W_2, h.mlp.c_proj)]
        for W, conv in pairs:
            W.weight.copy_(conv.weight.T)
            W.bias.copy_(conv.bias)
        for norm, ref_norm in ((block.ln_1, h.ln_1), (block.ln_2, h.ln_2)):
            norm.load_state_dict(ref_norm.state_dict())
    ours.ln_f.load_state_dict(t.ln_f.state_dict())
    return ours

def top_k_filter(logits, k: int):
    """Logits (..., V) with every token below the k-th largest set to -inf; tokens
    tied with the k-th are kept."""
    if not 1 <= k:
        raise ValueError(f"top_k must be a positive integer; got {k}")
    k = min(k, logits.shape[-1])
    kth = logits.topk(k, dim=-1).values[..., -1:]                     # (..., 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits, p: float):
    """Nucleus filtering (Holtzman et al. 2020): keep the smallest set of most likely
    tokens whose probability reaches p, and every token tied with the least likely
    of them; set the rest to -inf. logits (..., V)."""
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1]; got {p}")
    if p == 1.0:
        # the whole distribution: rounding in the cumulative sum could otherwise
        # drop the least likely tokens
        return logits
    probs = logits.softmax(dim=-1)
    ranked = probs.sort(dim=-1, descending=True).values               # (..., V)
    before = ranked.cumsum(dim=-1) - ranked   # mass of the tokens ranked above each
    # a token is in the nucleus while the mass before it is still short of p
    n_keep = (before < p).sum(dim=-1, keepdim=True)                   # (..., 1), >= 1
    threshold = ranked.gather(-1, n_keep - 1)                         # (..., 1)
    return logits.masked_fill(probs < threshold, float("-inf"))


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator=None):
    """One token id per row of logits (B, V): divide by the temperature, filter
    (top-k, then top-p), sample. temperature=0 is greedy decoding (the argmax)."""
    if logits.dim() != 2:
        raise ValueError(f"logits must be (B, V); got {tuple(logits.shape)}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0; got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)                                  # (B,)
    logits = logits.float() / temperature
    if top_k is not None:
        logits = top_k_filter(logits, top_k)
    if top_p is not None:
        logits = top_p_filter(logits, top_p)
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)  # (B,)

@torch.no_grad()
def generate(model: GPT, prompt, num_new: int, use_cache: bool = True, **sampling):
    """Extend prompt ids (B, t) by num_new sampled tokens -> (B, t + num_new).

    use_cache=True feeds the prompt once and then one token per step, reusing every
    earlier key and value; False recomputes the whole sequence at each step (the
    same tokens, more work). `sampling`: sample_next's keywords."""
    model.eval()
    ids, cache = prompt, None
    for _ in range(num_new):
        if use_cache:
            logits, cache = model(ids if cache is None else ids[:, -1:], cache)
        else:
            logits, _ = model(ids)
        nxt = sample_next(logits[:, -1], **sampling)                  # (B,)
        ids = torch.cat([ids, nxt[:, None]], dim=1)
    return ids
