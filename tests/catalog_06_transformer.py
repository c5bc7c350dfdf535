"""Typical wrong answers to exercise 06_transformer: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
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
    _w("06_transformer", "add_and_norm", "calls_sublayer_twice",
       "post-LN calls the sub-layer twice (once to look at it): equal only for a pure f",
       False, """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return gamma * (Z - mean) / torch.sqrt(var + eps) + beta
            if norm_first:
                return X + sublayer(layer_norm(X))
            assert sublayer(X).shape == X.shape
            return layer_norm(X + sublayer(X))
        """),
    _w("06_transformer", "add_and_norm", "default_eps_1e-6",
       "defaults eps to 1e-6 (ViT's value) instead of 1e-5", False, """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-6):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return gamma * (Z - mean) / torch.sqrt(var + eps) + beta
            if norm_first:
                return X + sublayer(layer_norm(X))
            return layer_norm(X + sublayer(X))
        """),
    # ---------------------------------------------------------------- 06_transformer: layer_gradient_norms
    _w("06_transformer", "layer_gradient_norms", "no_final_norm",
       "pre-LN without the final LayerNorm after the last layer", True, """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return (Z - mean) / torch.sqrt(var + eps)
            leaves = [W.detach().requires_grad_() for W in weights]
            Z = X
            for W in leaves:
                Z = Z + layer_norm(Z) @ W.T if norm_first else layer_norm(Z + Z @ W.T)
            loss = (Z - target).pow(2).mean()
            return torch.stack([g.norm() for g in torch.autograd.grad(loss, leaves)])
        """),
    _w("06_transformer", "layer_gradient_norms", "sum_loss",
       "sums the squared errors instead of taking their mean", True, """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return (Z - mean) / torch.sqrt(var + eps)
            leaves = [W.detach().requires_grad_() for W in weights]
            Z = X
            for W in leaves:
                Z = Z + layer_norm(Z) @ W.T if norm_first else layer_norm(Z + Z @ W.T)
            if norm_first:
                Z = layer_norm(Z)
            loss = (Z - target).pow(2).sum()
            return torch.stack([g.norm() for g in torch.autograd.grad(loss, leaves)])
        """),
    _w("06_transformer", "layer_gradient_norms", "eps_ignored",
       "always normalises with eps = 1e-5, whatever eps is given", False, """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return (Z - mean) / torch.sqrt(var + 1e-5)
            leaves = [W.detach().requires_grad_() for W in weights]
            Z = X
            for W in leaves:
                Z = Z + layer_norm(Z) @ W.T if norm_first else layer_norm(Z + Z @ W.T)
            if norm_first:
                Z = layer_norm(Z)
            loss = (Z - target).pow(2).mean()
            return torch.stack([g.norm() for g in torch.autograd.grad(loss, leaves)])
        """),
    _w("06_transformer", "layer_gradient_norms", "flags_set_in_place",
       "differentiates the caller's weights themselves: requires_grad stays True on them",
       False, """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return (Z - mean) / torch.sqrt(var + eps)
            leaves = [W.requires_grad_() for W in weights]
            Z = X
            for W in leaves:
                Z = Z + layer_norm(Z) @ W.T if norm_first else layer_norm(Z + Z @ W.T)
            if norm_first:
                Z = layer_norm(Z)
            loss = (Z - target).pow(2).mean()
            grads = torch.autograd.grad(loss, leaves)
            return torch.stack([g.norm() for g in grads]).detach()
        """),
    _w("06_transformer", "layer_gradient_norms", "grad_left_behind",
       "backward() on the caller's weights, flags reset afterwards, but their .grad stays",
       False, """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return (Z - mean) / torch.sqrt(var + eps)
            for W in weights:
                W.grad = None
                W.requires_grad_()
            Z = X
            for W in weights:
                Z = Z + layer_norm(Z) @ W.T if norm_first else layer_norm(Z + Z @ W.T)
            if norm_first:
                Z = layer_norm(Z)
            (Z - target).pow(2).mean().backward()
            for W in weights:
                W.requires_grad_(False)
            return torch.stack([W.grad.norm() for W in weights])
        """),
    _w("06_transformer", "layer_gradient_norms", "default_eps_1e-6",
       "defaults eps to 1e-6 instead of 1e-5", False, """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-6):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return (Z - mean) / torch.sqrt(var + eps)
            leaves = [W.detach().requires_grad_() for W in weights]
            Z = X
            for W in leaves:
                Z = Z + layer_norm(Z) @ W.T if norm_first else layer_norm(Z + Z @ W.T)
            if norm_first:
                Z = layer_norm(Z)
            loss = (Z - target).pow(2).mean()
            return torch.stack([g.norm() for g in torch.autograd.grad(loss, leaves)])
        """),
    _w("06_transformer", "layer_gradient_norms", "float32_always",
       "converts everything to float32: float64 in, float32 out", False, """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-5):
            def layer_norm(Z):
                mean = Z.mean(dim=-1, keepdim=True)
                var = (Z - mean).pow(2).mean(dim=-1, keepdim=True)
                return (Z - mean) / torch.sqrt(var + eps)
            leaves = [W.detach().float().requires_grad_() for W in weights]
            Z = X.float()
            for W in leaves:
                Z = Z + layer_norm(Z) @ W.T if norm_first else layer_norm(Z + Z @ W.T)
            if norm_first:
                Z = layer_norm(Z)
            loss = (Z - target.float()).pow(2).mean()
            return torch.stack([g.norm() for g in torch.autograd.grad(loss, leaves)])
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
    # ---------------------------------------------------------------- 06_transformer: merge_attention_blocks
    _w("06_transformer", "merge_attention_blocks", "equal_weights",
       "averages the two outputs, whatever the mass of each block", True, """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            return (out_a + out_b) / 2, torch.logaddexp(lse_a, lse_b)
        """),
    _w("06_transformer", "merge_attention_blocks", "lse_is_max",
       "right output, but returns max(lse_a, lse_b) as the union's log-sum-exp", True, """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            top = torch.maximum(lse_a, lse_b)
            top = torch.where(torch.isinf(top), torch.zeros_like(top), top)
            w_a, w_b = torch.exp(lse_a - top), torch.exp(lse_b - top)
            total = torch.where(w_a + w_b > 0, w_a + w_b, torch.ones_like(w_a))
            out = (w_a.unsqueeze(-1) * out_a + w_b.unsqueeze(-1) * out_b) / total.unsqueeze(-1)
            return out, torch.maximum(lse_a, lse_b)
        """),
    _w("06_transformer", "merge_attention_blocks", "raw_exp",
       "weights exp(lse) / (exp(lse_a) + exp(lse_b)): overflows for log-sum-exps in the thousands",
       False, """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            e_a, e_b = torch.exp(lse_a), torch.exp(lse_b)
            total = e_a + e_b
            out = (e_a.unsqueeze(-1) * out_a + e_b.unsqueeze(-1) * out_b) / total.unsqueeze(-1)
            return out, torch.log(total)
        """),
    _w("06_transformer", "merge_attention_blocks", "nan_when_both_empty",
       "shifts by max(lse_a, lse_b) even when both are -inf: -inf - -inf gives NaN", False, """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            top = torch.maximum(lse_a, lse_b)
            w_a, w_b = torch.exp(lse_a - top), torch.exp(lse_b - top)
            total = w_a + w_b
            out = (w_a.unsqueeze(-1) * out_a + w_b.unsqueeze(-1) * out_b) / total.unsqueeze(-1)
            return out, top + torch.log(total)
        """),
    _w("06_transformer", "merge_attention_blocks", "rescales_in_place",
       "rescales out_a and out_b in place (mul_) to save memory", False, """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            top = torch.maximum(lse_a, lse_b)
            top = torch.where(torch.isinf(top), torch.zeros_like(top), top)
            w_a, w_b = torch.exp(lse_a - top), torch.exp(lse_b - top)
            total = w_a + w_b
            safe = torch.where(total > 0, total, torch.ones_like(total)).unsqueeze(-1)
            out_a.mul_(w_a.unsqueeze(-1) / safe)
            out_b.mul_(w_b.unsqueeze(-1) / safe)
            return out_a + out_b, top + torch.log(total)
        """),
    _w("06_transformer", "merge_attention_blocks", "float32_always",
       "computes in float32: float64 in, float32 out", False, """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            out_a, lse_a, out_b, lse_b = (t.float() for t in (out_a, lse_a, out_b, lse_b))
            top = torch.maximum(lse_a, lse_b)
            top = torch.where(torch.isinf(top), torch.zeros_like(top), top)
            w_a, w_b = torch.exp(lse_a - top), torch.exp(lse_b - top)
            total = w_a + w_b
            safe = torch.where(total > 0, total, torch.ones_like(total)).unsqueeze(-1)
            out = (w_a.unsqueeze(-1) * out_a + w_b.unsqueeze(-1) * out_b) / safe
            return out, top + torch.log(total)
        """),
]

