"""Chapter 10's captioners (attention_course.captioning) against PyTorch's own modules
loaded with the same weights, their losses and scores on hand-made cases, and the
errors bad input gets."""
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from attention_course.captioning import (CaptionConfig, CaptionTrainConfig,
                                         CaptionVocab, GridEncoder, build_captioner,
                                         caption_loss, caption_scenes, caption_scores,
                                         doubly_stochastic_penalty, inside,
                                         item_words, load_captioner,
                                         location_centres, pointing_game,
                                         save_captioner, train_captioner)
from attention_course.scenes import make_scenes
from attention_course.seq2seq import beam_search, greedy_decode
from attention_course.translation import BOS, EOS, PAD
from attention_course.vit import SmallCNN

VOCAB = CaptionVocab()


@pytest.fixture(scope="module")
def scenes():
    return make_scenes(12, "dev", seed=0)


def captioner(attention, seed=0, **kw):
    torch.manual_seed(seed)
    cnn = SmallCNN(hidden=128).eval()
    return build_captioner(CaptionConfig(len(VOCAB), attention=attention, **kw), cnn)


def test_vocab_round_trip_and_teacher_forcing(scenes):
    for caption in scenes.captions:
        assert VOCAB.decode(VOCAB.encode(caption)) == caption
    tgt_in, tgt_out = VOCAB.batch(scenes.captions[:3])
    n = len(VOCAB.encode(scenes.captions[0]))
    assert tgt_in[0, 0] == BOS and tgt_out[0, n] == EOS
    assert torch.equal(tgt_in[0, 1:n + 1], tgt_out[0, :n])
    assert (tgt_out == PAD).any() or len({len(c) for c in scenes.captions[:3]}) == 1
    with pytest.raises(ValueError, match="outside the scene grammar"):
        VOCAB.encode("a cat above a bag")


