"""Captioned scenes composed from Fashion-MNIST (hand-written): chapter 10's stand-in
for Flickr8k and COCO, which are downloads the course cannot ship.

A scene puts 2 to 4 Fashion-MNIST items in distinct cells of a small grid, each item
next to the one before it, and describes them with a small grammar:

    a bag above a sneaker, a dress to its right, a coat below it

The first clause places the first item relative to the second; every later clause
places its item relative to the item named just before it. Items are named in one
order fixed by the layout (the path through their cells that comes first in reading
order), so every scene has exactly one caption, as a model that reads the image could
know it. Every item's box (the square
it was pasted into) comes with the scene, so that a model's attention can be checked
against where the item really is. Scenes are a deterministic function of (split, seed,
config): the same call gives the same pixels, captions and boxes on every machine, and
training, dev and test scenes draw on disjoint images (the dev images are the last 5,000
training images, as in chapter 8).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

# one word per Fashion-MNIST class, in the order of data.FASHION_CLASSES
ITEM_WORDS = ("top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
              "sneaker", "bag", "boot")
# (row, column) of an item minus that of the item it is placed against
FIRST_RELATIONS = {(-1, 0): "above", (1, 0): "below", (0, -1): "left of",
                   (0, 1): "right of"}
NEXT_RELATIONS = {(-1, 0): "above it", (1, 0): "below it", (0, -1): "to its left",
                  (0, 1): "to its right"}
ITEM_SIZE = 28                              # Fashion-MNIST images are 28 x 28
DEV_IMAGES = 5_000                          # the last training images, as in chapter 8
SPLITS = ("train", "dev", "test")


@dataclass
class SceneConfig:
    """How scenes are drawn, named once. Chapter 10."""
    grid: int = 2                 # the canvas is grid x grid cells
    cell: int = 32                # pixels per cell side; an item sits inside its cell
    min_items: int = 2
    max_items: int = 4

    def __post_init__(self):
        if self.grid < 2:
            raise ValueError("grid must be at least 2 (items sit in distinct cells); "
                             f"got {self.grid}")
        if self.cell < ITEM_SIZE:
            raise ValueError(f"cell must hold a {ITEM_SIZE}-pixel item; "
                             f"got {self.cell}")
        if not 2 <= self.min_items <= self.max_items <= self.grid ** 2:
            raise ValueError("need 2 <= min_items <= max_items <= grid * grid "
                             f"(= {self.grid ** 2}); got min_items={self.min_items}, "
                             f"max_items={self.max_items}")

    @property
    def side(self) -> int:
        return self.grid * self.cell


@dataclass
class Scenes:
    """N scenes: images uint8 (N, side, side); per scene its caption, its items' classes
    (k,), grid cells (k, 2) as (row, column), and boxes (k, 4) as (top, left, bottom,
    right) in pixels, bottom and right exclusive."""
    images: torch.Tensor
    captions: list[str]
    labels: list[torch.Tensor]
    cells: list[torch.Tensor]
    boxes: list[torch.Tensor]

    def __len__(self) -> int:
        return len(self.captions)


def caption_of(labels, cells) -> str:
    """The caption of items with these classes in these (row, column) cells, in order;
    each item must sit in a cell next to (above, below, left or right of) the one
    before it."""
    labels, cells = [int(x) for x in labels], [tuple(int(v) for v in c) for c in cells]
    if len(labels) < 2 or len(labels) != len(cells):
        raise ValueError(f"need at least two items, one cell each; got {len(labels)} "
                         f"labels and {len(cells)} cells")
    if any(not 0 <= x < len(ITEM_WORDS) for x in labels):
        raise ValueError(f"labels must be Fashion-MNIST classes 0..9; got {labels}")

    def step(a, b):
        d = (a[0] - b[0], a[1] - b[1])
        if d not in FIRST_RELATIONS:
            raise ValueError(f"items in cells {a} and {b} are not neighbours; each "
                             "item must be above, below, left or right of the one "
                             "before it")
        return d

    first = FIRST_RELATIONS[step(cells[0], cells[1])]
    clauses = [f"a {ITEM_WORDS[labels[0]]} {first} a {ITEM_WORDS[labels[1]]}"]
    for i in range(2, len(labels)):
        clauses.append(f"a {ITEM_WORDS[labels[i]]} "
                       f"{NEXT_RELATIONS[step(cells[i], cells[i - 1])]}")
    return ", ".join(clauses)


def _walk(rng: random.Random, grid: int, length: int) -> list[tuple[int, int]]:
    """A random path of `length` distinct cells, each next to the one before."""
    while True:                                  # a dead end restarts the walk
        path = [(rng.randrange(grid), rng.randrange(grid))]
        while len(path) < length:
            r, c = path[-1]
            options = [(r + dr, c + dc) for dr, dc in FIRST_RELATIONS
                       if 0 <= r + dr < grid and 0 <= c + dc < grid
                       and (r + dr, c + dc) not in path]
            if not options:
                break
            path.append(rng.choice(options))
        if len(path) == length:
            return path


def canonical_path(cells) -> list[tuple[int, int]]:
    """The order in which a caption names items in these cells: of all paths through
    every cell, each next to the one before, the first in reading order (compare the
    first cells' (row, column), then the second's, ...). One caption per layout."""
    cells = sorted({(int(r), int(c)) for r, c in cells})

    def extend(path):                    # depth-first in sorted order: the first
        if len(path) == len(cells):      # complete path found is the smallest
            return path
        for cell in cells:
            d = (cell[0] - path[-1][0], cell[1] - path[-1][1])
            if cell not in path and d in FIRST_RELATIONS:
                found = extend(path + [cell])
                if found:
                    return found
        return None

    for start in cells:
        found = extend([start])
        if found:
            return found
    raise ValueError(f"no path joins the cells {cells}, each next to the one before")


def source_images(split: str):
    """The Fashion-MNIST images and labels a split's scenes draw on."""
    from attention_course.data import load_fashion_mnist
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    images, labels = load_fashion_mnist("test" if split == "test" else "train")
    if split == "train":
        return images[:-DEV_IMAGES], labels[:-DEV_IMAGES]
    if split == "dev":
        return images[-DEV_IMAGES:], labels[-DEV_IMAGES:]
    return images, labels


