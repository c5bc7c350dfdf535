"""Typical wrong answers to exercise 07_bert: see tests/grading_catalog.py."""
from grading_catalog_base import _w

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
    # ---------------------------------------------------------------- 07_bert: make_pair
    _w("07_bert", "make_pair", "segments_swapped",
       "gives segment 1 to A and segment 0 to B", True, """
        def make_pair(ids_a, ids_b, cls_id, sep_id):
            input_ids = [cls_id, *ids_a, sep_id, *ids_b, sep_id]
            types = [1] * (len(ids_a) + 2) + [0] * (len(ids_b) + 1)
            return torch.tensor(input_ids), torch.tensor(types)
        """),
    _w("07_bert", "make_pair", "last_sep_in_segment_a",
       "puts the final [SEP] in segment 0", True, """
        def make_pair(ids_a, ids_b, cls_id, sep_id):
            input_ids = [cls_id, *ids_a, sep_id, *ids_b, sep_id]
            types = [0] * (len(ids_a) + 2) + [1] * len(ids_b) + [0]
            return torch.tensor(input_ids), torch.tensor(types)
        """),
    _w("07_bert", "make_pair", "no_final_sep",
       "leaves out the [SEP] after B", True, """
        def make_pair(ids_a, ids_b, cls_id, sep_id):
            input_ids = [cls_id, *ids_a, sep_id, *ids_b]
            types = [0] * (len(ids_a) + 2) + [1] * len(ids_b)
            return torch.tensor(input_ids), torch.tensor(types)
        """),
    _w("07_bert", "make_pair", "int32",
       "returns int32 tensors instead of torch.long", True, """
        def make_pair(ids_a, ids_b, cls_id, sep_id):
            input_ids = [cls_id, *ids_a, sep_id, *ids_b, sep_id]
            types = [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1)
            return (torch.tensor(input_ids, dtype=torch.int32),
                    torch.tensor(types, dtype=torch.int32))
        """),
    _w("07_bert", "make_pair", "mutates_lists",
       "builds the pair by appending to the caller's lists, which it changes", False, """
        def make_pair(ids_a, ids_b, cls_id, sep_id):
            ids_a.insert(0, cls_id)
            ids_a.append(sep_id)
            ids_b.append(sep_id)
            types = [0] * len(ids_a) + [1] * len(ids_b)
            return torch.tensor(ids_a + ids_b), torch.tensor(types)
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
    # ---------------------------------------------------------------- 07_bert: count_parameters
    _w("07_bert", "count_parameters", "no_biases",
       "counts the weight matrices and tables but forgets every bias", True, """
        def count_parameters(vocab_size, d_model, num_layers, d_ff, d_embed=None,
                             shared=False, max_len=512, num_segments=2):
            width = d_model if d_embed is None else d_embed
            embeddings = (vocab_size + max_len + num_segments) * width + 2 * width
            if d_embed is not None:
                embeddings += d_embed * d_model
            layer = 4 * d_model * d_model + 2 * d_model * d_ff + 4 * d_model
            return embeddings + (1 if shared else num_layers) * layer
        """),
    _w("07_bert", "count_parameters", "no_position_segment_tables",
       "counts the word table only, not the position and segment tables", True, """
        def count_parameters(vocab_size, d_model, num_layers, d_ff, d_embed=None,
                             shared=False, max_len=512, num_segments=2):
            width = d_model if d_embed is None else d_embed
            embeddings = vocab_size * width + 2 * width
            if d_embed is not None:
                embeddings += d_embed * d_model + d_model
            layer = 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + 5 * d_model
            return embeddings + (1 if shared else num_layers) * layer
        """),
    _w("07_bert", "count_parameters", "embedding_norm_on_d_model",
       "counts the embeddings' LayerNorm with width d_model even when factorised", True, """
        def count_parameters(vocab_size, d_model, num_layers, d_ff, d_embed=None,
                             shared=False, max_len=512, num_segments=2):
            width = d_model if d_embed is None else d_embed
            embeddings = (vocab_size + max_len + num_segments) * width + 2 * d_model
            if d_embed is not None:
                embeddings += d_embed * d_model + d_model
            layer = 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + 5 * d_model
            return embeddings + (1 if shared else num_layers) * layer
        """),
    _w("07_bert", "count_parameters", "no_projection",
       "forgets the linear map from d_embed to d_model", True, """
        def count_parameters(vocab_size, d_model, num_layers, d_ff, d_embed=None,
                             shared=False, max_len=512, num_segments=2):
            width = d_model if d_embed is None else d_embed
            embeddings = (vocab_size + max_len + num_segments) * width + 2 * width
            layer = 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + 5 * d_model
            return embeddings + (1 if shared else num_layers) * layer
        """),
    _w("07_bert", "count_parameters", "ffn_four_times",
       "assumes the feed-forward width is 4 * d_model instead of reading d_ff", False, """
        def count_parameters(vocab_size, d_model, num_layers, d_ff, d_embed=None,
                             shared=False, max_len=512, num_segments=2):
            d_ff = 4 * d_model
            width = d_model if d_embed is None else d_embed
            embeddings = (vocab_size + max_len + num_segments) * width + 2 * width
            if d_embed is not None:
                embeddings += d_embed * d_model + d_model
            layer = 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + 5 * d_model
            return embeddings + (1 if shared else num_layers) * layer
        """),
    _w("07_bert", "count_parameters", "economies_tied",
       "ties the two economies: factorised means shared, unfactorised means not shared",
       False, """
        def count_parameters(vocab_size, d_model, num_layers, d_ff, d_embed=None,
                             shared=False, max_len=512, num_segments=2):
            layer = 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + 5 * d_model
            if d_embed is None:
                tables = (vocab_size + max_len + num_segments) * d_model + 2 * d_model
                return tables + num_layers * layer
            tables = (vocab_size + max_len + num_segments) * d_embed + 2 * d_embed
            return tables + d_embed * d_model + d_model + layer
        """),
    _w("07_bert", "count_parameters", "projection_only_if_narrower",
       "counts the projection only when d_embed differs from d_model", False, """
        def count_parameters(vocab_size, d_model, num_layers, d_ff, d_embed=None,
                             shared=False, max_len=512, num_segments=2):
            width = d_model if d_embed is None else d_embed
            embeddings = (vocab_size + max_len + num_segments) * width + 2 * width
            if d_embed is not None and d_embed != d_model:
                embeddings += d_embed * d_model + d_model
            layer = 4 * (d_model * d_model + d_model) + 2 * d_model * d_ff + d_ff + 5 * d_model
            return embeddings + (1 if shared else num_layers) * layer
        """),
]
