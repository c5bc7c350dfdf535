"""Typical wrong answers to exercise 11_hierarchical: see tests/grading_catalog.py.

Most entries keep the solution's argument checks (put in where the code says GUARD), so
that each one is wrong in one way only.
"""
from textwrap import dedent, indent

from grading_catalog_base import _r, _w

A = "11_hierarchical"


def _g(code: str, guard: str) -> str:
    """A wrong answer's code with an argument check put in at its GUARD line."""
    return dedent(code).replace("    GUARD\n", indent(dedent(guard).strip("\n") + "\n",
                                                     "    "))


POOL_GUARD = """
    if h.dim() != 3 or u.dim() != 3 or u.shape[:2] != h.shape[:2]:
        raise ValueError("attention_pool: h (B, T, D) and u (B, T, A)")
    if context.shape != (u.shape[-1],) or mask.shape != h.shape[:2]:
        raise ValueError("attention_pool: context (A,) and mask (B, T)")
"""
HIER_GUARD = """
    D = words.shape[-1]
    if words.dim() != 4 or word_mask.shape != words.shape[:3]:
        raise ValueError("hierarchical_pool: words (B, S, T, D), mask (B, S, T)")
    if word_context.shape != (D,) or verse_context.shape != (D,):
        raise ValueError("hierarchical_pool: contexts (D,)")
"""
ERASE_GUARD = """
    if weights.shape != verse_mask.shape or labels.shape != verse_mask.shape[:1]:
        raise ValueError("erase_top_verse: weights (B, S) and labels (B,)")
    if not verse_mask.any(dim=-1).all():
        raise ValueError("erase_top_verse: a passage with no real verse")
"""
RANGE_GUARD = """
    S = verse_mask.shape[1]
    if ((planted < 0) | (planted >= S)).any():
        raise ValueError("planted_peak_accuracy: planted index out of range")
"""
PADDED_GUARD = """
    if not verse_mask[torch.arange(len(planted)), planted].all():
        raise ValueError("planted_peak_accuracy: planted at a padded verse")
"""
PLANT_GUARD = RANGE_GUARD + PADDED_GUARD
GRAD_GUARD = """
    if word_vectors.dim() != 4 or grads.shape != word_vectors.shape:
        raise ValueError("word_gradient_input: (B, S, T, D) inputs")
    if word_mask.shape != word_vectors.shape[:3]:
        raise ValueError("word_gradient_input: word_mask (B, S, T)")
"""
MAJORITY_GUARD = """
    if len(train_labels) == 0 or len(test_labels) == 0:
        raise ValueError("majority_baseline: empty labels")
"""

# the pooling of the hierarchical_pool entries, with one line to vary (SOFTMAX)
HIER = """
    def hierarchical_pool(words, word_mask, word_context, verse_context):
        GUARD
        def pool(values, scores, mask):
            SOFTMAX
            return (weights.unsqueeze(-1) * values).sum(dim=-2), weights

        verses, word_weights = pool(words, words @ word_context, word_mask)
        verse_mask = word_mask.any(dim=-1)
        passage, verse_weights = pool(verses, verses @ verse_context, verse_mask)
        return passage, word_weights, verse_weights
"""
# after dedent the body of pool sits 8 columns in
RIGHT_SOFTMAX = """scores = scores.masked_fill(~mask, float("-inf"))
        scores = scores.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
        weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)"""


def _hier(code: str = HIER, softmax: str = RIGHT_SOFTMAX) -> str:
    return _g(code, HIER_GUARD).replace("SOFTMAX", softmax)


ERASE = """
    def erase_top_verse(prob_fn, verse_mask, weights, labels):
        GUARD
        top = TOP
        erased = verse_mask.clone()
        erased[torch.arange(len(top)), top] = False
        with torch.no_grad():
            full, cut = prob_fn(verse_mask), prob_fn(erased)
        true = labels[:, None]
        return (full.gather(1, true) - cut.gather(1, true)).squeeze(1)
"""
RIGHT_TOP = 'weights.masked_fill(~verse_mask, float("-inf")).argmax(dim=-1)'

