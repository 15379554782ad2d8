# ImperioCasino — `make run` serves the app, `make test` runs the suite.
PYTHON ?= python3
# Another interpreter gets a virtualenv of its own: `make test PYTHON=python3.13` uses .venv-python3.13.
VENV   ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN    := $(VENV)/bin
export FLASK_APP := imperioApp:create_app

.PHONY: run admin test coverage install install-dev lock migrate lint typecheck audit bandit format-check serve-production bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The locks pin every package, transitive ones too, by version and hash: an install is the same
# everywhere, and a file whose hash differs from the lock's is refused. The project itself is
# then installed editable, without its dependencies (they are the lock's) and without a
# download (setuptools is in the lock), for its `imperio` console script.
$(VENV)/.runtime-installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps --no-build-isolation --no-index -e .
	touch $@

$(VENV)/.dev-installed: requirements.lock requirements-dev.lock $(VENV)/.runtime-installed
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.runtime-installed

install-dev: $(VENV)/.dev-installed

## Re-lock after changing requirements.txt or requirements-dev.txt (the inputs): every package,
## transitive ones too, at one version for Python 3.11 to 3.13, with its hashes. UPGRADE=1 also
## moves the packages the inputs leave free to their newest release.
UV_VERSION := $(shell sed -n 's/^uv==//p' requirements-dev.txt)
LOCK := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
        --index-url https://pypi.org/simple --custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock: | $(BIN)/python
	test -x $(BIN)/uv || $(BIN)/pip install -q "uv==$(UV_VERSION)"
	$(LOCK) requirements.txt -o requirements.lock
	$(LOCK) requirements-dev.txt -c requirements.lock -o requirements-dev.lock

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

## Static types of the pure engines and the money path (mypy, settings and scope in pyproject.toml).
typecheck: install-dev
	$(BIN)/mypy

## Known vulnerabilities of every locked package (pip-audit; needs the online advisory database).
audit: install-dev
	$(BIN)/pip-audit --require-hashes --disable-pip -r requirements.lock
	$(BIN)/pip-audit --require-hashes --disable-pip -r requirements-dev.lock

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
	rm -rf .venv .venv-* .pytest_cache .mypy_cache instance/imperio.db .coverage coverage*.xml
