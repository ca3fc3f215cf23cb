"""A check earns its place only if it can fail: every registered check, on every SDK it runs
on, has a case in these tests that makes it fail.

The evidence is the failure tables (``tests/failures.py``), read by importing the test modules:

- a row ``(case, check id, SDK, phrase)`` of a table a module turned into a test with
  ``caught(...)`` (``rows_of(module)``): its check fails on exactly that SDK;
- a lacking entry of such a table (``lacking=[(case, check id, SDK, reason)]``,
  ``lacking_of(module)``): the SDK lacks the check's API, and the entry's run asserts the check
  ``unsupported`` with the reason there. That pair needs no failing case; an entry whose check
  is anything but ``unsupported`` fails its own test.

Nothing else counts: a hand-written ``... is Verdict.FAIL`` assertion is no evidence here (write
a row). A case marked ``BROKEN_BUILD`` breaks the SDK (a driver build, a patched
openai-python), every other case the server; ``servers_only`` keeps the latter.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from conformance import sdks
from conformance.registry import ALL_SDKS, REGISTRY, Check
from conformance.suites import __path__ as suites_path

from .failures import BROKEN_BUILD, lacking_of, rows_of

TESTS = Path(__file__).parent


def _register_every_check() -> None:
    for module in sorted(Path(suites_path[0]).glob("*.py")):
        if not module.name.startswith("_"):
            importlib.import_module(f"conformance.suites.{module.stem}")


def _sdks_of(check: Check) -> tuple[str, ...]:
    return sdks.names() if check.sdks == ALL_SDKS else check.sdks


def _test_modules() -> Iterator[ModuleType]:
    for path in sorted(TESTS.glob("test_*.py")):
        if path.name != Path(__file__).name:
            yield importlib.import_module(f"tests.{path.stem}")


def _table_evidence(servers_only: bool = False) -> Iterator[tuple[str, str]]:
    """(check id, SDK) of every failure-table row; ``servers_only``: only the rows whose case
    is a misbehaving server (not a broken SDK build, which a case marks ``BROKEN_BUILD``)."""
    for module in _test_modules():
        for case, check_id, sdk, _phrase in rows_of(module):
            if not (servers_only and getattr(case, BROKEN_BUILD, False)):
                yield check_id, sdk


def _lacking() -> set[tuple[str, str]]:
    """(check id, SDK) of every lacking entry: the SDK lacks the API, a run asserts it."""
    return {(check_id, sdk) for module in _test_modules()
            for _case, check_id, sdk, _reason in lacking_of(module)}


def _missing() -> tuple[list[str], list[str]]:
    """(check ids nothing makes fail, ``id[sdk]`` pairs nothing makes fail on that SDK, and
    that SDK does not lack)."""
    _register_every_check()
    evidence = set(_table_evidence())
    lacking = _lacking()
    caught_ids = {check_id for check_id, _ in evidence}
    no_case = sorted(set(REGISTRY) - caught_ids)
    no_case_on = sorted(
        f"{check.id}[{sdk}]"
        for check in REGISTRY.values() if check.id in caught_ids
        for sdk in _sdks_of(check)
        if (check.id, sdk) not in evidence and (check.id, sdk) not in lacking
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
        "checks that no test makes fail on these SDKs (add a CAUGHT row per SDK, or a lacking "
        "entry where the SDK lacks the API, tests/failures.py): " + ", ".join(no_case_on))


def test_an_sdk_lacks_only_what_a_registered_check_runs_on_and_no_row_makes_fail():
    """A lacking entry is an exemption: it names a registered check on an SDK the check runs
    on, and no row says the same check fails there (it cannot be both)."""
    _register_every_check()
    lacking = _lacking()
    assert lacking, "no lacking entry read (tests/test_streaming_sdks.py has openai-go's)"
    unknown = sorted(f"{c}[{s}]" for c, s in lacking
                     if c not in REGISTRY or s not in _sdks_of(REGISTRY[c]))
    assert unknown == [], unknown
    both = sorted(f"{c}[{s}]" for c, s in lacking & set(_table_evidence()))
    assert both == [], f"lacking and failing at once: {both}"


def test_the_reading_sees_rows_and_lacking_entries():
    evidence = set(_table_evidence())
    assert ("chat.response-contract", "python") in evidence  # tests/test_failures.py's row
    # tests/test_suites_errors.py: the fault mutants as failure-table rows
    assert ("errors.status-classes", "python") in evidence
    # tests/test_sdk_claims.py: one misbehaving server, a row per check and SDK
    assert ("errors.timeout", "java") in evidence
    # openai-go has no async client: tests/test_streaming_sdks.py's run says so
    assert ("streaming.async-doc-loop-text", "go") in _lacking() - evidence


# Features whose claims are the request the SDK builds from the user's construction: no answer
# of a server changes it, so broken builds make them fail (tests/test_construction_sdks.py,
# tests/test_suites_construction.py), never a misbehaving server.
REQUEST_ONLY = {"construction"}


def test_each_driver_fails_against_a_misbehaving_server_in_every_feature():
    """The issue's "for each driver, tests make at least one check per feature fail against a
    misbehaving server": per SDK and per feature (the registry's) of the checks it runs, some
    row breaks the server (a cassette, the scripted server), not the SDK, and a check of that
    feature fails on that SDK."""
    _register_every_check()
    servers = set(_table_evidence(servers_only=True))
    every = set(_table_evidence())
    missing = sorted(
        f"{feature}[{sdk}]"
        for sdk in sdks.names()
        for feature in {c.feature for c in REGISTRY.values() if sdk in _sdks_of(c)}
        if not any((c.id, sdk) in evidence
                   for evidence in [every if feature in REQUEST_ONLY else servers]
                   for c in REGISTRY.values() if c.feature == feature and sdk in _sdks_of(c))
    )
    assert missing == [], (
        "features with no misbehaving-server case that makes one of their checks fail on "
        "that SDK (add a CAUGHT row, tests/failures.py): " + ", ".join(missing))


def test_the_server_reading_leaves_out_broken_sdk_builds():
    servers = set(_table_evidence(servers_only=True))
    every = set(_table_evidence())
    # tests/test_driver_mutants.py's rows run broken builds (BROKEN_BUILD): cases, not
    # misbehaving servers.
    assert ("request-ids.not-from-apim", "go") in every - servers
    # tests/test_suites_retries.py: patched openai-python builds (broken_sdk)
    assert ("retries.retry-after", "python") in every
    # tests/test_sdk_claims.py: one misbehaving server, a run per SDK
    assert ("errors.timeout", "go") in servers
