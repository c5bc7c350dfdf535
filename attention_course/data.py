"""The course's offline corpora, verified against data/SHA256SUMS before use (hand-written).

The Bible translations are built by data/build_bible.py from public-domain packages on PyPI
and committed; nothing is downloaded at run time.
"""
from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from .runtime import DATA_DIR, PACKAGED_ROOT

#: The 66 books in pythonbible's order; a verse id is book * 1_000_000 + chapter * 1_000 + verse.
BOOKS = (
    "Genesis", "Exodus", "Leviticus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth",
    "1 Samuel", "2 Samuel", "1 Kings", "2 Kings", "1 Chronicles", "2 Chronicles", "Ezra",
    "Nehemiah", "Esther", "Job", "Psalms", "Proverbs", "Ecclesiastes", "Song of Songs", "Isaiah",
    "Jeremiah", "Lamentations", "Ezekiel", "Daniel", "Hosea", "Joel", "Amos", "Obadiah", "Jonah",
    "Micah", "Nahum", "Habakkuk", "Zephaniah", "Haggai", "Zechariah", "Malachi", "Matthew",
    "Mark", "Luke", "John", "Acts", "Romans", "1 Corinthians", "2 Corinthians", "Galatians",
    "Ephesians", "Philippians", "Colossians", "1 Thessalonians", "2 Thessalonians", "1 Timothy",
    "2 Timothy", "Titus", "Philemon", "Hebrews", "James", "1 Peter", "2 Peter", "1 John",
    "2 John", "3 John", "Jude", "Revelation",
)

#: Whole-book splits of Carlson, Riddell & Rockmore (2018), used by every chapter.
SPLITS = {
    "test": ("Judges", "1 Samuel", "Philippians", "Hebrews"),
    "dev": ("1 Kings", "Mark", "Colossians", "Zephaniah"),
}

TRANSLATIONS = {
    "kjv": "King James Version (1769 text)",
    "asv": "American Standard Version (1901)",
    "ylt": "Young's Literal Translation (1862)",
    "web": "World English Bible",
}


class DataError(RuntimeError):
    """A course data file is missing, corrupt or malformed."""


def book_of(verse_id: int) -> str:
    """The book name of a BBCCCVVV verse id."""
    return BOOKS[verse_id // 1_000_000 - 1]


def split_of(verse_id: int) -> str:
    """'test', 'dev' or 'train', by whole book."""
    book = book_of(verse_id)
    for split, books in SPLITS.items():
        if book in books:
            return split
    return "train"


def _restore(name: str, data_dir: Path) -> str:
    """How to get data file `name` back: from git in a checkout, by reinstalling otherwise."""
    if Path(data_dir).resolve().is_relative_to(PACKAGED_ROOT):
        return ("It belongs to the installed course package: reinstall it with "
                "`pip install --force-reinstall --no-deps attention_course` (from the wheel or "
                "the repository URL you installed it from).")
    return f"Restore it with `git checkout -- data/{name}` or rebuild it with `make data`."


def _manifest(data_dir: Path) -> dict[str, str]:
    path = data_dir / "SHA256SUMS"
    if not path.is_file():
        raise DataError(f"{path} is missing. It ships with the course; {_restore('SHA256SUMS', data_dir)}")
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.strip()] = digest
    return sums


