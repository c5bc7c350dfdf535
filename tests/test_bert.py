"""Chapter 7: BERT and ALBERT (attention_course.bert) against transformers' BertForPreTraining
and AlbertForPreTraining, our WordPiece encoder against tokenizers', the masking statistics,
the NSP/SOP label conventions and the ValueErrors on bad input."""
import os

import pytest
import torch
from torch.nn import functional as F

from attention_course.bert import (CLS, IN_ORDER, IS_NEXT, MASK, MAX_WORD_CHARS, NEVER_MASKED,
                                   NOT_NEXT, PAD, SEP, SPECIAL_TOKENS, SWAPPED, BertConfig,
                                   BertForPreTraining, WordPiece, albert_config,
                                   bert_parameter_formula, collate_pairs,
                                   copy_weights_from_hf_albert, copy_weights_from_hf_bert,
                                   count_parameters, load_wordpiece, make_pair, mask_tokens,
                                   nsp_pairs, sop_pairs, token_types_from_ids,
                                   wordpiece_tokenizer)
from attention_course.data import bible_text
from attention_course.runtime import CHECKPOINT_DIR
from attention_course.transformer import ACTIVATIONS

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers")
VOCAB = CHECKPOINT_DIR / "ch7_wordpiece.txt"
V = 300                                   # model tests: a small vocabulary is enough


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def wordpiece():
    return WordPiece(load_wordpiece(VOCAB))


def small(**kw):
    sizes = dict(vocab_size=V, d_model=48, num_heads=4, d_ff=96, num_layers=2, max_len=40,
                 dropout=0.0)
    sizes.update(kw)
    return sizes


def padded_batch(generator, lengths=((9, 7), (3, 2), (15, 12))):
    pairs = [make_pair(torch.randint(5, V, (a,), generator=generator).tolist(),
                       torch.randint(5, V, (b,), generator=generator).tolist(), 40)
             for a, b in lengths]
    batch = collate_pairs(pairs)
    assert (~batch[2]).any()
    return batch


def max_diffs(ours, hf, batch, base):
    input_ids, token_type_ids, mask = batch
    with torch.no_grad():
        H, pooled = ours.bert(*batch)
        mlm_logits, pair_logits = ours(*batch)
        out = hf(input_ids=input_ids, token_type_ids=token_type_ids,
                 attention_mask=mask.long(), output_hidden_states=True)
        ref_pooled = getattr(hf, base)(input_ids=input_ids, token_type_ids=token_type_ids,
                                       attention_mask=mask.long()).pooler_output
    pair_ref = out.seq_relationship_logits if base == "bert" else out.sop_logits
    return {"hidden": (H - out.hidden_states[-1])[mask].abs().max().item(),
            "pooled": (pooled - ref_pooled).abs().max().item(),
            "mlm": (mlm_logits - out.prediction_logits)[mask].abs().max().item(),
            "pair": (pair_logits - pair_ref).abs().max().item()}


def hf_bert(cfg, act="gelu"):
    return transformers.BertForPreTraining(transformers.BertConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.d_model, num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads, intermediate_size=cfg.d_ff,
        max_position_embeddings=cfg.max_len, hidden_act=act, layer_norm_eps=1e-12,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        attn_implementation="eager")).eval()


@pytest.mark.parametrize("d_model,num_heads", [(48, 4), (36, 3)])   # d_head 12: scale not 2^k
def test_bert_matches_transformers(d_model, num_heads):
    cfg = BertConfig(**small(d_model=d_model, num_heads=num_heads))
    torch.manual_seed(0)
    hf = hf_bert(cfg)
    with torch.no_grad():                 # non-trivial LayerNorms and biases
        for name, p in hf.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))
    ours = copy_weights_from_hf_bert(BertForPreTraining(cfg), hf).eval()
    diffs = max_diffs(ours, hf, padded_batch(torch.Generator().manual_seed(1)), "bert")
    assert max(diffs.values()) <= 1e-5, diffs


