"""Typical wrong answers to exercise 10_captioning: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
    # ----------------------------------------- 10_captioning: doubly_stochastic_penalty
    _w("10_captioning", "doubly_stochastic_penalty", "counts_padding",
       "sums the weights of every step, the padding after a caption's end included",
       True, """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            if alphas.dim() != 3 or mask.shape != alphas.shape[:2]:
                raise ValueError("alphas must be (B, T, L) and mask (B, T)")
            coverage = alphas.sum(dim=1)
            return lam * ((1 - coverage) ** 2).sum(dim=1).mean()
        """),
    _w("10_captioning", "doubly_stochastic_penalty", "sum_over_batch",
       "adds the captions' penalties instead of averaging them over the batch",
       True, """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            if alphas.dim() != 3 or mask.shape != alphas.shape[:2]:
                raise ValueError("alphas must be (B, T, L) and mask (B, T)")
            coverage = (alphas * mask.unsqueeze(-1)).sum(dim=1)
            return lam * ((1 - coverage) ** 2).sum()
        """),
    _w("10_captioning", "doubly_stochastic_penalty", "not_squared",
       "sums |1 - coverage| over the locations: the gap is not squared", True, """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            if alphas.dim() != 3 or mask.shape != alphas.shape[:2]:
                raise ValueError("alphas must be (B, T, L) and mask (B, T)")
            coverage = (alphas * mask.unsqueeze(-1)).sum(dim=1)
            return lam * (1 - coverage).abs().sum(dim=1).mean()
        """),
    _w("10_captioning", "doubly_stochastic_penalty", "mean_over_locations",
       "averages the squared gaps over the locations instead of summing them", True, """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            if alphas.dim() != 3 or mask.shape != alphas.shape[:2]:
                raise ValueError("alphas must be (B, T, L) and mask (B, T)")
            coverage = (alphas * mask.unsqueeze(-1)).sum(dim=1)
            return lam * ((1 - coverage) ** 2).mean()
        """),
    _w("10_captioning", "doubly_stochastic_penalty", "detached",
       "goes through a Python number: the value is right, but no gradient reaches "
       "alphas", False, """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            if alphas.dim() != 3 or mask.shape != alphas.shape[:2]:
                raise ValueError("alphas must be (B, T, L) and mask (B, T)")
            coverage = (alphas * mask.unsqueeze(-1)).sum(dim=1)
            value = (lam * ((1 - coverage) ** 2).sum(dim=1).mean()).item()
            return torch.tensor(value, dtype=alphas.dtype)
        """),
    _w("10_captioning", "doubly_stochastic_penalty", "float32_always",
       "computes and returns float32 whatever the dtype of alphas", False, """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            if alphas.dim() != 3 or mask.shape != alphas.shape[:2]:
                raise ValueError("alphas must be (B, T, L) and mask (B, T)")
            coverage = (alphas.float() * mask.unsqueeze(-1)).sum(dim=1)
            return lam * ((1 - coverage) ** 2).sum(dim=1).mean()
        """),
    _w("10_captioning", "doubly_stochastic_penalty", "no_value_error",
       "checks no shape: a mismatched mask fails with a broadcasting RuntimeError, "
       "and a 2-dimensional alphas with a mask of its shape gives a number", False,
       """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            coverage = (alphas * mask.unsqueeze(-1)).sum(dim=1)
            return lam * ((1 - coverage) ** 2).sum(dim=1).mean()
        """),
    # ----------------------------------------------------- 10_captioning: box_locations
    _w("10_captioning", "box_locations", "window_over_two",
       "puts the centre at window / 2 past the window's first pixel instead of "
       "(window - 1) / 2, half a pixel too far down and across", True, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            centres = window / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "equal_cells",
       "cuts the pixels the windows cover into G equal cells and takes their centres, "
       "(r + 1/2) S / G with S = stride (G - 1) + window, as if the locations did not "
       "overlap", True, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            side = stride * (grid - 1) + window
            centres = (torch.arange(grid) + 0.5) * side / grid
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "inclusive_edges",
       "keeps a centre on the bottom or right edge (<= instead of <)", False, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres <= bottom)
            cols = (left <= centres) & (centres <= right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "corners",
       "tests the first pixel of each location's window (its top left corner) instead "
       "of its centre", True, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            corners = stride * torch.arange(grid)
            rows = (top <= corners) & (corners < bottom)
            cols = (left <= corners) & (corners < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "stride_window_swapped",
       "swaps the roles of stride and window: centres (stride - 1) / 2 + window r",
       True, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            centres = (stride - 1) / 2 + window * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "whole_pixel_centres",
       "rounds the centre down to a whole pixel, (window - 1) // 2: right for integer "
       "boxes and even windows, off for a box edge between two pixels", False, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            centres = (window - 1) // 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "column_major",
       "flattens column by column (l = c * G + r)", True, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).t().flatten()
        """),
    _w("10_captioning", "box_locations", "grid_shaped",
       "returns the (G, G) grid without flattening it", True, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return rows[:, None] & cols[None, :]
        """),
    _w("10_captioning", "box_locations", "clamps_box_in_place",
       "clamps the box's negative edges to 0 in place: harmless to the answer, since "
       "no centre is negative, but a box given as a tensor (a row of a scene's boxes) "
       "is changed for the caller", False, """
        def box_locations(box, grid, stride=4, window=28):
            box = torch.as_tensor(box)
            if box.shape != (4,):
                raise ValueError("box must hold four numbers")
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            box.clamp_(min=0)
            top, left, bottom, right = box.tolist()
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "no_value_error",
       "checks nothing: a box of five numbers keeps its first four, a grid of 0 gives "
       "an empty tensor, a stride of 0 puts every centre in one place", False, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box][:4]
            centres = (window - 1) / 2 + stride * torch.arange(max(grid, 0))
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    _w("10_captioning", "box_locations", "stride_window_unchecked",
       "checks the box and the grid but lets a stride or a window below 1 through",
       False, """
        def box_locations(box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1:
                raise ValueError("grid must be at least 1")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            return (rows[:, None] & cols[None, :]).flatten()
        """),
    # --------------------------------------------------- 10_captioning: energy_pointing
    _w("10_captioning", "energy_pointing", "argmax",
       "scores the pointing game instead: 1.0 when the peak is inside the box, else "
       "0.0", True, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(inside[alpha.argmax()])
        """),
    _w("10_captioning", "energy_pointing", "not_normalised",
       "returns the weight inside the box without dividing by the total weight",
       False, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(alpha[inside].sum())
        """),
    _w("10_captioning", "energy_pointing", "inclusive_edges",
       "counts the locations whose centre lies on the bottom or right edge", False, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres <= bottom)
            cols = (left <= centres) & (centres <= right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(alpha[inside].sum() / alpha.sum())
        """),
    _w("10_captioning", "energy_pointing", "window_over_two",
       "puts the centres at window / 2 + stride r, half a pixel too far", True, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            centres = window / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(alpha[inside].sum() / alpha.sum())
        """),
    _w("10_captioning", "energy_pointing", "equal_cells",
       "takes the centres of G equal cells of the pixels the windows cover, "
       "(r + 1/2) S / G with S = stride (G - 1) + window", True, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            side = stride * (grid - 1) + window
            centres = (torch.arange(grid) + 0.5) * side / grid
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(alpha[inside].sum() / alpha.sum())
        """),
    _w("10_captioning", "energy_pointing", "returns_tensor",
       "returns a 0-dimensional tensor instead of a Python float", True, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return alpha[inside].sum() / alpha.sum()
        """),
    _w("10_captioning", "energy_pointing", "column_major",
       "reads alpha column by column (l = c * G + r)", True, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (cols[:, None] & rows[None, :]).flatten()
            return float(alpha[inside].sum() / alpha.sum())
        """),
    _w("10_captioning", "energy_pointing", "normalises_in_place",
       "divides alpha by its sum in place (alpha /= alpha.sum()): the share is right, "
       "but the caller's map is changed", False, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            alpha /= alpha.sum()
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(alpha[inside].sum())
        """),
    _w("10_captioning", "energy_pointing", "zero_sum_only",
       "refuses weights that sum to zero but not a negative sum, which gives a "
       "'share' all the same", False, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box]
            if grid < 1 or stride < 1 or window < 1:
                raise ValueError("grid, stride and window must be at least 1")
            if alpha.shape != (grid * grid,) or alpha.sum() == 0:
                raise ValueError("alpha must be (G * G,) with weights")
            centres = (window - 1) / 2 + stride * torch.arange(grid)
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(alpha[inside].sum() / alpha.sum())
        """),
    _w("10_captioning", "energy_pointing", "arguments_unchecked",
       "checks alpha but not the other arguments: a box of five numbers keeps its "
       "first four, a stride or a window of 0 gives a number, and so does a grid of "
       "-1 with one weight", False, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            top, left, bottom, right = [float(v) for v in box][:4]
            if alpha.shape != (grid * grid,) or not alpha.sum() > 0:
                raise ValueError("alpha must be (G * G,) with a positive sum")
            steps = torch.arange(abs(grid))
            centres = (window - 1) / 2 + stride * steps
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()
            return float(alpha[inside].sum() / alpha.sum())
        """),
    _w("10_captioning", "energy_pointing", "no_value_error",
       "checks nothing: a (G, G) map is flattened silently and weights that sum to "
       "zero give nan", False, """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            alpha = alpha.reshape(-1)
            top, left, bottom, right = [float(v) for v in box][:4]
            centres = (window - 1) / 2 + stride * torch.arange(max(grid, 0))
            rows = (top <= centres) & (centres < bottom)
            cols = (left <= centres) & (centres < right)
            inside = (rows[:, None] & cols[None, :]).flatten()[:alpha.numel()]
            return float(alpha[inside].sum() / alpha.sum())
        """),
    # ----------------------------------------------- 10_captioning: reinforce_surrogate
    _w("10_captioning", "reinforce_surrogate", "no_baseline",
       "weights the log-probabilities by the rewards alone, without subtracting the "
       "baseline", True, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if mask.shape != logp.shape or rewards.shape != logp.shape[:1]:
                raise ValueError("mask must be (B, T) like logp, rewards (B,)")
            chosen = (logp * mask).sum(dim=1)
            return -(rewards.detach() * chosen).mean()
        """),
    _w("10_captioning", "reinforce_surrogate", "rewards_not_detached",
       "lets the gradient flow into the rewards (and so into the decoder that made "
       "them)", False, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if mask.shape != logp.shape or rewards.shape != logp.shape[:1]:
                raise ValueError("mask must be (B, T) like logp, rewards (B,)")
            chosen = (logp * mask).sum(dim=1)
            return -((rewards - float(baseline)) * chosen).mean()
        """),
    _w("10_captioning", "reinforce_surrogate", "baseline_not_detached",
       "detaches the rewards but not a tensor baseline, which then gets a gradient",
       False, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if mask.shape != logp.shape or rewards.shape != logp.shape[:1]:
                raise ValueError("mask must be (B, T) like logp, rewards (B,)")
            chosen = (logp * mask).sum(dim=1)
            return -((rewards.detach() - baseline) * chosen).mean()
        """),
    _w("10_captioning", "reinforce_surrogate", "mask_ignored",
       "sums the log-probabilities of every step, the padding included", True, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if mask.shape != logp.shape or rewards.shape != logp.shape[:1]:
                raise ValueError("mask must be (B, T) like logp, rewards (B,)")
            advantage = (rewards - baseline).detach()
            return -(advantage * logp.sum(dim=1)).mean()
        """),
    _w("10_captioning", "reinforce_surrogate", "wrong_sign",
       "returns the estimate of the expected reward itself: minimising it lowers the "
       "reward", True, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if mask.shape != logp.shape or rewards.shape != logp.shape[:1]:
                raise ValueError("mask must be (B, T) like logp, rewards (B,)")
            advantage = (rewards - baseline).detach()
            return (advantage * (logp * mask).sum(dim=1)).mean()
        """),
    _w("10_captioning", "reinforce_surrogate", "mean_over_steps",
       "averages the log-probabilities over a caption's real steps instead of summing "
       "them", True, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if mask.shape != logp.shape or rewards.shape != logp.shape[:1]:
                raise ValueError("mask must be (B, T) like logp, rewards (B,)")
            advantage = (rewards - baseline).detach()
            chosen = (logp * mask).sum(dim=1) / mask.sum(dim=1)
            return -(advantage * chosen).mean()
        """),
    _w("10_captioning", "reinforce_surrogate", "sum_over_batch",
       "adds the captions' terms instead of averaging them over the batch", True, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if mask.shape != logp.shape or rewards.shape != logp.shape[:1]:
                raise ValueError("mask must be (B, T) like logp, rewards (B,)")
            advantage = (rewards - baseline).detach()
            return -(advantage * (logp * mask).sum(dim=1)).sum()
        """),
    _w("10_captioning", "reinforce_surrogate", "no_value_error",
       "checks no shape: rewards of shape (B, 1) broadcast into a (B, B) product and a "
       "wrong value", False, """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            advantage = (rewards - baseline).detach()
            return -(advantage * (logp * mask).sum(dim=1)).mean()
        """),
    # ----------------------------------------------------- 10_captioning: parse_caption
    _w("10_captioning", "parse_caption", "left_right_swapped",
       "reads 'to its left' as one column to the right, and 'to its right' as one to "
       "the left", True, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, 1),
                     "to its right": (0, -1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    layout += [(words[1], (0, 0)), (words[-1], first[rel])]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    r, c = layout[-1][1]
                    where = (r + later[rel][0], c + later[rel][1])
                    if where in [p for _, p in layout]:
                        raise ValueError(f"{clause!r} puts an item on another")
                    layout.append((words[1], where))
            return layout
        """),
    _w("10_captioning", "parse_caption", "first_relation_reversed",
       "reads 'a X above a Y' as Y above X: the second item lands on the wrong side",
       True, """
        def parse_caption(caption):
            first = {"above": (-1, 0), "below": (1, 0), "left of": (0, -1),
                     "right of": (0, 1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    layout += [(words[1], (0, 0)), (words[-1], first[rel])]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    r, c = layout[-1][1]
                    where = (r + later[rel][0], c + later[rel][1])
                    if where in [p for _, p in layout]:
                        raise ValueError(f"{clause!r} puts an item on another")
                    layout.append((words[1], where))
            return layout
        """),
    _w("10_captioning", "parse_caption", "against_first_item",
       "places every later item against the first item of the caption instead of the "
       "item named just before it", True, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    layout += [(words[1], (0, 0)), (words[-1], first[rel])]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    layout.append((words[1], later[rel]))
            return layout
        """),
    _w("10_captioning", "parse_caption", "previous_clause_first_item",
       "places a later item against the first item named in the previous clause: the "
       "second clause's item goes against X of 'a X REL a Y' instead of Y", True, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout, anchor = [], None
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    layout += [(words[1], (0, 0)), (words[-1], first[rel])]
                    anchor = (0, 0)
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    where = (anchor[0] + later[rel][0], anchor[1] + later[rel][1])
                    layout.append((words[1], where))
                    anchor = where
            return layout
        """),
    _w("10_captioning", "parse_caption", "one_based",
       "puts the first item at (1, 1), as if rows and columns were counted from 1",
       True, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    dr, dc = first[rel]
                    layout += [(words[1], (1, 1)), (words[-1], (1 + dr, 1 + dc))]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    r, c = layout[-1][1]
                    where = (r + later[rel][0], c + later[rel][1])
                    if where in [p for _, p in layout]:
                        raise ValueError(f"{clause!r} puts an item on another")
                    layout.append((words[1], where))
            return layout
        """),
    _w("10_captioning", "parse_caption", "no_taken_check",
       "accepts a clause that puts its item where an earlier item already is",
       False, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    layout += [(words[1], (0, 0)), (words[-1], first[rel])]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    r, c = layout[-1][1]
                    layout.append((words[1], (r + later[rel][0], c + later[rel][1])))
            return layout
        """),
    _w("10_captioning", "parse_caption", "strict_separators",
       "splits at ', ' and at single spaces: right for caption_of's own captions, "
       "wrong for spaces around a clause or runs of spaces", False, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(caption.split(", ")):
                words = clause.split(" ")
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    layout += [(words[1], (0, 0)), (words[-1], first[rel])]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    r, c = layout[-1][1]
                    where = (r + later[rel][0], c + later[rel][1])
                    if where in [p for _, p in layout]:
                        raise ValueError(f"{clause!r} puts an item on another")
                    layout.append((words[1], where))
            return layout
        """),
    _w("10_captioning", "parse_caption", "key_error_for_relations",
       "checks the item words but looks the relation up in a dict: an unknown relation "
       "raises a KeyError, not a ValueError", False, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS:
                    raise ValueError(f"bad clause {clause!r}")
                if k == 0:
                    if words[-2] != "a" or words[-1] not in ITEM_WORDS:
                        raise ValueError(f"bad clause {clause!r}")
                    offset = first[" ".join(words[2:-2])]
                    layout += [(words[1], (0, 0)), (words[-1], offset)]
                else:
                    offset = later[" ".join(words[2:])]
                    r, c = layout[-1][1]
                    where = (r + offset[0], c + offset[1])
                    if where in [p for _, p in layout]:
                        raise ValueError(f"{clause!r} puts an item on another")
                    layout.append((words[1], where))
            return layout
        """),
    _w("10_captioning", "parse_caption", "message_without_clause",
       "raises a ValueError whose message does not say which clause is wrong", True, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError("not a caption of the scenes' grammar")
                    layout += [(words[1], (0, 0)), (words[-1], first[rel])]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError("not a caption of the scenes' grammar")
                    r, c = layout[-1][1]
                    where = (r + later[rel][0], c + later[rel][1])
                    if where in [p for _, p in layout]:
                        raise ValueError("two items in one cell")
                    layout.append((words[1], where))
            return layout
        """),
    _w("10_captioning", "parse_caption", "positions_as_lists",
       "gives each position as a list [row, col] instead of a tuple (row, col)",
       True, """
        def parse_caption(caption):
            first = {"above": (1, 0), "below": (-1, 0), "left of": (0, 1),
                     "right of": (0, -1)}
            later = {"above it": (-1, 0), "below it": (1, 0), "to its left": (0, -1),
                     "to its right": (0, 1)}
            layout = []
            for k, clause in enumerate(part.strip() for part in caption.split(",")):
                words = clause.split()
                if k == 0:
                    rel = " ".join(words[2:-2])
                    if (len(words) < 5 or words[0] != "a" or words[-2] != "a"
                            or words[1] not in ITEM_WORDS or words[-1] not in ITEM_WORDS
                            or rel not in first):
                        raise ValueError(f"bad clause {clause!r}")
                    layout += [(words[1], [0, 0]), (words[-1], list(first[rel]))]
                else:
                    rel = " ".join(words[2:])
                    if (len(words) < 3 or words[0] != "a" or words[1] not in ITEM_WORDS
                            or rel not in later):
                        raise ValueError(f"bad clause {clause!r}")
                    r, c = layout[-1][1]
                    where = [r + later[rel][0], c + later[rel][1]]
                    if where in [p for _, p in layout]:
                        raise ValueError(f"{clause!r} puts an item on another")
                    layout.append((words[1], where))
            return layout
        """),
]

# Correct answers written another way: each must keep every point
# (tests/grading_catalog_base.py).
RIGHT_ANSWERS = [
    _r("10_captioning", "doubly_stochastic_penalty", "einsum_float_mask",
       "the coverage by einsum with the mask turned into 0/1 weights, the batch mean "
       "as a sum divided by B", """
        def doubly_stochastic_penalty(alphas, mask, lam=1.0):
            if len(alphas.shape) != 3:
                raise ValueError(f"alphas is {tuple(alphas.shape)}, not (B, T, L)")
            if mask.shape != alphas.shape[:2]:
                raise ValueError(f"mask {tuple(mask.shape)} is not (B, T)")
            weights = mask.to(alphas.dtype)
            coverage = torch.einsum("btl,bt->bl", alphas, weights)
            gaps = (coverage - 1).pow(2)
            return gaps.sum() * lam / alphas.shape[0]
        """),
    _r("10_captioning", "box_locations", "exact_integers_and_loops",
       "a Python loop over the locations with the centre test doubled through (no "
       "division, 2 y = window - 1 + 2 stride r), then a list of bools turned into a "
       "tensor", """
        def box_locations(box, grid, stride=4, window=28):
            box = list(box)
            if len(box) != 4:
                raise ValueError("four numbers, please")
            if not (grid >= 1 and stride >= 1 and window >= 1):
                raise ValueError("grid, stride and window must be positive")
            top, left, bottom, right = (2 * float(v) for v in box)
            flags = []
            for r in range(grid):
                for c in range(grid):
                    y = window - 1 + 2 * stride * r
                    x = window - 1 + 2 * stride * c
                    flags.append(top <= y < bottom and left <= x < right)
            return torch.tensor(flags, dtype=torch.bool)
        """),
    _r("10_captioning", "box_locations", "pixel_means_float32",
       "each centre as the mean of the pixel indices its window covers, in float32, "
       "every (row, column) pair from torch.cartesian_prod", """
        def box_locations(box, grid, stride=4, window=28):
            if isinstance(box, torch.Tensor):
                box = box.tolist()
            if len(box) != 4:
                raise ValueError(f"box has {len(box)} numbers")
            if min(grid, stride, window) < 1:
                raise ValueError("grid, stride and window must be at least 1")
            pixels = torch.arange(window, dtype=torch.float32)
            centres = torch.stack([(pixels + stride * k).mean() for k in range(grid)])
            pairs = torch.cartesian_prod(centres, centres)        # (G * G, 2): y, x
            y, x = pairs[:, 0], pairs[:, 1]
            return (y >= box[0]) & (y < box[2]) & (x >= box[1]) & (x < box[3])
        """),
    _r("10_captioning", "energy_pointing", "reuses_box_locations",
       "calls box_locations from task 2 and takes a dot product, in the dtype of alpha",
       """
        def energy_pointing(alpha, box, grid, stride=4, window=28):
            inside = box_locations(box, grid, stride=stride, window=window)
            if alpha.dim() != 1 or alpha.numel() != grid * grid:
                raise ValueError("alpha must be a flat (G * G,) map")
            if alpha.sum() <= 0:
                raise ValueError("alpha has no weight")
            return (torch.dot(alpha, inside.to(alpha.dtype)) / alpha.sum()).item()
        """),
    _r("10_captioning", "reinforce_surrogate", "no_grad_advantage",
       "the advantage computed under torch.no_grad(), the mask as a float factor, the "
       "batch mean by torch.dot", """
        def reinforce_surrogate(logp, mask, rewards, baseline):
            if logp.shape != mask.shape:
                raise ValueError("mask and logp differ in shape")
            if rewards.dim() != 1 or len(rewards) != len(logp):
                raise ValueError("rewards must be (B,)")
            with torch.no_grad():
                advantage = (rewards - baseline).to(logp.dtype)
            per_caption = (logp * mask.to(logp.dtype)).sum(-1)
            return -torch.dot(advantage, per_caption) / logp.shape[0]
        """),
    _r("10_captioning", "parse_caption", "regex_complex_numbers",
       "regular expressions for the two clause forms, positions kept as complex "
       "numbers (row + column j) and converted at the end", """
        import re

        def parse_caption(caption):
            item = "(" + "|".join(ITEM_WORDS) + ")"
            head = re.compile(rf"a {item} (above|below|left of|right of) a {item}")
            tail = re.compile(rf"a {item} (above it|below it|to its left|to its right)")
            moves = {"above": -1, "below": 1, "left of": -1j, "right of": 1j,
                     "above it": -1, "below it": 1, "to its left": -1j,
                     "to its right": 1j}
            items, where = [], []
            clauses = caption.split(",")
            for k, raw in enumerate(clauses):
                clause = raw.strip()
                text = re.sub(r"\\s+", " ", clause)
                found = (head if k == 0 else tail).fullmatch(text)
                if not found:
                    raise ValueError(f"cannot read clause {k + 1}: '{clause}'")
                if k == 0:
                    items += [found.group(1), found.group(3)]
                    where += [0j, -moves[found.group(2)]]
                else:
                    spot = where[-1] + moves[found.group(2)]
                    items.append(found.group(1))
                    where.append(spot)
                if len(set(where)) < len(where):
                    raise ValueError(f"'{clause}' puts two items in one cell")
            return [(w, (int(p.real), int(p.imag))) for w, p in zip(items, where)]
        """),
]