def verified_path(name: str, data_dir: Path | None = None) -> Path:
    """The path of data file `name` (relative to data/), after checking its SHA-256."""
    data_dir = Path(data_dir or DATA_DIR)
    sums = _manifest(data_dir)
    if name not in sums:
        raise DataError(f"{name} is not listed in {data_dir / 'SHA256SUMS'}; known files: {sorted(sums)}")
    path = data_dir / name
    if not path.is_file():
        raise DataError(f"{path} is missing. {_restore(name, data_dir)}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sums[name]:
        raise DataError(f"{path} is corrupt: its SHA-256 is {digest[:16]}…, the manifest expects "
                        f"{sums[name][:16]}…. {_restore(name, data_dir)}")
    return path


@lru_cache(maxsize=None)
def _load(code: str, data_dir: Path) -> dict[int, str]:
    path = verified_path(f"bible/{code}.tsv.gz", data_dir)
    verses = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            verse_id, sep, text = line.rstrip("\n").partition("\t")
            if not sep or not verse_id.isdigit():
                raise DataError(f"{path}, line {n}: expected '<verse id>\\t<text>'")
            verses[int(verse_id)] = text
    return verses


def load_bible(code: str = "web", data_dir: Path | None = None) -> dict[int, str]:
    """All verses of one translation as {verse id: text}, in canonical order.

    `code` is one of TRANSLATIONS ('kjv', 'asv', 'ylt', 'web').
    """
    if code not in TRANSLATIONS:
        raise ValueError(f"unknown translation {code!r}; choose one of {sorted(TRANSLATIONS)}")
    return dict(_load(code, Path(data_dir or DATA_DIR).resolve()))


def bible_text(code: str = "web", split: str = "train") -> str:
    """One split of a translation as a single string, one verse per line."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be 'train', 'dev' or 'test', got {split!r}")
    return "\n".join(t for v, t in load_bible(code).items() if split_of(v) == split) + "\n"


def parallel_verses(src: str, tgt: str, split: str | None = None) -> list[tuple[int, str, str]]:
    """Verse-aligned pairs (verse id, source text, target text), in canonical order.

    Only verses that both translations number alike and that neither leaves empty are kept
    (the ASV omits 16 verses; the WEB numbers the end of Romans differently). `split` limits
    the pairs to 'train', 'dev' or 'test' books (SPLITS); None keeps all.
    """
    if split not in (None, "train", "dev", "test"):
        raise ValueError(f"split must be None, 'train', 'dev' or 'test', got {split!r}")
    source, target = load_bible(src), load_bible(tgt)
    return [(v, text, target[v]) for v, text in source.items()
            if v in target and text.strip() and target[v].strip()
            and (split is None or split_of(v) == split)]


#: Fashion-MNIST's ten classes, in label order (Xiao, Rasul & Vollgraf 2017).
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
_FASHION_FILES = {"train": "train", "test": "t10k"}


def _read_idx(path: Path, magic: int, dims: int):
    """The array in an IDX file (big-endian header: magic, then one uint32 per dimension)."""
    import numpy as np
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as err:
        raise DataError(f"{path} is not a readable gzip file ({err}). "
                        + _restore(f"{path.parent.name}/{path.name}", path.parents[1])) from err
    header = np.frombuffer(raw[:4 + 4 * dims], dtype=">u4")
    if header.size != 1 + dims or header[0] != magic:
        raise DataError(f"{path}: not an IDX file with {dims} dimensions")
    shape = tuple(int(n) for n in header[1:])
    body = np.frombuffer(raw[4 + 4 * dims:], dtype=np.uint8)
    if body.size != int(np.prod(shape)):
        raise DataError(f"{path}: header promises {shape}, file holds {body.size} bytes")
    return body.reshape(shape)


@lru_cache(maxsize=None)
def _load_fashion(split: str, data_dir: Path):
    stem = _FASHION_FILES[split]
    images = _read_idx(verified_path(f"fashion_mnist/{stem}-images-idx3-ubyte.gz", data_dir),
                       2051, 3)
    labels = _read_idx(verified_path(f"fashion_mnist/{stem}-labels-idx1-ubyte.gz", data_dir),
                       2049, 1)
    if len(images) != len(labels):
        raise DataError(f"Fashion-MNIST {split}: {len(images)} images but {len(labels)} labels")
    return images, labels


def load_fashion_mnist(split: str = "train", data_dir: Path | None = None):
    """Fashion-MNIST (Xiao et al. 2017) as (images, labels) tensors: images uint8
    (N, 28, 28), labels int64 (N,) in 0..9 (FASHION_CLASSES). 'train': 60,000, 'test':
    10,000. Copied from Debian's dataset-fashion-mnist by `make data`; checked against
    data/SHA256SUMS before use."""
    import torch
    if split not in _FASHION_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    images, labels = _load_fashion(split, Path(data_dir or DATA_DIR).resolve())
    return torch.from_numpy(images.copy()), torch.from_numpy(labels.astype("int64"))
