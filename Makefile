# crdb-backup-dashboards. `make build` and `make test` do all set-up on a fresh Debian machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
CLI    := $(VENV)/bin/crdb-dash
STAMP  := $(VENV)/.installed
# CONFIG=my.yaml overrides the built-in defaults for build, deploy, diff and demo. A build with your
# CONFIG goes to OUT (dist/ unless set): the committed files under provisioning/ and rules/ stay the defaults.
DASH   := $(CLI) $(if $(CONFIG),--config $(CONFIG))
OUT    ?= $(if $(CONFIG),dist,.)

.PHONY: install build golden check lint test prometheus bench deploy diff demo preview wheel clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

install: $(STAMP)

## Build dashboards, provisioning files and rules: the defaults into the working tree, CONFIG's into OUT.
build: install
	$(DASH) build --out $(OUT)

## Refresh the committed snapshots from the built-in defaults (read the diff before committing).
golden: install
	$(CLI) build
	git --no-pager diff --stat -- provisioning rules

## Fail if the generated files under OUT differ from a fresh build.
check: install
	$(DASH) build --check --out $(OUT)

prometheus:
	@scripts/install-prometheus

lint: install
	$(VENV)/bin/ruff check crdb_dash panels dashboards tests bench

test: install prometheus lint
	$(PY) -m pytest

bench: install prometheus
	$(PY) bench/run.py

deploy: install
	$(DASH) deploy

diff: install
	$(DASH) diff

demo: install prometheus
	$(DASH) demo

## Draw every dashboard for a healthy cluster and for one with problems into docs/images/ (shown in README.md).
preview: install prometheus
	$(DASH) preview --scenario healthy-hourly-backups --scale 0.6 --out docs/images/healthy
	$(DASH) preview --scenario everything-at-once --scale 0.6 --out docs/images/problems

## A wheel to install elsewhere (pip install build/wheel/*.whl): crdb-dash and the package crdb_dash only.
wheel: install
	$(PY) -m pip wheel --quiet --disable-pip-version-check --no-deps -w build/wheel .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
