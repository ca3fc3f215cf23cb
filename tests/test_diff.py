"""diff: the old and new values of what changed, the one normaliser (jitter is compared by
the policy's bounds, hints are kept), the blocking policies and the Markdown rendering."""

from __future__ import annotations

import pytest

from conformance.cli import main
from conformance.registry import Verdict
from conformance.reports import diff as rendering
from conformance.results import (
    MISSING,
    CheckResult,
    Results,
    Value,
    blocking,
    compare,
    normalise,
)


def run(version: str, **checks: tuple[str, dict]) -> Results:
    return Results(
        sdk_info={"name": "openai-python", "version": version}, target={"mode": "replay"},
        checks=[CheckResult(id=i, feature=i.split(".")[0], verdict=Verdict(v), observations=o)
                for i, (v, o) in checks.items()])


def row(name: str, attempts: int, delays: list, allowed: list, outcome: str = "success",
        matched: str = "sdk") -> dict:
    return {"scenario": name, "attempts": attempts, "delays_s": delays,
            "allowed_delays": allowed, "outcome": outcome, "matched": matched}


BACKOFF0 = "backoff [0.375, 0.5] s"


def test_jittered_delays_compare_by_the_bounds_the_policy_allows():
    before = {"scenarios": [row("500, then success", 2, [0.41], [BACKOFF0])]}
    after = {"scenarios": [row("500, then success", 2, [0.49], [BACKOFF0])]}
    assert normalise(before) == normalise(after)
    assert normalise(before)["scenarios"][0]["delays_s"] == [BACKOFF0]


def test_a_delay_from_a_server_hint_is_kept():
    before = {"scenarios": [row("retry-after 3", 2, [3.0], ["hint 3 s"])]}
    after = {"scenarios": [row("retry-after 3", 2, [3.0], ["hint 3 s"])]}
    assert normalise(before)["scenarios"][0]["delays_s"] == [3.0]
    after["scenarios"][0].update(delays_s=[0.43], allowed_delays=[BACKOFF0])
    (change,) = compare(run("1", **{"retries.a": ("pass", before)}),
                        run("2", **{"retries.a": ("pass", after)}))
    assert Value("scenarios.[retry-after 3].delays_s", [3.0], [BACKOFF0]) in change.values


def test_a_delay_the_model_did_not_explain_is_kept_raw():
    failing = row("500", 2, [0.9], [BACKOFF0], matched="neither")
    assert normalise(failing)["delays_s"] == [0.9]


def test_an_http_date_hint_is_compared_by_its_window():
    allowed = ["hint from an HTTP-date, less the moments before the clock was read"]
    a = normalise(row("date", 2, [29.26], allowed))
    b = normalise(row("date", 2, [28.31], allowed))
    assert a == b


def test_results_without_allowed_delays_use_the_python_backoff():
    assert normalise({"delays_s": [0.41, 0.8, 5.0]})["delays_s"] == [
        BACKOFF0, "backoff [0.75, 1] s", 5.0]


def test_jitter_fractions_compare_by_the_jitter_window():
    assert normalise({"fraction_of_base": [0.8, 0.99, 0.5]}) == {
        "fraction_of_base": ["[0.75, 1]", "[0.75, 1]", 0.5]}


def test_a_changed_retry_count_is_a_behaviour_change_with_both_values():
    before = run("2.51.0", **{"retries.retry-after-limits": ("pass", {"scenarios": [
        row("retry-after 300", 2, [0.44], [BACKOFF0]),
        row("retry-after 0", 2, [0.41], [BACKOFF0])]})})
    after = run("2.52.0", **{"retries.retry-after-limits": ("pass", {"scenarios": [
        row("retry-after 300", 1, [], [], outcome="RateLimitError"),
        row("retry-after 0", 2, [0.47], [BACKOFF0])]})})
    (change,) = compare(before, after)
    assert change.kind == "observations"
    assert change.values == (
        Value("scenarios.[retry-after 300].attempts", 2, 1),
        Value("scenarios.[retry-after 300].delays_s", [BACKOFF0], []),
        Value("scenarios.[retry-after 300].outcome", "success", "RateLimitError"),
    )
    out = rendering.text(before, after, [change], [change], "behaviour")
    assert "scenarios.[retry-after 300].attempts: 2 -> 1" in out
    assert "scenarios.[retry-after 300].outcome: success -> RateLimitError" in out
    assert "retry-after 0" not in out


