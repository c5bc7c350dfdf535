"""The verse-aligned parallel corpus that chapters 3-4 translate, and its copy baseline."""
import pytest
import sacrebleu

from attention_course.data import SPLITS, book_of, parallel_verses


def test_pairs_are_aligned_and_non_empty():
    pairs = parallel_verses("kjv", "asv")
    assert len(pairs) == 31_102 - 16                       # the ASV's 16 omitted verses drop out
    assert all(s.strip() and t.strip() for _, s, t in pairs)
    ids = [v for v, _, _ in pairs]
    assert ids == sorted(ids)
    assert dict((v, t) for v, _, t in pairs)[43011035] == "Jesus wept."


def test_splits_are_whole_books():
    for split, books in SPLITS.items():
        assert {book_of(v) for v, _, _ in parallel_verses("ylt", "web", split)} == set(books)
    train_books = {book_of(v) for v, _, _ in parallel_verses("ylt", "web", "train")}
    assert not train_books & {b for books in SPLITS.values() for b in books}


@pytest.mark.parametrize("src,tgt,expected", [("ylt", "web", 25.89), ("kjv", "asv", 70.60)])
def test_copy_baseline_bleu_on_the_test_books(src, tgt, expected):
    # Output = input. A model must beat this to claim it learned anything; KJV and ASV are close.
    pairs = parallel_verses(src, tgt, "test")
    assert len(pairs) == 1835
    bleu = sacrebleu.corpus_bleu([s for _, s, _ in pairs], [[t for _, _, t in pairs]])
    assert round(bleu.score, 2) == pytest.approx(expected, abs=0.01)


def test_bad_split_is_a_clear_error():
    with pytest.raises(ValueError, match="split must be"):
        parallel_verses("kjv", "asv", "validation")
