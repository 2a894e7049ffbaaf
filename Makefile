# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi.py
# PostgreSQL used by the second test pass (trust authentication on the local server).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint test-sqlite test-postgresql install db seed worker clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

db: install
	mkdir -p var
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed demo-if-empty

# When Redis answers, jobs go to RQ, so a worker runs beside the web server for as long as it does;
# otherwise the app runs jobs inline and logs that at start-up.
run: seed
	@if $(BIN)/flask jobs ping >/dev/null 2>&1; then \
	  echo "Redis is reachable: starting an RQ worker and the periodic-job scheduler beside the web server"; \
	  $(BIN)/flask jobs worker & worker=$$!; \
	  $(BIN)/flask reminders cron & cron=$$!; \
	  trap 'kill $$worker $$cron 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000; \
	else \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000; \
	fi

worker: install
	$(BIN)/flask jobs worker

test: lint test-sqlite test-postgresql

# ruff, then the import contracts of .importlinter (layers, the one-way feature order, no cycles in a package).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test-sqlite: install
	TEST_DB=sqlite $(BIN)/python -m pytest -m "not postgresql_only"

test-postgresql: install
	TEST_DB=postgresql TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest -m "not browser"

clean:
	rm -rf $(VENV) var .pytest_cache
