"""One name, one meaning: the names issue 19 found defined twice are defined once, and the dead
ones it listed stay gone (a module-level definition anywhere in the package fails this)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"


def _definitions(root: Path = PACKAGE) -> dict[str, list[str]]:
    """Module-level name -> the modules under ``root`` that define it (classes, functions,
    assignments)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [node.name]
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                continue
            for name in names:
                found[name].append(str(path.relative_to(root)))
    return found


DEFINITIONS = _definitions()


@pytest.mark.parametrize("name", ["OPERATIONS", "SetupError", "Fault", "BASE_PATH"])
def test_a_name_the_issue_found_twice_is_defined_once(name):
    assert len(DEFINITIONS.get(name, [])) <= 1, DEFINITIONS[name]


@pytest.mark.parametrize("name", ["observe_exception", "floats_of", "SEAM", "SDKS",
                                  "AZURE_RULES", "JS_DOC", "DOTNET_DOC",
                                  # the python-only retry ledger, retired with its helpers
                                  "Ledger", "release_range", "PYTHON_DOC"])
def test_dead_code_the_issue_listed_stays_gone(name):
    assert name not in DEFINITIONS


def test_dead_methods_the_issue_listed_stay_gone():
    from conformance.clock import VirtualClock
    from conformance.wire import WireServer

    assert not hasattr(WireServer, "serving")
    assert not hasattr(VirtualClock, "elapsed")


def test_a_second_definition_is_seen(tmp_path):
    (tmp_path / "a.py").write_text("OPERATIONS = ('chat',)\n")
    (tmp_path / "b.py").write_text("from a import OPERATIONS as O\nclass Fault: ...\n"
                                   "OPERATIONS: tuple[str, ...] = ('chat',)\n")
    found = _definitions(tmp_path)
    assert found["OPERATIONS"] == ["a.py", "b.py"] and found["Fault"] == ["b.py"]
