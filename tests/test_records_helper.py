"""benchmarks/_records.py, which every benchmark script uses to start its record, write
its report and keep a cache of finished runs."""
import json
import sys

from attention_course.runtime import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import _records  # noqa: E402


def square(job):
    """A run that a worker process can import: job (name, x) -> its square."""
    name, x = job
    return {"name": name, "square": x * x}


def test_provenance_keys_and_order():
    assert list(_records.provenance()) == ["date", "hardware", "torch"]
    record = _records.provenance("python benchmarks/x.py --seeds 1", per_run=True)
    assert list(record) == ["date", "hardware", "torch", "command"]
    assert record["hardware"].endswith(", 1 thread per run")
    assert _records.provenance()["hardware"].endswith(", 1 thread")
    assert _records.command_line("x.py", ["--seeds", "1"]) == \
        "python benchmarks/x.py --seeds 1"


def test_write_report_prints_or_writes_both(tmp_path, capsys):
    record = {"a": [1, 2]}
    _records.write_report("# report\n", record, "-")
    assert capsys.readouterr().out == "# report\n\n" and not list(tmp_path.iterdir())
    _records.write_report("# report\n", record, str(tmp_path / "x.md"), indent=2)
    assert (tmp_path / "x.md").read_text() == "# report\n"
    assert (tmp_path / "x.json").read_text() == json.dumps(record, indent=2) + "\n"
    assert "wrote" in capsys.readouterr().out


def test_run_cached_reuses_runs_with_the_same_stamp(tmp_path):
    cache = tmp_path / "runs.jsonl"
    jobs = {name: (name, x) for name, x in [("a", 2), ("b", 3)]}
    key = lambda r: r["name"]  # noqa: E731
    runs = _records.run_cached(square, jobs, key, cache=cache, stamp={"updates": 5})
    assert runs == [{"name": "a", "square": 4}, {"name": "b", "square": 9}]
    assert len(cache.read_text().splitlines()) == 2
    # a cached run is taken as it is (a doctored one shows it was not run again) ...
    cache.write_text(cache.read_text().replace('"square": 9', '"square": -1'))
    runs = _records.run_cached(square, jobs, key, cache=cache, stamp={"updates": 5})
    assert runs[1]["square"] == -1 and len(cache.read_text().splitlines()) == 2
    # ... unless it was made with other settings; `found` runs win over the cache
    runs = _records.run_cached(square, jobs, key, cache=cache, stamp={"updates": 6},
                               found={"a": {"name": "a", "square": 0}})
    assert [r["square"] for r in runs] == [0, 9]
    assert len(cache.read_text().splitlines()) == 3
