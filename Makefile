# Two commands on a fresh machine: `make run` (set up, then the main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
WB := $(VENV)/bin/workbench
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean

setup: $(STAMP)

# torch goes in first and pinned: it is the CPU build on this disk, and an unpinned
# torch pulled in by sentence-transformers would be a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,ray]'
	touch $(STAMP)

# The main job: bundled evidence + seed article -> the review UI (in a terminal; without one,
# the matches are printed instead, so that the command still does something useful).
run: setup
	$(WB) ingest evidence/
	@if [ -t 0 ] && [ -t 1 ]; then \
		$(WB) match seeds/sotchi-poutine-pompeo.fr.txt --top-k 5 --published 2019-05-15 > /dev/null && $(WB) review; \
	else \
		$(WB) match seeds/sotchi-poutine-pompeo.fr.txt --top-k 5 --published 2019-05-15 --pretty; \
	fi

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: setup lint
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/retrieval.py
	$(PY) bench/speed.py
	$(PY) bench/review_scale.py
	$(PY) bench/stance.py
	$(PY) bench/signals.py

clean:
	rm -rf $(VENV) .workbench .pytest_cache
