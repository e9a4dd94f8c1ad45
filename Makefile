# AssetLink — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.assetlink-installed

.PHONY: demo serve test install lint format key clean jslint polaris

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,sandbox,embedded]'
	touch $(STAMP)

install: $(STAMP) $(NODE_STAMP)

## make demo: install, migrate, start emulators + app + worker with demo data (Ctrl-C stops all)
demo: install
	$(PY) -m assetlink_project.demo

## make serve: the production-like stack without containers — migrate, collectstatic, gunicorn
## and workers per queue, on DATABASE_URL / REDIS_URL (docs/deploy.md)
serve: install
	$(PY) -m assetlink_project.serve

## make test: install, lint, format check, JS lint, the docs (strict: a broken link fails), the
## import layering (pyproject's [tool.importlinter]), the whole test suite
test: install jslint $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mkdocs build --strict --quiet
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## make key: print a new Fernet key for ENCRYPTION_KEYS (and a SECRET_KEY)
key: install
	@$(PY) -c "from cryptography.fernet import Fernet; import secrets; print('ENCRYPTION_KEYS=' + Fernet.generate_key().decode()); print('SECRET_KEY=' + secrets.token_urlsafe(50))"

# JavaScript: no build step for the app; Biome (pinned in package.json) lints it and checks its
# formatting and import order (`$(BIOME) check --write` fixes what it can).
# @shopify/dev-mcp (pinned there too) ships Shopify's published Admin schemas the schema tests read.
BIOME := node_modules/.bin/biome
$(NODE_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)
$(BIOME): $(NODE_STAMP)

jslint: $(BIOME)
	$(BIOME) check --error-on-warnings

## make polaris: refresh the vendored Polaris stylesheet from the @shopify/polaris npm package
POLARIS_VERSION ?= 13.9.5
VENDOR := pages/static/assetlink/vendor
polaris:
	rm -rf var/polaris && mkdir -p var/polaris
	cd var/polaris && npm pack --silent @shopify/polaris@$(POLARIS_VERSION) >/dev/null \
		&& tar -xzf shopify-polaris-$(POLARIS_VERSION).tgz package/build/esm/styles.css package/LICENSE.md
	cp var/polaris/package/build/esm/styles.css $(VENDOR)/polaris.css
	cp var/polaris/package/LICENSE.md $(VENDOR)/POLARIS-LICENSE.md
	rm -rf var/polaris
	@echo "Polaris $(POLARIS_VERSION) stylesheet in $(VENDOR)/polaris.css"

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache node_modules
