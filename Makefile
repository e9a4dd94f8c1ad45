# AssetLink — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo serve test install lint format key clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,sandbox,embedded]'
	touch $(STAMP)

install: $(STAMP)

## make demo: install, migrate, start emulators + app + worker with demo data (Ctrl-C stops all)
demo: install
	$(PY) -m assetlink_project.demo

## make serve: the production-like stack without containers — migrate, collectstatic, gunicorn
## and workers per queue, on DATABASE_URL / REDIS_URL (README "Deploy")
serve: install
	$(PY) -m assetlink_project.serve

## make test: install, lint, format check, the whole test suite
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make key: print a new Fernet key for ENCRYPTION_KEYS (and a SECRET_KEY)
key: install
	@$(PY) -c "from cryptography.fernet import Fernet; import secrets; print('ENCRYPTION_KEYS=' + Fernet.generate_key().decode()); print('SECRET_KEY=' + secrets.token_urlsafe(50))"

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
