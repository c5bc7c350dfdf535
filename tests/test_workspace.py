"""`python -m attention_course.workspace DIR`: the student's own copy of the notebooks.

It must copy every chapter and exercise, and never replace a notebook the student may have
worked on without asking (and then keep the old copy). Fast: plain file copies.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from attention_course import workspace
from attention_course.runtime import ROOT


def _all():
    return workspace.student_notebooks(ROOT)


def test_copies_every_chapter_and_exercise(tmp_path):
    done = workspace.make_workspace(tmp_path / "ws")
    names = {p.as_posix() for p in done["copied"]}
    assert names == {p.relative_to(ROOT).as_posix() for p in
                     [*ROOT.glob("book/*.ipynb"), *ROOT.glob("exercises/*/*.ipynb")]}
    assert "exercises/04_attention/04_attention.ipynb" in names and "book/01_rnn.ipynb" in names
    for rel in done["copied"]:
        assert (tmp_path / "ws" / rel).read_bytes() == (ROOT / rel).read_bytes()
    again = workspace.make_workspace(tmp_path / "ws")
    assert again["copied"] == [] and again["kept"] == [] and len(again["same"]) == len(names)


def test_refuses_to_overwrite_work_without_asking(tmp_path):
    ws = tmp_path / "ws"
    mine = ws / "exercises" / "01_rnn" / "01_rnn.ipynb"
    mine.parent.mkdir(parents=True)
    mine.write_text('{"my": "work"}')
    # Run as a student would from a script: no terminal, so nobody to ask.
    run = subprocess.run([sys.executable, "-m", "attention_course.workspace", str(ws)],
                         capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert mine.read_text() == '{"my": "work"}'
    assert "Kept your own copy" in run.stdout and "exercises/01_rnn/01_rnn.ipynb" in run.stdout
    assert "rename or delete yours" in run.stdout
    assert f"cd {ws} && jupyter lab" in run.stdout
    assert (ws / "exercises" / "02_lstm_gru" / "02_lstm_gru.ipynb").is_file()   # the rest copied
    assert not list(mine.parent.glob("*.old-*"))


def test_asks_and_keeps_the_old_copy_when_told_to_replace(tmp_path):
    ws = tmp_path / "ws"
    mine = ws / "book" / "01_rnn.ipynb"
    mine.parent.mkdir(parents=True)
    mine.write_text("old work")
    questions = []
    no = workspace.make_workspace(ws, ask=lambda q: questions.append(q) or False)
    assert no["kept"] == [Path("book/01_rnn.ipynb")] and mine.read_text() == "old work"
    assert "01_rnn.old-1.ipynb" in questions[0]
    yes = workspace.make_workspace(ws, ask=lambda q: True)
    assert yes["replaced"] == [Path("book/01_rnn.ipynb")]
    assert mine.read_bytes() == (ROOT / "book" / "01_rnn.ipynb").read_bytes()
    assert (ws / "book" / "01_rnn.old-1.ipynb").read_text() == "old work"


def test_bad_targets_get_a_clear_error(tmp_path, capsys):
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    assert workspace.main([str(afile)]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert afile.read_text() == "x"
    with pytest.raises(workspace.WorkspaceError, match="course's own folder"):
        workspace.make_workspace(ROOT)
    with pytest.raises(workspace.WorkspaceError, match="incomplete"):
        workspace.make_workspace(tmp_path / "ws", root=tmp_path / "empty")
