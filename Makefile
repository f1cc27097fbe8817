# Two commands on a fresh clone, with only python3 (3.11+) and make:
#   make demo   record / replay / chaos demo, offline: replays the run committed in cassettes/demo.db
#   make demo-record   the same, recording that run afresh against the loopback provider simulator first
#   make test   the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo demo-record test bench docs docs-serve cassettes simulate clean

CASSETTES ?= cassettes
PORT      ?= 8787

$(STAMP): pyproject.toml setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "tarash-gateway needs Python 3.11+, found " + sys.version.split()[0]'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing tarash-gateway and its dev tools into $(VENV) ..."
	@$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@$(PY) -m tarash.tarash_gateway.demo

demo-record: $(STAMP)
	@TARASH_DEMO_RECORD=1 $(PY) -m tarash.tarash_gateway.demo

test: $(STAMP)
	@$(PY) -m pytest -q

bench: $(STAMP)
	@$(PY) tools/bench/bench_mock.py
	@$(PY) tools/bench/bench_cassettes.py
	@$(PY) tools/bench/bench_providers.py

docs: $(STAMP)
	@NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

docs-serve: $(STAMP)
	@NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

cassettes: $(STAMP)
	@$(VENV)/bin/tarash cassette ls $(CASSETTES)

simulate: $(STAMP)
	@$(VENV)/bin/tarash simulate --port $(PORT)

clean:
	rm -rf $(VENV) build site
