"""Typical wrong answers to exercise 07_bert: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
    # ---------------------------------------------------------------- 07_bert: wordpiece_tokenize
    _w("07_bert", "wordpiece_tokenize", "shortest_first",
       "takes the shortest matching piece first instead of the longest", True, """
        def wordpiece_tokenize(word, vocab, unk="[UNK]", max_chars=100):
            if len(word) > max_chars:
                return [unk]
            pieces, start = [], 0
            while start < len(word):
                for end in range(start + 1, len(word) + 1):
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in vocab:
                        break
                else:
                    return [unk]
                pieces.append(piece)
                start = end
            return pieces
        """),
    _w("07_bert", "wordpiece_tokenize", "no_continuation_prefix",
       "looks continuation pieces up without their '##' prefix", True, """
        def wordpiece_tokenize(word, vocab, unk="[UNK]", max_chars=100):
            if len(word) > max_chars:
                return [unk]
            pieces, start = [], 0
            while start < len(word):
                for end in range(len(word), start, -1):
                    piece = word[start:end]
                    if piece in vocab:
                        break
                else:
                    return [unk]
                pieces.append(piece)
                start = end
            return pieces
        """),
    _w("07_bert", "wordpiece_tokenize", "partial_pieces",
       "keeps the pieces found before the failure and appends [unk], instead of [unk] alone",
       False, """
        def wordpiece_tokenize(word, vocab, unk="[UNK]", max_chars=100):
            if len(word) > max_chars:
                return [unk]
            pieces, start = [], 0
            while start < len(word):
                for end in range(len(word), start, -1):
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in vocab:
                        break
                else:
                    return pieces + [unk]
                pieces.append(piece)
                start = end
            return pieces
        """),
    _w("07_bert", "wordpiece_tokenize", "max_chars_off_by_one",
       "also turns a word of exactly max_chars characters into [unk] (>= instead of >)",
       False, """
        def wordpiece_tokenize(word, vocab, unk="[UNK]", max_chars=100):
            if len(word) >= max_chars:
                return [unk]
            pieces, start = [], 0
            while start < len(word):
                for end in range(len(word), start, -1):
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in vocab:
                        break
                else:
                    return [unk]
                pieces.append(piece)
                start = end
            return pieces
        """),
    _w("07_bert", "wordpiece_tokenize", "backtracks",
       "backtracks to a shorter piece when the longest one leads to a dead end (not greedy)",
       False, """
        def wordpiece_tokenize(word, vocab, unk="[UNK]", max_chars=100):
            if len(word) > max_chars:
                return [unk]

            def split(start):
                if start == len(word):
                    return []
                for end in range(len(word), start, -1):
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in vocab:
                        rest = split(end)
                        if rest is not None:
                            return [piece] + rest
                return None

            pieces = split(0)
            return [unk] if pieces is None else pieces
        """),
    _w("07_bert", "wordpiece_tokenize", "lower_cases",
       "lower-cases the word first, as chapter 7's normaliser does before this step", False, """
        def wordpiece_tokenize(word, vocab, unk="[UNK]", max_chars=100):
            word = word.lower()
            if len(word) > max_chars:
                return [unk]
            pieces, start = [], 0
            while start < len(word):
                for end in range(len(word), start, -1):
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in vocab:
                        break
                else:
                    return [unk]
                pieces.append(piece)
                start = end
            return pieces
        """),
    # ---------------------------------------------------------------- 07_bert: bert_embeddings
    _w("07_bert", "bert_embeddings", "no_positions",
       "forgets the position embeddings", True, """
        def bert_embeddings(input_ids, token_type_ids, word, position, segment, gamma, beta,
                            eps=1e-12):
            X = word[input_ids] + segment[token_type_ids]
            return torch.nn.functional.layer_norm(X, X.shape[-1:], gamma, beta, eps)
        """),
    _w("07_bert", "bert_embeddings", "eps_default",
       "calls layer_norm without eps: PyTorch's 1e-5 instead of BERT's 1e-12", False, """
        def bert_embeddings(input_ids, token_type_ids, word, position, segment, gamma, beta,
                            eps=1e-12):
            T = input_ids.shape[-1]
            X = word[input_ids] + position[:T] + segment[token_type_ids]
            return torch.nn.functional.layer_norm(X, X.shape[-1:], gamma, beta)
        """),
    _w("07_bert", "bert_embeddings", "norm_before_sum",
       "normalises the word vectors, then adds the position and segment vectors", True, """
        def bert_embeddings(input_ids, token_type_ids, word, position, segment, gamma, beta,
                            eps=1e-12):
            T = input_ids.shape[-1]
            X = torch.nn.functional.layer_norm(word[input_ids], word.shape[-1:], gamma, beta,
                                               eps)
            return X + position[:T] + segment[token_type_ids]
        """),
    _w("07_bert", "bert_embeddings", "unbiased_variance",
       "writes the LayerNorm with the unbiased variance (Z.var's default)", True, """
        def bert_embeddings(input_ids, token_type_ids, word, position, segment, gamma, beta,
                            eps=1e-12):
            T = input_ids.shape[-1]
            X = word[input_ids] + position[:T] + segment[token_type_ids]
            mean = X.mean(dim=-1, keepdim=True)
            return gamma * (X - mean) / torch.sqrt(X.var(dim=-1, keepdim=True) + eps) + beta
        """),
    _w("07_bert", "bert_embeddings", "positions_from_one",
       "counts positions from 1 (position[1:T + 1])", True, """
        def bert_embeddings(input_ids, token_type_ids, word, position, segment, gamma, beta,
                            eps=1e-12):
            T = input_ids.shape[-1]
            X = word[input_ids] + position[1:T + 1] + segment[token_type_ids]
            return torch.nn.functional.layer_norm(X, X.shape[-1:], gamma, beta, eps)
        """),
    _w("07_bert", "bert_embeddings", "eps_outside_sqrt",
       "writes the LayerNorm dividing by std + eps instead of sqrt(variance + eps)", False, """
        def bert_embeddings(input_ids, token_type_ids, word, position, segment, gamma, beta,
                            eps=1e-12):
            T = input_ids.shape[-1]
            X = word[input_ids] + position[:T] + segment[token_type_ids]
            mean = X.mean(dim=-1, keepdim=True)
            std = (X - mean).pow(2).mean(dim=-1, keepdim=True).sqrt()
            return gamma * (X - mean) / (std + eps) + beta
        """),
    # ---------------------------------------------------------------- 07_bert: mask_tokens
    _w("07_bert", "mask_tokens", "specials_chosen",
       "chooses among all positions, [CLS], [SEP] and padding included", True, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = torch.rand(shape, generator=generator) < p
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(chosen & (action < 0.8), mask_id, input_ids)
            swap = chosen & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "labels_everywhere",
       "labels every position with its id instead of -100 where not chosen", True, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = (torch.rand(shape, generator=generator) < p) & ~special_mask
            labels = input_ids.clone()
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(chosen & (action < 0.8), mask_id, input_ids)
            swap = chosen & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "corrupts_every_token",
       "applies 80/10/10 to every non-special token, not only to the chosen 15%", True, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = (torch.rand(shape, generator=generator) < p) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(~special_mask & (action < 0.8), mask_id, input_ids)
            swap = ~special_mask & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "in_place",
       "writes [MASK] and the random tokens into input_ids itself", False, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = (torch.rand(shape, generator=generator) < p) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            input_ids[chosen & (action < 0.8)] = mask_id
            swap = chosen & (action >= 0.8) & (action < 0.9)
            input_ids[swap] = random_ids[swap]
            return input_ids, labels
        """),
    _w("07_bert", "mask_tokens", "random_share_of_rest",
       "draws the random 10% with probability 0.1 among the 20% left: 2% random, 18% kept",
       False, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = (torch.rand(shape, generator=generator) < p) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            to_mask = chosen & (torch.rand(shape, generator=generator) < 0.8)
            swap = chosen & ~to_mask & (torch.rand(shape, generator=generator) < 0.1)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(to_mask, mask_id, input_ids)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "independent_draws",
       "draws [MASK] (80%) and random (10%) independently, so random overwrites some masks",
       True, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = (torch.rand(shape, generator=generator) < p) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            to_mask = chosen & (torch.rand(shape, generator=generator) < 0.8)
            swap = chosen & (torch.rand(shape, generator=generator) < 0.1)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(to_mask, mask_id, input_ids)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "share_of_all_positions",
       "chooses round(p * T) positions per sequence, 15% of all positions, not of the "
       "non-special ones", True, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            k = round(p * shape[-1])
            scores = torch.rand(shape, generator=generator).masked_fill(special_mask, -1.0)
            top = scores.topk(k, dim=-1).indices
            chosen = torch.zeros_like(special_mask).scatter(-1, top, True) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(chosen & (action < 0.8), mask_id, input_ids)
            swap = chosen & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "p_ignored",
       "chooses with probability 0.15 whatever p is given", False, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = (torch.rand(shape, generator=generator) < 0.15) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(chosen & (action < 0.8), mask_id, input_ids)
            swap = chosen & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "fixed_share_per_row",
       "chooses exactly round(p * n) of the n non-special positions of every sequence: the "
       "right share overall, but no spread from sequence to sequence", False, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            scores = torch.rand(shape, generator=generator).masked_fill(special_mask, 2.0)
            k = (p * (~special_mask).sum(dim=-1, keepdim=True)).round()       # (B, 1)
            rank = scores.argsort(dim=-1).argsort(dim=-1)
            chosen = (rank < k) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(chosen & (action < 0.8), mask_id, input_ids)
            swap = chosen & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "global_generator_for_action",
       "draws the 80/10/10 decision from the global generator, not from generator", False, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            chosen = (torch.rand(shape, generator=generator) < p) & ~special_mask
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(chosen & (action < 0.8), mask_id, input_ids)
            swap = chosen & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    _w("07_bert", "mask_tokens", "special_from_ids",
       "decides which positions are special from the ids [PAD], [CLS], [SEP] (0, 1, 2, as "
       "chapter 7 does) instead of reading special_mask", False, """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            shape = input_ids.shape
            special = torch.isin(input_ids, torch.tensor([0, 1, 2]))
            chosen = (torch.rand(shape, generator=generator) < p) & ~special
            labels = input_ids.masked_fill(~chosen, -100)
            action = torch.rand(shape, generator=generator)
            random_ids = torch.randint(vocab_size, shape, generator=generator)
            inputs = torch.where(chosen & (action < 0.8), mask_id, input_ids)
            swap = chosen & (action >= 0.8) & (action < 0.9)
            return torch.where(swap, random_ids, inputs), labels
        """),
    # ---------------------------------------------------------------- 07_bert: mlm_loss
    _w("07_bert", "mlm_loss", "mean_over_all",
       "averages over every position, the unlabelled ones read as token 0", True, """
        def mlm_loss(logits, labels):
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            return nll.mean()
        """),
    _w("07_bert", "mlm_loss", "sum_not_mean",
       "sums over the labelled positions instead of averaging", True, """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            return nll[chosen].sum()
        """),
    _w("07_bert", "mlm_loss", "ignores_zero",
       "ignores label 0 (the padding id) instead of -100", True, """
        def mlm_loss(logits, labels):
            safe = labels.clamp(min=0)
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
            return nll[safe != 0].mean()
        """),
    _w("07_bert", "mlm_loss", "mean_per_sequence",
       "averages each sequence's labelled positions, then the sequences", True, """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            per_row = (nll * chosen).sum(-1) / chosen.sum(-1).clamp(min=1)
            return per_row[chosen.any(-1)].mean()
        """),
    _w("07_bert", "mlm_loss", "nan_when_nothing_chosen",
       "averages with .mean() alone: a batch without labels gives NaN", False, """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            return nll[chosen].mean()
        """),
    _w("07_bert", "mlm_loss", "log_of_softmax",
       "takes the log of a softmax: logits in the thousands give log 0 = -inf", False, """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            logp = torch.log(torch.softmax(logits, dim=-1))
            nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            return nll.masked_fill(~chosen, 0).sum() / chosen.sum().clamp(min=1)
        """),
    _w("07_bert", "mlm_loss", "float32_always",
       "computes in float32 whatever the dtype of the logits", False, """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            logp = torch.log_softmax(logits.float(), dim=-1)
            nll = -logp.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
            return nll.masked_fill(~chosen, 0).sum() / chosen.sum().clamp(min=1)
        """),
    _w("07_bert", "mlm_loss", "empty_float32_constant",
       "returns torch.tensor(0.0) when nothing is labelled: float32 and cut off from logits",
       False, """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            if not chosen.any():
                return torch.tensor(0.0)
            logp = torch.log_softmax(logits, dim=-1)
            return -logp[chosen].gather(-1, labels[chosen].unsqueeze(-1)).mean()
        """),
    _w("07_bert", "mlm_loss", "empty_detached_zero",
       "returns a zero of the right dtype when nothing is labelled, but not computed from "
       "logits: backward() fails on it", False, """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            if not chosen.any():
                return torch.zeros((), dtype=logits.dtype)
            logp = torch.log_softmax(logits, dim=-1)
            return -logp[chosen].gather(-1, labels[chosen].unsqueeze(-1)).mean()
        """),
    # ---------------------------------------------------------------- 07_bert: whole_word_mask
    _w("07_bert", "whole_word_mask", "per_piece",
       "chooses every piece on its own draw, as task 3 does: words are split", True, """
        def whole_word_mask(pieces, generator, p=0.15, special=("[CLS]", "[SEP]", "[PAD]")):
            draws = torch.rand(len(pieces), generator=generator) < p
            return draws & torch.tensor([piece not in special for piece in pieces],
                                        dtype=torch.bool)
        """),
    _w("07_bert", "whole_word_mask", "any_piece_draws",
       "draws each piece and chooses a word when any of its pieces is drawn: long words are "
       "chosen more often", True, """
        def whole_word_mask(pieces, generator, p=0.15, special=("[CLS]", "[SEP]", "[PAD]")):
            word_of, words, after_special = [], 0, True
            for piece in pieces:
                if piece in special:
                    word_of.append(-1)
                    after_special = True
                    continue
                if after_special or not piece.startswith("##"):
                    words += 1
                word_of.append(words - 1)
                after_special = False
            word_of = torch.tensor(word_of, dtype=torch.long)
            draws = (torch.rand(len(pieces), generator=generator) < p) & (word_of >= 0)
            chosen = torch.zeros(words + 1, dtype=torch.bool)
            chosen[word_of[draws] + 1] = True
            chosen[0] = False
            return chosen[word_of + 1]
        """),
    _w("07_bert", "whole_word_mask", "global_generator",
       "draws from the global generator (torch.rand without generator=)", False, """
        def whole_word_mask(pieces, generator, p=0.15, special=("[CLS]", "[SEP]", "[PAD]")):
            word_of, words, after_special = [], 0, True
            for piece in pieces:
                if piece in special:
                    word_of.append(-1)
                    after_special = True
                    continue
                if after_special or not piece.startswith("##"):
                    words += 1
                word_of.append(words - 1)
                after_special = False
            chosen = torch.cat([torch.zeros(1, dtype=torch.bool), torch.rand(words) < p])
            return chosen[torch.tensor(word_of, dtype=torch.long) + 1]
        """),
    _w("07_bert", "whole_word_mask", "fixed_count_per_sequence",
       "chooses floor(p * words + u) words of each sequence, u uniform: the right share of "
       "every word, but the count per sequence hardly varies", False, """
        def whole_word_mask(pieces, generator, p=0.15, special=("[CLS]", "[SEP]", "[PAD]")):
            word_of, words, after_special = [], 0, True
            for piece in pieces:
                if piece in special:
                    word_of.append(-1)
                    after_special = True
                    continue
                if after_special or not piece.startswith("##"):
                    words += 1
                word_of.append(words - 1)
                after_special = False
            k = int(p * words + float(torch.rand((), generator=generator)))
            order = torch.randperm(words, generator=generator)
            chosen = torch.zeros(words + 1, dtype=torch.bool)
            chosen[order[:k] + 1] = True
            return chosen[torch.tensor(word_of, dtype=torch.long) + 1]
        """),
    _w("07_bert", "whole_word_mask", "joins_across_special",
       "a '##' piece after a special piece continues the word before the special piece",
       False, """
        def whole_word_mask(pieces, generator, p=0.15, special=("[CLS]", "[SEP]", "[PAD]")):
            word_of, words = [], 0
            for piece in pieces:
                if piece in special:
                    word_of.append(-1)
                    continue
                if words == 0 or not piece.startswith("##"):
                    words += 1
                word_of.append(words - 1)
            chosen = torch.rand(words, generator=generator) < p
            chosen = torch.cat([torch.zeros(1, dtype=torch.bool), chosen])
            return chosen[torch.tensor(word_of, dtype=torch.long) + 1]
        """),
    # ---------------------------------------------------------------- 07_bert: nsp_pairs_same_translation
    _w("07_bert", "nsp_pairs_same_translation", "any_translation",
       "draws a NOT_NEXT B from the whole corpus, as chapter 7's nsp_pairs does", True, """
        def nsp_pairs_same_translation(books, translations, generator):
            flat = [(b, i) for b, book in enumerate(books) for i in range(len(book))]
            pairs = []
            for b, book in enumerate(books):
                for i in range(len(book) - 1):
                    if torch.rand((), generator=generator) < 0.5:
                        pairs.append((book[i], book[i + 1], 0))
                        continue
                    while True:
                        c, j = flat[int(torch.randint(len(flat), (), generator=generator))]
                        if (c, j) not in ((b, i), (b, i + 1)):
                            break
                    pairs.append((book[i], books[c][j], 1))
            return pairs
        """),
    _w("07_bert", "nsp_pairs_same_translation", "labels_swapped",
       "label 1 for B follows A and 0 for a random B (d2l's convention)", True, """
        def nsp_pairs_same_translation(books, translations, generator):
            places = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                places.setdefault(code, []).extend((b, i) for i in range(len(book)))
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                pool = places[code]
                for i in range(len(book) - 1):
                    if torch.rand((), generator=generator) < 0.5:
                        pairs.append((book[i], book[i + 1], 1))
                        continue
                    while True:
                        c, j = pool[int(torch.randint(len(pool), (), generator=generator))]
                        if (c, j) not in ((b, i), (b, i + 1)):
                            break
                    pairs.append((book[i], books[c][j], 0))
            return pairs
        """),
    _w("07_bert", "nsp_pairs_same_translation", "own_book_only",
       "draws B from A's book (the chapter's same_book), from the translation only when the "
       "book has no third verse", False, """
        def nsp_pairs_same_translation(books, translations, generator):
            places = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                places.setdefault(code, []).extend((b, i) for i in range(len(book)))
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                own = [(b, k) for k in range(len(book))]
                pool = own if len(book) > 2 else places[code]
                for i in range(len(book) - 1):
                    if torch.rand((), generator=generator) < 0.5:
                        pairs.append((book[i], book[i + 1], 0))
                        continue
                    while True:
                        c, j = pool[int(torch.randint(len(pool), (), generator=generator))]
                        if (c, j) not in ((b, i), (b, i + 1)):
                            break
                    pairs.append((book[i], books[c][j], 1))
            return pairs
        """),
    _w("07_bert", "nsp_pairs_same_translation", "one_draw_per_book",
       "decides IS_NEXT or NOT_NEXT once per book: half the books give only negatives",
       False, """
        def nsp_pairs_same_translation(books, translations, generator):
            places = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                places.setdefault(code, []).extend((b, i) for i in range(len(book)))
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                pool = places[code]
                negative = bool(torch.rand((), generator=generator) >= 0.5)
                for i in range(len(book) - 1):
                    if not negative:
                        pairs.append((book[i], book[i + 1], 0))
                        continue
                    while True:
                        c, j = pool[int(torch.randint(len(pool), (), generator=generator))]
                        if (c, j) not in ((b, i), (b, i + 1)):
                            break
                    pairs.append((book[i], books[c][j], 1))
            return pairs
        """),
    _w("07_bert", "nsp_pairs_same_translation", "global_generator",
       "draws from the global generator (torch.rand, torch.randint without generator=)",
       False, """
        def nsp_pairs_same_translation(books, translations, generator):
            places = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                places.setdefault(code, []).extend((b, i) for i in range(len(book)))
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                pool = places[code]
                for i in range(len(book) - 1):
                    if torch.rand(()) < 0.5:
                        pairs.append((book[i], book[i + 1], 0))
                        continue
                    while True:
                        c, j = pool[int(torch.randint(len(pool), ()))]
                        if (c, j) not in ((b, i), (b, i + 1)):
                            break
                    pairs.append((book[i], books[c][j], 1))
            return pairs
        """),
    _w("07_bert", "nsp_pairs_same_translation", "excludes_by_text",
       "excludes every verse whose text equals A's or its next verse's, not just those two "
       "places", False, """
        def nsp_pairs_same_translation(books, translations, generator):
            places = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                places.setdefault(code, []).extend((b, i) for i in range(len(book)))
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                pool = places[code]
                for i in range(len(book) - 1):
                    if torch.rand((), generator=generator) < 0.5:
                        pairs.append((book[i], book[i + 1], 0))
                        continue
                    while True:
                        c, j = pool[int(torch.randint(len(pool), (), generator=generator))]
                        if books[c][j] not in (book[i], book[i + 1]):
                            break
                    pairs.append((book[i], books[c][j], 1))
            return pairs
        """),
    _w("07_bert", "nsp_pairs_same_translation", "lists_not_tuples",
       "returns each pair as a list [A, B, label] instead of a tuple", False, """
        def nsp_pairs_same_translation(books, translations, generator):
            places = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                places.setdefault(code, []).extend((b, i) for i in range(len(book)))
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                pool = places[code]
                for i in range(len(book) - 1):
                    if torch.rand((), generator=generator) < 0.5:
                        pairs.append([book[i], book[i + 1], 0])
                        continue
                    while True:
                        c, j = pool[int(torch.randint(len(pool), (), generator=generator))]
                        if (c, j) not in ((b, i), (b, i + 1)):
                            break
                    pairs.append([book[i], books[c][j], 1])
            return pairs
        """),
    _w("07_bert", "nsp_pairs_same_translation", "next_not_excluded",
       "excludes A but not its next verse from the negatives", True, """
        def nsp_pairs_same_translation(books, translations, generator):
            places = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                places.setdefault(code, []).extend((b, i) for i in range(len(book)))
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                pool = places[code]
                for i in range(len(book) - 1):
                    if torch.rand((), generator=generator) < 0.5:
                        pairs.append((book[i], book[i + 1], 0))
                        continue
                    while True:
                        c, j = pool[int(torch.randint(len(pool), (), generator=generator))]
                        if (c, j) != (b, i):
                            break
                    pairs.append((book[i], books[c][j], 1))
            return pairs
        """),
]

