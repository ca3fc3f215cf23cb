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


def _classes(root: Path = PACKAGE) -> dict[str, list[str]]:
    """Class name -> the modules under ``root`` that define a class of that name (at any
    depth: a nested class counts for its module)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                module = str(path.relative_to(root))
                if module not in found[node.name]:
                    found[node.name].append(module)
    return found


# A class name two modules may both define, with why it is still one meaning. Empty: no
# class name has two definitions.
SHARED_CLASS_NAMES: dict[str, str] = {}


def test_a_class_name_is_defined_in_one_module():
    """One name, one meaning: two classes of one name (two CacheBroken, two Built, two Cell,
    two Outcome) are two meanings a reader has to tell apart by the import."""
    twice = {name: modules for name, modules in _classes().items()
             if len(modules) > 1 and name not in SHARED_CLASS_NAMES}
    assert not twice, twice


def test_the_class_name_rule_sees_a_second_class(tmp_path):
    (tmp_path / "a.py").write_text("class CacheBroken(Exception): ...\n")
    (tmp_path / "b.py").write_text("from a import CacheBroken as C\n"
                                   "def f():\n    class CacheBroken(C): ...\n")
    (tmp_path / "c.py").write_text("class Once: ...\nclass Other:\n    class Once: ...\n")
    found = _classes(tmp_path)
    assert found["CacheBroken"] == ["a.py", "b.py"] and found["Once"] == ["c.py"]


def test_a_second_definition_is_seen(tmp_path):
    (tmp_path / "a.py").write_text("OPERATIONS = ('chat',)\n")
    (tmp_path / "b.py").write_text("from a import OPERATIONS as O\nclass Fault: ...\n"
                                   "OPERATIONS: tuple[str, ...] = ('chat',)\n")
    found = _definitions(tmp_path)
    assert found["OPERATIONS"] == ["a.py", "b.py"] and found["Fault"] == ["b.py"]
