"""What a green live run means: checks reached the resource and passed. A live run that
reached too few (nothing mapped, a budget too small, everything skipped) exits 2 with one
paragraph naming why; ``--min-live N`` sets how many are enough."""

from __future__ import annotations

import pytest

from conformance import cli, paths

from .fake_resource import FakeResource, serving
from .fake_resource import live_run as run
from .test_live_smoke import THEIRS

KEY = "live-secret-key-0123456789abcdef"


@pytest.fixture
def renamed():
    """A stand-in whose deployments all have names of their own."""
    fake = FakeResource(KEY, paths.cassette_root(),
                        deployments={theirs: doc for doc, theirs in THEIRS.items()})
    with serving(fake) as serving_fake:
        yield serving_fake


def mapped(*docs):
    return [f"--conformance-deployment={doc}={THEIRS[doc]}" for doc in docs]


def test_a_live_run_with_nothing_mapped_is_not_green(pytester, renamed, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome, data = run(pytester, renamed.endpoint, "--conformance-feature=chat",
                        "--conformance-feature=embeddings")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    live = data["target"]["live"]
    assert (live["planned"], live["reached"], live["required"]) == (0, 0, 1)
    assert renamed.work == []
    [paragraph] = [line for line in outcome.stdout.lines if line.startswith("live run too thin")]
    assert "0 check(s) reached the resource, 1 required" in paragraph
    assert "nothing is mapped to your deployments" in paragraph
    assert "--deployment DOC=YOURS" in paragraph and "exits 2" in paragraph


def test_a_budget_too_small_for_any_check_is_not_green(pytester, renamed, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome, data = run(pytester, renamed.endpoint, "--conformance-feature=chat",
                        "--conformance-max-tokens=150", *mapped("gpt-4o"))
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    assert data["target"]["live"]["skipped"] == {"the token budget": 3}
    outcome.stdout.fnmatch_lines(["live run too thin: 0 check(s) reached the resource, 3 "
                                  "required*3 skipped for the token budget (raise --max-tokens)*"])


def test_budgets_that_may_not_cover_the_selection_are_announced(pytester, renamed,
                                                                monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome, data = run(pytester, renamed.endpoint, "--conformance-feature=embeddings",
                        "--conformance-budget=2", *mapped(
                            "text-embedding-3-small", "text-embedding-3-large",
                            "text-embedding-ada-002"))
    outcome.stdout.fnmatch_lines([
        "live: the budgets (2 requests, 8000 tokens) may not cover the 6 check(s) selected "
        "(about * request(s), * token(s)): the cheapest go first*exits 2*"])
    assert data["target"]["requests_sent"] <= 2
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    assert data["target"]["live"]["skipped"]["the request budget"] > 0


def test_a_skip_for_budget_is_not_silent_in_the_exit_code(pytester, renamed, monkeypatch):
    """One request fits, the next does not: what ran passed, yet the run is not green."""
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome, data = run(pytester, renamed.endpoint, "--conformance-feature=embeddings",
                        "--conformance-feature=chat", "--conformance-max-tokens=200", *mapped(
                            "gpt-4o", "text-embedding-3-small", "text-embedding-3-large",
                            "text-embedding-ada-002"))
    live = data["target"]["live"]
    assert 0 < live["reached"] < live["planned"] and live["skipped"]["the token budget"] > 0
    assert {c["verdict"] for c in data["checks"]} <= {"pass", "skipped"}
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    assert data["target"]["tokens_used"] <= 200
    # With --min-live at what did reach the resource, the same run is green.
    outcome, _ = run(pytester, renamed.endpoint, "--conformance-feature=embeddings",
                     "--conformance-feature=chat", "--conformance-max-tokens=200",
                     f"--conformance-min-live={live['reached']}", *mapped(
                         "gpt-4o", "text-embedding-3-small", "text-embedding-3-large",
                         "text-embedding-ada-002"))
    assert outcome.ret == 0


def test_a_mapped_run_says_what_reached_the_resource(pytester, renamed, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome, data = run(pytester, renamed.endpoint, "--conformance-feature=chat",
                        *mapped("gpt-4o"))
    assert outcome.ret == 0
    assert data["target"]["live"] == {"planned": 3, "reached": 3, "passed": 3, "required": 3,
                                      "skipped": {}, "shortfall": None}
    outcome.stdout.fnmatch_lines(["live: 3 check(s) reached the resource and 3 of them passed "
                                  "(3 planned; --min-live 3)"])


def test_the_cli_exits_2_for_a_thin_live_run(tmp_path, renamed, monkeypatch, capsys):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    given = ["run", f"--report-dir={tmp_path}", f"--endpoint={renamed.endpoint}",
             "--feature=chat", "--deployment=gpt-4o=chat-prod", "--max-tokens=150"]
    assert cli.main(given) == cli.EXIT_USAGE
    assert "live run too thin" in capsys.readouterr().out
    assert cli.main([*given, "--min-live=0"]) == cli.EXIT_OK