PLANT = """
    def planted_peak_accuracy(weights, verse_mask, planted):
        GUARD
        peaks = PEAKS
        accuracy = (peaks == planted).double().mean()
        chance = (1.0 / verse_mask.sum(dim=-1).double()).mean()
        return float(accuracy), float(chance)
"""
RIGHT_PEAKS = 'weights.masked_fill(~verse_mask, float("-inf")).argmax(dim=-1)'

GRAD = """
    def word_gradient_input(word_vectors, grads, word_mask):
        GUARD
        per_word = PER_WORD
        scores = SCORES
        return scores.masked_fill(EMPTY, float("-inf"))
"""
RIGHT_PER_WORD = "(word_vectors * grads).sum(dim=-1)"
RIGHT_SCORES = "per_word.masked_fill(~word_mask, 0.0).sum(dim=-1)"
RIGHT_EMPTY = "~word_mask.any(dim=-1)"


def _grad(per_word: str = RIGHT_PER_WORD, scores: str = RIGHT_SCORES,
          empty: str = RIGHT_EMPTY, guard: str = GRAD_GUARD) -> str:
    code = GRAD if guard else GRAD.replace("        GUARD\n", "")
    return _g(code, guard).replace("PER_WORD", per_word).replace(
        "SCORES", scores).replace("EMPTY", empty)


