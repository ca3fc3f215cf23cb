"""The release sweep: its spread of releases and the checks x releases table."""

from __future__ import annotations

import re
from pathlib import Path

from conformance import sweep
from conformance.registry import Verdict
from conformance.results import CheckResult, Results
from conformance.sdk import CAPABILITIES, parse_version

NOXFILE = Path(__file__).resolve().parent.parent / "noxfile.py"


def test_the_spread_runs_from_1_0_0_to_the_pinned_newest():
    versions = [v for v, _ in sweep.RELEASES]
    assert len(versions) >= 25
    assert versions == sorted(versions, key=parse_version)
    assert len(set(versions)) == len(versions)
    assert versions[0] == "1.0.0"
    pinned = re.search(r'SDK_DEFAULT = "openai==([\d.]+)"', NOXFILE.read_text())
    assert pinned is not None and versions[-1] == pinned.group(1)


def test_every_release_that_changed_what_checks_see_is_in_its_minor_series():
    """For each declared feature, the sweep runs a release of the minor series that added it,
    at or after the release that added it."""
    versions = [parse_version(v) for v, _ in sweep.RELEASES]
    for name, feature in CAPABILITIES.items():
        first = parse_version(feature.minimum)
        assert any(v[:2] == first[:2] and v >= first for v in versions), name


def run_of(version, **verdicts):
    checks = [CheckResult(check_id, check_id.split(".")[0], Verdict(verdict),
                          message=f"{verdict} on {version}" if verdict != "pass" else "")
              for check_id, verdict in verdicts.items()]
    return Results({"name": "openai-python", "version": version}, {"mode": "replay"}, checks)


def test_the_table_has_a_row_per_check_and_a_column_per_release():
    runs = [run_of("1.0.0", **{"retries.backoff": "pass", "errors.status-classes": "unsupported"}),
            run_of("3.57.0", **{"retries.backoff": "fail", "errors.status-classes": "pass"})]
    text = sweep.render(runs)
    assert "| check | 1.0.0 | 3.57.0 |" in text
    assert "| errors.status-classes | n/a | pass |" in text
    assert "| retries.backoff | pass | **FAIL** |" in text
    assert "| **fail** | 0 | 1 |" in text
    assert "- openai 3.57.0, `retries.backoff` (fail): fail on 3.57.0" in text
    assert "- unsupported on 1.0.0 (releases: 1.0.0)" in text


def test_render_reads_report_directories_oldest_first_and_exits_1_on_an_error(tmp_path):
    new = run_of("3.57.0", **{"chat.request-shape": "pass"})
    old = run_of("1.0.0", **{"chat.request-shape": "error"})
    dirs = [new.write(tmp_path / "new").parent, old.write(tmp_path / "old").parent]
    out = tmp_path / "sweep.md"
    assert sweep.main(["render", "--out", str(out), *map(str, dirs)]) == 1
    assert "| check | 1.0.0 | 3.57.0 |" in out.read_text()
    assert sweep.main(["render", "--out", str(out), str(dirs[0])]) == 0


def test_a_missing_report_is_a_clear_error(tmp_path, capsys):
    assert sweep.main(["render", str(tmp_path / "nowhere")]) == 2
    assert "cannot read the reports" in capsys.readouterr().err


def test_releases_lists_the_spread(capsys):
    assert sweep.main(["releases"]) == 0
    assert capsys.readouterr().out.split() == [v for v, _ in sweep.RELEASES]