def test_values_of_a_verdict_change_and_added_and_removed_keys():
    before = run("1.105.0", **{"auth.entra-token-provider": (
        "unsupported", {"authorization": "Bearer <function wrapper>"})})
    after = run("1.106.0", **{"auth.entra-token-provider": (
        "pass", {"authorization": "Bearer <token#1>", "scope": "cognitiveservices"})})
    (change,) = compare(before, after)
    assert change.kind == "verdict"
    assert change.values == (
        Value("authorization", "Bearer <function wrapper>", "Bearer <token#1>"),
        Value("scope", MISSING, "cognitiveservices"),
    )
    out = rendering.text(before, after, [change], [], "behaviour")
    assert "scope: - -> cognitiveservices" in out


def test_long_values_are_cut_and_many_values_counted():
    before = run("1", **{"chat.a": ("pass", {f"k{n}": "x" * 200 for n in range(28)})})
    after = run("2", **{"chat.a": ("pass", {f"k{n}": "y" * 200 for n in range(28)})})
    changes = compare(before, after)
    out = rendering.text(before, after, changes, [], "regressions")
    assert "x" * 71 + "…" in out and "x" * 80 not in out
    assert "… and 8 more" in out
    md = rendering.markdown(before, after, changes, [], "regressions")
    assert "<details><summary>28 observation(s) changed</summary>" in md


@pytest.mark.parametrize(("policy", "blocked"), [
    ("regressions", {"chat.breaks"}),
    ("behaviour", {"chat.breaks", "chat.drifts"}),
    ("any", {"chat.breaks", "chat.drifts", "chat.fixed", "chat.born", "chat.gone",
             "chat.grows"}),
])
def test_the_blocking_policies(policy, blocked):
    before = run("1", **{"chat.breaks": ("pass", {}), "chat.drifts": ("pass", {"n": 1}),
                         "chat.fixed": ("fail", {}), "chat.gone": ("pass", {}),
                         "chat.grows": ("unsupported", {})})
    after = run("2", **{"chat.breaks": ("fail", {}), "chat.drifts": ("pass", {"n": 2}),
                        "chat.fixed": ("pass", {}), "chat.born": ("pass", {}),
                        "chat.grows": ("pass", {})})
    assert {c.id for c in blocking(compare(before, after), policy)} == blocked


def test_diff_command_block_and_markdown(tmp_path, capsys):
    base = run("2.51.0", **{"retries.a": ("pass", {"scenarios": [
        row("retry-after 300", 2, [0.44], [BACKOFF0])]})}).write(tmp_path / "b")
    cand = run("2.52.0", **{"retries.a": ("pass", {"scenarios": [
        row("retry-after 300", 1, [], [], outcome="RateLimitError")]})}).write(tmp_path / "c")
    assert main(["diff", str(base), str(cand)]) == 0
    assert main(["diff", "--block", "behaviour", str(base), str(cand)]) == 1
    capsys.readouterr()
    assert main(["diff", "--format", "md", "--block", "behaviour", str(base), str(cand)]) == 1
    md = capsys.readouterr().out
    assert md.startswith("## Conformance diff: openai-python 2.51.0 → openai-python 2.52.0")
    assert "**blocked**" in md and "### Blocking (1)" in md  # blocking changes first
    assert "| `scenarios.[retry-after 300].attempts` | 2 | 1 |" in md