def test_grid_encoder_is_chapter_8_classifier_layer_on_every_block():
    """Location (r, c) holds chapter 8's first classifier layer (and ReLU) applied to
    the 7x7 block of the scene's feature map at (r, c): a convolution with the
    Linear's weights is that Linear on every block."""
    torch.manual_seed(0)
    cnn = SmallCNN(hidden=128).eval()
    enc = GridEncoder(cnn).eval()
    images = torch.randint(0, 256, (2, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        a = enc(images)
        assert a.shape == (2, 100, 128)
        fmap = cnn.features(images[:, None].float() / 255)          # (2, 64, 16, 16)
        for r, c in [(0, 0), (3, 7), (9, 9), (5, 0)]:
            block = fmap[:, :, r:r + 7, c:c + 7].flatten(1)
            h = torch.relu(cnn.classifier[1](block))
            torch.testing.assert_close(a[:, 10 * r + c], h, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="uint8 scenes"):
        enc(images.float())


def test_soft_step_against_nn_lstmcell():
    """One soft-attention step recomputed with torch.nn.LSTMCell and the equations."""
    model = captioner("soft").eval()
    images = make_scenes(3, "dev", seed=1).images
    with torch.no_grad():
        (a, keys), state = model.encode(images)
        prev = torch.tensor([BOS, 5, 7])
        logits, (h, c), alpha = model.step(prev, state, (a, keys))
        ref = nn.LSTMCell(model.cell.input_size, model.cell.hidden_size)
        ref.load_state_dict(model.cell.state_dict())
        att, (h0, c0) = model.attn, state
        torch.testing.assert_close(h0, torch.tanh(model.init_h(a.mean(1))))
        e = att.v_a(torch.tanh(att.W_a(h0)[:, None] + att.U_a(a)))[..., 0]
        alpha_ref = torch.softmax(e, -1)
        z = torch.sigmoid(model.f_beta(h0)) * (alpha_ref[..., None] * a).sum(1)
        emb = model.embed(prev)
        h_ref, c_ref = ref(torch.cat([emb, z], -1), (h0, c0))
        logits_ref = model.L_o(emb + model.L_h(h_ref) + model.L_z(z))
    for x, y in [(alpha, alpha_ref), (h, h_ref), (c, c_ref), (logits, logits_ref)]:
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-5)


def test_show_and_tell_against_nn_lstm(scenes):
    """Teacher-forced Show and Tell equals torch.nn.LSTM run over [v, E y_0, ...]."""
    model = captioner("none", image_pool=2).eval()
    tgt_in, _ = VOCAB.batch(scenes.captions[:4])
    with torch.no_grad():
        logits, alphas, _ = model(scenes.images[:4], tgt_in)
        a = model.encoder(scenes.images[:4])                        # (B, L, D)
        grid = a.transpose(1, 2).reshape(4, -1, 10, 10)
        v = model.image_proj(F.avg_pool2d(grid, 2).flatten(1))      # (B, E)
        lstm = nn.LSTM(model.cell.input_size, model.cell.hidden_size, batch_first=True)
        sd = model.cell.state_dict()
        lstm.load_state_dict({f"{k}_l0": w for k, w in sd.items()})
        emb = model.embed(tgt_in)
        out, _ = lstm(torch.cat([v[:, None], emb], 1))
        ref = model.L_o(emb + model.L_h(out[:, 1:]))
    assert alphas is None
    torch.testing.assert_close(logits, ref, atol=1e-5, rtol=1e-5)


def test_ungated_soft_and_hard_contexts():
    """Without beta the context is the plain average (soft) or one region (hard)."""
    soft = captioner("soft", gate=False).eval()
    hard = captioner("hard", gate=False).eval()
    hard.load_state_dict(soft.state_dict())
    images = make_scenes(2, "dev", seed=2).images
    prev = torch.tensor([BOS, BOS])
    with torch.no_grad():
        memory, state = soft.encode(images)
        _, (h_soft, _), alpha = soft.step(prev, state, memory)
        _, (h_hard, _), alpha_h = hard.step(prev, state, memory)
        loc = alpha_h.argmax(-1)                       # eval: the most likely region
        z = memory[0][torch.arange(2), loc]
        h_ref, _ = hard.cell(torch.cat([hard.embed(prev), z], -1), state)
    torch.testing.assert_close(alpha, alpha_h)
    torch.testing.assert_close(h_hard, h_ref)
    assert not torch.allclose(h_soft, h_hard)


def test_doubly_stochastic_penalty_by_hand():
    alphas = torch.tensor([[[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]],
                           [[0.25, 0.75], [0.0, 1.0], [0.5, 0.5]]])   # (2, 3, 2)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    # caption 0: coverage (1.5, 0.5) -> 0.25 + 0.25; caption 1: (0.75, 2.25) -> 1.625
    got = doubly_stochastic_penalty(alphas, mask, lam=2.0)
    assert math.isclose(got.item(), 2.0 * (0.5 + 1.625) / 2)


def test_hard_loss_reaches_the_attention_through_reinforce(scenes):
    """The sampled location has no gradient; REINFORCE gives the attention one, and
    the advantage is detached (the reward itself gets no gradient from it)."""
    model = captioner("hard").train()
    tgt_in, tgt_out = VOCAB.batch(scenes.captions)
    cfg = CaptionTrainConfig(lam=0.0, reinforce_weight=0.0, entropy_weight=0.0)
    g = torch.Generator().manual_seed(0)
    loss, _ = caption_loss(model, scenes.images, tgt_in, tgt_out, cfg, 0.0, g)
    loss.backward()
    assert model.attn.v_a.weight.grad is None or not model.attn.v_a.weight.grad.any()
    model.zero_grad()
    cfg = CaptionTrainConfig(lam=0.0, reinforce_weight=1.0, entropy_weight=0.0)
    g = torch.Generator().manual_seed(0)
    loss, nll = caption_loss(model, scenes.images, tgt_in, tgt_out, cfg, -30.0, g)
    loss.backward()
    assert model.attn.v_a.weight.grad.abs().sum() > 0
    assert not nll.requires_grad


def test_greedy_beam_and_training_run(scenes):
    model = captioner("soft")
    losses, curve = train_captioner(
        model, scenes, VOCAB, CaptionTrainConfig(num_updates=3, batch_size=4,
                                                 eval_every=2),
        torch.Generator().manual_seed(0), eval_fn=lambda m: 0.5)
    assert len(losses) == 3 and curve == [(2, 0.5), (3, 0.5)]
    L = torch.full((4,), 100)
    greedy = greedy_decode(model, scenes.images[:4], L, max_len=6)
    beam1 = beam_search(model, scenes.images[:4], L, beam_size=1, max_len=6, alpha=0.0)
    assert [g[:len(b)] for g, b in zip(greedy, beam1)] == beam1
    captions, maps = caption_scenes(model, scenes.images[:4], VOCAB, max_len=6)
    assert len(captions) == 4 and maps[0].shape[1] == 100
    with pytest.raises(ValueError, match="encoder must be"):
        train_captioner(model, scenes, VOCAB, CaptionTrainConfig(encoder="thawed"),
                        torch.Generator())


def test_frozen_encoder_stays_frozen(scenes):
    model = captioner("soft")
    before = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    train_captioner(model, scenes, VOCAB, CaptionTrainConfig(num_updates=2, batch_size=4,
                                                             eval_every=0),
                    torch.Generator().manual_seed(0))
    for k, v in model.encoder.state_dict().items():
        assert torch.equal(v, before[k]), k         # weights and BatchNorm statistics
    assert all(p.requires_grad for p in model.parameters())


def test_scores_and_pointing_game_by_hand():
    scenes = make_scenes(2, "test", seed=0)
    perfect = caption_scores(scenes.captions, scenes)
    assert perfect["exact"] == 1.0 and perfect["item_f1"] == 1.0
    assert math.isclose(perfect["bleu"], 100.0)
    doubled = [c + ", " + c for c in scenes.captions]
    assert caption_scores(doubled, scenes)["item_f1"] < 1.0     # extra items cost
    centres = location_centres(10)
    assert centres.shape == (100, 2) and centres[0].tolist() == [13.5, 13.5]
    assert centres[11].tolist() == [17.5, 17.5]
    box = scenes.boxes[0][0]
    where = inside(centres, box)
    caption = scenes.captions[0]
    words = caption.replace(",", " ,").split()
    first = words.index(item_words(caption)[0])
    maps = torch.full((len(words), 100), 1 / 100)
    maps[first] = where.float() / where.sum()                   # peak inside item 0
    got = pointing_game([caption], [maps], scenes, centres)
    assert got["n"] == len(item_words(caption))
    assert got["hits"] >= 1 / got["n"]
    assert 0 < got["uniform"] < 1


def test_checkpoint_round_trip_and_errors(tmp_path, scenes):
    model = captioner("soft").eval()
    path = tmp_path / "c.safetensors"
    save_captioner(path, model, updates=3)
    loaded = load_captioner(path)
    with torch.no_grad():
        tgt_in, _ = VOCAB.batch(scenes.captions[:2])
        want = model(scenes.images[:2], tgt_in)[0].half().float()
    got = loaded(scenes.images[:2], tgt_in)[0]
    assert got.shape == want.shape
    with pytest.raises(FileNotFoundError, match="make train-ch10"):
        load_captioner(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="attention must be"):
        CaptionConfig(len(VOCAB), attention="glance")


def test_committed_checkpoints_load():
    from attention_course.runtime import CHECKPOINT_DIR
    for name in ("none", "soft"):
        model = load_captioner(CHECKPOINT_DIR / f"ch10_{name}.safetensors")
        assert model.cfg.attention == name
