"""Chapter 3's data, tokenisers, encoder-decoder and decoding loops (attention_course.translation, .seq2seq)."""
import datetime as dt
import itertools

import pytest
import sacrebleu
import torch
from torch.nn import functional as F

from attention_course.seq2seq import (Seq2Seq, Seq2SeqConfig, beam_search, greedy_decode,
                                      length_penalty, load_checkpoint, save_checkpoint, seq2seq_loss, translate)
from attention_course.translation import (BOS, EOS, PAD, SPECIALS, CharTokenizer, SubwordTokenizer, bleu,
                                          bleu_by_length, encode_pairs, length_batches, make_batch, make_dates, pad)


# ------------------------------------------------------------------------------------- data
def test_dates_are_valid_seeded_and_varied():
    pairs = make_dates(2000, seed=3)
    assert pairs == make_dates(2000, seed=3) and pairs != make_dates(2000, seed=4)
    for source, iso in pairs:
        d = dt.date.fromisoformat(iso)
        assert dt.date(1950, 1, 1) <= d <= dt.date(2049, 12, 31)
        assert str(d.year) in source or f"{d.year % 100:02d}" in source, (source, iso)
    assert len({s for s, _ in pairs}) > 1990                          # hardly any repeats
    assert any(s.isupper() for s, _ in pairs) and any(s.islower() for s, _ in pairs)


def test_numeric_dates_are_day_first():
    for source, iso in make_dates(3000, seed=5):
        parts = source.split("/")
        if len(parts) == 3 and len(parts[2]) == 4:                      # dd/mm/yyyy, never mm/dd/yyyy
            day, month, year = parts
            assert iso == f"{year}-{month}-{day}"
        elif len(parts) == 3:                                            # yyyy/m/d
            year, month, day = map(int, parts)
            assert iso == f"{year:04d}-{month:02d}-{day:02d}"


def test_char_tokenizer_specials_and_round_trip():
    tok = CharTokenizer(["abc", "cab 1"])
    assert tok.itos[:4] == list(SPECIALS) and (PAD, BOS, EOS) == (0, 2, 3)
    assert tok.decode(tok.encode("a cab")) == "a cab"
    assert tok.encode("z") == [1]                                       # unseen -> <unk>
    assert tok.decode([BOS, *tok.encode("ab"), EOS, PAD]) == "ab"       # specials are skipped


def test_subword_tokenizer_round_trips_any_text():
    tok = SubwordTokenizer.train(["In the beginning God created the heavens and the earth."] * 20, vocab_size=300)
    for text in ["the earth", "Zebulun's  café — 42!", ""]:
        assert tok.decode(tok.encode(text)) == text                     # byte-level: nothing is lost
    assert [tok.tokenizer.id_to_token(i) for i in range(4)] == list(SPECIALS)
    again = SubwordTokenizer.from_str(tok.to_str())
    assert again.encode("the heavens") == tok.encode("the heavens")


def test_batches_shift_targets_and_pad():
    pairs = [([5, 6, 7], [8, 9]), ([5], [8, 9, 10, 11])]
    src, src_len, tgt_in, tgt_out = make_batch(pairs)
    assert src.tolist() == [[5, 6, 7], [5, PAD, PAD]] and src_len.tolist() == [3, 1]
    assert tgt_in.tolist() == [[BOS, 8, 9, PAD, PAD], [BOS, 8, 9, 10, 11]]
    assert tgt_out.tolist() == [[8, 9, EOS, PAD, PAD], [8, 9, 10, 11, EOS]]


def test_length_batches_cover_every_pair_once():
    pairs = [([1] * n, [1]) for n in torch.randint(1, 40, (203,)).tolist()]
    batches = length_batches(pairs, 16, torch.Generator().manual_seed(0))
    assert sorted(itertools.chain(*batches)) == list(range(203))
    ordered = length_batches(pairs, 16, shuffle=False)
    lengths = [len(pairs[i][0]) for i in itertools.chain(*ordered)]
    assert lengths == sorted(lengths)