def test_an_empty_diff_says_so(tmp_path, capsys):
    base = run("2.53.0", **{"chat.a": ("pass", {})}).write(tmp_path / "b")
    cand = run("2.54.0", **{"chat.a": ("pass", {})}).write(tmp_path / "c")
    assert main(["diff", "--format", "md", "--strict", str(base), str(cand)]) == 0
    assert "No check changed its verdict or observations." in capsys.readouterr().out


def test_two_runs_of_the_retry_checks_under_one_sdk_do_not_differ(suite):
    ids = ("retries.backoff", "retries.retry-after", "retries.default-attempts",
           "errors.fine-tuning-example")
    first, second = suite.run(*ids).results, suite.run(*ids).results
    assert {c.verdict for c in first.checks} == {Verdict.PASS}
    assert compare(first, second) == []
    raw = {c.id: c.observations for c in first.checks}, {c.id: c.observations
                                                        for c in second.checks}
    assert raw[0] != raw[1]  # the jitter is really there, and masked


def test_declared_deviations_are_matched_by_id():
    deviation = {"id": "python.retry-after-too-long", "doc": "retried", "sdk": "not retried"}
    added = {"id": "python.retry-after-overflow", "doc": "retried", "sdk": "1e400 is too long"}
    before = run("3.8.0", **{"retries.a": ("pass", {"doc_vs_sdk": [deviation]})})
    after = run("3.9.0", **{"retries.a": ("pass", {"doc_vs_sdk": [deviation, added]})})
    (change,) = compare(before, after)
    assert change.values == (Value("doc_vs_sdk.[python.retry-after-overflow]", MISSING,
                                    {"doc": "retried", "sdk": "1e400 is too long"}),)


def test_the_stand_ins_loopback_port_is_not_a_behaviour_change():
    """Seen on openai 2.53.0 -> 2.54.0: auth.api-key-bearer's `host` differed by the port the
    system gave the stand-in; a different host (or a different header) still shows."""
    before = run("2.53.0", **{"auth.a": ("pass", {"host": "127.0.0.1:34879",
                                                  "url": "http://127.0.0.1:34879/openai/v1/"})})
    same = run("2.54.0", **{"auth.a": ("pass", {"host": "127.0.0.1:35037",
                                                "url": "http://127.0.0.1:35037/openai/v1/"})})
    moved = run("2.54.0", **{"auth.a": ("pass", {"host": "myresource.openai.azure.com",
                                                 "url": "http://127.0.0.1:35037/openai/"})})
    assert compare(before, same) == []
    (change,) = compare(before, moved)
    assert {v.path for v in change.values} == {"host", "url"}
    assert normalise({"host": "[::1]:8080"}) == {"host": "[::1]:<port>"}


def test_context_observations_off_the_doc_are_not_compared():
    """Seen on openai 1.57.1 -> 1.57.2: construction.doc-client's AzureOpenAI constructions
    (other.*) lost a double slash, a fix off the doc's path; the doc's own constructions
    still show."""
    before = run("1.57.1", **{"construction.doc-client": ("pass", {
        "other.azure-environment.chat": {"request": "POST /openai/v1//openai/deployments/x"},
        "key-slash.chat": {"request": "POST /openai/v1/chat/completions"}})})
    off = run("1.57.2", **{"construction.doc-client": ("pass", {
        "other.azure-environment.chat": {"request": "POST /openai/v1/openai/deployments/x"},
        "key-slash.chat": {"request": "POST /openai/v1/chat/completions"}})})
    on = run("1.57.2", **{"construction.doc-client": ("pass", {
        "other.azure-environment.chat": {"request": "POST /openai/v1//openai/deployments/x"},
        "key-slash.chat": {"request": "POST /openai/v1//chat/completions"}})})
    assert compare(before, off) == []
    (change,) = compare(before, on)
    assert [v.path for v in change.values] == ["key-slash.chat.request"]
