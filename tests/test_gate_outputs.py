"""Issue 20: policy-table labels are kept apart from behaviour (never a change, one note), every
gate output leads with the decision and the blocking changes with their values, a run's
reports put failures first, and diff headers name the SDK the checks judged."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from conformance import gate
from conformance.registry import Verdict
from conformance.reports import diff as rendering
from conformance.reports import html, markdown
from conformance.results import CheckResult, Results, compare, label_changes
from conformance.table import render as table
from tests.test_upgrade_commands import FakeRunner, args, cross_sdk

OLD_POLICY = [{"id": "python.backoff-one-ahead", "releases": "openai<1.47.0", "sdk": "old"}]
NEW_POLICY = [{"id": "python.backoff", "releases": "openai>=1.47.0", "sdk": "new"}]


def run(version: str, **checks: tuple[str, dict]) -> Results:
    return Results(
        sdk_info={"name": "openai-python", "version": version}, target={"mode": "replay"},
        checks=[CheckResult(id=i, feature=i.split(".")[0], verdict=Verdict(v), observations=o)
                for i, (v, o) in checks.items()])


def policy_only(version: str, policy: list, attempts: int = 3) -> Results:
    """19 retry checks whose only difference between releases is the policy table's label."""
    return run(version, **{f"retries.c{n}": ("pass", {
        "scenarios": [{"scenario": "500", "attempts": attempts}],
        "release_policy": policy, "matches_release_policy": True}) for n in range(19)})


def test_a_policy_label_is_kept_apart_and_never_makes_a_change():
    before, after = policy_only("1.46.0", OLD_POLICY), policy_only("1.47.0", NEW_POLICY)
    check = before.checks[0]
    assert "release_policy" not in check.observations
    assert check.labels["release_policy"] == OLD_POLICY
    assert compare(before, after) == []
    (label,) = label_changes(before, after)
    assert (label.key, label.before, label.after) == ("release_policy", OLD_POLICY, NEW_POLICY)
    assert len(label.checks) == 19
    out = rendering.text(before, after, [], [], "behaviour", [label])
    assert out.startswith("passed: nothing blocks")
    assert out.count("release_policy") == 1  # shown once, apart
    assert "Policy tables" in out
    md = rendering.markdown(before, after, [], [], "behaviour", [label])
    assert "### Policy tables" in md and md.count("release_policy") == 1


def test_a_behaviour_change_still_shows_beside_a_policy_label():
    before, after = policy_only("1.46.0", OLD_POLICY), policy_only("1.47.0", NEW_POLICY, 4)
    changes = compare(before, after)
    assert len(changes) == 19
    assert all([v.path for v in c.values] == ["scenarios.[500].attempts"] for c in changes)


def test_labels_are_written_apart_and_old_results_still_read(tmp_path):
    written = policy_only("1.46.0", OLD_POLICY).write(tmp_path / "new")
    data = json.loads(written.read_text())
    assert data["checks"][0]["labels"]["release_policy"] == OLD_POLICY
    assert "release_policy" not in data["checks"][0]["observations"]
    # a results.json from before labels were apart: the label sits among the observations
    for check in data["checks"]:
        check["observations"].update(check.pop("labels"))
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    loaded = Results.load(old)
    assert loaded.checks[0].labels["release_policy"] == OLD_POLICY
    assert compare(loaded, policy_only("1.47.0", NEW_POLICY)) == []


def blocked_gate(tmp_path, capsys) -> str:
    def behaviour(version: str) -> Results:
        attempts = 3 if version == "2.51.0" else 1
        policy = OLD_POLICY if version == "2.51.0" else NEW_POLICY
        return run(version, **{
            "retries.limits": ("pass", {"scenarios": [{"scenario": "retry-after 300",
                                                       "attempts": attempts}],
                                        "release_policy": policy}),
            **{f"chat.ok{n}": ("pass", {"n": 1}) for n in range(140)}})

    code = gate.run(args("gate", "--baseline", "openai==2.51.0", "--candidate",
                         "openai==2.52.0", "--report-dir", str(tmp_path)), FakeRunner(behaviour))
    assert code == 1
    return capsys.readouterr().out


