"""attention_course.scenes: chapter 10's captioned Fashion-MNIST scenes are
deterministic, their captions say where the items are, their boxes hold the items, and
bad input is refused with a message that says what to do."""
import hashlib
import re

import pytest
import torch

from attention_course.data import load_fashion_mnist
from attention_course.scenes import (DEV_IMAGES, FIRST_RELATIONS, ITEM_SIZE,
                                     ITEM_WORDS, NEXT_RELATIONS, SceneConfig,
                                     canonical_path, caption_of, make_scenes,
                                     source_images)

# make_scenes(40, "test", seed=0): if this changes, every chapter-10 record changes too
GOLDEN_TEST_SCENES = "b090dd19"


def parse(caption: str):
    """Items and their steps, read back from a caption (an independent reading of the
    grammar in the module's docstring)."""
    first = {v: k for k, v in FIRST_RELATIONS.items()}
    later = {v: k for k, v in NEXT_RELATIONS.items()}
    words = "|".join(ITEM_WORDS)
    clauses = caption.split(", ")
    m = re.fullmatch(rf"a ({words}) (above|below|left of|right of) a ({words})",
                     clauses[0])
    assert m, caption
    items = [ITEM_WORDS.index(m.group(1)), ITEM_WORDS.index(m.group(3))]
    steps = [first[m.group(2)]]          # item 0 relative to item 1
    for clause in clauses[1:]:
        m = re.fullmatch(rf"a ({words}) (above it|below it|to its left|to its right)",
                         clause)
        assert m, clause
        items.append(ITEM_WORDS.index(m.group(1)))
        steps.append(later[m.group(2)])   # item i relative to item i - 1
    return items, steps


def synthetic_source(m: int = 30):
    """Items whose pixels say which item they are: image j is filled with j + 1."""
    images = (torch.arange(m, dtype=torch.uint8) + 1)[:, None, None].expand(
        m, ITEM_SIZE, ITEM_SIZE).contiguous()
    return images, torch.arange(m) % 10


def fingerprint(scenes) -> str:
    h = hashlib.sha256(scenes.images.numpy().tobytes())
    for caption, boxes in zip(scenes.captions, scenes.boxes):
        h.update(caption.encode())
        h.update(boxes.numpy().tobytes())
    return h.hexdigest()[:8]


def test_same_call_same_scenes_and_the_committed_fingerprint():
    """Scenes are a function of (split, seed, config); a SHA-256 of them is pinned."""
    a, b = make_scenes(40, "test", seed=0), make_scenes(40, "test", seed=0)
    assert torch.equal(a.images, b.images) and a.captions == b.captions
    assert fingerprint(a) == GOLDEN_TEST_SCENES
    other = make_scenes(40, "test", seed=1)
    assert other.captions != a.captions


def test_captions_say_which_items_and_where():
    """Parsing a caption gives back the scene's classes and each item's step."""
    scenes = make_scenes(200, "train", seed=3)
    counts = set()
    for caption, labels, cells in zip(scenes.captions, scenes.labels, scenes.cells):
        items, steps = parse(caption)
        assert items == labels.tolist()
        cells = [tuple(c) for c in cells.tolist()]
        want = [(cells[0][0] - cells[1][0], cells[0][1] - cells[1][1])]
        want += [(cells[i][0] - cells[i - 1][0], cells[i][1] - cells[i - 1][1])
                 for i in range(2, len(cells))]
        assert steps == want
        assert len(set(cells)) == len(cells)                 # distinct cells
        counts.add(len(items))
    assert counts == {2, 3, 4}


def test_boxes_hold_the_items_and_nothing_else_is_drawn():
    """Each box holds its item's pixels; outside the boxes the canvas is blank."""
    cfg = SceneConfig(grid=3, cell=32, min_items=2, max_items=5)
    images, labels = synthetic_source()
    scenes = make_scenes(60, "dev", seed=0, config=cfg, source=(images, labels))
    assert scenes.images.shape == (60, 96, 96) and scenes.images.dtype == torch.uint8
    for canvas, boxes, item_labels, cells in zip(scenes.images, scenes.boxes,
                                                 scenes.labels, scenes.cells):
        blank = torch.ones_like(canvas, dtype=torch.bool)
        items = zip(boxes.tolist(), item_labels, cells.tolist())
        for (top, left, bottom, right), label, (r, c) in items:
            patch = canvas[top:bottom, left:right]
            assert patch.shape == (ITEM_SIZE, ITEM_SIZE)
            j = int(patch[0, 0]) - 1                            # which source item
            assert (patch == j + 1).all() and int(labels[j]) == int(label)
            # the box lies inside the item's cell
            assert r * 32 <= top and bottom <= (r + 1) * 32
            assert c * 32 <= left and right <= (c + 1) * 32
            blank[top:bottom, left:right] = False
        assert (canvas[blank] == 0).all()


