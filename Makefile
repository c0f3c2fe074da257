# Cohort Commons — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi

.PHONY: install run test api-fuzz lint bench vendor clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11, python3.12 …)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(BIN)/python wsgi.py

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -n auto

# Schemathesis against a live server, as an owner and as a learner (tests/fuzz/): the four
# runs (two roles, two databases) at once, each with its own server and database.
api-fuzz: install
	$(BIN)/pytest -m fuzz -n 4 tests/fuzz

lint: install
	$(BIN)/ruff check .

vendor:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent @picocss/pico@2.1.1 socket.io-client@4.8.4 axe-core@4.14.1 >/dev/null \
	&& for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done \
	&& cp picocss-pico-2.1.1/package/css/pico.min.css picocss-pico-2.1.1/package/LICENSE.md $(CURDIR)/static/vendor/pico/ \
	&& cp socket.io-client-4.8.4/package/dist/socket.io.min.js socket.io-client-4.8.4/package/dist/socket.io.min.js.map socket.io-client-4.8.4/package/LICENSE $(CURDIR)/static/vendor/socket.io/ \
	&& cp axe-core-4.14.1/package/axe.min.js axe-core-4.14.1/package/LICENSE $(CURDIR)/tests/vendor/axe-core/ \
	&& rm -rf $$tmp && echo "vendored files refreshed"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
