"""Typical wrong answers to exercise 08_vit: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

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
    _w("08_vit", "add_cls_and_positions", "switches_on_requires_grad",
       "calls requires_grad_() on cls_token and pos_embed, since they are learned", False, """
        def add_cls_and_positions(tokens, cls_token, pos_embed):
            cls_token.requires_grad_()
            pos_embed.requires_grad_()
            cls = cls_token.expand(tokens.shape[0], -1, -1)
            return torch.cat([cls, tokens], dim=1) + pos_embed
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
    # ---------------------------------------------------------------- 08_vit: sincos_pos_embed_2d
    _w("08_vit", "sincos_pos_embed_2d", "column_first",
       "puts the column in the first half and the row in the second (MAE's order)", True, """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            if d_model % 4:
                raise ValueError("d_model must be a multiple of 4")
            half = d_model // 2
            def encoding(positions):
                i = torch.arange(0, half, 2, dtype=torch.float64)
                angles = positions[:, None] / 10000 ** (i / half)
                return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
            n = torch.arange(grid_h * grid_w, dtype=torch.float64)
            rows, cols = torch.div(n, grid_w, rounding_mode="floor"), n % grid_w
            patches = torch.cat([encoding(cols), encoding(rows)], dim=-1)
            cls = torch.zeros(1, d_model, dtype=torch.float64)
            return torch.cat([cls, patches]).unsqueeze(0).to(dtype)
        """),
    _w("08_vit", "sincos_pos_embed_2d", "frequencies_of_d_model",
       "uses the frequencies of width D, 10000^(2i / D), in each half", True, """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            if d_model % 4:
                raise ValueError("d_model must be a multiple of 4")
            half = d_model // 2
            def encoding(positions):
                i = torch.arange(0, half, 2, dtype=torch.float64)
                angles = positions[:, None] / 10000 ** (i / d_model)
                return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
            n = torch.arange(grid_h * grid_w, dtype=torch.float64)
            rows, cols = torch.div(n, grid_w, rounding_mode="floor"), n % grid_w
            patches = torch.cat([encoding(rows), encoding(cols)], dim=-1)
            cls = torch.zeros(1, d_model, dtype=torch.float64)
            return torch.cat([cls, patches]).unsqueeze(0).to(dtype)
        """),
    _w("08_vit", "sincos_pos_embed_2d", "sines_then_cosines",
       "puts all sines first and then all cosines, not interleaved", True, """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            if d_model % 4:
                raise ValueError("d_model must be a multiple of 4")
            half = d_model // 2
            def encoding(positions):
                i = torch.arange(0, half, 2, dtype=torch.float64)
                angles = positions[:, None] / 10000 ** (i / half)
                return torch.cat([angles.sin(), angles.cos()], dim=-1)
            n = torch.arange(grid_h * grid_w, dtype=torch.float64)
            rows, cols = torch.div(n, grid_w, rounding_mode="floor"), n % grid_w
            patches = torch.cat([encoding(rows), encoding(cols)], dim=-1)
            cls = torch.zeros(1, d_model, dtype=torch.float64)
            return torch.cat([cls, patches]).unsqueeze(0).to(dtype)
        """),
    _w("08_vit", "sincos_pos_embed_2d", "cls_gets_position_0",
       "gives the CLS slot the embedding of row 0, column 0 instead of zeros", True, """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            if d_model % 4:
                raise ValueError("d_model must be a multiple of 4")
            half = d_model // 2
            def encoding(positions):
                i = torch.arange(0, half, 2, dtype=torch.float64)
                angles = positions[:, None] / 10000 ** (i / half)
                return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
            n = torch.arange(grid_h * grid_w, dtype=torch.float64)
            rows, cols = torch.div(n, grid_w, rounding_mode="floor"), n % grid_w
            patches = torch.cat([encoding(rows), encoding(cols)], dim=-1)
            cls = torch.cat([encoding(torch.zeros(1, dtype=torch.float64))] * 2, dim=-1)
            return torch.cat([cls, patches]).unsqueeze(0).to(dtype)
        """),
    _w("08_vit", "sincos_pos_embed_2d", "grid_h_for_both",
       "divides by grid_h instead of grid_w: right for square grids only", False, """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            if d_model % 4:
                raise ValueError("d_model must be a multiple of 4")
            half = d_model // 2
            def encoding(positions):
                i = torch.arange(0, half, 2, dtype=torch.float64)
                angles = positions[:, None] / 10000 ** (i / half)
                return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
            n = torch.arange(grid_h * grid_w, dtype=torch.float64)
            rows, cols = torch.div(n, grid_h, rounding_mode="floor"), n % grid_h
            patches = torch.cat([encoding(rows), encoding(cols)], dim=-1)
            cls = torch.zeros(1, d_model, dtype=torch.float64)
            return torch.cat([cls, patches]).unsqueeze(0).to(dtype)
        """),
    _w("08_vit", "sincos_pos_embed_2d", "no_value_error",
       "no check that d_model is a multiple of 4", False, """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            half = d_model // 2
            def encoding(positions):
                i = torch.arange(0, half, 2, dtype=torch.float64)
                angles = positions[:, None] / 10000 ** (i / half)
                return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
            n = torch.arange(grid_h * grid_w, dtype=torch.float64)
            rows, cols = torch.div(n, grid_w, rounding_mode="floor"), n % grid_w
            patches = torch.cat([encoding(rows), encoding(cols)], dim=-1)
            cls = torch.zeros(1, d_model, dtype=torch.float64)
            return torch.cat([cls, patches]).unsqueeze(0).to(dtype)
        """),
    _w("08_vit", "sincos_pos_embed_2d", "dtype_ignored",
       "returns float32 whatever dtype is given", False, """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            if d_model % 4:
                raise ValueError("d_model must be a multiple of 4")
            half = d_model // 2
            def encoding(positions):
                i = torch.arange(0, half, 2, dtype=torch.float64)
                angles = positions[:, None] / 10000 ** (i / half)
                return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
            n = torch.arange(grid_h * grid_w, dtype=torch.float64)
            rows, cols = torch.div(n, grid_w, rounding_mode="floor"), n % grid_w
            patches = torch.cat([encoding(rows), encoding(cols)], dim=-1)
            cls = torch.zeros(1, d_model, dtype=torch.float64)
            return torch.cat([cls, patches]).unsqueeze(0).float()
        """),
    # ---------------------------------------------------------------- 08_vit: interpolate_pos_embed
    _w("08_vit", "interpolate_pos_embed", "no_permute",
       "reshapes the (N, D) slots straight to (D, h, w) without moving the feature axis", True, """
        def interpolate_pos_embed(pos_embed, old_grid, new_grid):
            (h, w), (new_h, new_w) = old_grid, new_grid
            cls, patches = pos_embed[:, :1], pos_embed[:, 1:]
            D = patches.shape[-1]
            image = patches.reshape(1, D, h, w)
            image = torch.nn.functional.interpolate(image, size=(new_h, new_w), mode="bilinear", align_corners=False)
            patches = image.reshape(1, new_h * new_w, D)
            return torch.cat([cls, patches], dim=1)
        """),
    _w("08_vit", "interpolate_pos_embed", "align_corners",
       "resizes with align_corners=True", True, """
        def interpolate_pos_embed(pos_embed, old_grid, new_grid):
            (h, w), (new_h, new_w) = old_grid, new_grid
            cls, patches = pos_embed[:, :1], pos_embed[:, 1:]
            D = patches.shape[-1]
            image = patches.reshape(1, h, w, D).permute(0, 3, 1, 2)
            image = torch.nn.functional.interpolate(image, size=(new_h, new_w), mode="bilinear", align_corners=True)
            patches = image.permute(0, 2, 3, 1).reshape(1, new_h * new_w, D)
            return torch.cat([cls, patches], dim=1)
        """),
    _w("08_vit", "interpolate_pos_embed", "nearest",
       "resizes with nearest-neighbour interpolation", True, """
        def interpolate_pos_embed(pos_embed, old_grid, new_grid):
            (h, w), (new_h, new_w) = old_grid, new_grid
            cls, patches = pos_embed[:, :1], pos_embed[:, 1:]
            D = patches.shape[-1]
            image = patches.reshape(1, h, w, D).permute(0, 3, 1, 2)
            image = torch.nn.functional.interpolate(image, size=(new_h, new_w), mode="nearest")
            patches = image.permute(0, 2, 3, 1).reshape(1, new_h * new_w, D)
            return torch.cat([cls, patches], dim=1)
        """),
    _w("08_vit", "interpolate_pos_embed", "width_height_swapped",
       "lays the slots out w rows by h columns: right for square grids only", False, """
        def interpolate_pos_embed(pos_embed, old_grid, new_grid):
            (h, w), (new_h, new_w) = old_grid, new_grid
            cls, patches = pos_embed[:, :1], pos_embed[:, 1:]
            D = patches.shape[-1]
            image = patches.reshape(1, w, h, D).permute(0, 3, 1, 2)
            image = torch.nn.functional.interpolate(image, size=(new_w, new_h), mode="bilinear", align_corners=False)
            patches = image.permute(0, 2, 3, 1).reshape(1, new_h * new_w, D)
            return torch.cat([cls, patches], dim=1)
        """),
    _w("08_vit", "interpolate_pos_embed", "no_grad",
       "resizes under torch.no_grad(): the gradient never reaches pos_embed", False, """
        def interpolate_pos_embed(pos_embed, old_grid, new_grid):
            (h, w), (new_h, new_w) = old_grid, new_grid
            cls, patches = pos_embed[:, :1], pos_embed[:, 1:]
            D = patches.shape[-1]
            with torch.no_grad():
                image = patches.reshape(1, h, w, D).permute(0, 3, 1, 2)
                image = torch.nn.functional.interpolate(image, size=(new_h, new_w),
                                                        mode="bilinear", align_corners=False)
            patches = image.permute(0, 2, 3, 1).reshape(1, new_h * new_w, D)
            return torch.cat([cls, patches], dim=1)
        """),
    _w("08_vit", "interpolate_pos_embed", "float32_always",
       "computes in float32: float64 in, float32 out", False, """
        def interpolate_pos_embed(pos_embed, old_grid, new_grid):
            (h, w), (new_h, new_w) = old_grid, new_grid
            cls, patches = pos_embed[:, :1], pos_embed[:, 1:]
            D = patches.shape[-1]
            image = patches.reshape(1, h, w, D).permute(0, 3, 1, 2)
            image = torch.nn.functional.interpolate(image, size=(new_h, new_w), mode="bilinear", align_corners=False)
            patches = image.permute(0, 2, 3, 1).reshape(1, new_h * new_w, D)
            return torch.cat([cls.float(), patches.float()], dim=1)
        """),
]