def test_albert_matches_transformers():
    cfg = albert_config(embed_size=16, **small(num_layers=3))
    torch.manual_seed(0)
    hf = transformers.AlbertForPreTraining(transformers.AlbertConfig(
        vocab_size=V, embedding_size=16, hidden_size=cfg.d_model, num_hidden_layers=3,
        num_attention_heads=cfg.num_heads, intermediate_size=cfg.d_ff,
        max_position_embeddings=cfg.max_len, hidden_act="gelu", layer_norm_eps=1e-12,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        classifier_dropout_prob=0.0, attn_implementation="eager")).eval()
    ours = copy_weights_from_hf_albert(BertForPreTraining(cfg), hf).eval()
    diffs = max_diffs(ours, hf, padded_batch(torch.Generator().manual_seed(2)), "albert")
    assert max(diffs.values()) <= 1e-5, diffs
    assert count_parameters(ours) == bert_parameter_formula(cfg)
    with pytest.raises(ValueError, match="not an ALBERT"):
        copy_weights_from_hf_albert(BertForPreTraining(BertConfig(**small())), hf)


def test_gelu_is_the_exact_one():
    x = torch.linspace(-4, 4, 8001, dtype=torch.float64)
    assert torch.allclose(ACTIVATIONS["gelu"](x), 0.5 * x * (1 + torch.erf(x / 2 ** 0.5)),
                          atol=1e-12)
    gap = (ACTIVATIONS["gelu"](x) - F.gelu(x, approximate="tanh")).abs()
    assert 4e-4 < gap.max() < 5e-4 and abs(abs(x[gap.argmax()]) - 2.70) < 0.02


def test_decoder_is_tied_to_the_word_embedding():
    for cfg in (BertConfig(**small()), albert_config(16, **small())):
        model = BertForPreTraining(cfg)
        emb = model.bert.embeddings.word.weight
        assert model.mlm.decoder.weight is emb
        assert model.mlm.decoder.weight.data_ptr() == emb.data_ptr()
        assert torch.equal(emb[PAD], torch.zeros_like(emb[PAD]))
        assert count_parameters(model) == bert_parameter_formula(cfg)


def test_wordpiece_matches_tokenizers_on_every_test_verse(wordpiece):
    assert wordpiece.tokens[:5] == list(SPECIAL_TOKENS)
    reference = wordpiece_tokenizer(wordpiece.tokens)
    for code in ("kjv", "asv", "ylt", "web"):
        lines = [l for l in bible_text(code, "test").splitlines() if l.strip()]
        theirs = [e.ids for e in reference.encode_batch(lines)]
        bad = [l for l, t in zip(lines, theirs) if wordpiece.encode(l) != t]
        assert not bad, f"{code}: {len(bad)} verses differ, e.g. {bad[0]!r}"
    long_word = "x" * (MAX_WORD_CHARS + 1)
    for text in (long_word, "x" * MAX_WORD_CHARS, "Naïve ☃ café!", "a\u00adb  \t c"):
        assert wordpiece.encode(text) == reference.encode(text).ids, text
    assert wordpiece.tokenize(long_word) == ["[UNK]"]


def test_load_wordpiece_rejects_a_broken_vocabulary(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("[UNK]\n[PAD]\n[CLS]\n[SEP]\n[MASK]\na\n")
    with pytest.raises(ValueError, match="first lines"):
        load_wordpiece(path)
    path.write_text("\n".join(SPECIAL_TOKENS) + "\na\na\n")
    with pytest.raises(ValueError, match="duplicate"):
        load_wordpiece(path)


def test_masking_statistics():
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 8000, (500, 128), generator=g)
    ids[:, 0], ids[:, 50], ids[:, 90], ids[:, 91:] = CLS, SEP, SEP, PAD
    masked, labels = mask_tokens(ids, NEVER_MASKED, 8000, g)
    eligible = ~torch.isin(ids, torch.tensor(NEVER_MASKED))
    chosen = labels != -100
    assert not (chosen & ~eligible).any(), "a special token or padding was chosen"
    assert abs(chosen.sum() / eligible.sum() - 0.15) < 0.005       # ~7 sigma
    to_mask = (masked[chosen] == MASK).float().mean()
    kept = (masked[chosen] == ids[chosen]).float().mean()
    assert abs(to_mask - 0.8) < 0.012 and abs(kept - 0.1) < 0.01
    assert torch.equal(labels[chosen], ids[chosen])
    assert torch.equal(masked[~chosen], ids[~chosen])
    assert masked.min() >= 0 and masked.max() < 8000
    replaced = chosen & (masked != MASK) & (masked != ids)
    assert (masked[replaced] >= len(SPECIAL_TOKENS)).all()
    with pytest.raises(ValueError, match="probability"):
        mask_tokens(ids, NEVER_MASKED, 8000, g, p=1.5)


