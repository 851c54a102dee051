# CareerPrep: `make run` sets everything up and serves the app; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000
STAMP  := $(VENV)/.installed

.PHONY: run serve test test-postgres install db lint format lock clean

run: db
	@echo ""
	@echo "  CareerPrep is running at http://$(HOST):$(PORT)"
	@echo "  Make the first admin in another terminal:"
	@echo "      $(FLASK) create-admin you@example.com"
	@echo ""
	SESSION_COOKIE_SECURE=0 $(FLASK) run --host $(HOST) --port $(PORT)

# Production-style: gunicorn with gunicorn.conf.py (workers from the CPU count; see README "Deploying").
serve: db
	$(BIN)/gunicorn -c gunicorn.conf.py app:app

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL, with Redis-backed rate limits (local services, see README).
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
test-postgres: install
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) REQUIRE_POSTGRES=1 REQUIRE_REDIS=1 \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever the dependencies or the lock change; the lock pins every package.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

db: install
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
	.lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^careerprep' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
