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
No check of a run may end ``error``: blame stays precise. Two more kinds of entry join a run:

- ``lacking=[(case, check id, SDK, reason), ...]``: the SDK lacks the check's API, so the check
  must end ``unsupported`` with the reason in its message (openai-go has no async client). An
  entry whose check ends anything else fails the test: an exemption is asserted, never assumed.
- ``judged_too=(check id, ...)``: checks each run also judges though the table makes none of
  them fail (a run that serves every claim of its features): each must run and not err.

A row for a driver SDK (not python) is marked ``drivers`` (unless its case sets
``NO_TOOLCHAIN``); a driver whose toolchain is missing skips.
``tests/test_every_check_can_fail.py`` reads every table made with :func:`caught` (rows and
lacking entries) and fails for a registered check, or a (check, SDK) pair, that nothing makes
fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from conformance.registry import Verdict

Case = Callable[[Any, pytest.MonkeyPatch], object]
Row = tuple[Case, str, str, str]  # (case, check id, SDK, phrase)
Lacking = tuple[Case, str, str, str]  # (case, check id, SDK, reason it is unsupported)

# The attributes a test made by caught() carries its rows and its lacking entries in (read by
# test_every_check_can_fail).
ROWS = "__caught_rows__"
LACKING = "__caught_lacking__"
# The attribute a case that runs a broken SDK build (not a misbehaving server) sets to True.
BROKEN_BUILD = "broken_build"
# The attribute a case sets to True whose driver runs without the SDK's toolchain (a stand-in
# driver speaking for the row's SDK): its rows are not marked ``drivers``.
NO_TOOLCHAIN = "no_toolchain"


def case_name(case: Case) -> str:
    return getattr(case, "__name__", type(case).__name__).strip("<>")


Group = tuple[Case, str, list[tuple[str, str]], list[tuple[str, str]]]


def _checked(row: Row, last: str) -> Row:
    if len(row) != 4 or not all(isinstance(x, str) for x in row[1:]) or not callable(row[0]):
        raise TypeError(f"a CAUGHT row is (case, check id, sdk, {last}), got {row!r}")
    return row


def _groups(rows: Sequence[Row], lacking: Sequence[Lacking] = ()) -> list[Group]:
    """Rows and lacking entries grouped by (case, SDK), in table order: one run each."""
    groups: dict[tuple[int, str], Group] = {}
    for case, check_id, sdk, phrase in (_checked(row, "phrase") for row in rows):
        groups.setdefault((id(case), sdk), (case, sdk, [], []))[2].append((check_id, phrase))
    for case, check_id, sdk, reason in (_checked(row, "reason") for row in lacking):
        groups.setdefault((id(case), sdk), (case, sdk, [], []))[3].append((check_id, reason))
    return list(groups.values())


def _ids(groups: list[Group]) -> list[str]:
    ids: list[str] = []
    for case, sdk, _, _ in groups:
        name = f"{case_name(case)}[{sdk}]"
        ids.append(name if name not in ids else f"{name}#{len(ids)}")
    return ids


def run_case(suite: Any, monkeypatch: pytest.MonkeyPatch, case: Case, sdk: str,
             expected: Sequence[tuple[str, str]], lacking: Sequence[tuple[str, str]] = (),
             judged_too: Sequence[str] = ()) -> None:
    """Break the thing, run the checks of ``expected``, ``lacking`` and ``judged_too`` on
    ``sdk`` in one run, and assert each of ``expected`` fails with its phrase, each of
    ``lacking`` is unsupported with its reason, and no check of the run is an error (blame
    stays precise)."""
    case(suite, monkeypatch)
    check_ids = list(dict.fromkeys([*(check_id for check_id, _ in (*expected, *lacking)),
                                    *judged_too]))
    run = suite.run(*check_ids, args=(f"--conformance-sdk={sdk}",))
    ran = {c.id: c for c in run.results.checks if c.sdk == sdk}
    if sdk != "python" and ran and all(c.verdict is Verdict.SKIPPED for c in ran.values()):
        pytest.skip(f"{sdk} driver unavailable: {next(iter(ran.values())).message}")
    for check_id in check_ids:
        assert check_id in ran, (f"{check_id} did not run for {sdk}; ran {sorted(ran)}\n"
                                 f"{run.outcome.stdout.str()}")
    errors = {c: r.message for c, r in ran.items() if r.verdict is Verdict.ERROR}
    assert not errors, f"{case_name(case)}: checks that erred on {sdk}: {errors}"
    for wanted, entries in ((Verdict.UNSUPPORTED, lacking), (Verdict.FAIL, expected)):
        for check_id, phrase in entries:
            result = ran[check_id]
            assert result.verdict is wanted, (
                f"{case_name(case)}: {check_id} on {sdk} is {result.verdict}, not {wanted.value}: "
                f"{result.message}")
            assert phrase in result.message, (
                f"{case_name(case)}: {check_id} on {sdk} is {wanted.value}, but without "
                f"{phrase!r}: {result.message}")


def caught(rows: Sequence[Row], *, lacking: Sequence[Lacking] = (),
           judged_too: Sequence[str] = ()) -> Callable[..., None]:
    """A test, parametrized per (case, SDK) of ``rows`` and ``lacking``, that shows each row's
    check failing and each lacking entry's check unsupported, with ``judged_too`` in every run
    and no check erring. Assign it to a ``test_*`` name of the module."""
    groups = _groups(rows, lacking)
    params = [
        pytest.param(case, sdk, expected, unsupported, id=name,
                     marks=() if sdk == "python" or getattr(case, NO_TOOLCHAIN, False)
                     else (pytest.mark.drivers,))
        for (case, sdk, expected, unsupported), name in zip(groups, _ids(groups), strict=True)
    ]
    also = tuple(judged_too)

    @pytest.mark.parametrize(("case", "sdk", "expected", "unsupported"), params)
    def test_caught(suite: Any, monkeypatch: pytest.MonkeyPatch, case: Case, sdk: str,
                    expected: list[tuple[str, str]],
                    unsupported: list[tuple[str, str]]) -> None:
        run_case(suite, monkeypatch, case, sdk, expected, unsupported, also)

    setattr(test_caught, ROWS, tuple(rows))
    setattr(test_caught, LACKING, tuple(lacking))
    return test_caught


def _entries(module: object, attribute: str) -> list[Row]:
    found: list[Row] = []
    for name in dir(module):
        value = getattr(module, name)
        if name.startswith("test") and callable(value):
            found.extend(getattr(value, attribute, ()))
    return found


def rows_of(module: object) -> list[Row]:
    """Every row of the tables ``module`` turned into tests with :func:`caught`."""
    return _entries(module, ROWS)


def lacking_of(module: object) -> list[Lacking]:
    """Every lacking entry (an SDK without the check's API) of ``module``'s tables."""
    return _entries(module, LACKING)
