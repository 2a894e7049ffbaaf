# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi.py
# PostgreSQL used by the second test pass (trust authentication on the local server).
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgresql install db seed worker clean

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

run: seed
	$(BIN)/flask run --host 127.0.0.1 --port 5000

worker: install
	$(BIN)/flask jobs worker

test: test-sqlite test-postgresql

test-sqlite: install
	TEST_DB=sqlite $(BIN)/python -m pytest -m "not postgresql_only"

test-postgresql: install
	TEST_DB=postgresql TEST_DATABASE_URL=$(TEST_POSTGRES_URL) $(BIN)/python -m pytest -m "not browser"

clean:
	rm -rf $(VENV) var .pytest_cache
