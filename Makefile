# ImperioCasino — `make run` serves the app, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := imperioApp:create_app

.PHONY: run admin test coverage install install-dev migrate lint bandit format-check serve-production bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime-installed

install-dev: $(VENV)/.dev-installed

## Apply every migration to the configured database (DATABASE_URL, default SQLite).
migrate: install
	mkdir -p instance
	$(BIN)/flask db upgrade

## Set up and serve http://localhost:5011 (REST + Socket.IO) on SQLite and in-memory defaults.
run: migrate
	$(BIN)/flask seed
	$(BIN)/python run.py

## The first operator, in one step on a fresh clone: make admin USERNAME=ops EMAIL=ops@example.com
## (asks for the password; ROLE=support|risk|admin, default admin; PROMOTE=1 gives an existing account the role).
admin: migrate
	@test -n "$(USERNAME)" -a -n "$(EMAIL)" || { echo "usage: make admin USERNAME=ops EMAIL=ops@example.com [ROLE=admin] [PROMOTE=1]"; exit 2; }
	$(BIN)/flask create-admin "$(USERNAME)" "$(EMAIL)" --role $(or $(ROLE),admin) $(if $(PROMOTE),--promote)

## The whole suite. TEST_DATABASE_URL / TEST_REDIS_URL select PostgreSQL and Redis.
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The suite with branch coverage of imperioApp/ (terminal report and $(COVERAGE_XML)); fails under COVERAGE_FLOOR %.
COVERAGE_FLOOR ?= 90
COVERAGE_XML   ?= coverage.xml
coverage:
	$(MAKE) test PYTEST_ARGS='--cov --cov-report=term --cov-report=xml:$(COVERAGE_XML) --cov-fail-under=$(COVERAGE_FLOOR) $(PYTEST_ARGS)'

lint: install-dev
	$(BIN)/ruff check .

## Security lint of the app; every finding is fixed or answered in place (# nosec with the reason).
bandit: install-dev
	$(BIN)/bandit -r imperioApp -q

## Formatting check (ruff format, settings in ruff.toml).
format-check: install-dev
	$(BIN)/ruff format --check .

## Production-style serving: migrations first, then Gunicorn with gevent workers.
serve-production: migrate
	exec $(BIN)/gunicorn -c deployment/gunicorn_config.py "imperioApp.wsgi:app"

clean:
	rm -rf $(VENV) .pytest_cache instance/imperio.db .coverage coverage*.xml
