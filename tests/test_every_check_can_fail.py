"""A check earns its place only if it can fail: every registered check, on every SDK it runs
on, has a case in these tests that makes it fail.

Two kinds of evidence count:

- a row of a failure table (``tests/failures.py``: ``CAUGHT = [(case, check id, SDK,
  phrase), ...]`` turned into a test with ``caught(CAUGHT)``), read by importing the test
  modules: exact, per SDK;
- until they become rows, a hand-written assertion, read from the source without running it:
  a function of a test module that asserts ``Verdict.FAIL`` (or calls a helper that does, such
  as ``fault_mutants.assert_caught``) counts for every registered check id it names (a string
  in its body or decorators, or in a module-level constant it uses). Its SDK is the one it
  names (``"go"``, ``--conformance-sdk=go``); a test with an ``sdk`` parameter counts for every
  SDK; one that names none, for python.

The hand-written reading is generous (a function that asserts one check fails and another
passes counts for both): rows are the precise form, and what a new test should write.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance import sdks
from conformance.registry import ALL_SDKS, REGISTRY, Check
from conformance.suites import __path__ as suites_path

from .failures import BROKEN_BUILD, rows_of

TESTS = Path(__file__).parent
ANY_SDK = "*"
# A hand-written test that uses one of these breaks the SDK (a broken driver build, a patched
# openai-python), not the server.
BROKEN_SDK_NAMES = {"driver_mutants", "fault_mutants", "mutants", "openai", "pool_start"}


def _register_every_check() -> None:
    for module in sorted(Path(suites_path[0]).glob("*.py")):
        if not module.name.startswith("_"):
            importlib.import_module(f"conformance.suites.{module.stem}")


def _sdks_of(check: Check) -> tuple[str, ...]:
    return sdks.names() if check.sdks == ALL_SDKS else check.sdks


def _modules() -> list[Path]:
    return sorted(p for p in TESTS.glob("*.py") if p.name != Path(__file__).name)


def _table_evidence(servers_only: bool = False) -> Iterator[tuple[str, str]]:
    """(check id, SDK) of every failure-table row; ``servers_only``: only the rows whose case
    is a misbehaving server (not a broken SDK build, which a case marks ``BROKEN_BUILD``)."""
    for path in _modules():
        if not path.name.startswith("test_"):
            continue
        module = importlib.import_module(f"tests.{path.stem}")
        for case, check_id, sdk, _phrase in rows_of(module):
            if not (servers_only and getattr(case, BROKEN_BUILD, False)):
                yield check_id, sdk
        # A module's own CAUGHT table of that shape, which its tests walk themselves.
        for row in getattr(module, "CAUGHT", None) or ():
            if (isinstance(row, tuple) and len(row) == 4 and row[1] in REGISTRY
                    and isinstance(row[2], str)
                    and not (servers_only and getattr(row[0], BROKEN_BUILD, False))):
                yield row[1], row[2]


def _strings(node: ast.AST, constants: dict[str, ast.AST], seen: set[str]) -> Iterator[str]:
    """Every string in ``node``, and in the module-level constants and functions it names
    (transitively: a test that hands its run to a module helper judging a table)."""
    for child in ast.walk(node):
        if isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child.value
        elif isinstance(child, ast.Name) and child.id in constants and child.id not in seen:
            seen.add(child.id)
            yield from _strings(constants[child.id], constants, seen)


def _asserts_a_fail(node: ast.AST, helpers: set[str]) -> bool:
    for child in ast.walk(node):
        if (isinstance(child, ast.Attribute) and child.attr == "FAIL"
                and isinstance(child.value, ast.Name) and child.value.id == "Verdict"):
            return True
        if isinstance(child, ast.Call):
            called = child.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in helpers:
                return True
    return False


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef)]


def _names(node: ast.AST, constants: dict[str, ast.AST], seen: set[str]) -> Iterator[str]:
    """Every name ``node`` uses (``x`` and the ``x`` of ``x.y``), and the names of the
    module-level constants and functions it uses, transitively."""
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id
            if child.id in constants and child.id not in seen:
                seen.add(child.id)
                yield from _names(constants[child.id], constants, seen)
        elif isinstance(child, ast.alias):
            yield child.asname or child.name.split(".")[0]


def _hand_written_evidence(servers_only: bool = False) -> Iterator[tuple[str, str]]:
    trees = {path: ast.parse(path.read_text(), str(path)) for path in _modules()}
    # Helpers that assert a fail for the ids they are given (fault_mutants.assert_caught).
    helpers = {f.name for tree in trees.values() for f in _functions(tree)
               if not f.name.startswith("test") and _asserts_a_fail(f, set())}
    known_sdks = set(sdks.names())
    for tree in trees.values():
        constants: dict[str, ast.AST] = {}
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef) and not statement.name.startswith("test"):
                constants[statement.name] = statement  # a helper the tests call
            if isinstance(statement, ast.Assign):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = statement.value
            elif (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                  and statement.value is not None):
                constants[statement.target.id] = statement.value
        for function in _functions(tree):
            if not function.name.startswith("test") or not _asserts_a_fail(function, helpers):
                continue
            if servers_only and BROKEN_SDK_NAMES & set(_names(function, constants, set())):
                continue  # a broken SDK build, not a misbehaving server
            strings = set(_strings(function, constants, set()))
            ids = strings & set(REGISTRY)
            named = {s for s in strings if s in known_sdks}
            named |= {s.removeprefix("--conformance-sdk=") for s in strings
                      if s.removeprefix("--conformance-sdk=") in known_sdks}
            if "sdk" in {a.arg for a in function.args.args}:
                named.add(ANY_SDK)
            for check_id in ids:
                for sdk in named or {"python"}:
                    yield check_id, sdk


def _missing() -> tuple[list[str], list[str]]:
    """(check ids nothing makes fail, ``id[sdk]`` pairs nothing makes fail on that SDK)."""
    _register_every_check()
    evidence = {*_table_evidence(), *_hand_written_evidence()}
    caught_ids = {check_id for check_id, _ in evidence}
    no_case = sorted(set(REGISTRY) - caught_ids)
    no_case_on = sorted(
        f"{check.id}[{sdk}]"
        for check in REGISTRY.values() if check.id in caught_ids
        for sdk in _sdks_of(check)
        if (check.id, sdk) not in evidence and (check.id, ANY_SDK) not in evidence
    )
    return no_case, no_case_on


@pytest.fixture(scope="module")
def missing() -> tuple[list[str], list[str]]:
    return _missing()


def test_every_registered_check_has_a_case_that_makes_it_fail(missing):
    no_case, _ = missing
    assert no_case == [], (
        "registered checks that no test makes fail (add a CAUGHT row, tests/failures.py): "
        + ", ".join(no_case))


def test_every_sdk_a_check_runs_on_has_a_case_that_makes_it_fail(missing):
    _, no_case_on = missing
    assert no_case_on == [], (
        "checks that no test makes fail on these SDKs (add a CAUGHT row per SDK, "
        "tests/failures.py): " + ", ".join(no_case_on))


def test_the_reading_sees_rows_and_hand_written_assertions():
    evidence = {*_table_evidence(), *_hand_written_evidence()}
    assert ("chat.response-contract", "python") in evidence  # tests/test_failures.py's row
    # tests/test_suites_errors.py: the fault mutants as failure-table rows
    assert ("errors.status-classes", "python") in evidence


# Features whose claims are the request the SDK builds from the user's construction: no answer
# of a server changes it, so broken builds make them fail (tests/test_construction_sdks.py,
# tests/test_suites_construction.py), never a misbehaving server.
REQUEST_ONLY = {"construction"}


def test_each_driver_fails_against_a_misbehaving_server_in_every_feature():
    """The issue's "for each driver, tests make at least one check per feature fail against a
    misbehaving server": per SDK and per feature (the registry's) of the checks it runs, some
    row or test breaks the server (a cassette, the scripted server), not the SDK, and a check
    of that feature fails on that SDK."""
    _register_every_check()
    servers = {*_table_evidence(servers_only=True), *_hand_written_evidence(servers_only=True)}
    every = {*_table_evidence(), *_hand_written_evidence()}
    missing = sorted(
        f"{feature}[{sdk}]"
        for sdk in sdks.names()
        for feature in {c.feature for c in REGISTRY.values() if sdk in _sdks_of(c)}
        if not any((c.id, sdk) in evidence or (c.id, ANY_SDK) in evidence
                   for evidence in [every if feature in REQUEST_ONLY else servers]
                   for c in REGISTRY.values() if c.feature == feature and sdk in _sdks_of(c))
    )
    assert missing == [], (
        "features with no misbehaving-server case that makes one of their checks fail on "
        "that SDK (add a CAUGHT row, tests/failures.py): " + ", ".join(missing))


def test_the_server_reading_leaves_out_broken_sdk_builds():
    servers = {*_table_evidence(servers_only=True), *_hand_written_evidence(servers_only=True)}
    every = {*_table_evidence(), *_hand_written_evidence()}
    # tests/test_driver_mutants.py's rows run broken builds (BROKEN_BUILD), and its
    # hand-written tests use driver_mutants: both count as cases, not as misbehaving servers.
    assert ("request-ids.not-from-apim", "go") in every - servers
    assert ("retries.retry-after", "python") in every  # hand-written, through fault_mutants
    # tests/test_sdk_claims.py: one misbehaving server per SDK (an ``sdk`` parameter)
    assert ("errors.timeout", ANY_SDK) in servers
