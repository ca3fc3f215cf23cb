"""Failure tables: each row is a broken thing and the check it makes fail, on one SDK.

A test module declares what its misbehaving servers and broken SDKs catch as a table, and
turns the table into a test with :func:`caught`::

    CAUGHT = [
        # (case, check id, SDK, a phrase of the failure message; "" for any)
        (usage_does_not_add_up, "chat.response-contract", "python", "usage.total"),
        (usage_does_not_add_up, "chat.response-contract", "go", "usage.total"),
        (loses_content, "chat.response-contract", "python", ""),
    ]
    test_caught = caught(CAUGHT)

A *case* is a function ``case(suite, monkeypatch)`` that breaks something before the run: a
cassette of the run's private copy (``suite.edit``, ``suite.edit_json``), the scripted server
or the SDK (``monkeypatch``), a driver build (``monkeypatch.setattr(pool, "start", ...)``, a
folder under ``suite.pytester.path``). It may call ``pytest.skip`` (a driver it cannot build).

The rows of one case and one SDK share one run of their checks (``--conformance-check``, never a
name substring), and each check must end ``fail`` for that SDK with its phrase in the message.
A row for a driver SDK (not python) is marked ``drivers``; a driver whose toolchain is missing
skips. ``tests/test_every_check_can_fail.py`` reads every table made with :func:`caught` (and,
until they become rows, the hand-written ``... is Verdict.FAIL`` assertions) and fails for a
registered check that nothing makes fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from conformance.registry import Verdict

Case = Callable[[Any, pytest.MonkeyPatch], object]
Row = tuple[Case, str, str, str]  # (case, check id, SDK, phrase)

# The attribute a test made by caught() carries its rows in (read by test_every_check_can_fail).
ROWS = "__caught_rows__"
# The attribute a case that runs a broken SDK build (not a misbehaving server) sets to True.
BROKEN_BUILD = "broken_build"


def case_name(case: Case) -> str:
    return getattr(case, "__name__", type(case).__name__).strip("<>")


def _groups(rows: Sequence[Row]) -> list[tuple[Case, str, list[tuple[str, str]]]]:
    """Rows grouped by (case, SDK), in table order: one run each."""
    groups: dict[tuple[int, str], tuple[Case, str, list[tuple[str, str]]]] = {}
    for row in rows:
        if len(row) != 4 or not all(isinstance(x, str) for x in row[1:]) or not callable(row[0]):
            raise TypeError(f"a CAUGHT row is (case, check id, sdk, phrase), got {row!r}")
        case, check_id, sdk, phrase = row
        groups.setdefault((id(case), sdk), (case, sdk, []))[2].append((check_id, phrase))
    return list(groups.values())


def _ids(groups: list[tuple[Case, str, list[tuple[str, str]]]]) -> list[str]:
    ids: list[str] = []
    for case, sdk, _ in groups:
        name = f"{case_name(case)}[{sdk}]"
        ids.append(name if name not in ids else f"{name}#{len(ids)}")
    return ids


def run_case(suite: Any, monkeypatch: pytest.MonkeyPatch, case: Case, sdk: str,
             expected: Sequence[tuple[str, str]]) -> None:
    """Break the thing, run the checks of ``expected`` on ``sdk``, and assert each fails with
    its phrase (and that none of them is an error: blame stays precise)."""
    case(suite, monkeypatch)
    check_ids = list(dict.fromkeys(check_id for check_id, _ in expected))
    run = suite.run(*check_ids, args=(f"--conformance-sdk={sdk}",))
    ran = {c.id: c for c in run.results.checks if c.sdk == sdk}
    if sdk != "python" and ran and all(c.verdict is Verdict.SKIPPED for c in ran.values()):
        pytest.skip(f"{sdk} driver unavailable: {next(iter(ran.values())).message}")
    for check_id, phrase in expected:
        assert check_id in ran, (f"{check_id} did not run for {sdk}; ran {sorted(ran)}\n"
                                 f"{run.outcome.stdout.str()}")
        result = ran[check_id]
        assert result.verdict is Verdict.FAIL, (
            f"{case_name(case)}: {check_id} on {sdk} is {result.verdict}, not fail: "
            f"{result.message}")
        assert phrase in result.message, (
            f"{case_name(case)}: {check_id} on {sdk} failed without {phrase!r}: "
            f"{result.message}")


def caught(rows: Sequence[Row]) -> Callable[..., None]:
    """A test, parametrized per (case, SDK) of ``rows``, that shows each row's check failing.
    Assign it to a ``test_*`` name of the module."""
    groups = _groups(rows)
    params = [
        pytest.param(case, sdk, expected, id=name,
                     marks=() if sdk == "python" else (pytest.mark.drivers,))
        for (case, sdk, expected), name in zip(groups, _ids(groups), strict=True)
    ]

    @pytest.mark.parametrize(("case", "sdk", "expected"), params)
    def test_caught(suite: Any, monkeypatch: pytest.MonkeyPatch, case: Case, sdk: str,
                    expected: list[tuple[str, str]]) -> None:
        run_case(suite, monkeypatch, case, sdk, expected)

    setattr(test_caught, ROWS, tuple(rows))
    return test_caught


def rows_of(module: object) -> list[Row]:
    """Every row of the tables ``module`` turned into tests with :func:`caught`."""
    found: list[Row] = []
    for name in dir(module):
        value = getattr(module, name)
        if name.startswith("test") and callable(value):
            found.extend(getattr(value, ROWS, ()))
    return found
