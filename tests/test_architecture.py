"""The dependency rule of ARCHITECTURE.md, checked on the source: a module imports from its own
layer and the layers below, never above; the core packages stay self-contained."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"

# Most specific prefix wins.
LAYERS = {
    "conformance": 1,
    "conformance.wire": 1,
    "conformance.contract": 1,
    "conformance.registry": 1,
    "conformance.secrets": 1,
    "conformance.paths": 1,
    "conformance.routes": 1,
    "conformance.settings": 1,
    "conformance.aliases": 1,
    "conformance.harness": 2,
    "conformance.sdk": 2,
    "conformance.clock": 2,
    "conformance.credentials": 2,
    "conformance.policy": 2,
    "conformance.cassette_check": 2,
    "conformance.provenance": 2,
    "conformance.target": 2,
    "conformance.deployments": 2,
    "conformance.entra": 2,
    "conformance.usage": 2,
    "conformance.live_tally": 2,
    "conformance.secret_scan": 2,
    "conformance.recording": 2,
    "conformance.preflight": 2,
    "conformance.drivers": 2,
    "conformance.sdk_selection": 2,
    "conformance.standin": 2,
    "conformance.outputs": 2,
    "conformance.sdks": 2,
    "conformance.caches": 2,
    "conformance.interruption": 2,
    "conformance.tls_contexts": 2,
    "conformance.verdicts": 2,
    "conformance.suites": 3,
    "conformance.results": 4,
    "conformance.table": 4,
    "conformance.sweep": 4,
    "conformance.reports": 4,
    "conformance.report_command": 4,
    "conformance.environments": 4,
    "conformance.gate": 4,
    "conformance.matrix": 4,
    "conformance.bisection": 4,
    "conformance.doctor": 4,
    "conformance.pytest_plugin": 4,
    "conformance.cli": 4,
    "conformance.workers": 4,
    "conformance.events": 4,
    "conformance.run_results": 4,
    "conformance.run_recordings": 4,
    "conformance.__main__": 4,
}
# Core packages that must not reach outside themselves (besides the package root).
SELF_CONTAINED = ("conformance.wire", "conformance.contract")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))
NAMES = {module_name(p) for p in MODULES}


def layer_of(name: str) -> tuple[str, int]:
    # The package root counts only for itself, not as a prefix of everything.
    matches = [p for p in LAYERS if name == p or (p != "conformance" and name.startswith(p + "."))]
    if not matches:
        raise KeyError(name)
    prefix = max(matches, key=len)
    return prefix, LAYERS[prefix]


def project_imports(path: Path) -> set[str]:
    """The project modules ``path`` imports; ``from package import module`` counts as importing
    the module (so ``from conformance import pytest_plugin`` is seen), ``from module import
    name`` as importing the module."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("conformance"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("conformance"):
                target = node.module
            else:
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                found.add(submodule if submodule in NAMES else target)
    return found




@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_respect_the_layers(path):
    name = module_name(path)
    _own_prefix, own_layer = layer_of(name)
    for target in project_imports(path):
        _prefix, layer = layer_of(target)
        assert layer <= own_layer, f"{name} (layer {own_layer}) imports {target} (layer {layer})"
        for core in SELF_CONTAINED:
            if name.startswith(core):
                assert target.startswith(core) or target == "conformance", (
                    f"{name} must stay inside {core} but imports {target}")


def test_every_module_has_a_layer():
    unassigned = []
    for path in MODULES:
        try:
            layer_of(module_name(path))
        except KeyError:
            unassigned.append(module_name(path))
    assert not unassigned, f"assign these to a layer in ARCHITECTURE.md and here: {unassigned}"
