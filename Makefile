# Two commands on a fresh machine: `make run` (set up, then the main job) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
WB := $(VENV)/bin/workbench
STAMP := $(VENV)/.installed
# Every package's version, compiled from pyproject.toml by `make lock`: a new machine installs
# what CI tested. torch is left out of it and pinned below (the CPU build on this disk, which
# `make lock` reads from /opt/wheels where that exists so that torch's CPU dependencies are locked).
LOCK := constraints.txt
TORCH := torch==2.13.0
PIP := pip==26.3
UV := uv==0.13.9

.PHONY: setup run test lint bench clean lock docs reference pictures

setup: $(STAMP)

# torch goes in first and pinned: it is the CPU build on this disk, and an unpinned
# torch pulled in by sentence-transformers would be a multi-GB CUDA build.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q $(PIP)
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -c $(LOCK) -e '.[dev,ray]'
	touch $(STAMP)

# Recompile the lock after a change to pyproject.toml's dependencies. Versions already in the
# lock are kept where they still fit (uv reads the old file as preferences); to move every
# package to its newest release: make lock LOCK_FLAGS=--upgrade, then make test.
lock:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q $(UV)
	echo '$(TORCH)' | $(VENV)/bin/uv pip compile pyproject.toml - --extra dev --extra ray \
		--python-version 3.11 $(if $(wildcard /opt/wheels),--find-links /opt/wheels) --no-emit-package torch \
		--annotation-style line $(LOCK_FLAGS) -o $(LOCK)

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
	$(MAKE) docs

# The documentation site, built strictly: a broken link or anchor fails (site/ is ignored).
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# The generated reference pages (tests/test_docs.py fails when they are out of date).
reference: setup
	$(PY) docs/scripts/cli_reference.py
	$(PY) docs/scripts/keys_reference.py
	$(PY) docs/scripts/package_map.py

# Every picture in docs/images, from the real app (needs chromium for the HTML report).
pictures: setup
	$(PY) docs/scripts/pictures.py

bench: setup
	$(PY) bench/retrieval.py
	$(PY) bench/speed.py
	$(PY) bench/review_scale.py
	$(PY) bench/stance.py
	$(PY) bench/signals.py

clean:
	rm -rf $(VENV) .workbench .pytest_cache site
