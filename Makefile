# crdb-backup-dashboards. `make build` and `make test` do all set-up on a fresh Debian machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
CLI    := $(VENV)/bin/crdb-dash
STAMP  := $(VENV)/.installed
TESTED := $(VENV)/.installed-test
# CONFIG=my.yaml overrides the built-in defaults for build, deploy, diff and demo. A build with your
# CONFIG goes to OUT (dist/ unless set): the committed files under provisioning/ and rules/ stay the defaults.
DASH   := $(CLI) $(if $(CONFIG),--config $(CONFIG))
OUT    ?= $(if $(CONFIG),dist,.)

.PHONY: install install-test build golden check lint test engines prometheus bench deploy diff demo preview wheel clean

# What building needs; the test tools (pytest, ruff, typed models) only for lint, test and bench.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	@touch $@

$(TESTED): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

install: $(STAMP)

install-test: $(TESTED)

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

## The query engines the tests run on (Prometheus 3.5 and 2.42, VictoriaMetrics 1.145 and 1.79): Debian's packages
## unpacked into .engines/, the machine's apt sources untouched. CRDB_DASH_ENGINE_<KEY> points one at your binaries.
engines: install
	@$(PY) -m crdb_dash.simulation.engines install

# The demo and the previews need one Prometheus: the newest of the matrix.
prometheus: install
	@$(PY) -m crdb_dash.simulation.engines install prometheus-3.5

lint: install-test
	$(VENV)/bin/ruff check crdb_dash panels dashboards tests bench scripts

## Every test on every engine; then the README's compatibility table from this run.
test: install-test engines lint
	$(PY) -m pytest -n 2 --dist loadgroup
	$(PY) scripts/compatibility.py README.md

bench: install-test engines
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
