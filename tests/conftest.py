import os
from pathlib import Path

import pytest

from crdb_dash import build, config

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = Path(os.environ.get("CRDB_DASH_SCHEMA_DIR", ROOT.parent / "shared" / "reference" / "grafana-jsonschema"))


@pytest.fixture(scope="session")
def cfg():
    return config.load()


@pytest.fixture(scope="session")
def models(cfg):
    """The metric dashboards (the runbooks dashboard, text only, has its own tests)."""
    from dashboards import runbooks

    return {uid: m for uid, m in build.dashboards(cfg).items() if uid != runbooks.dashboard_uid(cfg)}


@pytest.fixture(scope="session")
def panels(models):
    """(dashboard uid, panel) for every non-row panel."""
    return [(uid, p) for uid, model in models.items() for p in model["panels"] if p["type"] != "row"]


@pytest.fixture(scope="session")
def schema_dir():
    if not (SCHEMA_DIR / "dashboard.jsonschema.json").is_file():
        pytest.fail(f"Grafana's JSON Schemas are expected in {SCHEMA_DIR} (set CRDB_DASH_SCHEMA_DIR to move them)")
    return SCHEMA_DIR
