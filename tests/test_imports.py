"""The package's import graph: no cycles between modules or between subpackages, and data flowing one way.

Every import counts, including those inside functions: a lazy import hides a cycle from Python, not from
a reader. Packages and their folders are read from pyproject.toml, as the wheel is built.
"""

from __future__ import annotations

import ast
import graphlib
import tomllib

import pytest

from tests.conftest import ROOT

# Lower layers never import higher ones; subpackages in one layer never import each other.
LAYERS = (
    ("crdb_dash",),  # the version
    ("crdb_dash.model",),  # config, metric catalog, naming, PromQL, the alert table
    ("crdb_dash.panels",),
    ("crdb_dash.dashboards",),
    ("crdb_dash.pipeline",),  # compiled dashboards, rule files, provisioning, Kubernetes objects
    ("crdb_dash.delivery", "crdb_dash.simulation"),  # to Grafana; the simulator, real Prometheus runs, the demo
    ("crdb_dash.preview",),
    ("crdb_dash.cli",),
)


def _setup() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


PACKAGES = set(_setup()["packages"])


def modules() -> dict[str, ast.Module]:
    """Module name -> parsed source, for every module the wheel ships."""
    setup, found = _setup(), {}
    for package in setup["packages"]:
        folder = ROOT / setup.get("package-dir", {}).get(package, package.replace(".", "/"))
        for path in sorted(folder.glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            found[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def imports(tree: ast.Module, known: set[str], package: str = "") -> set[str]:
    """The project's modules ``tree`` imports, anywhere in it; relative imports are read from ``package``."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            for alias in node.names:
                full = f"{module}.{alias.name}"
                out.add(full if full in known else module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {name for name in out if name in known}


def module_graph() -> dict[str, set[str]]:
    trees = modules()
    return {name: imports(tree, set(trees), name if name in PACKAGES else name.rpartition(".")[0]) - {name}
            for name, tree in trees.items()}


def unit(module: str) -> str:
    """The subpackage of crdb_dash a module belongs to; a module at the top of crdb_dash is its own unit."""
    top = ".".join(module.split(".")[:2])
    return top if top in PACKAGES else module


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for module, targets in graph.items():
        out.setdefault(unit(module), set()).update(unit(t) for t in targets if unit(t) != unit(module))
    return out


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        return exc.args[1]
    return None


def test_the_checker_finds_a_cycle_and_reads_lazy_imports():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) in (["a", "c", "b", "a"], ["b", "a", "c", "b"],
                                                            ["c", "b", "a", "c"])
    assert cycle({"a": {"b"}, "b": set()}) is None
    tree = ast.parse("def f():\n    from crdb_dash.model import promql\n    import crdb_dash.cli\n")
    assert imports(tree, {"crdb_dash.model.promql", "crdb_dash.cli", "crdb_dash.model"}) == {
        "crdb_dash.model.promql", "crdb_dash.cli"}
    relative = ast.parse("from ..panels import base\nfrom . import naming\nfrom .catalog import metric\n")
    assert imports(relative, {"crdb_dash.panels.base", "crdb_dash.model.naming", "crdb_dash.model.catalog"},
                   "crdb_dash.model") == {"crdb_dash.panels.base", "crdb_dash.model.naming", "crdb_dash.model.catalog"}


def test_every_module_is_read():
    graph = module_graph()
    assert {"crdb_dash.cli", "crdb_dash.model.catalog", "crdb_dash.panels.base", "crdb_dash.dashboards.overview",
            "crdb_dash.pipeline.build", "crdb_dash.delivery.deploy", "crdb_dash.simulation.simulator",
            "crdb_dash.preview.run"} <= set(graph)
    assert "crdb_dash.model.promql" in graph["crdb_dash.panels.base"]


def test_no_two_modules_import_each_other():
    assert cycle(module_graph()) is None


def test_no_two_subpackages_import_each_other():
    assert cycle(package_graph(module_graph())) is None


def test_every_subpackage_has_a_layer():
    assert set(package_graph(module_graph())) == {name for layer in LAYERS for name in layer}


@pytest.mark.parametrize("layer", range(len(LAYERS)), ids=[" ".join(layer) for layer in LAYERS])
def test_data_flows_one_way(layer):
    """A unit imports only units of lower layers: catalog -> panels -> dashboards -> files -> delivery."""
    below = {name for lower in LAYERS[:layer] for name in lower}
    for name in LAYERS[layer]:
        upward = package_graph(module_graph())[name] - below
        assert not upward, f"{name} imports {sorted(upward)}, which are not below it"
