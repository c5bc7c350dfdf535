"""Typical wrong answers to exercise 08_vit: see tests/grading_catalog.py."""
from grading_catalog_base import _w

WRONG_ANSWERS = [
    # ---------------------------------------------------------------- 08_vit: patchify
    _w("08_vit", "patchify", "channel_last_flatten",
       "flattens each patch as (row, column, channel), the einops/HWC habit: right for one "
       "channel only", False, """
        def patchify(images, patch_size):
            B, C, H, W = images.shape
            p = patch_size
            if H % p or W % p:
                raise ValueError("patch size must divide the image size")
            grid = images.reshape(B, C, H // p, p, W // p, p).permute(0, 2, 4, 3, 5, 1)
            return grid.reshape(B, (H // p) * (W // p), C * p * p)
        """),
    _w("08_vit", "patchify", "column_major",
       "orders the patches column by column (top to bottom, then left to right)", True, """
        def patchify(images, patch_size):
            B, C, H, W = images.shape
            p = patch_size
            if H % p or W % p:
                raise ValueError("patch size must divide the image size")
            grid = images.reshape(B, C, H // p, p, W // p, p).permute(0, 4, 2, 1, 3, 5)
            return grid.reshape(B, (H // p) * (W // p), C * p * p)
        """),
    _w("08_vit", "patchify", "reshape_without_permute",
       "reshapes to (B, N, C*p*p) without a permute: each 'patch' is a strip of pixel rows "
       "that mixes several patches", True, """
        def patchify(images, patch_size):
            B, C, H, W = images.shape
            p = patch_size
            if H % p or W % p:
                raise ValueError("patch size must divide the image size")
            return images.reshape(B, (H // p) * (W // p), C * p * p)
        """),
    _w("08_vit", "patchify", "no_size_check",
       "no check of the size: an indivisible image fails inside reshape with a RuntimeError "
       "instead of a ValueError that says what is wrong", False, """
        def patchify(images, patch_size):
            B, C, H, W = images.shape
            p = patch_size
            grid = images.reshape(B, C, H // p, p, W // p, p).permute(0, 2, 4, 1, 3, 5)
            return grid.reshape(B, (H // p) * (W // p), C * p * p)
        """),
    _w("08_vit", "patchify", "square_images_only",
       "assumes square images: uses H for the number of patch columns too", False, """
        def patchify(images, patch_size):
            B, C, H, W = images.shape
            p = patch_size
            if H % p or W % p:
                raise ValueError("patch size must divide the image size")
            n = H // p
            grid = images.reshape(B, C, n, p, -1, p).permute(0, 2, 4, 1, 3, 5)
            return grid.reshape(B, n * n, -1)
        """),
    # ---------------------------------------------------------------- 08_vit: patch_embedding
    _w("08_vit", "patch_embedding", "weight_channel_last",
       "flattens the weight as (row, column, channel), not in the patches' (channel, row, "
       "column) order: right for one channel only", False, """
        def patch_embedding(patches, weight, bias):
            D = weight.shape[0]
            return patches @ weight.permute(0, 2, 3, 1).reshape(D, -1).T + bias
        """),
    _w("08_vit", "patch_embedding", "weight_not_transposed",
       "reshapes the weight straight to (C*p*p, D) instead of (D, C*p*p) then transposing",
       True, """
        def patch_embedding(patches, weight, bias):
            D = weight.shape[0]
            return patches @ weight.reshape(-1, D) + bias
        """),
    _w("08_vit", "patch_embedding", "no_bias",
       "forgets the convolution's bias", True, """
        def patch_embedding(patches, weight, bias):
            D = weight.shape[0]
            return patches @ weight.reshape(D, -1).T
        """),
    _w("08_vit", "patch_embedding", "float32_always",
       "converts everything to float32: float64 in, float32 out", False, """
        def patch_embedding(patches, weight, bias):
            D = weight.shape[0]
            return patches.float() @ weight.float().reshape(D, -1).T + bias.float()
        """),
    # ---------------------------------------------------------------- 08_vit: add_cls_and_positions
    _w("08_vit", "add_cls_and_positions", "cls_appended",
       "puts the CLS token after the patches instead of in front", True, """
        def add_cls_and_positions(tokens, cls_token, pos_embed):
            cls = cls_token.expand(tokens.shape[0], -1, -1)
            return torch.cat([tokens, cls], dim=1) + pos_embed
        """),
    _w("08_vit", "add_cls_and_positions", "cls_without_position",
       "adds the positions before prepending the CLS token (pos_embed[:, 1:] only): the CLS "
       "slot gets no position embedding", True, """
        def add_cls_and_positions(tokens, cls_token, pos_embed):
            cls = cls_token.expand(tokens.shape[0], -1, -1)
            return torch.cat([cls, tokens + pos_embed[:, 1:]], dim=1)
        """),
    _w("08_vit", "add_cls_and_positions", "cls_detached",
       "copies the CLS token out of the graph (.detach()): it would never be learned",
       False, """
        def add_cls_and_positions(tokens, cls_token, pos_embed):
            cls = cls_token.detach().expand(tokens.shape[0], -1, -1)
            return torch.cat([cls, tokens], dim=1) + pos_embed
        """),
    _w("08_vit", "add_cls_and_positions", "tokens_in_place",
       "adds the position embeddings to tokens in place (tokens += ...)", False, """
        def add_cls_and_positions(tokens, cls_token, pos_embed):
            tokens += pos_embed[:, 1:]
            cls = (cls_token + pos_embed[:, :1]).expand(tokens.shape[0], -1, -1)
            return torch.cat([cls, tokens], dim=1)
        """),
    _w("08_vit", "add_cls_and_positions", "cls_buffer_copy",
       "writes the CLS token into a fresh zeros tensor with an in-place copy under no_grad: "
       "no gradient reaches cls_token", False, """
        def add_cls_and_positions(tokens, cls_token, pos_embed):
            B, N, D = tokens.shape
            out = torch.zeros(B, N + 1, D, dtype=tokens.dtype)
            with torch.no_grad():
                out[:, :1] = cls_token
            out = out + torch.cat([torch.zeros_like(tokens[:, :1]), tokens], dim=1)
            return out + pos_embed
        """),
    # ---------------------------------------------------------------- 08_vit: vit_head
    _w("08_vit", "vit_head", "mean_pooling",
       "classifies the average of all tokens instead of the CLS token", True, """
        def vit_head(hidden, gamma, beta, W, b, eps=1e-6):
            normed = torch.nn.functional.layer_norm(hidden, hidden.shape[-1:], gamma, beta, eps)
            return normed.mean(dim=1) @ W.T + b
        """),
    _w("08_vit", "vit_head", "hf_eps",
       "uses Hugging Face's default eps 1e-12 instead of the ViT paper's 1e-6", False, """
        def vit_head(hidden, gamma, beta, W, b, eps=1e-12):
            cls = hidden[:, 0]
            mean = cls.mean(dim=-1, keepdim=True)
            var = (cls - mean).pow(2).mean(dim=-1, keepdim=True)
            return (gamma * (cls - mean) / torch.sqrt(var + eps) + beta) @ W.T + b
        """),
    _w("08_vit", "vit_head", "eps_ignored",
       "calls layer_norm without passing eps: PyTorch's 1e-5 whatever eps is", False, """
        def vit_head(hidden, gamma, beta, W, b, eps=1e-6):
            cls = hidden[:, 0]
            normed = torch.nn.functional.layer_norm(cls, cls.shape[-1:], gamma, beta)
            return normed @ W.T + b
        """),
    _w("08_vit", "vit_head", "no_layernorm",
       "forgets the final LayerNorm (a pre-LN encoder's output is not normalised)", True, """
        def vit_head(hidden, gamma, beta, W, b, eps=1e-6):
            return hidden[:, 0] @ W.T + b
        """),
    _w("08_vit", "vit_head", "last_token",
       "classifies the last token instead of the CLS token at position 0", True, """
        def vit_head(hidden, gamma, beta, W, b, eps=1e-6):
            normed = torch.nn.functional.layer_norm(hidden, hidden.shape[-1:], gamma, beta, eps)
            return normed[:, -1] @ W.T + b
        """),
    # ---------------------------------------------------------------- 08_vit: attention_rollout
    _w("08_vit", "attention_rollout", "wrong_order",
       "multiplies the layers the wrong way round: R = A_1 ... A_L", False, """
        def attention_rollout(attentions):
            rollout = None
            for weights in attentions:
                A = weights.mean(dim=1)
                A = A + torch.eye(A.shape[-1], dtype=A.dtype)
                A = A / A.sum(dim=-1, keepdim=True)
                rollout = A if rollout is None else rollout @ A
            return rollout
        """),
    _w("08_vit", "attention_rollout", "no_identity",
       "leaves out the identity: the residual path is ignored", True, """
        def attention_rollout(attentions):
            rollout = None
            for weights in attentions:
                A = weights.mean(dim=1)
                rollout = A if rollout is None else A @ rollout
            return rollout
        """),
    _w("08_vit", "attention_rollout", "not_renormalised",
       "adds the identity but does not renormalise the rows (they sum to 2, 4, 8, ...)",
       True, """
        def attention_rollout(attentions):
            rollout = None
            for weights in attentions:
                A = weights.mean(dim=1) + torch.eye(weights.shape[-1], dtype=weights.dtype)
                rollout = A if rollout is None else A @ rollout
            return rollout
        """),
    _w("08_vit", "attention_rollout", "max_over_heads",
       "takes the maximum over the heads instead of their mean", True, """
        def attention_rollout(attentions):
            rollout = None
            for weights in attentions:
                A = weights.max(dim=1).values
                A = A + torch.eye(A.shape[-1], dtype=A.dtype)
                A = A / A.sum(dim=-1, keepdim=True)
                rollout = A if rollout is None else A @ rollout
            return rollout
        """),
    _w("08_vit", "attention_rollout", "last_layer_only",
       "returns the last layer's matrix (mean + identity, renormalised) without composing "
       "the layers", False, """
        def attention_rollout(attentions):
            A = attentions[-1].mean(dim=1)
            A = A + torch.eye(A.shape[-1], dtype=A.dtype)
            return A / A.sum(dim=-1, keepdim=True)
        """),
    # ---------------------------------------------------------------- 08_vit: position_similarity
    _w("08_vit", "position_similarity", "dot_product",
       "dot products without normalising the embeddings", True, """
        def position_similarity(pos_embed):
            patches = pos_embed[0, 1:]
            return patches @ patches.T
        """),
    _w("08_vit", "position_similarity", "cls_included",
       "keeps the CLS slot: an (N + 1, N + 1) matrix", True, """
        def position_similarity(pos_embed):
            unit = pos_embed[0] / pos_embed[0].norm(dim=-1, keepdim=True)
            return unit @ unit.T
        """),
    _w("08_vit", "position_similarity", "last_slot_dropped",
       "drops the last position instead of the CLS slot at position 0", False, """
        def position_similarity(pos_embed):
            patches = pos_embed[0, :-1]
            unit = patches / patches.norm(dim=-1, keepdim=True)
            return unit @ unit.T
        """),
    _w("08_vit", "position_similarity", "normalised_over_positions",
       "normalises each feature over the positions (dim 0) instead of each embedding",
       True, """
        def position_similarity(pos_embed):
            patches = pos_embed[0, 1:]
            unit = patches / patches.norm(dim=0, keepdim=True)
            return unit @ unit.T
        """),
]
