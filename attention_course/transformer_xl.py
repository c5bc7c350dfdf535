import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from attention_course.gpt import gelu_tanh
from attention_course.transformer import (FeedForward, TransformerConfig,
                                          sinusoidal_encoding)


@dataclass
class XLConfig:
    """Sizes of a Transformer-XL language model (Dai et al. 2019), named once.
    Chapter 9."""
    vocab_size: int = 0                 # V
    segment: int = 64                   # T: tokens per segment
    memory: int = 64                    # M: cached states per layer (0: no recurrence)
    d_model: int = 128                  # D
    num_heads: int = 4                  # h
    num_layers: int = 4                 # L
    d_ff: int | None = None             # None: 4 D
    dropout: float = 0.0
    layer_norm_eps: float = 1e-5

    def __post_init__(self):
        if self.d_ff is None:
            self.d_ff = 4 * self.d_model
        if self.num_heads < 1 or self.d_model % self.num_heads != 0:
            raise ValueError(f"d_model={self.d_model} must be divisible by "
                             f"num_heads={self.num_heads}")
        if self.memory < 0 or self.segment < 1 or self.vocab_size < 1:
            raise ValueError("need memory >= 0, segment >= 1 and vocab_size >= 1; got "
                             f"{self.memory}, {self.segment}, {self.vocab_size}")

def rel_shift(scores):
    """Dai et al.'s shift: (..., Q, S) scores whose column c belongs to distance
    S - 1 - c, for every query -> scores whose [i, j] belongs to distance
    (S - Q + i) - j, the distance from query i (the last Q of S positions) to key j.
    Exact where j <= S - Q + i (the causal part); other entries are left-overs."""
    *lead, Q, S = scores.shape
    padded = torch.cat([scores.new_zeros(*lead, Q, 1), scores], dim=-1)  # (..., Q, S+1)
    padded = padded.view(*lead, S + 1, Q)        # the same numbers, read row by row
    return padded[..., 1:, :].reshape(*lead, Q, S)                        # (..., Q, S)


def relative_scores_naive(queries, rel, num_keys: int):
    """The same as rel_shift(queries @ rel^T), one entry at a time: [i, j] =
    queries[i] . rel[S - 1 - d] for the distance d = (S - Q + i) - j >= 0, and 0 for
    keys after the query. queries (..., Q, d), rel (S, d) for distances S-1 .. 0."""
    Q, S = queries.shape[-2], num_keys
    out = queries.new_zeros(*queries.shape[:-1], S)
    for i in range(Q):
        for j in range(S - Q + i + 1):
            d = S - Q + i - j
            out[..., i, j] = queries[..., i, :] @ rel[S - 1 - d]
    return out

class RelativeAttention(nn.Module):
    """Multi-head attention with Transformer-XL's relative positions (Dai et al.
    2019). The score of query i and key j (distance d = i - j) is
    (q_i + u) . k_j  +  (q_i + v) . W_r r_d : content, and where the key is
    relative to the query; u and v are learned per head and r_d is the sinusoid of
    d. Keys and values come from [memory; X]. Chapter 9.

    forward(X (B, T, D), memory (B, M, D)) -> (B, T, D)."""

    def __init__(self, cfg: XLConfig):
        super().__init__()
        D, h = cfg.d_model, cfg.num_heads
        self.num_heads, self.d_head = h, D // h
        self.W_q, self.W_k = nn.Linear(D, D, bias=False), nn.Linear(D, D, bias=False)
        self.W_v, self.W_o = nn.Linear(D, D, bias=False), nn.Linear(D, D, bias=False)
        self.W_r = nn.Linear(D, D, bias=False)       # projects the sinusoids r_d
        self.u = nn.Parameter(torch.zeros(h, self.d_head))
        self.v = nn.Parameter(torch.zeros(h, self.d_head))
        self.drop = nn.Dropout(cfg.dropout)

    def heads(self, X):
        B, S, _ = X.shape
        X = X.view(B, S, self.num_heads, self.d_head)
        return X.transpose(1, 2)                                        # (B, h, S, dh)

    def forward(self, X, memory):
        B, T, D = X.shape
        H = torch.cat([memory, X], dim=1)                               # (B, S, D)
        S = H.shape[1]
        q = self.heads(self.W_q(X))                                     # (B, h, T, dh)
        k, v = self.heads(self.W_k(H)), self.heads(self.W_v(H))         # (B, h, S, dh)
        # sinusoids of the distances S-1, ..., 1, 0 (chapter 5's table, read backwards)
        R = sinusoidal_encoding(S, D).flip(0).to(X.device, X.dtype)     # (S, D)
        r = self.W_r(R).view(S, self.num_heads, self.d_head).transpose(0, 1)  # (h,S,dh)
        content = (q + self.u[:, None]) @ k.transpose(-2, -1)           # (B, h, T, S)
        position = rel_shift((q + self.v[:, None]) @ r.transpose(-2, -1))
        scores = (content + position) / math.sqrt(self.d_head)
        # query i sits at position M + i and may see keys 0 .. M + i
        mask = torch.ones(T, S, dtype=torch.bool, device=X.device).tril(S - T)
        weights = self.drop(scores.masked_fill(~mask, float("-inf")).softmax(-1))
        out = (weights @ v).transpose(1, 2).reshape(B, T, D)            # (B, T, D)
        return self.W_o(out)

