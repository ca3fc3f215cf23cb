"""benchmarks/gate-history.yaml is well formed (enough real pairs of each kind, each citing its
changelog line) and benchmarks/gate_history.py scores hits, misses and false alarms: run here
with a fake per-version runner, no environment and no network."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conformance.environments import Pin, Uninstallable
from conformance.registry import Verdict
from conformance.results import CheckResult, Results

ROOT = Path(__file__).resolve().parent.parent


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gate_history", ROOT / "benchmarks" / "gate_history.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


history = _module()


def test_the_list_holds_enough_real_pairs_of_each_kind():
    pairs = history.load()
    python = [p for p in pairs if p.distribution == "openai"]
    assert sum(p.expect == "change" for p in python) >= 10
    assert sum(p.expect == "quiet" for p in python) >= 10
    assert any(p.distribution == "javascript" and p.expect == "change" for p in pairs)
    for pair in pairs:
        version = Pin.parse(pair.candidate).version.lstrip("v")
        assert pair.changelog.startswith(version + " "), pair.id  # cites the release's line


@pytest.mark.parametrize(("text", "problem"), [
    ("pairs: 3", "needs a `pairs:` list"),
    ("pairs: [{id: a, baseline: openai==1.0.0, candidate: openai==1.0.1, changelog: x, "
     "expect: maybe, basis: y}]", "`expect` is one of"),
    ("pairs: [{id: a, baseline: openai==1.0.0, candidate: openai==1.0.1, changelog: x, "
     "expect: change, basis: y}]", "names the `checks`"),
    ("pairs: [{id: a, baseline: openai==1.0.0, candidate: openai==1.0.1, changelog: x, "
     "expect: quiet, basis: y}]", "has a `kind`"),
    ("pairs: [{id: a, baseline: openai==1.0.1, candidate: openai==1.0.0, changelog: x, "
     "expect: quiet, kind: quiet, basis: y}]", "the baseline older"),
    ("pairs: [{id: a, baseline: openai==1.0.0, candidate: javascript@6.0.0, changelog: x, "
     "expect: quiet, kind: quiet, basis: y}]", "one SDK"),
    ("pairs: [{id: a, baseline: openai==1.0.0, candidate: openai==1.0.1, "
     "expect: quiet, kind: quiet, basis: y}]", "`changelog` must be"),
    ("pairs: [{id: a, baseline: openai==1.0.0, candidate: openai==1.0.1, changelog: x, "
     "expect: quiet, kind: quiet, basis: y, extra: 1}]", "unknown field"),
])
def test_a_malformed_list_is_refused_naming_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "list.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=problem):
        history.load(path)


def results(version: str, **checks: tuple[str, dict]) -> Results:
    return Results(sdk_info={"name": "openai-python", "version": version},
                   target={"mode": "replay"},
                   checks=[CheckResult(id=i, feature=i.split(".")[0], verdict=Verdict(v),
                                       observations=o) for i, (v, o) in checks.items()])


LIST = """pairs:
  - {id: seen, baseline: openai==1.0.0, candidate: openai==1.0.1, changelog: "1.0.1 a fix",
     expect: change, checks: [retries.a], basis: changelog}
  - {id: missed, baseline: openai==1.1.0, candidate: openai==1.1.1, changelog: "1.1.1 a fix",
     expect: change, checks: [retries.a], basis: changelog}
  - {id: quiet, baseline: openai==1.2.0, candidate: openai==1.2.1, changelog: "1.2.1 types",
     expect: quiet, kind: quiet, basis: changelog}
  - {id: alarm, baseline: openai==1.3.0, candidate: openai==1.3.1, changelog: "1.3.1 types",
     expect: quiet, kind: near-miss, basis: changelog}
  - {id: labels-only, baseline: openai==1.4.0, candidate: openai==1.4.1,
     changelog: "1.4.1 types", expect: quiet, kind: quiet, basis: changelog}
  - {id: broken, baseline: openai==1.5.0, candidate: openai==1.5.1, changelog: "1.5.1 x",
     expect: change, checks: [retries.a], basis: changelog}
"""


def fake_runner(pin: Pin, report_dir: Path, pytest_args=()) -> Results:
    """1.0.1 changes retries.a; 1.1.1 changes chat.b instead (the wrong check); 1.3.1 changes
    chat.b; 1.4.1 changes only a policy label; 1.5.1 cannot be installed."""
    version = pin.version
    if version == "1.5.1":
        raise Uninstallable(f"cannot install {pin}")
    attempts = 2 if version == "1.0.1" else 3
    n = 2 if version in ("1.1.1", "1.3.1") else 1
    policy = [{"id": "python.new" if version == "1.4.1" else "python.old"}]
    return results(version, **{"retries.a": ("pass", {"attempts": attempts,
                                                      "release_policy": policy}),
                               "chat.b": ("pass", {"n": n})})


def test_the_scorer_counts_hits_misses_and_false_alarms(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text(LIST)
    outcomes = history.run(history.load(path), fake_runner, tmp_path)
    scores = {o.pair.id: o.score for o in outcomes}
    assert scores == {"seen": "hit", "missed": "miss", "quiet": "quiet",
                      "alarm": "false-alarm", "labels-only": "quiet", "broken": "setup"}
    totals = history.totals(outcomes)["all"]
    assert (totals["hit"], totals["miss"], totals["false-alarm"], totals["setup"]) == (1, 1, 1, 1)
    assert totals["hit_rate"] == 0.5
    assert json.dumps([o.as_dict() for o in outcomes])  # what the results file holds


def test_rejudge_scores_saved_runs_and_merge_keeps_the_pairs_not_run_again(tmp_path):
    """--rejudge reads each side's results.json (after a normaliser change, nothing runs);
    --merge keeps the earlier file's other pairs, and every run's command stays listed."""
    path, reports, out = tmp_path / "list.yaml", tmp_path / "reports", tmp_path / "out.json"
    path.write_text(LIST)
    for pair in history.load(path)[:4]:
        for side, spec in (("baseline", pair.baseline), ("candidate", pair.candidate)):
            pin = Pin.parse(spec)
            fake_runner(pin, reports).write(reports / pair.id / f"{side}-{pin.name}")
    common = ["--list", str(path), "--report-dir", str(reports), "--out", str(out), "--rejudge"]
    assert history.main([*common, "--only", "seen", "--only", "quiet"]) == 0
    first = json.loads(out.read_text())
    assert [(p["id"], p["score"]) for p in first["pairs"]] == [("seen", "hit"),
                                                              ("quiet", "quiet")]
    assert history.main([*common, "--merge", "--only", "alarm", "--only", "seen"]) == 0
    merged = json.loads(out.read_text())
    assert [(p["id"], p["score"]) for p in merged["pairs"]] == [
        ("seen", "hit"), ("quiet", "quiet"), ("alarm", "false-alarm")]
    assert len(merged["runs"]) == 2 and merged["totals"]["all"]["false-alarm"] == 1
    assert history.main([*common, "--only", "labels-only"]) == 0  # none saved: setup
    assert json.loads(out.read_text())["pairs"][0]["score"] == "setup"
