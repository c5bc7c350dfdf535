"""attention_course.documents: chapter 11's Bible passages are labelled by their book's
genre, split by whole chapters with every genre in every split, the same in every
translation, and the planted variant says where its one decisive verse is."""
import hashlib

import pytest
import torch

from attention_course.data import BOOKS, book_of, load_bible
from attention_course.documents import (GENRE_NAMES, GENRES, SPLITS, PassageConfig,
                                        chapter_split, genre_of, make_passages,
                                        make_planted, shared_verse_ids)

# a SHA-256 of make_passages("test") in the WEB: if it changes, chapter 11's records do
GOLDEN_TEST_PASSAGES = "1625e898"


def fingerprint(passages) -> str:
    h = hashlib.sha256()
    for ids, label, planted in zip(passages.verse_ids, passages.labels.tolist(),
                                   passages.planted.tolist()):
        h.update(repr((ids, label, planted)).encode())
    return h.hexdigest()[:8]


@pytest.fixture(scope="module")
def splits():
    return {s: make_passages(s) for s in SPLITS}


def test_genres_cover_every_book_once():
    books = [b for g in GENRES.values() for b in g]
    assert sorted(books) == sorted(BOOKS) and len(books) == len(set(books))
    assert genre_of("Genesis") == "law" and genre_of("Acts") == "gospels"
    assert genre_of("Lamentations") == "prophets" and genre_of("Jude") == "letters"
    assert GENRES["apocalypse"] == ("Revelation",)
    with pytest.raises(ValueError, match="unknown book"):
        genre_of("Hezekiah")


def test_splits_are_whole_chapters_with_every_genre(splits):
    seen = {}
    for split, p in splits.items():
        assert set(p.labels.tolist()) == set(range(len(GENRE_NAMES))), split
        for ids in p.verse_ids:
            chapter = {v // 1_000 for v in ids}
            assert len(chapter) == 1                       # one chapter per passage
            key = chapter.pop()
            assert seen.setdefault(key, split) == split    # a chapter in one split
            assert chapter_split(book_of(ids[0]), key % 1_000) == split
    total = sum(len(p) for p in splits.values())
    for split in ("dev", "test"):
        assert 0.07 < len(splits[split]) / total < 0.14    # about a tenth each


def test_passages_are_consecutive_shared_verses_with_their_genre(splits):
    shared = shared_verse_ids()
    position = {v: i for i, v in enumerate(shared)}
    web = load_bible("web")
    p = splits["dev"]
    assert len(p.verse_ids[0]) == PassageConfig().verses
    for ids, verses, label in zip(p.verse_ids, p.verses, p.labels.tolist()):
        assert [position[v] for v in ids] == list(range(position[ids[0]],
                                                        position[ids[0]] + len(ids)))
        assert verses == [web[v] for v in ids]
        assert GENRE_NAMES[label] == genre_of(book_of(ids[0]))
    assert (p.planted == -1).all()


def test_every_translation_has_the_same_passages(splits):
    for code in ("kjv", "asv", "ylt"):
        other = make_passages("test", code)
        assert other.verse_ids == splits["test"].verse_ids
        assert torch.equal(other.labels, splits["test"].labels)
        assert other.verses != splits["test"].verses
        assert all(v.strip() for verses in other.verses for v in verses)


def test_planted_passages_say_where_the_decisive_verse_is(splits):
    a, b = make_planted("test", seed=0), make_planted("test", seed=0)
    assert a.verse_ids == b.verse_ids and torch.equal(a.labels, b.labels)
    assert make_planted("test", seed=1).verse_ids != a.verse_ids
    base = splits["test"]
    test_ids = {v for ids in base.verse_ids for v in ids}
    web = load_bible("web")
    for ids, verses, label, where, host_ids, host in zip(
            a.verse_ids, a.verses, a.labels.tolist(), a.planted.tolist(),
            base.verse_ids, base.labels.tolist()):
        donor = ids[where]
        assert ids[:where] + ids[where + 1:] == host_ids
        assert GENRE_NAMES[label] == genre_of(book_of(donor)) != GENRE_NAMES[host]
        assert donor in test_ids                   # drawn from the same split
        assert verses[where] == web[donor]
    assert len(set(a.labels.tolist())) == len(GENRE_NAMES)
    assert len(set(a.planted.tolist())) == PassageConfig().verses + 1


def test_the_committed_fingerprint():
    assert fingerprint(make_passages("test")) == GOLDEN_TEST_PASSAGES


@pytest.mark.parametrize("call, match", [
    (lambda: make_passages("validation"), "split must be one of"),
    (lambda: make_passages("test", "niv"), "unknown translation"),
    (lambda: make_planted("dev", translation="vulgate"), "unknown translation"),
    (lambda: PassageConfig(verses=1), "at least 2 verses"),
    (lambda: chapter_split("Jude", 2), "no chapter 2 of 'Jude'"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(ValueError, match=match):
        call()
