# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi.py
# PostgreSQL used by the second test pass (trust authentication on the local server).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint test-sqlite test-postgresql install db seed worker clean mutation

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

# The two passes run side by side, one core each (CI has two): each on its own databases and Redis databases
# (tests/services.py). `--output-sync` prints each pass's output whole when it ends; either failing fails `make test`.
test: lint
	@echo "The SQLite and PostgreSQL passes run side by side; each one's output follows when it ends."
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgresql

# ruff, then the import contracts of .importlinter (layers, the one-way feature order, no cycles in a package).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Each pass ends with its 30 slowest test phases, so a run that grows past the ~30 minutes CI allows shows where.
test-sqlite: install
	TEST_DB=sqlite $(BIN)/python -m pytest -m "not postgresql_only" --durations=30

test-postgresql: install
	TEST_DB=postgresql TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest -m "not browser and not db_independent" --durations=30

# Mutation testing of the scope, permission and audit-chain code (cosmic-ray.toml); slow, not part of `make test`.
# Lists the survivors at the end: mutants no test killed.
MUTATION_SESSION := var/mutation.sqlite
mutation: install
	mkdir -p var
	rm -f $(MUTATION_SESSION)
	$(BIN)/cosmic-ray init cosmic-ray.toml $(MUTATION_SESSION)
	$(BIN)/cr-filter-pragma $(MUTATION_SESSION)
	$(BIN)/cosmic-ray baseline cosmic-ray.toml
	$(BIN)/cosmic-ray exec cosmic-ray.toml $(MUTATION_SESSION)
	$(BIN)/cr-report $(MUTATION_SESSION) --surviving-only
	git diff --quiet -- app || { echo "cosmic-ray left a mutated file behind: git checkout -- app"; exit 1; }

clean:
	rm -rf $(VENV) var .pytest_cache
