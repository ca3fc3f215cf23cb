"""diff and gate pair a baseline's retired ids (conformance/aliases.py: the ``sdks-`` twins)
with the check that carries their claim now, on every SDK, and say it was renamed."""

from __future__ import annotations

import pytest

from conformance import aliases
from conformance.cli import main
from conformance.registry import Verdict
from conformance.reports import diff as rendering
from conformance.results import CheckResult, Results, blocking, compare, label_changes


def run(version: str, *checks: tuple[str, str, str], labels: dict | None = None) -> Results:
    """checks: (id, sdk, verdict)."""
    return Results(
        sdk_info={"name": "openai-python", "version": version}, target={"mode": "replay"},
        checks=[CheckResult(id=i, feature=i.split(".")[0], verdict=Verdict(v), sdk=s,
                            observations={"seen": i}, labels=dict(labels or {}))
                for i, s, v in checks])


@pytest.mark.parametrize("sdk", ["python", "javascript", "go", "java"])
def test_an_old_id_pairs_with_the_check_that_carries_its_claim(sdk):
    old, new = "errors.sdks-status-classes", "errors.status-classes"
    assert aliases.current(old) == new
    label = new if sdk == "python" else f"{new}[{sdk}]"
    (change,) = compare(run("1", (old, sdk, "pass")), run("2", (new, sdk, "pass")))
    assert (change.id, change.kind, change.renamed_from) == (label, "renamed", (old,))
    assert change.values == ()  # two checks observe differently: paired by verdict only
    assert f"renamed from {old}" in change.detail
    (change,) = compare(run("1", (old, sdk, "pass")), run("2", (new, sdk, "fail")))
    assert (change.id, change.kind, change.renamed_from) == (label, "regression", (old,))


def test_a_rename_blocks_under_no_policy_and_shows_in_every_output():
    changes = compare(run("1", ("auth.sdks-api-key", "go", "pass")),
                      run("2", ("auth.api-key-bearer", "go", "pass")))
    for policy in ("regressions", "behaviour", "any"):
        assert blocking(changes, policy) == []
    text = rendering.text(run("1"), run("2"), changes, [], "any")
    assert "renamed" in text and "auth.sdks-api-key" in text
    assert "auth.sdks-api-key" in rendering.markdown(run("1"), run("2"), changes, [], "any")
    assert "auth.sdks-api-key" in rendering.html_section(run("1"), run("2"), changes, [], "any")


def test_two_old_ids_of_one_claim_pair_as_their_worst_verdict():
    base = run("1", ("retries.sdks-retry-after-ms", "java", "pass"),
               ("retries.sdks-retry-after-seconds", "java", "fail"))
    (change,) = compare(base, run("2", ("retries.retry-after", "java", "fail")))
    # The claim failed under one of its old ids: still failing is no regression.
    assert change.kind == "renamed"
    assert change.renamed_from == ("retries.sdks-retry-after-ms",
                                   "retries.sdks-retry-after-seconds")
    (change,) = compare(base, run("2", ("retries.retry-after", "java", "pass")))
    assert (change.kind, change.before, change.after) == ("fix", "fail", "pass")


def test_the_current_id_wins_over_a_twin_in_the_same_run():
    # A python run with --sdk python had both the claim's check and its twin.
    base = run("1", ("request-ids.parsed-object", "python", "pass"),
               ("request-ids.sdks-accessor", "python", "fail"))
    (change,) = compare(base, run("2", ("request-ids.parsed-object", "python", "pass")))
    assert (change.kind, change.before, change.renamed_from) == (
        "renamed", "pass", ("request-ids.sdks-accessor",))


def test_two_old_runs_compare_as_they_always_did():
    base = run("1", ("chat.sdks-completion", "go", "pass"))
    cand = run("2", ("chat.sdks-completion", "go", "pass"))
    assert compare(base, cand) == []
    cand.checks[0].observations = {"seen": "other"}
    (change,) = compare(base, cand)
    assert (change.id, change.kind, change.renamed_from) == (
        "chat.sdks-completion[go]", "observations", ())


def test_nothing_is_removed_or_added_by_a_rename():
    base = run("1", *[(old, "go", "pass") for old in aliases.RETIRED])
    cand = run("2", *[(new, "go", "pass") for new in set(aliases.RETIRED.values())])
    kinds = {c.kind for c in compare(base, cand)}
    assert kinds == {"renamed"}


def test_labels_pair_across_a_rename():
    base = run("1", ("chat.sdks-completion", "go", "pass"), labels={"release_policy": ["a"]})
    cand = run("2", ("chat.response-contract", "go", "pass"), labels={"release_policy": ["b"]})
    (label,) = label_changes(base, cand)
    assert (label.before, label.after) == (["a"], ["b"])


def test_the_diff_command_reads_an_old_baseline(tmp_path, capsys):
    base = run("1", ("mcp.sdks-tool-config", "javascript", "pass")).write(tmp_path / "b")
    cand = run("2", ("mcp.tool-config", "javascript", "fail")).write(tmp_path / "c")
    assert main(["diff", str(base), str(cand)]) == 1
    out = capsys.readouterr().out
    assert "mcp.tool-config[javascript]" in out and "renamed from mcp.sdks-tool-config" in out


def test_the_gate_reports_read_an_old_baseline(tmp_path):
    from conformance.environments import Pin
    from conformance.gate import write_reports

    base = run("1", ("embeddings.sdks-default-encoding", "go", "pass"))
    cand = run("2", ("embeddings.sdk-default-base64", "go", "pass"))
    write_reports(tmp_path, base, cand, "any", Pin.parse("go@v3.99.0"), Pin.parse("go@v3.100.0"))
    text = (tmp_path / "diff.txt").read_text()
    assert text.startswith("passed: nothing blocks under policy any")
    assert "renamed from embeddings.sdks-default-encoding" in text
