"""Passages of the Bible labelled by genre (hand-written): chapter 11's documents.

A passage is a few consecutive verses of one chapter (a verse is a sentence, a passage a
short document), labelled by the genre of its book: law, history, wisdom, prophets,
gospels (with Acts), letters or apocalypse. Whole chapters go to the training, dev or test
split (a tenth of each genre's chapters to test, a tenth to dev, chosen by a hash of their
names), so that no passage is split across them and every genre appears in every split,
even the apocalypse, which is one book.
Passages are built from the verses that all four shipped translations number alike and
none leaves empty, so the same passage exists in every translation and a model trained on
one can be tested on another.

The planted variant puts one verse of another genre into a passage, at a known position,
and labels the passage by that verse: the one place where the answer is, for checking
where a model's attention goes.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

import torch

from attention_course.data import BOOKS, TRANSLATIONS, book_of, load_bible

GENRES = {
    "law": BOOKS[0:5],                 # Genesis .. Deuteronomy
    "history": BOOKS[5:17],            # Joshua .. Esther
    "wisdom": BOOKS[17:22],            # Job .. Song of Songs
    "prophets": BOOKS[22:39],          # Isaiah .. Malachi
    "gospels": BOOKS[39:44],           # Matthew .. John, and Acts
    "letters": BOOKS[44:65],           # Romans .. Jude
    "apocalypse": BOOKS[65:66],        # Revelation
}
GENRE_NAMES = tuple(GENRES)
SPLITS = ("train", "dev", "test")
_GENRE_OF_BOOK = {book: g for g, books in GENRES.items() for book in books}


def genre_of(book: str) -> str:
    """The genre of a book of BOOKS."""
    if book not in _GENRE_OF_BOOK:
        raise ValueError(f"unknown book {book!r}; books are named as in "
                         "attention_course.data.BOOKS")
    return _GENRE_OF_BOOK[book]


def chapter_split(book: str, chapter: int) -> str:
    """'test', 'dev' or 'train' for a chapter. Within each genre, chapters are ordered by
    the SHA-256 of their name and dealt out in turn: the 1st, 11th, 21st, ... go to test,
    the 2nd, 12th, ... to dev, the rest to train. So a tenth of each genre's chapters is
    held out for each of test and dev, even Revelation's, and the split is the same on
    every machine."""
    splits = _chapter_splits()
    if (book, chapter) not in splits:
        raise ValueError(f"no chapter {chapter} of {book!r} in the shipped Bible")
    return splits[(book, chapter)]


@lru_cache(maxsize=1)
def _chapter_splits() -> dict[tuple[str, int], str]:
    by_genre: dict[str, list[tuple[str, int]]] = {}
    for v in shared_verse_ids():
        key = (book_of(v), v // 1_000 % 1_000)
        chapters = by_genre.setdefault(genre_of(key[0]), [])
        if not chapters or chapters[-1] != key:
            chapters.append(key)
    out = {}
    for chapters in by_genre.values():
        ranked = sorted(chapters, key=lambda k: hashlib.sha256(
            f"{k[0]} {k[1]}".encode()).hexdigest())
        for i, key in enumerate(ranked):
            out[key] = "test" if i % 10 == 0 else "dev" if i % 10 == 1 else "train"
    return out


@dataclass
class PassageConfig:
    """How passages are cut, named once. Chapter 11."""
    verses: int = 6               # consecutive verses per passage

    def __post_init__(self):
        if not isinstance(self.verses, int) or self.verses < 2:
            raise ValueError(f"a passage needs at least 2 verses; got {self.verses!r}")


@dataclass
class Passages:
    """N passages: each one's verses (texts), their verse ids, its genre label (index
    into GENRE_NAMES), and the index of its planted verse (-1 when nothing is
    planted)."""
    verses: list[list[str]]
    verse_ids: list[list[int]]
    labels: torch.Tensor          # (N,)
    planted: torch.Tensor         # (N,)

    def __len__(self) -> int:
        return len(self.verses)


@lru_cache(maxsize=1)
def shared_verse_ids() -> tuple[int, ...]:
    """Verse ids that every translation has, non-empty, in canonical order."""
    bibles = [load_bible(code) for code in sorted(TRANSLATIONS)]
    return tuple(v for v in bibles[0] if all(b.get(v, "").strip() for b in bibles))


def _windows(split: str, verses: int) -> list[list[int]]:
    """Non-overlapping runs of `verses` consecutive shared ids inside each chapter of
    the split (a chapter's last few verses that do not fill a run are left out)."""
    chapters: dict[int, list[int]] = {}
    for v in shared_verse_ids():
        chapters.setdefault(v // 1_000, []).append(v)
    out = []
    for key, ids in chapters.items():
        if chapter_split(book_of(ids[0]), key % 1_000) != split:
            continue
        out += [ids[i:i + verses] for i in range(0, len(ids) - verses + 1, verses)]
    return out


def _check(split: str, translation: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    if translation not in TRANSLATIONS:
        raise ValueError(f"unknown translation {translation!r}; choose one of "
                         f"{sorted(TRANSLATIONS)}")


def make_passages(split: str = "train", translation: str = "web",
                  config: PassageConfig | None = None) -> Passages:
    """Every passage of `split` in `translation`, in canonical order. Chapter 11."""
    config = config or PassageConfig()
    _check(split, translation)
    bible = load_bible(translation)
    windows = _windows(split, config.verses)
    return Passages(
        verses=[[bible[v] for v in w] for w in windows],
        verse_ids=windows,
        labels=torch.tensor([GENRE_NAMES.index(genre_of(book_of(w[0])))
                             for w in windows]),
        planted=torch.full((len(windows),), -1))


def make_planted(split: str = "train", seed: int = 0, translation: str = "web",
                 config: PassageConfig | None = None) -> Passages:
    """Every passage of `split` with one verse of another genre inserted at a random
    position (so a passage has config.verses + 1 verses); the label is the inserted
    verse's genre. The genre is drawn uniformly among the others, the verse among that
    genre's verses of the same split. Deterministic per (split, seed). Chapter 11."""
    config = config or PassageConfig()
    _check(split, translation)
    base = make_passages(split, translation, config)
    bible = load_bible(translation)
    by_genre: dict[int, list[int]] = {}
    for ids, label in zip(base.verse_ids, base.labels.tolist()):
        by_genre.setdefault(label, []).extend(ids)
    rng = random.Random(f"planted/{split}/{seed}")
    verses, verse_ids, labels, planted = [], [], [], []
    for ids, host in zip(base.verse_ids, base.labels.tolist()):
        genre = rng.choice(sorted(g for g in by_genre if g != host))
        donor = rng.choice(by_genre[genre])
        where = rng.randint(0, len(ids))
        new_ids = ids[:where] + [donor] + ids[where:]
        verses.append([bible[v] for v in new_ids])
        verse_ids.append(new_ids)
        labels.append(genre)
        planted.append(where)
    return Passages(verses, verse_ids, torch.tensor(labels), torch.tensor(planted))
