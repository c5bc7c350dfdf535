"""Typical wrong answers to exercise 03_seq2seq: see tests/grading_catalog.py."""
from grading_catalog_base import _r, _w

WRONG_ANSWERS = [
    # ---------------------------------------------------------------- 03_seq2seq: decoder_io
    _w("03_seq2seq", "decoder_io", "pads_targets_with_eos", "fills the padding of tgt_out with EOS instead of PAD", False, """
        def decoder_io(targets):
            T = max(len(y) for y in targets) + 1
            tgt_in = torch.full((len(targets), T), PAD, dtype=torch.long)
            tgt_out = torch.full((len(targets), T), EOS, dtype=torch.long)
            for b, y in enumerate(targets):
                tgt_in[b, : len(y) + 1] = torch.tensor([BOS] + list(y))
                tgt_out[b, : len(y)] = torch.tensor(list(y), dtype=torch.long)
            return tgt_in, tgt_out
        """),
    _w("03_seq2seq", "decoder_io", "pads_at_the_front", "pads every sentence at the start instead of the end", False, """
        def decoder_io(targets):
            T = max(len(y) for y in targets) + 1
            tgt_in = torch.full((len(targets), T), PAD, dtype=torch.long)
            tgt_out = torch.full((len(targets), T), PAD, dtype=torch.long)
            for b, y in enumerate(targets):
                n = len(y) + 1
                tgt_in[b, T - n:] = torch.tensor([BOS] + list(y))
                tgt_out[b, T - n:] = torch.tensor(list(y) + [EOS])
            return tgt_in, tgt_out
        """),
    _w("03_seq2seq", "decoder_io", "mutates_targets", "inserts BOS into the caller's lists (y.insert) instead of copying them", False, """
        def decoder_io(targets):
            T = max(len(y) for y in targets) + 1
            rows_in, rows_out = [], []
            for y in targets:
                y.insert(0, BOS)
                rows_in.append(y + [PAD] * (T - len(y)))
                rows_out.append(y[1:] + [EOS] + [PAD] * (T - len(y)))
            return torch.tensor(rows_in), torch.tensor(rows_out)
        """),
    _w("03_seq2seq", "decoder_io", "language_model_shift",
       "shifts y against itself (input [BOS] + y[:-1], target y): no EOS, one step short", True, """
        def decoder_io(targets):
            T = max(len(y) for y in targets)
            tgt_in = torch.full((len(targets), T), PAD, dtype=torch.long)
            tgt_out = torch.full((len(targets), T), PAD, dtype=torch.long)
            for b, y in enumerate(targets):
                tgt_in[b, : len(y)] = torch.tensor([BOS] + list(y)[:-1])
                tgt_out[b, : len(y)] = torch.tensor(list(y))
            return tgt_in, tgt_out
        """),
    _w("03_seq2seq", "decoder_io", "empty_sentence_float",
       "builds rows with torch.tensor(y): an empty sentence's torch.tensor([]) is float, and so becomes the padded batch", False, """
        def decoder_io(targets):
            rows_in = [torch.cat([torch.tensor([BOS]), torch.tensor(y)]) for y in targets]
            rows_out = [torch.cat([torch.tensor(y), torch.tensor([EOS])]) for y in targets]
            tgt_in = torch.nn.utils.rnn.pad_sequence(rows_in, batch_first=True, padding_value=PAD)
            tgt_out = torch.nn.utils.rnn.pad_sequence(rows_out, batch_first=True, padding_value=PAD)
            return tgt_in, tgt_out
        """),
    # ---------------------------------------------------------------- 03_seq2seq: masked_cross_entropy
    _w("03_seq2seq", "masked_cross_entropy", "divides_by_all_positions",
       "zeroes the loss at PAD positions but divides by B * T instead of the number of real tokens", False, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            return (nll * (tgt_out != PAD)).sum() / nll.numel()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "mean_of_sentence_means",
       "averages each sentence's mean loss: short sentences weigh as much as long ones", False, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            real = tgt_out != PAD
            return ((nll * real).sum(dim=1) / real.sum(dim=1)).mean()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "log_of_softmax",
       "torch.log(torch.softmax(...)): inf when a probability underflows to 0", False, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log(torch.softmax(logits, dim=-1))
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            real = tgt_out != PAD
            return nll[real].sum() / real.sum()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "sum_not_mean", "sums the losses of the real tokens instead of averaging", True, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            return nll[tgt_out != PAD].sum()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "zeroes_padding_in_place",
       "sets the caller's logits at PAD positions to 0 in place (fails on logits that require grad)", False, """
        def masked_cross_entropy(logits, tgt_out):
            real = tgt_out != PAD
            logits[~real] = 0.0
            log_probs = torch.log_softmax(logits, dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            return (nll * real).sum() / real.sum()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "returns_float64", "computes (and returns) the loss in float64 for float32 logits", True, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits.double(), dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            real = tgt_out != PAD
            return nll[real].sum() / real.sum()
        """),
    _w("03_seq2seq", "masked_cross_entropy", "float32_loss",
       "computes the log-probabilities in float32 (logits.float()): float64 logits "
       "give a float32 loss", False, """
        def masked_cross_entropy(logits, tgt_out):
            log_probs = torch.log_softmax(logits.float(), dim=-1)
            nll = -log_probs.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
            real = tgt_out != PAD
            return nll[real].sum() / real.sum()
        """),
    # ---------------------------------------------------------------- 03_seq2seq: greedy_decode
    _w("03_seq2seq", "greedy_decode", "keeps_tokens_after_eos",
       "removes the EOS tokens but keeps what a finished sentence produced after its EOS", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [[token for token in row if token != EOS] for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "never_stops_early",
       "always runs max_len steps, even after every sentence has produced EOS", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "state_not_passed_on", "calls step with the initial state at every step", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, _ = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "includes_eos", "returns each sentence with its EOS at the end", True, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS) + 1] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "feeds_back_bos", "feeds BOS at every step instead of the previous prediction", True, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(torch.full((B,), BOS, dtype=torch.long), state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "feeds_pad_after_eos",
       "feeds PAD to a sentence that has produced EOS instead of its own prediction", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
                y = y.masked_fill(done, PAD)
            rows = torch.stack(produced, dim=1).tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    _w("03_seq2seq", "greedy_decode", "squeezes_tokens",
       "squeeze() on the (B, steps) tokens: a batch of one sentence, or a single step, loses an axis", False, """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y = torch.full((B,), BOS, dtype=torch.long)
            done = torch.zeros(B, dtype=torch.bool)
            produced = []
            for _ in range(max_len):
                logits, state = step(y, state)
                y = logits.argmax(dim=-1)
                produced.append(y)
                done |= y == EOS
                if done.all():
                    break
            rows = torch.stack(produced, dim=1).squeeze().tolist()
            return [row[: row.index(EOS)] if EOS in row else row for row in rows]
        """),
    # ---------------------------------------------------------------- 03_seq2seq: beam_step
    _w("03_seq2seq", "beam_step", "best_token_per_hypothesis",
       "extends every hypothesis with its own best token, instead of ranking all K·V extensions", False, """
        def beam_step(scores, logp):
            best_logp, best_token = logp.max(dim=-1)
            new_scores, parent = (scores + best_logp).sort(dim=-1, descending=True)
            return new_scores, parent, best_token.gather(1, parent)
        """),
    _w("03_seq2seq", "beam_step", "topk_over_whole_batch",
       "ranks the extensions of all sentences together instead of sentence by sentence", False, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            new_scores, flat = (scores.unsqueeze(-1) + logp).reshape(-1).topk(B * K)
            flat = flat % (K * V)
            return new_scores.reshape(B, K), (flat // V).reshape(B, K), (flat % V).reshape(B, K)
        """),
    _w("03_seq2seq", "beam_step", "forgets_parent_scores", "ranks by the token's log-probability alone", True, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            new_scores, flat = logp.reshape(B, K * V).topk(K, dim=-1)
            return new_scores, flat // V, flat % V
        """),
    _w("03_seq2seq", "beam_step", "index_divided_by_K", "splits the flat index with K instead of V", True, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            new_scores, flat = (scores.unsqueeze(-1) + logp).reshape(B, K * V).topk(K, dim=-1)
            return new_scores, flat // K, flat % K
        """),
    _w("03_seq2seq", "beam_step", "adds_in_place", "adds the scores to the caller's logp in place (logp += ...)", False, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            logp += scores.unsqueeze(-1)
            new_scores, flat = logp.reshape(B, K * V).topk(K, dim=-1)
            return new_scores, flat // V, flat % V
        """),
    _w("03_seq2seq", "beam_step", "int32_indices", "returns parent and token as torch.int32 instead of torch.long", False, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            new_scores, flat = (scores.unsqueeze(-1) + logp).reshape(B, K * V).topk(K, dim=-1)
            return new_scores, (flat // V).int(), (flat % V).int()
        """),
    _w("03_seq2seq", "beam_step", "float32_buffer",
       "fills a torch.zeros(B, K) buffer with the new scores: float64 scores give "
       "float32 new_scores", False, """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            total = (scores.unsqueeze(-1) + logp).reshape(B, K * V)
            flat = total.topk(K, dim=-1).indices
            new_scores = torch.zeros(B, K)
            new_scores[:] = total.gather(1, flat)
            return new_scores, flat // V, flat % V
        """),
    # ---------------------------------------------------------------- 03_seq2seq: best_hypothesis
    _w("03_seq2seq", "best_hypothesis", "length_without_eos", "takes |Y| = len(ids), forgetting the EOS", False, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0] / ((5 + len(h[1])) / 6) ** alpha)[1]
        """),
    _w("03_seq2seq", "best_hypothesis", "alpha_fixed_at_0_6", "uses GNMT's alpha = 0.6 whatever alpha is given", False, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0] / ((5 + len(h[1]) + 1) / 6) ** 0.6)[1]
        """),
    _w("03_seq2seq", "best_hypothesis", "not_normalised", "ranks by the log-probability alone: favours short hypotheses", True, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0])[1]
        """),
    _w("03_seq2seq", "best_hypothesis", "multiplies_by_penalty", "multiplies the log-probability by lp(Y) instead of dividing", True, """
        def best_hypothesis(finished, alpha):
            return max(finished, key=lambda h: h[0] * ((5 + len(h[1]) + 1) / 6) ** alpha)[1]
        """),
    _w("03_seq2seq", "best_hypothesis", "sorts_in_place", "sorts the caller's list of finished hypotheses in place", False, """
        def best_hypothesis(finished, alpha):
            finished.sort(key=lambda h: h[0] / ((5 + len(h[1]) + 1) / 6) ** alpha, reverse=True)
            return finished[0][1]
        """),
    # ---------------------------------------------------------------- 03_seq2seq: corpus_bleu
    _w("03_seq2seq", "corpus_bleu", "unclipped_counts",
       "counts every hypothesis n-gram found in the reference, however often it repeats", False, """
        def corpus_bleu(hypotheses, references, max_n=4):
            matches, totals = [0] * max_n, [0] * max_n
            for hyp, ref in zip(hypotheses, references):
                for n in range(1, max_n + 1):
                    hyp_ngrams = [tuple(hyp[k : k + n]) for k in range(len(hyp) - n + 1)]
                    ref_ngrams = {tuple(ref[k : k + n]) for k in range(len(ref) - n + 1)}
                    matches[n - 1] += sum(g in ref_ngrams for g in hyp_ngrams)
                    totals[n - 1] += len(hyp_ngrams)
            if min(matches) == 0:
                return 0.0
            c, r = sum(map(len, hypotheses)), sum(map(len, references))
            brevity = 1.0 if c > r else math.exp(1 - r / c)
            return 100 * brevity * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)
        """),
    _w("03_seq2seq", "corpus_bleu", "brevity_swapped", "brevity penalty exp(1 - c / r): r and c swapped", True, """
        def corpus_bleu(hypotheses, references, max_n=4):
            matches, totals = [0] * max_n, [0] * max_n
            for hyp, ref in zip(hypotheses, references):
                for n in range(1, max_n + 1):
                    hyp_ngrams = Counter(tuple(hyp[k : k + n]) for k in range(len(hyp) - n + 1))
                    ref_ngrams = Counter(tuple(ref[k : k + n]) for k in range(len(ref) - n + 1))
                    matches[n - 1] += sum((hyp_ngrams & ref_ngrams).values())
                    totals[n - 1] += sum(hyp_ngrams.values())
            if min(matches) == 0:
                return 0.0
            c, r = sum(map(len, hypotheses)), sum(map(len, references))
            brevity = 1.0 if c > r else math.exp(1 - c / r)
            return 100 * brevity * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)
        """),
    _w("03_seq2seq", "corpus_bleu", "brevity_when_longer",
       "applies exp(1 - r / c) also when c > r, where it rewards a long hypothesis (a factor above 1)", False, """
        def corpus_bleu(hypotheses, references, max_n=4):
            matches, totals = [0] * max_n, [0] * max_n
            for hyp, ref in zip(hypotheses, references):
                for n in range(1, max_n + 1):
                    hyp_ngrams = Counter(tuple(hyp[k : k + n]) for k in range(len(hyp) - n + 1))
                    ref_ngrams = Counter(tuple(ref[k : k + n]) for k in range(len(ref) - n + 1))
                    matches[n - 1] += sum((hyp_ngrams & ref_ngrams).values())
                    totals[n - 1] += sum(hyp_ngrams.values())
            if min(matches) == 0:
                return 0.0
            c, r = sum(map(len, hypotheses)), sum(map(len, references))
            return 100 * math.exp(1 - r / c) * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)
        """),
    _w("03_seq2seq", "corpus_bleu", "mean_of_sentence_bleus",
       "averages the BLEU of each sentence instead of pooling the counts over the corpus", False, """
        def corpus_bleu(hypotheses, references, max_n=4):
            def sentence_bleu(hyp, ref):
                matches, totals = [0] * max_n, [0] * max_n
                for n in range(1, max_n + 1):
                    hyp_ngrams = Counter(tuple(hyp[k : k + n]) for k in range(len(hyp) - n + 1))
                    ref_ngrams = Counter(tuple(ref[k : k + n]) for k in range(len(ref) - n + 1))
                    matches[n - 1] += sum((hyp_ngrams & ref_ngrams).values())
                    totals[n - 1] += sum(hyp_ngrams.values())
                if min(matches) == 0:
                    return 0.0
                brevity = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
                return 100 * brevity * math.exp(sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n)
            return sum(sentence_bleu(h, r) for h, r in zip(hypotheses, references)) / len(hypotheses)
        """),
    _w("03_seq2seq", "corpus_bleu", "arithmetic_mean",
       "takes the arithmetic mean of the precisions p_n instead of their geometric mean", True, """
        def corpus_bleu(hypotheses, references, max_n=4):
            matches, totals = [0] * max_n, [0] * max_n
            for hyp, ref in zip(hypotheses, references):
                for n in range(1, max_n + 1):
                    hyp_ngrams = Counter(tuple(hyp[k : k + n]) for k in range(len(hyp) - n + 1))
                    ref_ngrams = Counter(tuple(ref[k : k + n]) for k in range(len(ref) - n + 1))
                    matches[n - 1] += sum((hyp_ngrams & ref_ngrams).values())
                    totals[n - 1] += sum(hyp_ngrams.values())
            if min(matches) == 0:
                return 0.0
            c, r = sum(map(len, hypotheses)), sum(map(len, references))
            brevity = 1.0 if c > r else math.exp(1 - r / c)
            return 100 * brevity * sum(m / t for m, t in zip(matches, totals)) / max_n
        """),
    _w("03_seq2seq", "corpus_bleu", "skips_orders_without_match",
       "leaves out the orders with no match instead of scoring 0 (an 'effective order')", False, """
        def corpus_bleu(hypotheses, references, max_n=4):
            matches, totals = [0] * max_n, [0] * max_n
            for hyp, ref in zip(hypotheses, references):
                for n in range(1, max_n + 1):
                    hyp_ngrams = Counter(tuple(hyp[k : k + n]) for k in range(len(hyp) - n + 1))
                    ref_ngrams = Counter(tuple(ref[k : k + n]) for k in range(len(ref) - n + 1))
                    matches[n - 1] += sum((hyp_ngrams & ref_ngrams).values())
                    totals[n - 1] += sum(hyp_ngrams.values())
            logs = [math.log(m / t) for m, t in zip(matches, totals) if m > 0]
            if not logs:
                return 0.0
            c, r = sum(map(len, hypotheses)), sum(map(len, references))
            brevity = 1.0 if c > r else math.exp(1 - r / c)
            return 100 * brevity * math.exp(sum(logs) / len(logs))
        """),
    _w("03_seq2seq", "corpus_bleu", "brevity_first",
       "computes the brevity penalty before looking at the precisions: a corpus of "
       "empty hypotheses (c = 0) divides by zero", False, """
        def corpus_bleu(hypotheses, references, max_n=4):
            c, r = sum(map(len, hypotheses)), sum(map(len, references))
            brevity = 1.0 if c > r else math.exp(1 - r / c)
            matches, totals = [0] * max_n, [0] * max_n
            for hyp, ref in zip(hypotheses, references):
                for n in range(1, max_n + 1):
                    hyp_ngrams = Counter(tuple(hyp[k : k + n])
                                         for k in range(len(hyp) - n + 1))
                    ref_ngrams = Counter(tuple(ref[k : k + n])
                                         for k in range(len(ref) - n + 1))
                    matches[n - 1] += sum((hyp_ngrams & ref_ngrams).values())
                    totals[n - 1] += sum(hyp_ngrams.values())
            if min(matches) == 0:
                return 0.0
            logs = [math.log(m / t) for m, t in zip(matches, totals)]
            return 100 * brevity * math.exp(sum(logs) / max_n)
        """),
    _w("03_seq2seq", "corpus_bleu", "skips_orders_without_ngrams",
       "leaves out the orders that no hypothesis is long enough for, instead of p_n = "
       "0", False, """
        def corpus_bleu(hypotheses, references, max_n=4):
            matches, totals = [0] * max_n, [0] * max_n
            for hyp, ref in zip(hypotheses, references):
                for n in range(1, max_n + 1):
                    hyp_ngrams = Counter(tuple(hyp[k : k + n])
                                         for k in range(len(hyp) - n + 1))
                    ref_ngrams = Counter(tuple(ref[k : k + n])
                                         for k in range(len(ref) - n + 1))
                    matches[n - 1] += sum((hyp_ngrams & ref_ngrams).values())
                    totals[n - 1] += sum(hyp_ngrams.values())
            orders = [(m, t) for m, t in zip(matches, totals) if t > 0]
            if not orders or min(m for m, _ in orders) == 0:
                return 0.0
            c, r = sum(map(len, hypotheses)), sum(map(len, references))
            brevity = 1.0 if c > r else math.exp(1 - r / c)
            logs = [math.log(m / t) for m, t in orders]
            return 100 * brevity * math.exp(sum(logs) / len(logs))
        """),
]

# Correct answers written another way: each keeps every point.
RIGHT_ANSWERS = [
    _r("03_seq2seq", "decoder_io", "pad_sequence",
       "builds the rows as tensors and pads them with torch.nn.utils.rnn.pad_sequence"
       "", """
        def decoder_io(targets):
            rows_in = [torch.tensor([BOS, *y], dtype=torch.long) for y in targets]
            rows_out = [torch.tensor([*y, EOS], dtype=torch.long) for y in targets]
            pad = torch.nn.utils.rnn.pad_sequence
            return (pad(rows_in, batch_first=True, padding_value=PAD),
                    pad(rows_out, batch_first=True, padding_value=PAD))
        """),
    _r("03_seq2seq", "masked_cross_entropy", "masked_select_mean",
       "a one-hot product for the target log-probabilities and "
       "masked_select(...).mean()", """
        def masked_cross_entropy(logits, tgt_out):
            one_hot = torch.nn.functional.one_hot(tgt_out, logits.shape[-1])
            one_hot = one_hot.to(logits.dtype)
            nll = -(torch.log_softmax(logits, dim=-1) * one_hot).sum(dim=-1)
            return nll.masked_select(tgt_out != PAD).mean()
        """),
    _r("03_seq2seq", "greedy_decode", "python_lists",
       "keeps the tokens in Python lists and stops when every list holds an EOS", """
        def greedy_decode(step, state, max_len):
            B = state.shape[0]
            y_prev = torch.tensor([BOS] * B)
            rows = [[] for _ in range(B)]
            while len(rows[0]) < max_len and not all(EOS in row for row in rows):
                logits, state = step(y_prev, state)
                y_prev = logits.argmax(dim=1)
                for row, token in zip(rows, y_prev.tolist()):
                    row.append(token)
            return [row[:row.index(EOS)] if EOS in row else row for row in rows]
        """),
    _r("03_seq2seq", "beam_step", "sort_and_divmod",
       "a full descending sort cut to K, torch.div(..., rounding_mode='floor') and "
       "remainder", """
        def beam_step(scores, logp):
            B, K, V = logp.shape
            total = (scores[:, :, None] + logp).flatten(1)
            ordered, index = torch.sort(total, dim=1, descending=True)
            index = index[:, :K]
            return (ordered[:, :K], torch.div(index, V, rounding_mode="floor"),
                    torch.remainder(index, V))
        """),
    _r("03_seq2seq", "best_hypothesis", "sorted_copy",
       "sorted() (a new list) in descending order of the score, the first one's ids"
       "", """
        def best_hypothesis(finished, alpha):
            def score(item):
                return item[0] / (((5 + len(item[1]) + 1) / 6) ** alpha)
            return sorted(finished, key=score, reverse=True)[0][1]
        """),
    _r("03_seq2seq", "corpus_bleu", "zip_ngrams",
       "n-grams with zip over shifted copies, and the geometric mean as a product", """
        def corpus_bleu(hypotheses, references, max_n=4):
            def ngrams(tokens, n):
                return Counter(zip(*[tokens[i:] for i in range(n)]))
            precisions = []
            for n in range(1, max_n + 1):
                hit = sum(sum((ngrams(h, n) & ngrams(r, n)).values())
                          for h, r in zip(hypotheses, references))
                seen = sum(max(len(h) - n + 1, 0) for h in hypotheses)
                if hit == 0:
                    return 0.0
                precisions.append(hit / seen)
            c = sum(len(h) for h in hypotheses)
            r = sum(len(ref) for ref in references)
            penalty = math.exp(min(0.0, 1 - r / c))
            return 100 * penalty * math.prod(precisions) ** (1 / max_n)
        """),
]
