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