def make_scenes(n: int, split: str = "train", seed: int = 0,
                config: SceneConfig | None = None, source=None) -> Scenes:
    """n captioned scenes of `split` ('train', 'dev' or 'test'), drawn from `seed`.
    `source`: (images uint8 (M, 28, 28), labels (M,)) to draw items from instead of the
    split's Fashion-MNIST images (tests use it). Chapter 10."""
    config = config or SceneConfig()
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive number of scenes; got {n!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    images, labels = source if source is not None else source_images(split)
    if images.dtype != torch.uint8 or images.dim() != 3 or images.shape[1:] != (
            ITEM_SIZE, ITEM_SIZE) or len(labels) != len(images) or len(images) == 0:
        raise ValueError(f"source must be uint8 images (M, {ITEM_SIZE}, {ITEM_SIZE}) "
                         "with M labels, M >= 1")
    # one stream per (split, seed): the same seed gives unrelated train and test scenes
    rng = random.Random(f"scenes/{split}/{seed}")
    side = config.side
    canvas = torch.zeros(n, side, side, dtype=torch.uint8)
    captions, all_labels, all_cells, all_boxes = [], [], [], []
    for s in range(n):
        k = rng.randint(config.min_items, config.max_items)
        path = canonical_path(_walk(rng, config.grid, k))
        picks = [rng.randrange(len(images)) for _ in range(k)]
        boxes = []
        for (r, c), i in zip(path, picks):
            top = r * config.cell + rng.randint(0, config.cell - ITEM_SIZE)
            left = c * config.cell + rng.randint(0, config.cell - ITEM_SIZE)
            canvas[s, top:top + ITEM_SIZE, left:left + ITEM_SIZE] = images[i]
            boxes.append((top, left, top + ITEM_SIZE, left + ITEM_SIZE))
        item_labels = torch.tensor([int(labels[i]) for i in picks])
        captions.append(caption_of(item_labels, path))
        all_labels.append(item_labels)
        all_cells.append(torch.tensor(path))
        all_boxes.append(torch.tensor(boxes))
    return Scenes(canvas, captions, all_labels, all_cells, all_boxes)