def test_every_gate_output_leads_with_the_decision_and_the_blocking_values(tmp_path, capsys):
    out = blocked_gate(tmp_path, capsys)
    assert out.startswith("blocked: 1 change(s) block under policy behaviour\n")
    assert out.index("scenarios.[retry-after 300].attempts: 3 -> 1") < out.index("Policy tables")
    page = (tmp_path / "report.html").read_text()
    decision = page.index('<span class="d d-blocked">blocked</span>')
    assert decision < page.index("scenarios.[retry-after 300].attempts") < page.index(
        'class="check"')
    assert "release_policy" in page[:page.index('class="check"')]
    report = (tmp_path / "report.md").read_text()
    assert report.index("**blocked**") < report.index("### Blocking (1)") < report.index(
        "scenarios.[retry-after 300].attempts") < report.index("### Runs")
    suites = ET.parse(tmp_path / "junit.xml").getroot().findall("testsuite")
    first = suites[0]
    assert first.get("name").startswith("gate decision: blocked")
    (failure,) = first.iter("failure")
    assert "scenarios.[retry-after 300].attempts: 3 -> 1" in failure.text
    assert len(suites) == 3  # the decision, then each side's run


def test_a_passing_gate_says_so_first(tmp_path, capsys):
    fake = FakeRunner(lambda v: run(v, **{"chat.a": ("pass", {"n": 1})}))
    assert gate.run(args("gate", "--baseline", "openai==2.53.0", "--candidate",
                         "openai==2.54.0", "--report-dir", str(tmp_path)), fake) == 0
    assert capsys.readouterr().out.startswith("passed: nothing blocks")
    assert '<span class="d d-passed">passed</span>' in (tmp_path / "report.html").read_text()


def test_a_runs_reports_put_failures_first():
    results = run("3.57.0", **{"auth.a": ("pass", {}), "chat.b": ("pass", {}),
                               "retries.z": ("fail", {})})
    results.checks[2].message = "4 attempt(s), expected 3"
    page = html.render([results])
    assert page.index('id="openai-python 3.57.0:retries.z"') < page.index(
        'id="openai-python 3.57.0:auth.a"')
    md = markdown.render(results)
    assert md.index("retries.z") < md.index("### Features")
    terminal = table(results)
    assert terminal.index("retries.z: fail: 4 attempt(s)") < terminal.index("auth.a")


def test_a_driver_gate_header_names_the_driver_sdk_not_openai_python():
    # as `run --sdk javascript` writes it: the top-level sdk is this environment's Python
    before = cross_sdk("javascript", "6.48.0", **{"chat.basic": ("pass", {"n": 1})})
    after = cross_sdk("javascript", "6.49.0", **{"chat.basic": ("pass", {"n": 2})})
    before.sdk_info = after.sdk_info = {"name": "openai-python", "version": "3.57.0"}
    changes = compare(before, after)
    out = rendering.text(before, after, changes, changes, "behaviour")
    assert "baseline:  javascript 6.48.0" in out and "candidate: javascript 6.49.0" in out
    assert "openai-python" not in out
    md = rendering.markdown(before, after, changes, changes, "behaviour")
    assert md.startswith("## Conformance diff: javascript 6.48.0 → javascript 6.49.0")


def test_a_driver_runs_page_is_named_after_the_driver_sdk():
    results = cross_sdk("javascript", "6.49.0", **{"chat.basic": ("pass", {})})
    results.sdk_info = {"name": "openai-python", "version": "3.57.0"}
    page = html.render([results])
    assert "<title>Azure OpenAI v1 conformance: javascript 6.49.0</title>" in page