def test_nsp_and_sop_label_conventions():
    assert (IS_NEXT, NOT_NEXT, IN_ORDER, SWAPPED) == (0, 1, 0, 1)   # Hugging Face's
    books = [[f"b{b}v{v}" for v in range(30)] for b in range(20)]
    nxt = {(x, y) for book in books for x, y in zip(book, book[1:])}
    g = torch.Generator().manual_seed(0)
    nsp = nsp_pairs(books, g)
    assert len(nsp) == 20 * 29
    assert all(((a, b) in nxt) == (label == IS_NEXT) for a, b, label in nsp)
    assert 0.43 < sum(label == IS_NEXT for *_, label in nsp) / len(nsp) < 0.57
    hard = nsp_pairs(books, g, same_book=True)
    assert all(((a, b) in nxt) == (label == IS_NEXT) for a, b, label in hard)
    assert all(a.split("v")[0] == b.split("v")[0] and a != b
               for a, b, label in hard if label == NOT_NEXT)
    sop = sop_pairs(books, g)
    assert all((a, b) in nxt for a, b, label in sop if label == IN_ORDER)
    assert all((b, a) in nxt for a, b, label in sop if label == SWAPPED)
    assert 0.43 < sum(label == IN_ORDER for *_, label in sop) / len(sop) < 0.57


def test_pair_layout_and_truncation():
    ids, types, mask = make_pair(list(range(10, 30)), [7, 8], max_len=10)
    assert ids.tolist() == [CLS, 10, 11, 12, 13, 14, SEP, 7, 8, SEP]
    assert types.tolist() == [0] * 7 + [1] * 3 and mask.all()
    assert torch.equal(token_types_from_ids(ids[None])[0], types)


@pytest.mark.parametrize("bad,match", [
    (lambda m: m(torch.full((1, 41), 7)), "max_len"),
    (lambda m: m(torch.tensor([[CLS, V, SEP]])), r"\[0, 300\)"),
    (lambda m: m(torch.tensor([[CLS, -1, SEP]])), r"\[0, 300\)"),
    (lambda m: m(torch.tensor([CLS, 7, SEP])), "ids\\[None\\]"),
    (lambda m: m(torch.rand(1, 5)), "integer"),
    (lambda m: m(torch.tensor([[CLS, 7, SEP]]), torch.tensor([[0, 2, 0]])), "token_type_ids"),
    (lambda m: m(torch.tensor([[CLS, 7, SEP]]), None, torch.ones(1, 3)), "bool"),
    (lambda m: m(torch.tensor([[CLS, 7, SEP]]), None, torch.ones(1, 4, dtype=torch.bool)),
     "shape"),
], ids=["too-long", "id-too-large", "negative-id", "no-batch", "float-ids", "bad-segment",
        "float-mask", "mask-shape"])
def test_bad_model_input_raises_value_error(bad, match):
    model = BertForPreTraining(BertConfig(**small()))
    with pytest.raises(ValueError, match=match):
        bad(model)


def test_bad_pair_input_raises_value_error():
    with pytest.raises(ValueError, match=r"\[SEP\]"):
        token_types_from_ids(torch.tensor([[CLS, 7, 8], [CLS, 7, SEP]]))
    with pytest.raises(ValueError, match="encode text first"):
        make_pair("some text", [7], max_len=10)
    with pytest.raises(ValueError, match="max_len >= 5"):
        make_pair([7], [8], max_len=4)
    with pytest.raises(ValueError, match="num_heads"):
        BertConfig(d_model=50, num_heads=4)
    with pytest.raises(ValueError, match="vocab_size"):
        BertConfig(vocab_size=5)


def test_mlm_mask_gives_the_logits_of_the_chosen_positions():
    torch.manual_seed(0)
    model = BertForPreTraining(BertConfig(**small())).eval()
    input_ids, token_type_ids, mask = padded_batch(torch.Generator().manual_seed(3))
    chosen = (input_ids > 150) & mask
    with torch.no_grad():
        full, pair = model(input_ids, token_type_ids, mask)
        few, pair_few = model(input_ids, token_type_ids, mask, mlm_mask=chosen)
    assert few.shape == (int(chosen.sum()), V)
    assert torch.allclose(few, full[chosen], atol=1e-6) and torch.equal(pair, pair_few)
    with pytest.raises(ValueError, match="mlm_mask"):
        model(input_ids, token_type_ids, mask, mlm_mask=chosen.long())