def test_splits_draw_on_disjoint_images():
    """Train scenes use the first 55,000 training images, dev the last 5,000, test
    the test split."""
    train, _ = source_images("train")
    dev, _ = source_images("dev")
    test, _ = source_images("test")
    assert len(dev) == DEV_IMAGES and len(train) == 60_000 - DEV_IMAGES
    assert len(test) == 10_000
    full, _ = load_fashion_mnist("train")
    assert torch.equal(torch.cat([train, dev]), full)


def test_one_caption_per_layout():
    """Every walk through the same cells is named in one order, the first path in
    reading order; so a scene's caption is a function of its image."""
    cycle = [(0, 0), (0, 1), (1, 1), (1, 0)]
    walks = [cycle[i:] + cycle[:i] for i in range(4)]
    walks += [list(reversed(w)) for w in walks]
    assert {tuple(canonical_path(w)) for w in walks} == {tuple(cycle)}
    assert canonical_path([(1, 0), (0, 0), (0, 1)]) == [(0, 1), (0, 0), (1, 0)]
    assert canonical_path([(1, 1), (0, 1)]) == [(0, 1), (1, 1)]
    scenes = make_scenes(300, "train", seed=5)
    for cells in scenes.cells:
        cells = [tuple(c) for c in cells.tolist()]
        assert canonical_path(cells[::-1]) == cells
    with pytest.raises(ValueError, match="no path joins"):
        canonical_path([(0, 0), (1, 1)])


def test_caption_of_a_hand_made_scene():
    """The grammar of the module docstring, on its own example."""
    # bag (8) above sneaker (7); dress (3) right of the sneaker; coat (4) below it
    caption = caption_of([8, 7, 3, 4], [(0, 0), (1, 0), (1, 1), (2, 1)])
    assert caption == "a bag above a sneaker, a dress to its right, a coat below it"
    assert caption_of([0, 1], [(0, 1), (0, 0)]) == "a top right of a trouser"


@pytest.mark.parametrize("labels, cells, match", [
    ([1], [(0, 0)], "at least two"),
    ([1, 2], [(0, 0)], "one cell each"),
    ([1, 12], [(0, 0), (0, 1)], "classes 0..9"),
    ([1, 2], [(0, 0), (1, 1)], "not neighbours"),
    ([1, 2, 3], [(0, 0), (0, 1), (0, 3)], "not neighbours"),
])
def test_caption_of_refuses_bad_scenes(labels, cells, match):
    """Too few items, a missing cell, a class out of range or a jump: ValueError."""
    with pytest.raises(ValueError, match=match):
        caption_of(labels, cells)


@pytest.mark.parametrize("kwargs, match", [
    (dict(grid=1), "grid"),
    (dict(cell=20), "cell"),
    (dict(min_items=1), "min_items"),
    (dict(min_items=3, max_items=2), "min_items"),
    (dict(max_items=5), "grid \\* grid"),
])
def test_scene_config_validation(kwargs, match):
    """SceneConfig refuses grids, cells and item counts that cannot work."""
    with pytest.raises(ValueError, match=match):
        SceneConfig(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "positive"),
    (dict(n=2.5), "positive"),
    (dict(n=3, split="valid"), "split"),
    (dict(n=3, source=(torch.zeros(4, 28, 28), torch.zeros(4))), "uint8"),
    (dict(n=3, source=(torch.zeros(4, 32, 32, dtype=torch.uint8), torch.zeros(4))),
     "uint8"),
    (dict(n=3, source=(torch.zeros(4, 28, 28, dtype=torch.uint8), torch.zeros(3))),
     "labels"),
])
def test_make_scenes_refuses_bad_input(kwargs, match):
    """A bad count, split or source raises ValueError saying what is expected."""
    with pytest.raises(ValueError, match=match):
        make_scenes(**kwargs)
