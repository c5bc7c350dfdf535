"""Exercise 10's solution against independent computations.

The grader compares a student's records with the *solution's* records
(tests/test_grading*.py), so the solution must itself be right. Its hidden checks cannot
compare anything, so the comparisons live here: the solution functions of
solutions/10_captioning, run in this process, against the definitions read literally
(Python loops, exact fractions), autograd's gradcheck, a Monte Carlo check that the
REINFORCE surrogate's gradient is an unbiased estimate of the gradient of the expected
reward, and attention_course.scenes: every layout caption_of can write is parsed back to
its cells, and the boxes of its scenes hold exactly the locations of their cells. Fast
(no kernel, no nbgrader).
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
def inside_by_fractions(box, grid, image_size) -> list[bool]:
    """Row by row, exact: is the centre ((r + 1/2) S / G, (c + 1/2) S / G) inside?"""
    top, left, bottom, right = (Fraction(v).limit_denominator(10**6) for v in box)
    flags = []
    for r, c in itertools.product(range(grid), repeat=2):
        y = Fraction(2 * r + 1, 2 * grid) * image_size
        x = Fraction(2 * c + 1, 2 * grid) * image_size
        flags.append(top <= y < bottom and left <= x < right)
    return flags


@pytest.mark.parametrize("grid,image_size", [(14, 56), (7, 56), (5, 56), (8, 32),
                                             (3, 10), (1, 56), (16, 64)])
def test_box_locations_is_the_definition(solution, grid, image_size):
    g = torch.Generator().manual_seed(grid * 100 + image_size)
    for _ in range(60):
        ends = torch.randint(-5, image_size + 5, (2, 2), generator=g).sort(dim=0).values
        box = random_box(ends)
        got = solution["box_locations"](box, grid, image_size)
        assert got.dtype == torch.bool and got.shape == (grid * grid,)
        assert got.tolist() == inside_by_fractions(box, grid, image_size), box


def test_box_locations_holds_the_cells_of_scene_items(solution):
    # 28-pixel cells over a 14 x 14 grid of 4-pixel locations: a box is its cell, 7 x 7
    made = scenes.make_scenes(40, seed=3, source=BLANK)
    for boxes, cells in zip(made.boxes, made.cells):
        for box, (row, col) in zip(boxes, cells.tolist()):
            expected = torch.zeros(14, 14, dtype=torch.bool)
            expected[7 * row:7 * row + 7, 7 * col:7 * col + 7] = True
            got = solution["box_locations"](box, 14, 56)
            assert torch.equal(got, expected.flatten())
    # items at random offsets inside 32-pixel cells: a 28-pixel box always holds 7 x 7
    # centres of a 4-pixel grid, wherever it sits
    roomy = scenes.make_scenes(40, seed=4, source=BLANK,
                               config=scenes.SceneConfig(cell=32))
    for boxes in roomy.boxes:
        for box in boxes:
            inside = solution["box_locations"](box, 16, 64).reshape(16, 16)
            assert int(inside.sum()) == 49
            rows = inside.any(1).nonzero().flatten()
            cols = inside.any(0).nonzero().flatten()
            assert rows.tolist() == list(range(int(rows[0]), int(rows[0]) + 7))
            assert cols.tolist() == list(range(int(cols[0]), int(cols[0]) + 7))


def test_box_locations_refuses_bad_arguments(solution):
    for box, grid, size in (((0, 0, 28), 14, 56), ((0, 0, 1, 1, 1), 14, 56),
                            ((0, 0, 28, 28), 0, 56), ((0, 0, 28, 28), 14, 0)):
        with pytest.raises(ValueError, match="box_locations"):
            solution["box_locations"](box, grid, size)


# ---------------------------------------------------------------------- energy_pointing
def test_energy_is_the_definition(solution):
    g = torch.Generator().manual_seed(11)
    for grid, image_size in ((14, 56), (5, 56), (7, 56)):
        L = grid * grid
        for _ in range(20):
            scale = float(torch.rand(1, generator=g) * 3)
            alpha = torch.rand(L, generator=g) ** 4 * scale
            ends = torch.randint(0, image_size, (2, 2), generator=g).sort(dim=0).values
            box = random_box(ends)
            flags = inside_by_fractions(box, grid, image_size)
            share = (sum(float(a) for a, f in zip(alpha, flags) if f)
                     / sum(float(a) for a in alpha))
            got = solution["energy_pointing"](alpha, box, grid, image_size)
            assert type(got) is float and got == pytest.approx(share, abs=1e-6)


def test_energy_of_a_one_hot_map_is_the_pointing_game(solution):
    # all the weight on one location: the energy is 1 when that location (the peak) is
    # inside the box, 0 otherwise, which is the pointing game's hit or miss
    box = (10, 20, 38, 48)
    inside = solution["box_locations"](box, 14, 56)
    for loc in range(196):
        alpha = torch.nn.functional.one_hot(torch.tensor(loc), 196).float()
        assert solution["energy_pointing"](alpha, box, 14, 56) == float(inside[loc])


def test_energy_refuses_bad_maps(solution):
    for alpha in (torch.rand(14, 14), torch.rand(195), torch.zeros(196)):
        with pytest.raises(ValueError, match="energy_pointing"):
            solution["energy_pointing"](alpha, (0, 0, 28, 28), 14, 56)


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
