"""Chapter 6 reads benchmarks/dates_length.json: it must be complete and match its report."""
import json
import sys

from attention_course.runtime import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import dates_length  # noqa: E402

RECORD = ROOT / "benchmarks" / "dates_length.json"


def test_record_has_every_model_shift_and_seed():
    record = json.loads(RECORD.read_text())
    assert len(record["seeds"]) >= 3
    assert record["shifts"] == list(dates_length.SHIFTS)
    for name in ("GRU + attention (ch. 4)", "Transformer (ch. 6)"):
        for k in dates_length.SHIFTS:
            acc = record["results"][name][str(k)]
            assert len(acc) == len(record["seeds"]) and all(0 <= a <= 1 for a in acc)


def test_report_is_rendered_from_the_record():
    record = json.loads(RECORD.read_text())
    assert RECORD.with_suffix(".md").read_text() == dates_length.render(record), \
        "rerun: python benchmarks/dates_length.py"


def _literal_kwargs(source: str, func: str, target: str | None = None) -> dict:
    """The literal keyword arguments of the call to `func` (assigned to `target`, if given)."""
    import ast
    tree = ast.parse(source)
    roots = [tree] if target is None else [
        node for node in ast.walk(tree) if isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == target for t in node.targets)]
    found = []
    for root in roots:
        for call in ast.walk(root):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == func:
                kw = {}
                for k in call.keywords:
                    try:
                        kw[k.arg] = ast.literal_eval(k.value)
                    except ValueError:
                        pass                                  # e.g. vocab_size=chars.vocab_size
                found.append(kw)
    assert len(found) == 1, f"expected one {func}(...) call for {target}, found {len(found)}"
    return found[0]


def _chapter_code(name: str) -> str:
    import nbformat
    nb = nbformat.read(ROOT / "book" / name, 4)
    return "\n".join(c.source for c in nb.cells
                     if c.cell_type == "code"
                     and ("DATES_CONFIG =" in c.source or "DATES_TRAIN =" in c.source))


def test_recipes_are_the_chapters():
    """The record claims to train 'exactly as in the chapters': the sizes and schedule in
    dates_length.py must be the ones chapters 4 and 6 print."""
    import inspect
    bench = inspect.getsource(dates_length)
    ch4, ch6 = _chapter_code("04_attention.ipynb"), _chapter_code("06_transformer.ipynb")
    build = inspect.getsource(dates_length.build)
    assert _literal_kwargs(build, "Seq2SeqConfig") == \
        _literal_kwargs(ch4, "Seq2SeqConfig", "DATES_CONFIG")
    assert _literal_kwargs(build, "TransformerConfig") == \
        _literal_kwargs(ch6, "TransformerConfig", "DATES_CONFIG")
    for chapter in (ch4, ch6):
        assert _literal_kwargs(bench, "TrainConfig", "TRAIN") == \
            _literal_kwargs(chapter, "TrainConfig", "DATES_TRAIN")