class XLBlock(nn.Module):
    """A pre-LN block whose attention also reads the memory (the previous segments'
    inputs to this layer, normalised by the same LayerNorm). Chapter 9."""

    def __init__(self, cfg: XLConfig):
        super().__init__()
        D = cfg.d_model
        self.ln_1 = nn.LayerNorm(D, eps=cfg.layer_norm_eps)
        self.attn = RelativeAttention(cfg)
        self.ln_2 = nn.LayerNorm(D, eps=cfg.layer_norm_eps)
        self.mlp = FeedForward(TransformerConfig(D, cfg.num_heads, cfg.d_ff,
                                                 dropout=cfg.dropout))
        self.mlp.act = gelu_tanh
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, X, memory):
        X = X + self.drop(self.attn(self.ln_1(X), self.ln_1(memory)))
        return X + self.drop(self.mlp(self.ln_2(X)))                    # (B, T, D)


def update_memory(memory, hidden, length: int):
    """The last `length` states of [memory; hidden] (B, M + T, D), cut off from the
    graph: the next segment reads them but sends no gradient back into them. With
    fewer than `length` states, all of them are kept."""
    if length < 0:
        raise ValueError(f"the memory length must be >= 0; got {length}")
    with torch.no_grad():
        both = torch.cat([memory, hidden], dim=1)                      # (B, M + T, D)
        return both[:, max(0, both.shape[1] - length):].detach()       # (B, <= M, D)

class TransformerXL(nn.Module):
    """A Transformer-XL language model (Dai et al. 2019): no absolute positions,
    relative attention, and a memory of each layer's inputs from earlier segments.
    Chapter 9.

    forward(ids (B, T), memory=None) -> logits (B, T, V), the new memory (one (B, M,
    D) tensor per layer). memory=None starts a stream with an empty memory. Set
    .memory_length to evaluate with another M than the one trained with."""

    def __init__(self, cfg: XLConfig):
        super().__init__()
        self.cfg, self.memory_length = cfg, cfg.memory
        self.tok_embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(XLBlock(cfg) for _ in range(cfg.num_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
        for block in self.blocks:     # GPT-2's scaling of the residual branches
            for W in (block.attn.W_o, block.mlp.W_2):
                nn.init.normal_(W.weight, std=0.02 / math.sqrt(2 * cfg.num_layers))
            nn.init.zeros_(block.mlp.W_1.bias)
            nn.init.zeros_(block.mlp.W_2.bias)

    def empty_memory(self, batch_size: int, device=None):
        D = self.cfg.d_model
        return [torch.zeros(batch_size, 0, D, device=device) for _ in self.blocks]

    def forward(self, ids, memory=None):
        if (not isinstance(ids, torch.Tensor) or ids.dim() != 2
                or ids.is_floating_point()):
            raise ValueError("ids must be an integer tensor (B, T) of token ids; got "
                             f"{getattr(ids, 'dtype', type(ids).__name__)} "
                             f"{tuple(getattr(ids, 'shape', ()))}")
        if memory is None:
            memory = self.empty_memory(ids.shape[0], ids.device)
        if len(memory) != len(self.blocks) or any(
                m.shape[0] != ids.shape[0] for m in memory):
            raise ValueError(f"memory must hold one (B={ids.shape[0]}, M, D) tensor "
                             f"per layer ({len(self.blocks)}); start a stream with "
                             "memory=None")
        X = self.drop(self.tok_embed(ids))                              # (B, T, D)
        new_memory = []
        for block, mem in zip(self.blocks, memory):
            new_memory.append(update_memory(mem, X, self.memory_length))
            X = block(X, mem)
        H = self.ln_f(X)
        return H @ self.tok_embed.weight.T, new_memory                  # (B, T, V)
