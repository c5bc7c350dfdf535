"""The committed corpora: checksums, clear errors on damage, verse alignment, and reproducibility."""
import gzip
import hashlib
import importlib.util
import re
import shutil
from pathlib import Path

import pytest
import torch

from attention_course import data
from attention_course.data import DataError, bible_text, book_of, load_bible, split_of, verified_path
from attention_course.runtime import DATA_DIR, ROOT

CODES = ("kjv", "asv", "ylt", "web")


def test_manifest_matches_every_committed_file():
    listed = {line.split()[1] for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines()}
    on_disk = {str(p.relative_to(DATA_DIR)) for p in (DATA_DIR / "bible").glob("*.tsv.gz")}
    on_disk |= {str(p.relative_to(DATA_DIR)) for p in (DATA_DIR / "fashion_mnist").glob("*.gz")}
    assert listed == on_disk
    for name in listed:
        verified_path(name)                                  # raises on a mismatch


# The ASV leaves empty the verses that its Greek text omits (Matthew 17:21, John 5:4, ...).
ASV_OMITTED = {40017021, 40018011, 40023014, 41007016, 41009044, 41009046, 41011026, 41015028,
               42017036, 42023017, 43005004, 44008037, 44015034, 44024007, 44028029, 45016024}
# The WEB puts the closing doxology of Romans at 14:24-26, where the KJV has it at 16:25-27.
WEB_ONLY, KJV_ONLY = {45014024, 45014025, 45014026}, {45016025, 45016026, 45016027}


@pytest.mark.parametrize("code", CODES)
def test_every_translation_has_all_verses(code):
    verses = load_bible(code)
    assert len(verses) == 31_102
    empty = {v for v, text in verses.items() if not text.strip()}
    assert empty == (ASV_OMITTED if code == "asv" else set())


def test_versification_differences_are_the_known_ones():
    kjv, web = set(load_bible("kjv")), set(load_bible("web"))
    assert web - kjv == WEB_ONLY and kjv - web == KJV_ONLY
    assert set(load_bible("asv")) == set(load_bible("ylt")) == kjv


# Verses whose wording is known in each translation: a misaligned index shows up here first.
SPOT_CHECKS = {
    (1001001, "kjv"): "In the beginning God created the heaven and the earth.",
    (1001001, "web"): "In the beginning God created the heavens and the earth.",
    (43011035, "kjv"): "Jesus wept.",
    (43011035, "ylt"): "Jesus wept.",
    (43011035, "asv"): "Jesus wept.",
    (43011035, "web"): "Jesus wept.",
}
SPOT_PREFIXES = {
    (7001001, "kjv"): "Now after the death of Joshua it came to pass",   # Judges 1:1, the verse BBE gets wrong
    (7001001, "asv"): "And it came to pass after the death of Joshua",
    (19023001, "web"): "Yahweh is my shepherd",
    (19023001, "kjv"): "The LORD [is] my shepherd",
    (66022021, "kjv"): "The grace of our Lord Jesus Christ",
}


def test_known_verses():
    for (vid, code), text in SPOT_CHECKS.items():
        assert load_bible(code)[vid] == text, (vid, code)
    for (vid, code), prefix in SPOT_PREFIXES.items():
        assert load_bible(code)[vid].startswith(prefix), (vid, code)


@pytest.mark.parametrize("code", CODES)
def test_no_verse_numbers_leak_into_text(code):
    # The source packages mark verses as "12. text"; a slicing bug would leave such markers behind.
    leaked = [v for v, t in load_bible(code).items() if re.match(r"^\d+\.\s", t)]
    assert len(leaked) == 0, leaked[:5]