def test_encode_pairs_filters_only_when_asked():
    tok = CharTokenizer(["abcdef"])
    pairs = [("abc", "ab"), ("abcdef", "a")]
    assert len(encode_pairs(pairs, tok, tok)) == 2
    assert len(encode_pairs(pairs, tok, tok, max_len=4)) == 1


def test_bleu_is_sacrebleu_and_checks_lengths():
    hyps, refs = ["the cat sat on the mat", "a dog"], ["the cat sat on a mat", "a dog barked"]
    assert bleu(hyps, refs) == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    with pytest.raises(ValueError, match="2 hypotheses but 1 references"):
        bleu(hyps, refs[:1])
    rows = bleu_by_length([3, 12], hyps, refs, [1, 10, 20, 30])
    assert [(r[0], r[1]) for r in rows] == [("1-9", 1), ("10-19", 1)]       # the empty bin is left out


# ------------------------------------------------------------------------------------- model
CFG = Seq2SeqConfig(vocab_size=30, embed_size=8, hidden_size=12, dropout=0.0)


def _batch(seed=0, B=4, S=7):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, 30, (B, S), generator=g)
    src_len = torch.randint(1, S + 1, (B,), generator=g)
    src_len[0] = S
    src[torch.arange(S) >= src_len.unsqueeze(1)] = PAD
    return src, src_len


def test_encoder_ignores_padding():
    torch.manual_seed(0)
    model = Seq2Seq(CFG).eval()
    src, src_len = _batch()
    annotations, summary = model.encoder(src, src_len)
    assert annotations.shape == (4, 7, 24) and summary.shape == (4, 24)
    for b in range(4):
        n = int(src_len[b])
        alone_ann, alone_sum = model.encoder(src[b:b + 1, :n], src_len[b:b + 1])
        assert torch.allclose(summary[b], alone_sum[0], atol=1e-6)
        assert torch.allclose(annotations[b, :n], alone_ann[0], atol=1e-6)
        assert annotations[b, n:].abs().max() == 0 if n < 7 else True


def test_loss_ignores_padding():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 30)
    tgt = torch.tensor([[5, 6, EOS, PAD, PAD], [5, 6, 7, 8, EOS]])
    real = tgt != PAD
    assert torch.allclose(seq2seq_loss(logits, tgt), F.cross_entropy(logits[real], tgt[real]))


def test_teacher_forcing_matches_step_by_step():
    torch.manual_seed(0)
    model = Seq2Seq(CFG).eval()
    src, src_len = _batch()
    tgt_in = torch.randint(4, 30, (4, 5))
    logits = model(src, src_len, tgt_in)
    memory, s = model.encode(src, src_len)
    for i in range(5):
        step_logits, s, _ = model.step(tgt_in[:, i], s, memory)
        assert torch.allclose(logits[:, i], step_logits, atol=1e-6)


def _log_prob(model, src, src_len, ids):
    """log P(ids + <eos> | src) of one sentence."""
    tgt_in = torch.tensor([[BOS] + ids])
    logp = F.log_softmax(model(src, src_len, tgt_in), -1)[0]
    return sum(logp[i, t].item() for i, t in enumerate(ids + [EOS]))


def test_beam_of_one_is_greedy_and_wider_beams_score_higher():
    torch.manual_seed(1)
    model = Seq2Seq(CFG).eval()
    src, src_len = _batch(seed=1)
    greedy = greedy_decode(model, src, src_len, max_len=8)
    assert beam_search(model, src, src_len, beam_size=1, max_len=8, alpha=0.0) == greedy
    beam = beam_search(model, src, src_len, beam_size=5, max_len=8, alpha=0.0)
    for b in range(4):
        if EOS not in greedy[b] and len(greedy[b]) == 8:
            continue                                                      # greedy never finished
        lp_beam = _log_prob(model, src[b:b + 1], src_len[b:b + 1], beam[b])
        lp_greedy = _log_prob(model, src[b:b + 1], src_len[b:b + 1], greedy[b])
        assert lp_beam >= lp_greedy - 1e-4


