"""results.json: the schema, loading, and comparing two runs (the upgrade gate)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conformance.cli import main
from conformance.registry import Verdict
from conformance.results import SCHEMA_FILE, CheckResult, Results, compare
from conformance.table import render


def results(version, **verdicts):
    checks = [CheckResult(id=i, feature=i.split(".")[0], verdict=Verdict(v[0]),
                          observations=v[1] if len(v) > 1 else {})
              for i, v in verdicts.items()]
    return Results(sdk_info={"name": "openai-python", "version": version},
                   target={"mode": "replay"}, checks=checks)


def test_written_results_validate_against_the_schema_and_load_back(tmp_path):
    run = results("3.57.0", **{"chat.a": ("pass",), "auth.b": ("unsupported",)})
    path = run.write(tmp_path)
    data = json.loads(path.read_text())
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    by_id = lambda checks: sorted(checks, key=lambda c: c.id)  # noqa: E731
    assert by_id(Results.load(path).checks) == by_id(run.checks)
    assert run.ok


def test_another_schema_version_is_refused(tmp_path):
    path = results("1", **{"chat.a": ("pass",)}).write(tmp_path)
    data = json.loads(path.read_text())
    data["schema"] = 2
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="results schema 2"):
        Results.load(path)


def test_compare_classifies_each_change():
    base = results("2.54.0", **{
        "chat.stays": ("pass", {"n": 1}),
        "chat.breaks": ("pass",),
        "chat.lost": ("pass",),
        "chat.fixed": ("fail",),
        "chat.drifts": ("pass", {"delay": 0.5}),
        "chat.gone": ("pass",),
    })
    cand = results("3.57.0", **{
        "chat.stays": ("pass", {"n": 1}),
        "chat.breaks": ("error",),
        "chat.lost": ("unsupported",),
        "chat.fixed": ("pass",),
        "chat.drifts": ("pass", {"delay": 8.0}),
        "chat.born": ("fail",),
    })
    kinds = {c.id: c.kind for c in compare(base, cand)}
    assert kinds == {"chat.breaks": "regression", "chat.lost": "regression",
                     "chat.fixed": "fix", "chat.drifts": "observations",
                     "chat.gone": "removed", "chat.born": "regression"}


def test_diff_exits_one_on_a_regression_and_zero_otherwise(tmp_path, capsys):
    base = results("2.54.0", **{"chat.a": ("pass",)}).write(tmp_path / "base")
    same = results("3.57.0", **{"chat.a": ("pass",)}).write(tmp_path / "same")
    worse = results("3.57.0", **{"chat.a": ("fail",)}).write(tmp_path / "worse")
    assert main(["diff", str(base), str(same)]) == 0
    assert main(["diff", str(base.parent), str(worse.parent)]) == 1
    out = capsys.readouterr().out
    assert "regression" in out and "chat.a" in out and "1 change(s), 1 blocking" in out


def test_diff_strict_blocks_on_observation_changes(tmp_path):
    base = results("1", **{"chat.a": ("pass", {"x": 1})}).write(tmp_path / "b")
    cand = results("2", **{"chat.a": ("pass", {"x": 2})}).write(tmp_path / "c")
    assert main(["diff", str(base), str(cand)]) == 0
    assert main(["diff", "--strict", str(base), str(cand)]) == 1


def test_diff_of_an_unreadable_file_is_a_usage_error(tmp_path, capsys):
    assert main(["diff", str(tmp_path / "none.json"), str(tmp_path / "none.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_table_groups_by_feature_in_the_documented_order():
    run = results("3.57.0", **{"chat.b": ("pass",), "auth.a": ("fail",), "chat.a": ("pass",)})
    run.checks[1].message = "first line\nsecond line"
    lines = render(run).splitlines()
    # the failures head the table (issue 20), then the table itself
    assert lines[1:3] == ["FAILED: 1 check(s) failed or errored:", "  auth.a: fail: first line"]
    assert lines[4].split() == ["auth", "auth.a", "fail", "first", "line"]
    assert lines[5].split()[:2] == ["chat", "chat.a"]
    assert lines[6].split()[:1] == ["chat.b"]
    assert lines[-1] == "3 checks: 2 pass, 1 fail"


def test_jittered_delays_are_not_a_behaviour_change():
    scenario = {"scenario": "persistent 500", "attempts": 3}
    base = results("1", **{"retries.a": ("pass", {"scenarios": [dict(scenario,
                                                                      delays_s=[0.41, 0.8])]})})
    cand = results("1", **{"retries.a": ("pass", {"scenarios": [dict(scenario,
                                                                      delays_s=[0.49, 0.9])]})})
    assert compare(base, cand) == []
    cand.checks[0].observations["scenarios"][0]["attempts"] = 4
    assert [c.kind for c in compare(base, cand)] == ["observations"]
