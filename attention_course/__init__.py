"""attention_course: the code of the course "From RNNs to Vision Transformers".

Two kinds of module live here (see CONTRIBUTING.md, "One source of truth"):

* Hand-written infrastructure that no chapter teaches: `runtime` (device, seeds, paths),
  `data` (the checked, offline corpora), `workspace` (a student's copy of the notebooks:
  `python -m attention_course.workspace DIR`) and `grading` (instructor tooling around nbgrader).
  An installed wheel also carries the data, checkpoints, records and notebooks, in `_resources`.
* Generated modules (`rnn`, `text`, `train`, `plot`, `gated`, ...): every line is copied by
  `make export` from a `#@save <module>` cell of the chapter notebook that teaches it.
  Edit the notebook, never these files; `tests/test_export_sync.py` fails when they drift.
"""

__version__ = "0.1.0"