def test_beam_search_finds_the_best_sequence_by_brute_force():
    torch.manual_seed(2)
    cfg = Seq2SeqConfig(vocab_size=6, embed_size=4, hidden_size=6, dropout=0.0)
    model = Seq2Seq(cfg).eval()
    with torch.no_grad():                                                 # make <eos> likely: short outputs
        model.embedding.weight[EOS] *= 3
    src, src_len = torch.tensor([[4, 5, 4]]), torch.tensor([3])
    best, best_score = None, float("-inf")
    for n in range(0, 4):
        for ids in itertools.product([4, 5], repeat=n):
            if PAD in ids:
                continue
            score = _log_prob(model, src, src_len, list(ids)) / length_penalty(torch.tensor(n + 1.0), 0.6).item()
            if score > best_score:
                best, best_score = list(ids), score
    if len(best) < 3:                                                     # the optimum lies inside the search space
        got = beam_search(model, src, src_len, beam_size=12, max_len=4, alpha=0.6)[0]
        assert got == best


def test_greedy_returns_aligned_attention_shapes_none_without_attention():
    model = Seq2Seq(CFG)
    src, src_len = _batch()
    out, weights = greedy_decode(model, src, src_len, max_len=5, return_weights=True)
    assert len(out) == 4 and weights == [None] * 4


def test_translate_keeps_order_and_handles_batches():
    tok = CharTokenizer(["abcdefgh"])
    model = Seq2Seq(Seq2SeqConfig(vocab_size=tok.vocab_size, embed_size=4, hidden_size=6))
    texts = ["abc", "a", "abcdefgh", "bb", "c"]
    one = translate(model, texts, tok, tok, batch_size=2, max_len=4)
    assert one == [translate(model, [t], tok, tok, max_len=4)[0] for t in texts]


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    tok = SubwordTokenizer.train(["a few words to learn from"] * 5, vocab_size=280)
    cfg = Seq2SeqConfig(vocab_size=tok.vocab_size, embed_size=8, hidden_size=12)
    model = Seq2Seq(cfg).eval()
    save_checkpoint(tmp_path / "m.safetensors", model, tok, note="hello", epochs=3)
    loaded, tok2, meta = load_checkpoint(tmp_path / "m.safetensors", lambda c, m: Seq2Seq(c))
    assert meta == {"note": "hello", "epochs": "3"} and loaded.cfg == cfg
    assert tok2.to_str() == tok.to_str()
    src, src_len = torch.tensor([tok.encode("a few words")]), None
    src_len = torch.tensor([src.shape[1]])
    tgt_in = torch.tensor([[BOS, 5, 6]])
    assert torch.allclose(loaded(src, src_len, tgt_in), model(src, src_len, tgt_in), atol=0.02)   # float16 storage
    assert loaded.embedding.weight.data_ptr() == loaded.decoder.embedding.weight.data_ptr()        # still tied


def test_wrong_source_shape_is_explained():
    model = Seq2Seq(CFG)
    with pytest.raises(ValueError, match=r"src \(batch, source tokens\).*got src \(7,\).*unsqueeze\(0\)"):
        model.encode(torch.randint(4, 30, (7,)), torch.tensor([7]))
    with pytest.raises(ValueError, match=r"src_len \(batch,\)"):
        model.encode(torch.randint(4, 30, (2, 7)), torch.tensor([7]))


def test_pad():
    assert pad([[1, 2], [3]]).tolist() == [[1, 2], [3, PAD]]


def test_load_checkpoint_with_the_wrong_config_class_says_what_to_pass(tmp_path):
    from dataclasses import dataclass

    @dataclass
    class OtherConfig:
        d_model: int = 4

    tok = SubwordTokenizer.train(["a few words to learn from"] * 5, vocab_size=280)
    model = Seq2Seq(Seq2SeqConfig(vocab_size=tok.vocab_size, embed_size=4, hidden_size=6))
    save_checkpoint(tmp_path / "m.safetensors", model, tok)
    with pytest.raises(ValueError, match="config_class="):
        load_checkpoint(tmp_path / "m.safetensors", lambda c, m: Seq2Seq(c),
                        config_class=OtherConfig)
