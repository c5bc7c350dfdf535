"""Typical wrong answers to exercise 06_transformer: see tests/grading_catalog.py."""
from grading_catalog_base import _w

WRONG_ANSWERS = [
    # ---------------------------------------------------------------- 06_transformer: position_wise_ffn
    _w("06_transformer", "position_wise_ffn", "relu_after_second",
       "applies the ReLU after the second layer too: the output can never be negative", True, """
        def position_wise_ffn(X, W1, b1, W2, b2):
            return torch.relu(torch.relu(X @ W1.T + b1) @ W2.T + b2)
        """),
    _w("06_transformer", "position_wise_ffn", "no_activation",
       "forgets the ReLU: two linear layers are one linear layer", True, """
        def position_wise_ffn(X, W1, b1, W2, b2):
            return (X @ W1.T + b1) @ W2.T + b2
        """),
    _w("06_transformer", "position_wise_ffn", "gelu",
       "uses GELU (BERT's, GPT's) instead of the paper's ReLU", True, """
        def position_wise_ffn(X, W1, b1, W2, b2):
            return torch.nn.functional.gelu(X @ W1.T + b1) @ W2.T + b2
        """),
    _w("06_transformer", "position_wise_ffn", "float32_always",
       "converts the input to float32: float64 in, float32 out", False, """
        def position_wise_ffn(X, W1, b1, W2, b2):
            X, W1, b1, W2, b2 = (t.float() for t in (X, W1, b1, W2, b2))
            return torch.relu(X @ W1.T + b1) @ W2.T + b2
        """),
    # ---------------------------------------------------------------- 06_transformer: add_and_norm
    _w("06_transformer", "add_and_norm", "unbiased_variance",
       "normalises with the unbiased variance (Z.var's default, divides by d_model - 1)", True, """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                return gamma * (Z - mean) / torch.sqrt(Z.var(dim=-1, keepdim=True) + eps) + beta
            if norm_first:
                return X + sublayer(layer_norm(X))
            return layer_norm(X + sublayer(X))
        """),
    _w("06_transformer", "add_and_norm", "wrong_axis",
       "normalises each feature over the positions (dim=1) instead of each position", True, """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=1, keepdim=True)
                return gamma * (Z - mean) / torch.sqrt(var + eps) + beta
            if norm_first:
                return X + sublayer(layer_norm(X))
            return layer_norm(X + sublayer(X))
        """),
    _w("06_transformer", "add_and_norm", "orders_swapped",
       "post-LN and pre-LN swapped: norm_first=False normalises inside the branch", True, """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return gamma * (Z - mean) / torch.sqrt(var + eps) + beta
            if not norm_first:
                return X + sublayer(layer_norm(X))
            return layer_norm(X + sublayer(X))
        """),
    _w("06_transformer", "add_and_norm", "eps_outside_sqrt",
       "divides by std + eps instead of sqrt(variance + eps)", False, """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                std = (Z - mean).pow(2).mean(dim=-1, keepdim=True).sqrt()
                return gamma * (Z - mean) / (std + eps) + beta
            if norm_first:
                return X + sublayer(layer_norm(X))
            return layer_norm(X + sublayer(X))
        """),
    _w("06_transformer", "add_and_norm", "pre_ln_normalises_sum",
       "pre-LN that also normalises the sum: LayerNorm(X + f(LayerNorm(X)))", False, """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return gamma * (Z - mean) / torch.sqrt(var + eps) + beta
            if norm_first:
                return layer_norm(X + sublayer(layer_norm(X)))
            return layer_norm(X + sublayer(X))
        """),
    # ---------------------------------------------------------------- 06_transformer: noam_lr
    _w("06_transformer", "noam_lr", "step_zero_crash",
       "no guard for step 0: 0 ** -0.5 raises ZeroDivisionError", False, """
        def noam_lr(step, d_model, warmup=4000):
            return float(d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5))
        """),
    _w("06_transformer", "noam_lr", "step_zero_returns_zero",
       "returns 0 at step 0 instead of the rate of step 1", False, """
        def noam_lr(step, d_model, warmup=4000):
            if step == 0:
                return 0.0
            return float(d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5))
        """),
    _w("06_transformer", "noam_lr", "warmup_pow_half",
       "warm-up term step * warmup^-0.5: the rate never rises", True, """
        def noam_lr(step, d_model, warmup=4000):
            s = max(step, 1)
            return float(d_model ** -0.5 * min(s ** -0.5, s * warmup ** -0.5))
        """),
    _w("06_transformer", "noam_lr", "no_d_model_factor",
       "leaves out the factor d_model^-0.5", True, """
        def noam_lr(step, d_model, warmup=4000):
            s = max(step, 1)
            return float(min(s ** -0.5, s * warmup ** -1.5))
        """),
    _w("06_transformer", "noam_lr", "max_not_min",
       "takes the max of the two terms instead of the min", True, """
        def noam_lr(step, d_model, warmup=4000):
            s = max(step, 1)
            return float(d_model ** -0.5 * max(s ** -0.5, s * warmup ** -1.5))
        """),
    # ---------------------------------------------------------------- 06_transformer: label_smoothed_nll
    _w("06_transformer", "label_smoothed_nll", "spread_over_others",
       "spreads epsilon over the V - 1 wrong tokens instead of all V", True, """
        def label_smoothed_nll(logits, targets, epsilon, pad_id):
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            others = (-logp.sum(dim=-1) - nll) / (logits.shape[-1] - 1)
            loss = (1 - epsilon) * nll + epsilon * others
            return loss[targets != pad_id].mean()
        """),
    _w("06_transformer", "label_smoothed_nll", "padding_counted",
       "averages over every position, padding included", True, """
        def label_smoothed_nll(logits, targets, epsilon, pad_id):
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            loss = (1 - epsilon) * nll + epsilon * -logp.mean(dim=-1)
            return loss.mean()
        """),
    _w("06_transformer", "label_smoothed_nll", "mean_per_sentence",
       "averages each sentence's real positions, then the sentences", True, """
        def label_smoothed_nll(logits, targets, epsilon, pad_id):
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            loss = (1 - epsilon) * nll + epsilon * -logp.mean(dim=-1)
            real = (targets != pad_id).to(loss.dtype)
            return ((loss * real).sum(1) / real.sum(1)).mean()
        """),
    _w("06_transformer", "label_smoothed_nll", "log_of_softmax",
       "takes the log of a softmax: logits in the thousands give log 0 = -inf", False, """
        def label_smoothed_nll(logits, targets, epsilon, pad_id):
            logp = torch.log(torch.softmax(logits, dim=-1))
            nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            loss = (1 - epsilon) * nll + epsilon * -logp.mean(dim=-1)
            return loss[targets != pad_id].mean()
        """),
    _w("06_transformer", "label_smoothed_nll", "float32_always",
       "computes in float32 whatever the dtype of the logits", False, """
        def label_smoothed_nll(logits, targets, epsilon, pad_id):
            logp = torch.log_softmax(logits.float(), dim=-1)
            nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            loss = (1 - epsilon) * nll + epsilon * -logp.mean(dim=-1)
            return loss[targets != pad_id].mean()
        """),
    # ---------------------------------------------------------------- 06_transformer: cached_attention_step
    _w("06_transformer", "cached_attention_step", "mask_without_offset",
       "causal mask tril(0) of the block: new step i sees cached steps 0 .. i only", True, """
        def cached_attention_step(X_new, W_q, W_k, W_v, cache):
            K_old, V_old = cache
            t, n = K_old.shape[1], X_new.shape[1]
            q = X_new @ W_q.T
            K = torch.cat([K_old, X_new @ W_k.T], dim=1)
            V = torch.cat([V_old, X_new @ W_v.T], dim=1)
            scores = q @ K.transpose(1, 2) / math.sqrt(q.shape[-1])
            allowed = torch.ones(n, t + n, dtype=torch.bool).tril()
            scores = scores.masked_fill(~allowed, float("-inf"))
            return torch.softmax(scores, dim=-1) @ V, (K, V)
        """),
    _w("06_transformer", "cached_attention_step", "no_mask",
       "no mask: fine one step at a time, but a block sees its own future", False, """
        def cached_attention_step(X_new, W_q, W_k, W_v, cache):
            K_old, V_old = cache
            q = X_new @ W_q.T
            K = torch.cat([K_old, X_new @ W_k.T], dim=1)
            V = torch.cat([V_old, X_new @ W_v.T], dim=1)
            scores = q @ K.transpose(1, 2) / math.sqrt(q.shape[-1])
            return torch.softmax(scores, dim=-1) @ V, (K, V)
        """),
    _w("06_transformer", "cached_attention_step", "leaks_next_step",
       "mask tril(t + 1): new step i also sees step i + 1 of the block (an off-by-one leak)",
       False, """
        def cached_attention_step(X_new, W_q, W_k, W_v, cache):
            K_old, V_old = cache
            t, n = K_old.shape[1], X_new.shape[1]
            q = X_new @ W_q.T
            K = torch.cat([K_old, X_new @ W_k.T], dim=1)
            V = torch.cat([V_old, X_new @ W_v.T], dim=1)
            scores = q @ K.transpose(1, 2) / math.sqrt(q.shape[-1])
            allowed = torch.ones(n, t + n, dtype=torch.bool).tril(t + 1)
            scores = scores.masked_fill(~allowed, float("-inf"))
            return torch.softmax(scores, dim=-1) @ V, (K, V)
        """),
    _w("06_transformer", "cached_attention_step", "new_first",
       "puts the new keys and values before the cached ones", False, """
        def cached_attention_step(X_new, W_q, W_k, W_v, cache):
            K_old, V_old = cache
            t, n = K_old.shape[1], X_new.shape[1]
            q = X_new @ W_q.T
            K = torch.cat([X_new @ W_k.T, K_old], dim=1)
            V = torch.cat([X_new @ W_v.T, V_old], dim=1)
            scores = q @ K.transpose(1, 2) / math.sqrt(q.shape[-1])
            allowed = torch.ones(n, t + n, dtype=torch.bool).tril(t)
            scores = scores.masked_fill(~allowed, float("-inf"))
            return torch.softmax(scores, dim=-1) @ V, (K, V)
        """),
    _w("06_transformer", "cached_attention_step", "scale_by_d_model",
       "divides the scores by sqrt(d_model) instead of sqrt(d_k)", True, """
        def cached_attention_step(X_new, W_q, W_k, W_v, cache):
            K_old, V_old = cache
            t, n = K_old.shape[1], X_new.shape[1]
            q = X_new @ W_q.T
            K = torch.cat([K_old, X_new @ W_k.T], dim=1)
            V = torch.cat([V_old, X_new @ W_v.T], dim=1)
            scores = q @ K.transpose(1, 2) / math.sqrt(X_new.shape[-1])
            allowed = torch.ones(n, t + n, dtype=torch.bool).tril(t)
            scores = scores.masked_fill(~allowed, float("-inf"))
            return torch.softmax(scores, dim=-1) @ V, (K, V)
        """),
    _w("06_transformer", "cached_attention_step", "cache_on_batch_axis",
       "appends the new keys and values along dim 0, the batch", True, """
        def cached_attention_step(X_new, W_q, W_k, W_v, cache):
            K_old, V_old = cache
            q = X_new @ W_q.T
            K = torch.cat([K_old, X_new @ W_k.T], dim=0)
            V = torch.cat([V_old, X_new @ W_v.T], dim=0)
            scores = q @ K.transpose(1, 2) / math.sqrt(q.shape[-1])
            return torch.softmax(scores, dim=-1) @ V, (K, V)
        """),
]
