"""Chapter 11's classifiers: the hierarchical attention network equals a reference built
from torch.nn.GRU run on each passage without padding; the baselines, the faithfulness
tools and the checkpoints."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from attention_course.documents import Passages, make_passages, make_planted
from attention_course.hierarchical import (PAD_WORD, UNK_WORD, ContextAttention,
                                           DocumentBatch, HANConfig, WordVocab,
                                           accuracy, build_classifier,
                                           encode_passages, erase_verses,
                                           gradient_input, load_classifier,
                                           peak_accuracy, predict, random_real_verse,
                                           replaced_attention, save_classifier,
                                           total_variation, true_class_drop,
                                           verse_words)
from attention_course.rnn import copy_weights_from_torch

V = 30


def toy_batch(seed=0, lengths=((3, 5, 1), (2, 4), (6,))) -> DocumentBatch:
    """Passages with the given verse lengths, padded, with garbage ids under the
    padding (a model must not read them)."""
    g = torch.Generator().manual_seed(seed)
    N, S, T = len(lengths), max(map(len, lengths)), max(map(max, lengths))
    ids = torch.randint(2, V, (N, S, T), generator=g)
    word_mask = torch.zeros(N, S, T, dtype=torch.bool)
    for n, p in enumerate(lengths):
        for s, L in enumerate(p):
            word_mask[n, s, :L] = True
    ids = ids.masked_fill(~word_mask, PAD_WORD)
    return DocumentBatch(ids, word_mask, word_mask.any(-1),
                         torch.arange(N) % 7, torch.full((N,), -1))


def model(kind="han", pooling="attention", seed=0):
    torch.manual_seed(seed)
    m = build_classifier(kind, HANConfig(V, embed_size=8, hidden_size=5, attn_size=6,
                                         pooling=pooling))
    return m.eval()


def reference_han(m, ids_one_passage: list[list[int]]) -> torch.Tensor:
    """The logits of one unpadded passage, with torch.nn.GRU and plain softmax."""
    H = m.cfg.hidden_size
    word_gru = nn.GRU(m.cfg.embed_size, H, batch_first=True, bidirectional=True)
    verse_gru = nn.GRU(2 * H, H, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for ours, ref in ((m.word_rnn, word_gru), (m.verse_rnn, verse_gru)):
            for layer, cells in enumerate(ours.layers):
                for d, cell in enumerate(cells):
                    sfx = f"_l{layer}" + ("_reverse" if d else "")
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                        getattr(ref, name + sfx).copy_(getattr(cell, name))

    def pool(att, h):                                       # h (T, D), no padding
        if isinstance(att, ContextAttention):
            a = F.softmax(torch.tanh(att.proj(h)) @ att.context, dim=0)
        else:
            a = torch.full((h.shape[0],), 1 / h.shape[0])
        return a @ h

    verses = []
    for words in ids_one_passage:
        h, _ = word_gru(m.embedding(torch.tensor([words])))
        verses.append(pool(m.word_pool, h[0]))
    h, _ = verse_gru(torch.stack(verses).unsqueeze(0))
    return m.out(pool(m.verse_pool, h[0]))


@pytest.mark.parametrize("pooling", ["attention", "mean"])
def test_han_equals_torch_reference_on_each_unpadded_passage(pooling):
    m, b = model(pooling=pooling), toy_batch()
    with torch.no_grad():
        out = m(b.ids, b.word_mask, b.verse_mask)
        for n in range(len(b)):
            passage = [b.ids[n, s][b.word_mask[n, s]].tolist()
                       for s in range(int(b.verse_mask[n].sum()))]
            torch.testing.assert_close(out.logits[n], reference_han(m, passage),
                                       atol=1e-5, rtol=1e-5)


def test_padding_gets_no_attention_and_rows_sum_to_one():
    m, b = model(), toy_batch()
    with torch.no_grad():
        out = m(b.ids, b.word_mask, b.verse_mask)
    assert (out.word_weights[~b.word_mask] == 0).all()
    assert (out.verse_weights[~b.verse_mask] == 0).all()
    sums = out.word_weights.sum(-1)
    torch.testing.assert_close(sums[b.verse_mask], torch.ones(int(b.verse_mask.sum())))
    torch.testing.assert_close(out.verse_weights.sum(-1), torch.ones(len(b)))
    assert (out.verse_vectors[~b.verse_mask] == 0).all()


@pytest.mark.parametrize("kind", ["flat", "bow"])
def test_baselines_ignore_padding(kind):
    m, b = model(kind), toy_batch()
    with torch.no_grad():
        batched = m(b.ids, b.word_mask, b.verse_mask).logits
        for n in range(len(b)):
            S = int(b.verse_mask[n].sum())
            T = int(b.word_mask[n].sum(-1).max())
            alone = m(b.ids[n:n + 1, :S, :T], b.word_mask[n:n + 1, :S, :T],
                      b.verse_mask[n:n + 1, :S]).logits
            torch.testing.assert_close(batched[n:n + 1], alone, atol=1e-5, rtol=1e-5)


def test_flat_model_reads_the_words_in_order_and_reports_verse_shares():
    m, b = model("flat"), toy_batch()
    with torch.no_grad():
        out = m(b.ids, b.word_mask, b.verse_mask)
        n = 0
        words = b.ids[n][b.word_mask[n]].unsqueeze(0)                   # (1, L)
        h, _ = m.rnn(m.embedding(words))
        _, w = m.pool(h, torch.ones_like(words, dtype=torch.bool))
    torch.testing.assert_close(out.word_weights[n][b.word_mask[n]], w[0])
    torch.testing.assert_close(out.verse_weights, out.word_weights.sum(-1))


def test_context_attention_formula_and_empty_rows():
    torch.manual_seed(0)
    att = ContextAttention(4, 3)
    h = torch.randn(2, 5, 4)
    mask = torch.tensor([[True, True, True, False, False], [False] * 5])
    pooled, w = att(h, mask)
    a = F.softmax(torch.tanh(att.proj(h[0, :3])) @ att.context, 0)
    torch.testing.assert_close(w[0, :3], a)
    torch.testing.assert_close(pooled[0], a @ h[0, :3])
    assert (w[1] == 0).all() and (pooled[1] == 0).all()
    assert not torch.isnan(pooled).any()


def test_bad_batches_are_refused_with_a_reason():
    m, b = model(), toy_batch()
    with pytest.raises(ValueError, match="boolean"):
        m(b.ids, b.word_mask.long(), b.verse_mask)
    with pytest.raises(ValueError, match="verse_mask of shape"):
        m(b.ids, b.word_mask, b.verse_mask[:, :2])
    with pytest.raises(ValueError, match="one shape"):
        m(b.ids[0], b.word_mask[0], b.verse_mask)
    wrong = b.verse_mask.clone()
    wrong[1, 2] = True                       # a verse without words marked real
    with pytest.raises(ValueError, match="at least one real word"):
        m(b.ids, b.word_mask, wrong)
    gap = toy_batch(lengths=((0, 3), (2, 2)))   # an empty verse before a real one
    with pytest.raises(ValueError, match="after the real ones"):
        m(gap.ids, gap.word_mask, gap.verse_mask)
    with pytest.raises(ValueError, match="pooling"):
        HANConfig(V, pooling="max")
    with pytest.raises(ValueError, match="kind"):
        build_classifier("cnn", HANConfig(V))


def test_words_and_vocabulary():
    assert verse_words("Yahweh's word, 12 times!") == [
        "yahweh", "'s", "word", ",", "12", "times", "!"]
    p = Passages([["a b b", "c ."]], [[1, 2]], torch.tensor([0]), torch.tensor([-1]))
    vocab = WordVocab(p, min_freq=2)
    assert vocab.itos == ["<pad>", "<unk>", "b"]
    assert vocab.encode("b z") == [2, UNK_WORD]
    assert vocab.unknown_share(p) == pytest.approx(3 / 5)


def test_encode_passages_pads_and_truncates():
    p = Passages([["a b c", "b"], ["c c c c c"]], [[1, 2], [3]],
                 torch.tensor([0, 1]), torch.tensor([-1, -1]))
    vocab = WordVocab(p, min_freq=1)
    b = encode_passages(p, vocab, max_words=4)
    assert b.ids.shape == (2, 2, 4)
    assert b.word_mask.sum(-1).tolist() == [[3, 1], [4, 0]]
    assert b.verse_mask.tolist() == [[True, True], [True, False]]
    assert (b.ids[~b.word_mask] == PAD_WORD).all()
    assert b[1:].ids.shape == (1, 2, 4) and b[:1].ids.shape == (1, 2, 3)


def test_erase_verses_equals_the_passage_without_that_verse():
    b = toy_batch()
    erased = erase_verses(b, torch.tensor([1, 0, 0]))
    assert erased.verse_mask.tolist() == [[True, True, False], [True, False, False],
                                          [False, False, False]]
    torch.testing.assert_close(erased.ids[0, :2], b.ids[0, [0, 2]])
    torch.testing.assert_close(erased.ids[1, 0], b.ids[1, 1])
    assert (erased.ids[~erased.word_mask] == PAD_WORD).all()
    with pytest.raises(ValueError, match="real verses"):
        erase_verses(b, torch.tensor([0, 2, 0]))   # passage 1 has 2 verses


def test_true_class_drop_matches_two_predictions():
    m, b = model(), toy_batch(lengths=((3, 5, 1), (2, 4, 4), (6, 2)))
    which = torch.tensor([2, 0, 1])
    drop = true_class_drop(m, b, which)
    rows = torch.arange(3)
    full = predict(m, b).probs[rows, b.labels]
    cut = predict(m, erase_verses(b, which)).probs[rows, b.labels]
    torch.testing.assert_close(drop, full - cut)


def test_gradient_input_is_the_gradient_dotted_with_the_verse_vector():
    m, b = model(), toy_batch()
    scores = gradient_input(m, b)
    assert torch.isinf(scores[~b.verse_mask]).all()
    n = 0
    v, _ = m.encode_verses(b.ids[n:n + 1], b.word_mask[n:n + 1])
    v = v.detach().requires_grad_(True)
    logits, _ = m.classify_verses(v, b.verse_mask[n:n + 1])
    logits.log_softmax(-1)[0, b.labels[n]].backward()
    torch.testing.assert_close(scores[n], (v.grad * v).sum(-1)[0].detach())


def test_peak_accuracy_and_chance():
    w = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.5, 9.0], [0.2, 0.3, 0.5]])
    mask = torch.tensor([[True] * 3, [True, True, False], [True] * 3])
    hits, chance = peak_accuracy(w, mask, torch.tensor([1, 0, 0]))
    assert hits == pytest.approx(2 / 3)               # padding's 9.0 ignored
    assert chance == pytest.approx((1 / 3 + 1 / 2 + 1 / 3) / 3)


def test_random_verses_and_replaced_attention_stay_on_real_verses():
    mask = torch.tensor([[True, True, False], [True, True, True]])
    g = torch.Generator().manual_seed(0)
    picks = torch.stack([random_real_verse(mask, g) for _ in range(200)])
    assert (picks[:, 0] < 2).all() and set(picks[:, 1].tolist()) == {0, 1, 2}
    w = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.3, 0.5]])
    s = replaced_attention(w, mask, "shuffle", g)
    assert sorted(s[0].tolist()) == sorted(w[0].tolist()) and s[0, 2] == 0
    u = replaced_attention(w, mask, "uniform")
    torch.testing.assert_close(u, torch.tensor([[0.5, 0.5, 0], [1 / 3] * 3]))
    with pytest.raises(ValueError, match="shuffle"):
        replaced_attention(w, mask, "reverse")
    # half of |0.2 - 1/3| + |0.3 - 1/3| + |0.5 - 1/3| = 1/6
    torch.testing.assert_close(total_variation(w, u), torch.tensor([0.4, 1 / 6]))


def test_replaced_weights_change_the_output_through_the_verse_level_only():
    m, b = model(), toy_batch()
    base = predict(m, b)
    same = predict(m, b, verse_weights=base.verse_weights)
    torch.testing.assert_close(same.probs, base.probs)
    with pytest.raises(ValueError, match="no verse attention"):
        model("flat")(b.ids, b.word_mask, b.verse_mask, base.verse_weights)


@pytest.mark.parametrize("kind,pooling", [("han", "attention"), ("han", "mean"),
                                          ("flat", "attention"), ("bow", "attention")])
def test_checkpoint_round_trip(tmp_path, kind, pooling):
    m, b = model(kind, pooling), toy_batch()
    path = tmp_path / "m.safetensors"
    save_classifier(path, m, kind, epochs=1)
    back = load_classifier(path)
    assert back.cfg == m.cfg and type(back) is type(m)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.half().float())
    torch.testing.assert_close(predict(back, b).probs, predict(m, b).probs)


def test_loading_something_else_is_refused(tmp_path):
    from safetensors.torch import save_file
    path = tmp_path / "x.safetensors"
    save_file({"w": torch.zeros(1)}, str(path), metadata={"arch": "captioner"})
    with pytest.raises(ValueError, match="no chapter 11 classifier"):
        load_classifier(path)


def test_accuracy_and_a_real_batch_of_planted_passages():
    train = make_passages("train")
    vocab = WordVocab(train)
    b = encode_passages(make_planted("dev"), vocab)
    assert b.verse_mask.all() and b.ids.shape[1] == 7
    assert ((b.planted >= 0) & (b.planted < 7)).all()
    assert accuracy(torch.eye(7)[b.labels], b.labels) == 1.0