WRONG_ANSWERS = [
    # -------------------------------------------------- 11_hierarchical: attention_pool
    _w(A, "attention_pool", "no_mask",
       "takes the softmax over every position, padding included", True, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            weights = torch.softmax(u @ context, dim=-1)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "nan_on_empty_rows",
       "fills padding with -inf and takes the softmax: a row with no real position "
       "gives NaN", False, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            scores = (u @ context).masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=-1)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "large_negative_fill",
       "fills padding with -1e9: right where a row has a real position, but an empty "
       "row gets uniform weights over its padding", False, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            scores = (u @ context).masked_fill(~mask, -1e9)
            weights = torch.softmax(scores, dim=-1)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "mask_after_softmax",
       "zeroes the padding's weights after a softmax over every position, without "
       "renormalising", True, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            weights = torch.softmax(u @ context, dim=-1) * mask
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "tanh_again",
       "applies tanh to the keys again, though u is already tanh(W h + b)", True, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            scores = (torch.tanh(u) @ context).masked_fill(~mask, float("-inf"))
            scores = scores.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
            weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "detached_context",
       "detaches the context vector: right values, but no gradient reaches it", False,
       _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            scores = (u @ context.detach()).masked_fill(~mask, float("-inf"))
            scores = scores.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
            weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "float32_always",
       "computes and returns float32 whatever the inputs' dtype", False, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            h, u, context = h.float(), u.float(), context.float()
            scores = (u @ context).masked_fill(~mask, float("-inf"))
            scores = scores.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
            weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "zeros_on_the_cpu",
       "builds the scores of empty rows with torch.zeros(mask.shape), on the CPU "
       "whatever the inputs' device", False, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            scores = (u @ context).masked_fill(~mask, float("-inf"))
            empty = ~mask.any(dim=-1, keepdim=True)
            scores = torch.where(empty, torch.zeros(mask.shape), scores)
            weights = torch.softmax(scores, dim=-1) * mask
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "no_value_error",
       "checks no shape: mismatches fail with a RuntimeError, or give a result", False,
       """
        def attention_pool(h, u, context, mask):
            scores = (u @ context).masked_fill(~mask, float("-inf"))
            scores = scores.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
            weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """),
    _w(A, "attention_pool", "zeroes_h_in_place",
       "zeroes the padding of h in place before pooling", False, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            h[~mask] = 0.0
            scores = (u @ context).masked_fill(~mask, float("-inf"))
            scores = scores.masked_fill(~mask.any(dim=-1, keepdim=True), 0.0)
            weights = torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)
            return (weights.unsqueeze(-1) * h).sum(dim=1), weights
        """, POOL_GUARD)),
    _w(A, "attention_pool", "python_branches",
       "loops over rows with a Python branch on tensor values: right on the CPU, "
       "but it cannot run on meta tensors as the task asks", False, _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            rows = []
            for b in range(h.shape[0]):
                row = torch.zeros_like(h[b, :, 0])                       # (T,)
                if mask[b].any():
                    row = row.masked_scatter(
                        mask[b], torch.softmax(u[b][mask[b]] @ context, dim=0))
                rows.append(row)
            weights = torch.stack(rows)                                  # (B, T)
            return (weights[..., None] * h).sum(dim=1), weights
        """, POOL_GUARD)),
    # ----------------------------------------------- 11_hierarchical: hierarchical_pool
    _w(A, "hierarchical_pool", "tanh_scores",
       "scores tanh(words) . context, a projection the task leaves out", False,
       _hier(HIER.replace("words @ word_context", "torch.tanh(words) @ word_context"))),
    _w(A, "hierarchical_pool", "no_verse_mask",
       "takes the verse softmax over every verse, padded verses included", True,
       _hier(HIER.replace("word_mask.any(dim=-1)",
                          "torch.ones_like(word_mask.any(dim=-1))"))),
    _w(A, "hierarchical_pool", "verse_real_if_first_word",
       "takes a verse as real when its first word is, as if masks were prefixes", False,
       _hier(HIER.replace("word_mask.any(dim=-1)", "word_mask[..., 0]"))),
    _w(A, "hierarchical_pool", "large_negative_fill",
       "fills padding with -1e9: a padded verse gets uniform word weights, a passage "
       "with no real verse uniform verse weights", False,
       _hier(softmax="weights = torch.softmax(scores.masked_fill(~mask, -1e9), -1)")),
    _w(A, "hierarchical_pool", "nan_on_empty_passage",
       "guards padded verses (NaN to 0) but not a passage with no real verse", False,
       _hier(HIER.replace(
           "passage, verse_weights = pool(",
           "passage, verse_weights = raw(").replace(
           "        verses, word_weights",
           "        def raw(values, scores, mask):\n"
           "            scores = scores.masked_fill(~mask, float('-inf'))\n"
           "            weights = torch.softmax(scores, dim=-1)\n"
           "            return (weights.unsqueeze(-1) * values).sum(dim=-2), weights\n"
           "\n"
           "        verses, word_weights"))),
    _w(A, "hierarchical_pool", "mean_of_words",
       "pools a verse's words by their mean, with no word attention", False,
       _hier(HIER.replace(
           "verses, word_weights = pool(words, words @ word_context, word_mask)",
           "word_weights = word_mask / word_mask.sum(-1, keepdim=True).clamp(min=1)\n"
           "        verses = (word_weights.unsqueeze(-1) * words).sum(dim=-2)"))),
    _w(A, "hierarchical_pool", "word_softmax_over_verses",
       "takes the word softmax along the verses (dim 1) instead of along the words",
       True, _g("""
        def hierarchical_pool(words, word_mask, word_context, verse_context):
            GUARD
            scores = (words @ word_context).masked_fill(~word_mask, float("-inf"))
            scores = scores.masked_fill(~word_mask.any(dim=1, keepdim=True), 0.0)
            word_weights = torch.softmax(scores, dim=1).masked_fill(~word_mask, 0.0)
            verses = (word_weights.unsqueeze(-1) * words).sum(dim=2)
            verse_mask = word_mask.any(dim=-1)
            scores = (verses @ verse_context).masked_fill(~verse_mask, float("-inf"))
            scores = scores.masked_fill(~verse_mask.any(dim=-1, keepdim=True), 0.0)
            verse_weights = torch.softmax(scores, -1).masked_fill(~verse_mask, 0.0)
            passage = (verse_weights.unsqueeze(-1) * verses).sum(dim=1)
            return passage, word_weights, verse_weights
        """, HIER_GUARD)),
    _w(A, "hierarchical_pool", "float32_always",
       "computes and returns float32 whatever the dtype of words", False,
       _hier(HIER.replace("        verses, word_weights",
                          "        words = words.float()\n"
                          "        word_context = word_context.float()\n"
                          "        verse_context = verse_context.float()\n"
                          "        verses, word_weights"))),
    _w(A, "hierarchical_pool", "no_value_error",
       "checks no shape: mismatches fail with a RuntimeError, or give a result", False,
       _hier(HIER.replace("        GUARD\n", ""))),
    # ------------------------------------------------- 11_hierarchical: erase_top_verse
    _w(A, "erase_top_verse", "argmax_with_padding",
       "takes the argmax over every verse: a padded verse with a large weight is "
       "'erased' (nothing changes)", False,
       _g(ERASE, ERASE_GUARD).replace("TOP", "weights.argmax(dim=-1)")),
    _w(A, "erase_top_verse", "mask_in_place",
       "erases the verse in verse_mask itself, in place, after the full run", True,
       _g("""
        def erase_top_verse(prob_fn, verse_mask, weights, labels):
            GUARD
            top = weights.masked_fill(~verse_mask, float("-inf")).argmax(dim=-1)
            true = labels[:, None]
            with torch.no_grad():
                full = prob_fn(verse_mask).gather(1, true)
                verse_mask[torch.arange(len(top)), top] = False
                cut = prob_fn(verse_mask).gather(1, true)
            return (full - cut).squeeze(1)
        """, ERASE_GUARD)),
    _w(A, "erase_top_verse", "keeps_the_graph",
       "calls prob_fn with gradients on: right values, but the drop carries a graph",
       False, _g(ERASE, ERASE_GUARD).replace("TOP", RIGHT_TOP).replace(
           "with torch.no_grad():", "if True:")),
    _w(A, "erase_top_verse", "last_of_ties",
       "breaks ties between equal weights towards the last index", False,
       _g(ERASE, ERASE_GUARD).replace(
           "TOP", "weights.shape[1] - 1 - weights.masked_fill(\n"
                  "            ~verse_mask, float('-inf')).flip(-1).argmax(dim=-1)")),
    _w(A, "erase_top_verse", "wrong_sign",
       "returns p(erased) - p(full), the rise instead of the drop", True,
       _g(ERASE, ERASE_GUARD).replace("TOP", RIGHT_TOP).replace(
           "full.gather(1, true) - cut.gather(1, true)",
           "cut.gather(1, true) - full.gather(1, true)")),
    _w(A, "erase_top_verse", "least_attended",
       "erases the least-attended real verse (argmin)", True,
       _g(ERASE, ERASE_GUARD).replace(
           "TOP", 'weights.masked_fill(~verse_mask, float("inf")).argmin(dim=-1)')),
    _w(A, "erase_top_verse", "no_empty_check",
       "raises nothing for a passage with no real verse (it 'erases' verse 0)", False,
       _g(ERASE, ERASE_GUARD.split("    if not verse_mask")[0])
       .replace("TOP", RIGHT_TOP)),
    _w(A, "erase_top_verse", "predicted_class",
       "measures the drop of the predicted class's probability, not the true class's",
       False, _g(ERASE, ERASE_GUARD).replace("TOP", RIGHT_TOP).replace(
           "true = labels[:, None]", "true = full.argmax(dim=-1, keepdim=True)")),
    _w(A, "erase_top_verse", "float32_always",
       "returns float32 whatever the dtype of the probabilities", False,
       _g(ERASE, ERASE_GUARD).replace("TOP", RIGHT_TOP).replace(
           "full, cut = prob_fn(verse_mask), prob_fn(erased)",
           "full, cut = prob_fn(verse_mask).float(), prob_fn(erased).float()")),
    # ------------------------------------------- 11_hierarchical: planted_peak_accuracy
    _w(A, "planted_peak_accuracy", "chance_one_over_S",
       "takes 1 / S as chance, counting padded verses", True, _g(PLANT, PLANT_GUARD)
       .replace("PEAKS", RIGHT_PEAKS).replace(
           "(1.0 / verse_mask.sum(dim=-1).double()).mean()",
           "torch.tensor(1.0 / verse_mask.shape[1])")),
    _w(A, "planted_peak_accuracy", "chance_of_the_mean",
       "takes 1 over the mean number of real verses as chance, not the mean of 1 / n",
       True, _g(PLANT, PLANT_GUARD).replace("PEAKS", RIGHT_PEAKS).replace(
           "(1.0 / verse_mask.sum(dim=-1).double()).mean()",
           "1.0 / verse_mask.sum(dim=-1).double().mean()")),
    _w(A, "planted_peak_accuracy", "peak_with_padding",
       "takes the argmax over every verse, padded ones included", False,
       _g(PLANT, PLANT_GUARD).replace("PEAKS", "weights.argmax(dim=-1)")),
    _w(A, "planted_peak_accuracy", "returns_tensors",
       "returns 0-dimensional tensors instead of Python floats", True,
       _g(PLANT, PLANT_GUARD).replace("PEAKS", RIGHT_PEAKS).replace(
           "return float(accuracy), float(chance)", "return accuracy, chance")),
    _w(A, "planted_peak_accuracy", "returns_numpy_floats",
       "returns numpy.float64 values (a float subclass) instead of Python floats",
       False, _g(PLANT, PLANT_GUARD).replace("PEAKS", RIGHT_PEAKS).replace(
           "return float(accuracy), float(chance)",
           "return accuracy.numpy()[()], chance.numpy()[()]")),
    _w(A, "planted_peak_accuracy", "last_of_ties",
       "breaks ties between equal weights towards the last index", False,
       _g(PLANT, PLANT_GUARD).replace(
           "PEAKS", "weights.shape[1] - 1 - weights.masked_fill(\n"
                    "            ~verse_mask, float('-inf')).flip(-1).argmax(dim=-1)")),
    _w(A, "planted_peak_accuracy", "negative_index_allowed",
       "checks only planted < S, so -1 reads the last verse as Python indexing does",
       False, _g(PLANT, RANGE_GUARD.replace("(planted < 0) | ", "") + PADDED_GUARD)
       .replace("PEAKS", RIGHT_PEAKS)),
    _w(A, "planted_peak_accuracy", "padded_planted_allowed",
       "checks the range of the planted indices but not that they are real verses",
       False, _g(PLANT, RANGE_GUARD).replace("PEAKS", RIGHT_PEAKS)),
    _w(A, "planted_peak_accuracy", "hits_not_share",
       "returns the number of hits instead of their share", True,
       _g(PLANT, PLANT_GUARD).replace("PEAKS", RIGHT_PEAKS).replace(
           "(peaks == planted).double().mean()", "(peaks == planted).double().sum()")),
    # --------------------------------------------- 11_hierarchical: word_gradient_input
    _w(A, "word_gradient_input", "counts_padded_words",
       "sums vector * gradient over every word of a verse, padded words included", True,
       _grad(scores="per_word.sum(dim=-1)")),
    _w(A, "word_gradient_input", "mean_over_words",
       "averages over a verse's real words instead of summing", True,
       _grad(scores="per_word.masked_fill(~word_mask, 0.0).sum(dim=-1)\n"
                    "    scores = scores / word_mask.sum(dim=-1).clamp(min=1)")),
    _w(A, "word_gradient_input", "absolute_value",
       "sums the absolute values of the word attributions, losing their sign", True,
       _grad(per_word="(word_vectors * grads).sum(dim=-1).abs()")),
    _w(A, "word_gradient_input", "zero_for_empty_verses",
       "gives a verse with no real word 0 instead of -inf", True, _g("""
        def word_gradient_input(word_vectors, grads, word_mask):
            GUARD
            per_word = (word_vectors * grads).sum(dim=-1)
            return per_word.masked_fill(~word_mask, 0.0).sum(dim=-1)
        """, GRAD_GUARD)),
    _w(A, "word_gradient_input", "inf_if_any_padded_word",
       "gives -inf to every verse with a padded word, not only to verses with no real "
       "word", True, _grad(empty="~word_mask.all(dim=-1)")),
    _w(A, "word_gradient_input", "sums_over_verses",
       "sums over the verse axis instead of the word axis (the wrong dim)", True,
       _grad(scores="per_word.masked_fill(~word_mask, 0.0).sum(dim=1)")),
    _w(A, "word_gradient_input", "verses_as_prefix",
       "counts a passage's verses with a real word and sets -inf from that count on, "
       "as if real verses came first", False,
       _g("""
        def word_gradient_input(word_vectors, grads, word_mask):
            GUARD
            per_word = (word_vectors * grads).sum(dim=-1)
            scores = per_word.masked_fill(~word_mask, 0.0).sum(dim=-1)
            verses = word_mask.any(dim=-1).sum(dim=-1, keepdim=True)     # (B, 1)
            padded = torch.arange(word_mask.shape[1]) >= verses          # (B, S)
            return scores.masked_fill(padded, float("-inf"))
        """, GRAD_GUARD)),
    _w(A, "word_gradient_input", "verse_real_if_first_word",
       "takes a verse as real when its first word is, as if masks were prefixes", False,
       _grad(empty="~word_mask[..., 0]")),
    _w(A, "word_gradient_input", "float32_always",
       "computes and returns float32 whatever the dtype of word_vectors", False,
       _grad(per_word="(word_vectors.float() * grads.float()).sum(dim=-1)")),
    _w(A, "word_gradient_input", "zeroes_padding_in_place",
       "zeroes the padded words of word_vectors in place, then sums over every word",
       False, _g("""
        def word_gradient_input(word_vectors, grads, word_mask):
            GUARD
            word_vectors[~word_mask] = 0.0
            scores = (word_vectors * grads).sum(dim=(-1, -2))
            return scores.masked_fill(~word_mask.any(dim=-1), float("-inf"))
        """, GRAD_GUARD)),
    _w(A, "word_gradient_input", "no_value_error",
       "checks no shape: mismatches fail with a RuntimeError, or give a result", False,
       _grad(guard="")),
    # ----------------------------------------------- 11_hierarchical: majority_baseline
    _w(A, "majority_baseline", "ties_to_largest",
       "breaks ties between equally frequent labels towards the largest", False, _g("""
        def majority_baseline(train_labels, test_labels):
            GUARD
            counts = torch.bincount(train_labels)
            majority = len(counts) - 1 - int(counts.flip(0).argmax())
            return float((test_labels == majority).double().mean())
        """, MAJORITY_GUARD)),
    _w(A, "majority_baseline", "majority_of_test",
       "takes the most frequent label of the test labels", False, _g("""
        def majority_baseline(train_labels, test_labels):
            GUARD
            majority = int(torch.bincount(test_labels).argmax())
            return float((test_labels == majority).double().mean())
        """, MAJORITY_GUARD)),
    _w(A, "majority_baseline", "scored_on_train",
       "scores the majority label on the training labels", False, _g("""
        def majority_baseline(train_labels, test_labels):
            GUARD
            majority = int(torch.bincount(train_labels).argmax())
            return float((train_labels == majority).double().mean())
        """, MAJORITY_GUARD)),
    _w(A, "majority_baseline", "returns_tensor",
       "returns a 0-dimensional tensor instead of a Python float", True, _g("""
        def majority_baseline(train_labels, test_labels):
            GUARD
            majority = int(torch.bincount(train_labels).argmax())
            return (test_labels == majority).double().mean()
        """, MAJORITY_GUARD)),
    _w(A, "majority_baseline", "no_empty_check",
       "raises nothing of its own for empty labels (a RuntimeError, or NaN)", False, """
        def majority_baseline(train_labels, test_labels):
            majority = int(torch.bincount(train_labels).argmax())
            return float((test_labels == majority).double().mean())
        """),
    _w(A, "majority_baseline", "hits_not_share",
       "returns the number of test labels hit instead of their share", True, _g("""
        def majority_baseline(train_labels, test_labels):
            GUARD
            majority = int(torch.bincount(train_labels).argmax())
            return float((test_labels == majority).sum())
        """, MAJORITY_GUARD)),
]