RIGHT_ANSWERS = [
    _r("06_transformer", "add_and_norm", "var_and_rsqrt",
       "torch.var(unbiased=False) and rsqrt; the sub-layer's output kept in a variable", """
        def add_and_norm(X, sublayer, gamma, beta, norm_first=False, eps=1e-5):
            def layer_norm(Z):
                centred = Z - Z.mean(-1, keepdim=True)
                scale = torch.rsqrt(Z.var(-1, unbiased=False, keepdim=True) + eps)
                return centred * scale * gamma + beta
            inner = layer_norm(X) if norm_first else X
            branch = sublayer(inner)
            return X + branch if norm_first else layer_norm(X + branch)
        """),
    _r("06_transformer", "layer_gradient_norms", "backward_on_copies",
       "backward() on cloned leaves, F.mse_loss, and the norms read from the copies' .grad", """
        def layer_gradient_norms(X, weights, target, norm_first, eps=1e-5):
            copies = [W.clone().requires_grad_(True) for W in weights]
            Z = X
            for W in copies:
                if norm_first:
                    normed = (Z - Z.mean(-1, keepdim=True)) * torch.rsqrt(
                        Z.var(-1, unbiased=False, keepdim=True) + eps)
                    Z = Z + normed @ W.T
                else:
                    S = Z + Z @ W.T
                    Z = (S - S.mean(-1, keepdim=True)) * torch.rsqrt(
                        S.var(-1, unbiased=False, keepdim=True) + eps)
            if norm_first:
                Z = (Z - Z.mean(-1, keepdim=True)) * torch.rsqrt(
                    Z.var(-1, unbiased=False, keepdim=True) + eps)
            torch.nn.functional.mse_loss(Z, target).backward()
            return torch.stack([torch.linalg.vector_norm(W.grad) for W in copies])
        """),
    _r("06_transformer", "merge_attention_blocks", "logaddexp_then_shares",
       "the union's lse with torch.logaddexp first, each block's share exp(lse_x - lse), "
       "NaN shares of empty rows set to 0", """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            lse = torch.logaddexp(lse_a, lse_b)
            share_a = torch.exp(lse_a - lse).nan_to_num(0.0)
            share_b = torch.exp(lse_b - lse).nan_to_num(0.0)
            return share_a[..., None] * out_a + share_b[..., None] * out_b, lse
        """),
    _r("06_transformer", "merge_attention_blocks", "stacked_softmax",
       "stacks the two blocks and weighs them with a softmax over the block axis", """
        def merge_attention_blocks(out_a, lse_a, out_b, lse_b):
            lses = torch.stack([lse_a, lse_b], dim=-1)                  # (..., Q, 2)
            outs = torch.stack([out_a, out_b], dim=-1)                  # (..., Q, d_v, 2)
            empty = torch.isinf(lses).all(dim=-1, keepdim=True)
            shares = torch.softmax(lses.masked_fill(empty, 0.0), dim=-1)
            shares = shares.masked_fill(empty, 0.0)
            out = (outs * shares.unsqueeze(-2)).sum(-1)
            return out, torch.logsumexp(lses, dim=-1)
        """),
]