RIGHT_ANSWERS = [
    _r("07_bert", "wordpiece_tokenize", "shrinking_window",
       "a while loop that shrinks the candidate from the right, and a slice check up front",
       """
        def wordpiece_tokenize(word, vocab, unk="[UNK]", max_chars=100):
            if len(word) > max_chars:
                return [unk]
            out, start = [], 0
            while start < len(word):
                end, found = len(word), None
                while end > start:
                    candidate = ("##" if start else "") + word[start:end]
                    if candidate in vocab:
                        found = candidate
                        break
                    end -= 1
                if found is None:
                    return [unk]
                out.append(found)
                start = end
            return out
        """),
    _r("07_bert", "mask_tokens", "one_draw_per_position",
       "one uniform draw per position decides both the choice (u < p) and, rescaled by p, "
       "the 80/10/10 action", """
        def mask_tokens(input_ids, special_mask, vocab_size, mask_id, generator, p=0.15):
            u = torch.rand(input_ids.shape, generator=generator)
            chosen = (u < p) & ~special_mask
            action = u / p                          # uniform on [0, 1) where chosen
            random_ids = torch.randint(0, vocab_size, input_ids.shape, generator=generator)
            inputs = input_ids.clone()
            inputs[chosen & (action < 0.8)] = mask_id
            swap = chosen & (action >= 0.8) & (action < 0.9)
            inputs[swap] = random_ids[swap]
            return inputs, torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
        """),
    _r("07_bert", "mlm_loss", "boolean_index_and_where",
       "indexes the labelled positions, and for an empty batch returns logits.sum() * 0", """
        def mlm_loss(logits, labels):
            chosen = labels != -100
            if not chosen.any():
                return logits.sum() * 0.0
            logp = torch.log_softmax(logits[chosen], dim=-1)          # (n, V)
            return -logp.gather(1, labels[chosen][:, None]).mean()
        """),
    _r("07_bert", "whole_word_mask", "first_piece_draw",
       "draws one number per piece and lets each word use the draw of its first piece", """
        def whole_word_mask(pieces, generator, p=0.15, special=("[CLS]", "[SEP]", "[PAD]")):
            draws = torch.rand(len(pieces), generator=generator).tolist()
            out, current, previous = [], False, None
            for k, piece in enumerate(pieces):
                if piece in special:
                    out.append(False)
                    previous = None
                    continue
                if previous is None or not piece.startswith("##"):
                    current = draws[k] < p
                out.append(current)
                previous = piece
            return torch.tensor(out, dtype=torch.bool).reshape(len(pieces))
        """),
    _r("07_bert", "nsp_pairs_same_translation", "skip_arithmetic",
       "a coin from torch.randint(2) and an index drawn among N - 2 places, then shifted past "
       "A and its next verse (chapter 7's trick) instead of rejection", """
        def nsp_pairs_same_translation(books, translations, generator):
            starts, offset = {}, {}
            for b, (book, code) in enumerate(zip(books, translations)):
                offset[b] = starts.get(code, 0)
                starts[code] = offset[b] + len(book)
            flat = {}
            for b, (book, code) in enumerate(zip(books, translations)):
                flat.setdefault(code, []).extend(book)
            pairs = []
            for b, (book, code) in enumerate(zip(books, translations)):
                for i in range(len(book) - 1):
                    if int(torch.randint(2, (), generator=generator)) == 0:
                        pairs.append((book[i], book[i + 1], 0))
                        continue
                    k = int(torch.randint(len(flat[code]) - 2, (), generator=generator))
                    a = offset[b] + i                     # A's place; a + 1 is its next
                    k += 2 if k >= a else 0
                    pairs.append((book[i], flat[code][k], 1))
            return pairs
        """),
]