# Correct answers written another way: each must keep every point.
RIGHT_ANSWERS = [
    _r(A, "attention_pool", "explicit_exp",
       "subtracts the largest real score, exponentiates the masked scores and divides "
       "by a clamped sum, instead of softmax and masked_fill", _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            scores = u @ context                                         # (B, T)
            top = scores.masked_fill(~mask, float("-inf")).amax(dim=-1, keepdim=True)
            top = torch.where(torch.isinf(top), torch.zeros_like(top), top)
            shifted = torch.where(mask, scores - top, torch.zeros_like(scores))
            e = torch.exp(shifted) * mask
            weights = e / e.sum(dim=-1, keepdim=True).clamp(min=1e-30)
            return torch.einsum("bt,btd->bd", weights, h), weights
        """, POOL_GUARD)),
    _r(A, "attention_pool", "finfo_min",
       "puts the dtype's lowest number at padding, multiplies the softmax by the mask, "
       "and pools with bmm", _g("""
        def attention_pool(h, u, context, mask):
            GUARD
            scores = torch.where(mask, u @ context, torch.finfo(u.dtype).min)
            weights = torch.softmax(scores, dim=-1) * mask               # (B, T)
            return torch.bmm(weights.unsqueeze(1), h).squeeze(1), weights
        """, POOL_GUARD)),
    _r(A, "hierarchical_pool", "nan_to_num",
       "lets empty rows become NaN and turns NaN into 0, on flattened verses", _g("""
        def hierarchical_pool(words, word_mask, word_context, verse_context):
            GUARD
            B, S, T, D = words.shape
            flat = words.reshape(B * S, T, D)
            flat_mask = word_mask.reshape(B * S, T)
            scores = (flat @ word_context).masked_fill(~flat_mask, float("-inf"))
            word_weights = torch.nan_to_num(torch.softmax(scores, -1), nan=0.0)
            verses = torch.bmm(word_weights[:, None, :], flat).reshape(B, S, D)
            verse_mask = word_mask.sum(dim=-1) > 0
            scores = (verses @ verse_context).masked_fill(~verse_mask, float("-inf"))
            verse_weights = torch.nan_to_num(torch.softmax(scores, -1), nan=0.0)
            passage = torch.einsum("bs,bsd->bd", verse_weights, verses)
            return passage, word_weights.reshape(B, S, T), verse_weights
        """, HIER_GUARD)),
    _r(A, "erase_top_verse", "loop_and_detach",
       "a Python loop over passages and .detach() instead of torch.no_grad()", _g("""
        def erase_top_verse(prob_fn, verse_mask, weights, labels):
            GUARD
            erased = verse_mask.clone()
            for b in range(len(labels)):
                real = [s for s in range(weights.shape[1]) if verse_mask[b, s]]
                best = max(real, key=lambda s: (float(weights[b, s]), -s))
                erased[b, best] = False
            full, cut = prob_fn(verse_mask).detach(), prob_fn(erased).detach()
            rows = torch.arange(len(labels))
            return full[rows, labels] - cut[rows, labels]
        """, ERASE_GUARD)),
    _r(A, "planted_peak_accuracy", "python_loop",
       "Python lists and a loop over passages", """
        def planted_peak_accuracy(weights, verse_mask, planted):
            hits, chances = 0, 0.0
            S = verse_mask.shape[1]
            for row, real, k in zip(weights.tolist(), verse_mask.tolist(),
                                    planted.tolist()):
                if not 0 <= k < S or not real[k]:
                    raise ValueError("planted_peak_accuracy: planted verse not real")
                best = max((s for s in range(S) if real[s]), key=lambda s: (row[s], -s))
                hits += best == k
                chances += 1 / sum(real)
            return hits / len(planted), chances / len(planted)
        """),
    _r(A, "word_gradient_input", "einsum_where",
       "one einsum with the mask as a float factor, torch.where for empty verses",
       _g("""
        def word_gradient_input(word_vectors, grads, word_mask):
            GUARD
            weights = word_mask.to(word_vectors.dtype)
            scores = torch.einsum("bstd,bstd,bst->bs", word_vectors, grads, weights)
            return torch.where(word_mask.any(dim=-1), scores,
                               torch.full_like(scores, -math.inf))
        """, GRAD_GUARD)),
    _r(A, "word_gradient_input", "loop_over_verses",
       "a Python loop over passages and verses, summing the real words picked by "
       "boolean indexing", _g("""
        def word_gradient_input(word_vectors, grads, word_mask):
            GUARD
            B, S = word_mask.shape[:2]
            scores = torch.full((B, S), -math.inf, dtype=word_vectors.dtype)
            for b in range(B):
                for s in range(S):
                    real = word_mask[b, s]
                    if real.any():
                        x, g = word_vectors[b, s][real], grads[b, s][real]
                        scores[b, s] = (x * g).sum()
            return scores
        """, GRAD_GUARD)),
    _r(A, "majority_baseline", "counter",
       "collections.Counter, ties broken by (-count, label)", """
        def majority_baseline(train_labels, test_labels):
            from collections import Counter
            if len(train_labels) == 0 or len(test_labels) == 0:
                raise ValueError("majority_baseline: empty labels")
            counts = Counter(train_labels.tolist())
            majority = min(counts, key=lambda label: (-counts[label], label))
            return sum(t == majority for t in test_labels.tolist()) / len(test_labels)
        """),
]
