"""Exercise 10's solution against independent computations.

The grader compares a student's records with the *solution's* records
(tests/test_grading*.py), so the solution must itself be right. Its hidden checks cannot
compare anything, so the comparisons live here: the solution functions of
solutions/10_captioning, run in this process, against the definitions read literally
(Python loops, exact fractions), autograd's gradcheck, a Monte Carlo check that the
REINFORCE surrogate's gradient is an unbiased estimate of the gradient of the expected
reward, the windows a strided convolution sees (found by autograd), and
attention_course.scenes: every layout caption_of can write is parsed back to its cells,
and the boxes of its items hold a block of the chapter's locations. Where chapter 10's
code can be imported, box_locations is also compared with its location_centres and
inside. Fast (no kernel, no nbgrader).
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest
import torch

from attention_course import scenes
from grading_harness import source_notebook

TASKS = ("doubly_stochastic_penalty", "box_locations", "energy_pointing",
         "reinforce_surrogate", "parse_caption")
BLANK = (torch.zeros(10, 28, 28, dtype=torch.uint8), torch.arange(10))   # no pixels


def setup_namespace() -> dict:
    """What the exercise's setup cell defines (the cell after the install cell)."""
    cells = [c for c in source_notebook("10_captioning").cells if c.cell_type == "code"]
    assert "course-install" in cells[0].metadata.get("tags", [])
    namespace: dict = {}
    exec(compile(cells[1].source, "<setup>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def solution() -> dict:
    """The solution cells of exercise 10, run after its setup cell: name -> function."""
    namespace = setup_namespace()
    for cell in source_notebook("10_captioning").cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            exec(compile(cell.source, "<solution>", "exec"), namespace)
    return {name: namespace[name] for name in TASKS}


def test_the_setup_cell_has_the_words_of_the_scenes():
    # The grader's sandbox may not see the course package (an editable install is never
    # bound into it), so the exercise carries its own copy of the scenes' words.
    namespace = setup_namespace()
    assert namespace["ITEM_WORDS"] == scenes.ITEM_WORDS
    assert namespace["FIRST_RELATIONS"] == scenes.FIRST_RELATIONS
    assert namespace["NEXT_RELATIONS"] == scenes.NEXT_RELATIONS
    cells = source_notebook("10_captioning").cells
    code = [c.source for c in cells
            if c.cell_type == "code" and c.id != "course-install"]     # what runs
    assert not any("attention_course" in line and "import" in line
                   for source in code for line in source.splitlines())


def prefix_mask(lengths, T) -> torch.Tensor:
    return torch.arange(T)[None, :] < torch.as_tensor(lengths)[:, None]     # (B, T)


def random_box(ends) -> tuple:
    """(top, left, bottom, right) from a (2, 2) tensor of sorted corners, inclusive."""
    return (int(ends[0, 0]), int(ends[0, 1]), int(ends[1, 0]) + 1, int(ends[1, 1]) + 1)


# ------------------------------------------------------------ doubly_stochastic_penalty
def penalty_by_loops(alphas, mask, lam) -> float:
    """Xu et al.'s eq. 14 read literally, in Python floats, averaged over the batch."""
    B, T, L = alphas.shape
    total = 0.0
    for n in range(B):
        for loc in range(L):
            coverage = sum(float(alphas[n, t, loc]) for t in range(T) if mask[n, t])
            total += lam * (1.0 - coverage) ** 2
    return total / B


@pytest.mark.parametrize("seed", range(5))
def test_penalty_is_the_definition(solution, seed):
    g = torch.Generator().manual_seed(seed)
    B, T, L = 3, 7, 10
    scores = 3 * torch.randn(B, T, L, generator=g, dtype=torch.float64)
    alphas = torch.softmax(scores, -1)
    lengths = torch.randint(0, T + 1, (B,), generator=g)
    mask = prefix_mask(lengths, T)
    for lam in (1.0, 0.3):
        got = solution["doubly_stochastic_penalty"](alphas, mask, lam)
        assert got.dtype == torch.float64 and got.shape == ()
        expected = penalty_by_loops(alphas, mask, lam)
        assert float(got) == pytest.approx(expected, abs=1e-12)


def test_penalty_is_zero_when_every_location_is_seen_once(solution):
    # T = L steps, each looking at one location, every location once: coverage 1
    orders = torch.stack([torch.randperm(6, generator=torch.Generator().manual_seed(k))
                          for k in range(4)])                               # (B, T)
    alphas = torch.nn.functional.one_hot(orders, 6).double()                # (B, T, L)
    mask = torch.ones(4, 6, dtype=torch.bool)
    assert float(solution["doubly_stochastic_penalty"](alphas, mask)) == 0.0
    mask[0, 5] = False                  # the last step of caption 0 becomes padding
    # caption 0 misses one location: (1 - 0)^2 = 1, over a batch of 4
    penalty = solution["doubly_stochastic_penalty"](alphas, mask)
    assert float(penalty) == pytest.approx(0.25)


def test_penalty_gradient(solution):
    g = torch.Generator().manual_seed(7)
    alphas = torch.rand(2, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    mask = prefix_mask([4, 2], 4)
    lam = 0.6
    assert torch.autograd.gradcheck(
        lambda a: solution["doubly_stochastic_penalty"](a, mask, lam), (alphas,))
    solution["doubly_stochastic_penalty"](alphas, mask, lam).backward()
    coverage = (alphas.detach() * mask[..., None]).sum(1)                  # (B, L)
    expected = -2 * lam / len(mask) * (1 - coverage)[:, None, :] * mask[..., None]
    torch.testing.assert_close(alphas.grad, expected)


def test_penalty_refuses_bad_shapes(solution):
    alphas, mask = torch.rand(2, 3, 4), torch.ones(2, 3, dtype=torch.bool)
    for a, m in ((alphas, mask[:, :2]), (alphas, mask[0]),
                 (alphas.reshape(2, 3, 2, 2), mask),
                 (alphas[0], torch.ones(3, 4, dtype=torch.bool))):
        with pytest.raises(ValueError, match="doubly_stochastic_penalty"):
            solution["doubly_stochastic_penalty"](a, m)


# ------------------------------------------------------------------------ box_locations
# (grid, stride, window): the chapter's, then windows that overlap more, less, or not
# at all (stride above window), odd windows whose centres fall on whole pixels, and a
# grid of one location
GEOMETRIES = [(10, 4, 28), (6, 8, 16), (5, 3, 10), (12, 2, 9), (3, 10, 4), (13, 4, 16),
              (7, 1, 1), (1, 4, 28)]


def window_centre(k: int, stride: int, window: int) -> Fraction:
    """Exact: the mean of the pixel indices that location k's window covers along one
    axis, stride k to stride k + window - 1."""
    return Fraction(sum(range(stride * k, stride * k + window)), window)


def inside_by_fractions(box, grid, stride, window) -> list[bool]:
    """Row by row, exact: does the box hold the centre of location (r, c)'s window?"""
    top, left, bottom, right = (Fraction(v).limit_denominator(10**6) for v in box)
    centres = [window_centre(k, stride, window) for k in range(grid)]
    return [top <= centres[r] < bottom and left <= centres[c] < right
            for r, c in itertools.product(range(grid), repeat=2)]


def quarter_box(ends) -> tuple:
    """(top, left, bottom, right) in quarters of a pixel from (2, 2) sorted corners:
    edges between pixels, on half-pixel centres and on whole ones."""
    return (float(ends[0, 0]) / 4, float(ends[0, 1]) / 4, float(ends[1, 0] + 1) / 4,
            float(ends[1, 1] + 1) / 4)


def test_the_chapters_centres():
    # G = 10 windows of 28 pixels, 4 apart, over 64-pixel scenes: 13.5, 17.5, ..., 49.5
    centres = [window_centre(k, 4, 28) for k in range(10)]
    assert centres == [Fraction(27, 2) + 4 * k for k in range(10)]
    assert 4 * 9 + 28 == 64                       # the last window ends at the border


@pytest.mark.parametrize("grid,stride,window", GEOMETRIES)
def test_box_locations_is_the_definition(solution, grid, stride, window):
    side = stride * (grid - 1) + window              # the pixels the windows cover
    g = torch.Generator().manual_seed(grid * 10_000 + stride * 100 + window)
    for _ in range(60):
        ends = torch.randint(-5, side + 5, (2, 2), generator=g).sort(dim=0).values
        quarters = torch.randint(-20, 4 * side + 20, (2, 2), generator=g).sort(dim=0)
        for box in (random_box(ends), quarter_box(quarters.values)):
            got = solution["box_locations"](box, grid, stride, window)
            assert got.dtype == torch.bool and got.shape == (grid * grid,)
            assert got.tolist() == inside_by_fractions(box, grid, stride, window), box


def test_box_locations_defaults_to_the_chapters_windows(solution):
    g = torch.Generator().manual_seed(64)
    for _ in range(40):
        box = random_box(torch.randint(-5, 70, (2, 2), generator=g).sort(dim=0).values)
        got = solution["box_locations"](box, 10)
        assert torch.equal(got, solution["box_locations"](box, 10, stride=4, window=28))
        assert got.tolist() == inside_by_fractions(box, 10, 4, 28)


@pytest.mark.parametrize("grid,stride,window", [(10, 4, 28), (6, 8, 16), (5, 3, 10),
                                                (3, 10, 4)])
def test_centres_are_those_of_what_a_strided_convolution_sees(solution, grid, stride,
                                                              window):
    # The window of a location found by autograd instead of by formula: the pixels that
    # output (r, c) of a window x window convolution with this stride depends on. Its
    # centre is the mean of their coordinates.
    side = stride * (grid - 1) + window
    conv = torch.nn.Conv2d(1, 1, window, stride=stride, bias=False)
    torch.nn.init.ones_(conv.weight)
    image = torch.zeros(1, 1, side, side, requires_grad=True)
    out = conv(image)[0, 0]
    assert out.shape == (grid, grid)
    ys, xs = torch.meshgrid(torch.arange(side, dtype=torch.float64),
                            torch.arange(side, dtype=torch.float64), indexing="ij")
    centres = []
    for r, c in itertools.product(range(grid), repeat=2):     # row-major, l = r G + c
        reach, = torch.autograd.grad(out[r, c], image, retain_graph=True)
        seen = reach[0, 0] != 0
        assert int(seen.sum()) == window * window
        centres.append((float(ys[seen].mean()), float(xs[seen].mean())))
    g = torch.Generator().manual_seed(side)
    for _ in range(40):
        box = random_box(torch.randint(-3, side + 3, (2, 2), generator=g).sort(dim=0)
                         .values)
        expected = [box[0] <= y < box[2] and box[1] <= x < box[3] for y, x in centres]
        assert solution["box_locations"](box, grid, stride, window).tolist() == expected


def test_box_locations_over_the_items_of_the_chapters_scenes(solution):
    # 64-pixel scenes of 32-pixel cells, a 28-pixel item anywhere within 4 pixels of its
    # cell's corner: its box holds a block of 4 or 5 rows by 4 or 5 columns of the
    # chapter's locations, among them every location whose window overlaps the item most
    made = scenes.make_scenes(60, seed=3, source=BLANK,
                              config=scenes.SceneConfig(cell=32))
    assert made.images.shape[1:] == (64, 64)

    def overlap(start, k):                   # pixels an item and window k share, 1 axis
        return max(0, min(start + 28, 4 * k + 28) - max(start, 4 * k))

    for boxes in made.boxes:
        taken = torch.zeros(100, dtype=torch.bool)
        for box in boxes.tolist():
            inside = solution["box_locations"](box, 10).reshape(10, 10)
            rows = inside.any(1).nonzero().flatten().tolist()
            cols = inside.any(0).nonzero().flatten().tolist()
            assert len(rows) in (4, 5) and len(cols) in (4, 5)
            assert rows == list(range(rows[0], rows[0] + len(rows)))
            assert cols == list(range(cols[0], cols[0] + len(cols)))
            assert int(inside.sum()) == len(rows) * len(cols)
            for axis, held in ((0, rows), (1, cols)):
                shares = [overlap(box[axis], k) for k in range(10)]
                best = [k for k in range(10) if shares[k] == max(shares)]
                assert set(best) <= set(held), (box, best, held)
            assert not (taken & inside.flatten()).any()      # items share no location
            taken |= inside.flatten()


def test_box_locations_agrees_with_the_chapter(solution):
    # the chapter's location_centres and inside, where this checkout has chapter 10
    captioning = pytest.importorskip("attention_course.captioning")
    g = torch.Generator().manual_seed(10)
    for grid, stride, window in GEOMETRIES:
        side = stride * (grid - 1) + window
        centres = captioning.location_centres(grid, stride, window)
        for _ in range(20):
            ends = torch.randint(-5, side + 5, (2, 2), generator=g).sort(dim=0).values
            box = random_box(ends)
            assert torch.equal(solution["box_locations"](box, grid, stride, window),
                               captioning.inside(centres, box))


def test_box_locations_refuses_bad_arguments(solution):
    for box, grid, stride, window in (((0, 0, 28), 10, 4, 28),
                                      ((0, 0, 1, 1, 1), 10, 4, 28),
                                      ((0, 0, 28, 28), 0, 4, 28),
                                      ((0, 0, 28, 28), -3, 4, 28),
                                      ((0, 0, 28, 28), 10, 0, 28),
                                      ((0, 0, 28, 28), 10, -4, 28),
                                      ((0, 0, 28, 28), 10, 4, 0)):
        with pytest.raises(ValueError, match="box_locations"):
            solution["box_locations"](box, grid, stride, window)


# ---------------------------------------------------------------------- energy_pointing
@pytest.mark.parametrize("grid,stride,window", GEOMETRIES)
def test_energy_is_the_definition(solution, grid, stride, window):
    side = stride * (grid - 1) + window
    g = torch.Generator().manual_seed(11 + grid)
    L = grid * grid
    for _ in range(20):
        scale = float(torch.rand(1, generator=g) * 3) + 1e-3
        alpha = torch.rand(L, generator=g) ** 4 * scale
        ends = torch.randint(-3, side + 3, (2, 2), generator=g).sort(dim=0).values
        for box in (random_box(ends), quarter_box(4 * ends + 1)):
            flags = inside_by_fractions(box, grid, stride, window)
            share = (sum(float(a) for a, f in zip(alpha, flags) if f)
                     / sum(float(a) for a in alpha))
            got = solution["energy_pointing"](alpha, box, grid, stride, window)
            assert type(got) is float and got == pytest.approx(share, abs=1e-6)


def test_energy_defaults_to_the_chapters_windows(solution):
    g = torch.Generator().manual_seed(5)
    alpha = torch.softmax(torch.randn(100, generator=g), 0)
    for box in ((2, 35, 30, 63), (33, 1, 61, 29), (13.5, 17.5, 29.5, 45.5)):
        assert solution["energy_pointing"](alpha, box, 10) == \
            solution["energy_pointing"](alpha, box, 10, stride=4, window=28)


def test_energy_of_a_one_hot_map_is_the_pointing_game(solution):
    # all the weight on one location: the energy is 1 when that location (the peak) is
    # inside the box, 0 otherwise, which is the pointing game's hit or miss
    box = (10, 20, 38, 48)
    inside = solution["box_locations"](box, 10)
    for loc in range(100):
        alpha = torch.nn.functional.one_hot(torch.tensor(loc), 100).float()
        assert solution["energy_pointing"](alpha, box, 10) == float(inside[loc])


def test_energy_refuses_bad_maps(solution):
    for alpha in (torch.rand(10, 10), torch.rand(99), torch.zeros(100),
                  -torch.rand(100)):
        with pytest.raises(ValueError, match="energy_pointing"):
            solution["energy_pointing"](alpha, (0, 0, 28, 28), 10)


def test_energy_refuses_bad_arguments(solution):
    alpha = torch.rand(100)
    for args in ((alpha, (0, 0, 28), 10), (alpha, (0, 0, 28, 28, 1), 10),
                 (alpha, (0, 0, 28, 28), 10, 0), (alpha, (0, 0, 28, 28), 10, 4, 0),
                 (torch.ones(1), (0, 0, 28, 28), -1),
                 (torch.ones(0), (0, 0, 28, 28), 0)):
        with pytest.raises(ValueError, match="energy_pointing"):
            solution["energy_pointing"](*args)


# ------------------------------------------------------------------ reinforce_surrogate
def test_surrogate_value_and_gradient(solution):
    g = torch.Generator().manual_seed(21)
    B, T = 5, 6
    logp = (-3 * torch.rand(B, T, generator=g, dtype=torch.float64)).requires_grad_()
    mask = prefix_mask([6, 1, 3, 0, 4], T)
    rewards = -4 * torch.rand(B, generator=g, dtype=torch.float64)
    baseline = -2.25
    loss = solution["reinforce_surrogate"](logp, mask, rewards, baseline)
    expected = -sum((float(rewards[n]) - baseline)
                    * sum(float(logp.detach()[n, t]) for t in range(T) if mask[n, t])
                    for n in range(B)) / B
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(expected, abs=1e-12)
    loss.backward()
    torch.testing.assert_close(logp.grad, -(rewards - baseline)[:, None] * mask / B)


def test_surrogate_gradient_is_an_unbiased_reinforce_estimate(solution):
    """A two-step policy over three locations with a reward that depends on both
    choices: averaged over many sampled captions, the gradient of the surrogate with
    respect to the policy's logits is minus the exact gradient of the expected reward,
    whatever the baseline (Williams, 1992)."""
    L, T = 3, 2
    logits = torch.tensor([[0.3, -0.5, 1.0], [-1.0, 0.2, 0.4]], dtype=torch.float64,
                          requires_grad=True)                          # (T, L)
    reward = torch.tensor([[-1.0, -2.5, -0.2], [-3.0, -0.1, -1.7], [-0.6, -2.2, -0.9]],
                          dtype=torch.float64)                         # r(s_1, s_2)
    probs = torch.softmax(logits, -1)
    expected_reward = (probs[0][:, None] * probs[1][None, :] * reward).sum()
    exact, = torch.autograd.grad(expected_reward, logits)
    g = torch.Generator().manual_seed(31)
    B = 200_000
    for baseline in (0.0, float(expected_reward.detach())):
        samples = torch.multinomial(probs.detach(), B, replacement=True,
                                    generator=g).t()                   # (B, T)
        logp = torch.log_softmax(logits, -1)[torch.arange(T), samples]  # (B, T)
        rewards = reward[samples[:, 0], samples[:, 1]]                  # (B,)
        mask = torch.ones(B, T, dtype=torch.bool)
        loss = solution["reinforce_surrogate"](logp, mask, rewards, baseline)
        estimate, = torch.autograd.grad(loss, logits)
        torch.testing.assert_close(-estimate, exact, atol=0.01, rtol=0)


def test_surrogate_sends_no_gradient_into_rewards_or_baseline(solution):
    logp = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    source = torch.randn(3, dtype=torch.float64, requires_grad=True)
    baseline = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    mask = prefix_mask([4, 2, 1], 4)
    solution["reinforce_surrogate"](logp, mask, source * 2, baseline).backward()
    assert source.grad is None and baseline.grad is None and logp.grad is not None


def test_surrogate_refuses_bad_shapes(solution):
    logp, rewards = torch.randn(3, 4), torch.randn(3)
    mask = torch.ones(3, 4, dtype=torch.bool)
    for m, r in ((mask[:, :3], rewards), (mask, rewards[:2]), (mask, rewards[:, None])):
        with pytest.raises(ValueError, match="reinforce_surrogate"):
            solution["reinforce_surrogate"](logp, m, r, 0.0)


# ------------------------------------------------------------------------ parse_caption
def paths(grid: int, length: int):
    """Every path of `length` distinct cells of a grid x grid board, each next to the
    one before it."""
    def extend(path):
        if len(path) == length:
            yield path
            return
        r, c = path[-1]
        for dr, dc in scenes.FIRST_RELATIONS:
            cell = (r + dr, c + dc)
            if 0 <= cell[0] < grid and 0 <= cell[1] < grid and cell not in path:
                yield from extend(path + [cell])
    for start in itertools.product(range(grid), repeat=2):
        yield from extend([start])


@pytest.mark.parametrize("grid,lengths", [(2, (2, 3, 4)), (3, (2, 3, 4, 5, 6))])
def test_parse_inverts_caption_of_on_every_path(solution, grid, lengths):
    g = torch.Generator().manual_seed(grid)
    checked = 0
    for length in lengths:
        for path in paths(grid, length):
            labels = torch.randint(0, 10, (length,), generator=g).tolist()
            caption = scenes.caption_of(labels, path)
            layout = solution["parse_caption"](caption)
            r0, c0 = path[0]
            assert layout == [(scenes.ITEM_WORDS[k], (r - r0, c - c0))
                              for k, (r, c) in zip(labels, path)], caption
            assert all(type(v) is int for _, where in layout for v in where)
            # and back: caption_of needs only the steps between the positions
            assert scenes.caption_of(labels, [where for _, where in layout]) == caption
            checked += 1
    assert checked > 20


def test_parse_reads_the_captions_of_scenes(solution):
    for config in (scenes.SceneConfig(), scenes.SceneConfig(grid=4, max_items=8)):
        made = scenes.make_scenes(60, split="test", seed=5, source=BLANK, config=config)
        for caption, labels, cells in zip(made.captions, made.labels, made.cells):
            layout = solution["parse_caption"](caption)
            assert [w for w, _ in layout] == [scenes.ITEM_WORDS[k] for k in labels]
            offsets = (cells - cells[0]).tolist()
            assert [list(where) for _, where in layout] == offsets


@pytest.mark.parametrize("caption,clause", [
    ("a bag above a hat", "a bag above a hat"),
    ("a bag under a sneaker", "a bag under a sneaker"),
    ("a bag to its left", "a bag to its left"),
    ("a bag above a sneaker, a coat right of a top", "a coat right of a top"),
    ("a bag above a sneaker, the coat below it", "the coat below it"),
    ("a bag above a sneaker, a coat below", "a coat below"),
    ("a bag above a sneaker, a dress to its right, a coat up it", "a coat up it"),
    ("a bag above a sneaker sneaker", "a bag above a sneaker sneaker"),
    ("bag above a sneaker", "bag above a sneaker"),
    ("a bag above a sneaker, a coat above it", "a coat above it"),
    ("a bag left of a coat, a top below it, a boot to its left, a dress above it",
     "a dress above it"),
])
def test_parse_names_the_first_bad_clause(solution, caption, clause):
    with pytest.raises(ValueError) as raised:
        solution["parse_caption"](caption)
    assert clause in str(raised.value)


@pytest.mark.parametrize("caption", ["", "  ", "a bag above a sneaker,",
                                     "a bag above a sneaker,, a coat below it",
                                     ", a bag above a sneaker"])
def test_parse_refuses_empty_clauses(solution, caption):
    with pytest.raises(ValueError, match="parse_caption"):
        solution["parse_caption"](caption)
