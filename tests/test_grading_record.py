"""benchmarks/grading.md, written by `make bench-grading`, says what issue 22 asks of
grading speed: both kinds of sandbox measured in one run, the same verdicts from both,
and at least one submission per second per core with the fork server at 2 workers.
The numbers are recomputed here from the table, not read from the prose."""
from __future__ import annotations

import re
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / "benchmarks" / "grading.md"


def _rows() -> dict:
    rows = {}
    for line in RECORD.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 8 and cells[0].isdigit():
            workers, kind, count, seconds, per_minute = cells[:5]
            rows[int(workers), kind.startswith("forked")] = {
                "count": int(count), "per_minute": float(per_minute),
                "statuses": cells[7]}
    return rows


def test_the_record_has_both_kinds_in_one_run():
    rows = _rows()
    assert set(rows) == {(1, True), (2, True), (2, False)}, rows
    assert all(row["statuses"] == f"graded {row['count']}" for row in rows.values())
    text = RECORD.read_text()
    assert "same score, status, task scores and reasons: **yes**" in text


def test_the_fork_server_grades_at_least_one_submission_per_second_per_core():
    cores = int(re.search(r"on (\d+) CPU cores", RECORD.read_text()).group(1))
    rows = _rows()
    per_core = rows[2, True]["per_minute"] / 60 / cores
    assert per_core >= 1.0, per_core
    assert rows[2, True]["per_minute"] > rows[2, False]["per_minute"]
    assert f"{per_core:.2f} per second per core, **met**" in RECORD.read_text()