RIGHT_ANSWERS = [
    _r("08_vit", "sincos_pos_embed_2d", "outer_and_strided_slots",
       "torch.outer for the angles, written into even and odd slots of a zero tensor of "
       "the requested dtype (computed in that dtype, not in float64)", """
        def sincos_pos_embed_2d(grid_h, grid_w, d_model, dtype=torch.float32):
            if d_model % 4 != 0:
                raise ValueError(f"d_model = {d_model} is not a multiple of 4")
            half = d_model // 2
            freqs = 1.0 / 10000 ** (torch.arange(half // 2, dtype=dtype) * 2 / half)
            out = torch.zeros(1, grid_h * grid_w + 1, d_model, dtype=dtype)
            for offset, coordinate in ((0, torch.arange(grid_h).repeat_interleave(grid_w)),
                                       (half, torch.arange(grid_w).repeat(grid_h))):
                angles = torch.outer(coordinate.to(dtype), freqs)
                out[0, 1:, offset:offset + half:2] = angles.sin()
                out[0, 1:, offset + 1:offset + half:2] = angles.cos()
            return out
        """),
    _r("08_vit", "interpolate_pos_embed", "separable_linear",
       "two 1-D linear interpolations, along the columns and then the rows (bilinear is "
       "separable)", """
        def interpolate_pos_embed(pos_embed, old_grid, new_grid):
            h, w = old_grid
            new_h, new_w = new_grid
            D = pos_embed.shape[-1]
            x = pos_embed[0, 1:].reshape(h, w, D).permute(0, 2, 1)        # (h, D, w)
            x = torch.nn.functional.interpolate(x, size=new_w, mode="linear",
                                                align_corners=False)   # (h, D, w')
            x = torch.nn.functional.interpolate(x.permute(2, 1, 0), size=new_h,
                                                mode="linear",
                                                align_corners=False)   # (w', D, h')
            x = x.permute(2, 0, 1).reshape(1, new_h * new_w, D)
            return torch.cat([pos_embed[:, :1], x], dim=1)
        """),
]