def test_translations_are_aligned_by_length():
    # Aligned verses have similar lengths; a shifted index makes the ratio wander far from 1.
    kjv, web = load_bible("kjv"), load_bible("web")
    ratios = sorted(len(web[v]) / len(kjv[v]) for v in kjv.keys() & web.keys())
    median = ratios[len(ratios) // 2]
    assert 0.9 < median < 1.15
    wild = sum(r < 0.4 or r > 2.5 for r in ratios) / len(ratios)
    assert wild < 0.01


def test_book_splits():
    assert book_of(7001001) == "Judges" and split_of(7001001) == "test"
    assert book_of(41001001) == "Mark" and split_of(41001001) == "dev"
    assert split_of(1001001) == "train"
    sizes = {s: len(bible_text("web", s)) for s in ("train", "dev", "test")}
    assert sizes["train"] > 10 * sizes["dev"] > 0 and sizes["test"] > 0


@pytest.fixture
def data_copy(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path / "data", ignore=shutil.ignore_patterns("*.py"))
    data._load.cache_clear()
    data._load_fashion.cache_clear()
    yield tmp_path / "data"
    data._load.cache_clear()
    data._load_fashion.cache_clear()


def test_corrupt_file_is_named_with_a_fix(data_copy):
    path = data_copy / "bible" / "web.tsv.gz"
    raw = bytearray(path.read_bytes())
    raw[100] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"web\.tsv\.gz is corrupt.*git checkout -- data/bible/web\.tsv\.gz"):
        load_bible("web", data_dir=data_copy)


def test_a_corrupt_packaged_copy_says_reinstall(data_copy, monkeypatch):
    # In an installed package there is no git to restore from: the fix is to reinstall.
    monkeypatch.setattr(data, "PACKAGED_ROOT", data_copy.parent)
    path = data_copy / "bible" / "kjv.tsv.gz"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"kjv\.tsv\.gz is corrupt.*pip install --force-reinstall"):
        load_bible("kjv", data_dir=data_copy)


def test_missing_file_is_named_with_a_fix(data_copy):
    (data_copy / "bible" / "ylt.tsv.gz").unlink()
    with pytest.raises(DataError, match=r"ylt\.tsv\.gz is missing.*make data"):
        load_bible("ylt", data_dir=data_copy)


def test_missing_manifest_is_a_clear_error(data_copy):
    (data_copy / "SHA256SUMS").unlink()
    with pytest.raises(DataError, match="SHA256SUMS is missing"):
        load_bible("kjv", data_dir=data_copy)


def test_unknown_translation_and_split():
    with pytest.raises(ValueError, match="unknown translation 'bbe'"):
        load_bible("bbe")
    with pytest.raises(ValueError, match="split must be"):
        bible_text("web", "validation")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("pythonbible") is None, reason="pythonbible not installed")
def test_build_script_reproduces_the_committed_files():
    spec = importlib.util.spec_from_file_location("build_bible", ROOT / "data" / "build_bible.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    sums = dict(reversed(line.split()) for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines())
    for code in CODES:
        rebuilt = build.gzip_bytes(build.build_tsv(code))
        assert hashlib.sha256(rebuilt).hexdigest() == sums[f"bible/{code}.tsv.gz"], code


def test_fashion_mnist_has_the_published_counts():
    images, labels = data.load_fashion_mnist("train")
    assert images.shape == (60_000, 28, 28) and images.dtype == torch.uint8
    assert labels.bincount().tolist() == [6_000] * 10
    assert abs(images.float().mean().item() / 255 - 0.2860) < 1e-4      # Xiao et al. 2017
    images, labels = data.load_fashion_mnist("test")
    assert images.shape == (10_000, 28, 28) and labels.bincount().tolist() == [1_000] * 10
    assert len(data.FASHION_CLASSES) == 10
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        data.load_fashion_mnist("dev")


def test_fashion_mnist_corrupt_and_missing_files_are_named_with_a_fix(data_copy):
    path = data_copy / "fashion_mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(path.read_bytes())
    raw[50] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is corrupt.*git checkout"):
        data.load_fashion_mnist("test", data_dir=data_copy)
    (data_copy / "fashion_mnist" / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is missing.*make data"):
        data.load_fashion_mnist("train", data_dir=data_copy)


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_committed_fashion_files_are_debians_bytes():
    # build_fashion_mnist.py copies them unchanged: the package's files hash as the manifest says
    src = Path("/usr/share/datasets/fashion-mnist")
    sums = dict(reversed(line.split()) for line in (DATA_DIR / "SHA256SUMS").read_text().splitlines())
    for path in src.glob("*-ubyte.gz"):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sums[f"fashion_mnist/{path.name}"]
