"""The README's Speed table is the one benchmarks/results.json renders to, and so is
benchmarks/results.md: a bench run that changed one changed all three."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _table_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_table", ROOT / "benchmarks" / "bench_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_table = _table_module()


def test_the_readme_quotes_the_table_results_json_renders():
    data = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    table = bench_table.render(data)
    assert bench_table.quoted((ROOT / "README.md").read_text()) == table
    assert (ROOT / "benchmarks" / "results.md").read_text() == table


def test_a_changed_figure_shows_as_a_difference():
    data = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    before = bench_table.render(data)
    data["measurements"]["offline"]["ratio"]["median"] += 1
    assert bench_table.render(data) != before


def test_a_missed_target_says_so():
    data = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    data["measurements"]["offline"]["per_check_ms"]["max"] = 251.0
    row = next(r for r in bench_table.rows(data) if r[0].startswith("Per check"))
    assert row[3] == "**missed**"
    data["measurements"]["offline"]["per_check_ms"]["max"] = 250.0
    row = next(r for r in bench_table.rows(data) if r[0].startswith("Per check"))
    assert row[3] == "met"


def test_quoting_needs_both_markers():
    with pytest.raises(ValueError, match="bench:end"):
        bench_table.quote(f"intro\n{bench_table.START}\nold table\n", "| new |\n")
    quoted = bench_table.quote(f"a\n{bench_table.START}\nold\n{bench_table.END}\nb\n", "| t |\n")
    assert quoted == f"a\n{bench_table.START}\n| t |\n{bench_table.END}\nb\n"


def test_the_offline_runs_phases_are_a_row_once_measured():
    data = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    data["measurements"]["offline"]["phases"] = {
        name: {"median": value, "min": value, "max": value, "n": 1}
        for name, value in (("before_session_s", 0.7), ("checks_s", 3.3),
                            ("session_rest_s", 2.1))}
    row = next(r for r in bench_table.rows(data) if "where the wall time goes" in r[0])
    assert row[1] == "0.7 / 3.3 / 2.1 s"
    del data["measurements"]["offline"]["phases"]
    assert not [r for r in bench_table.rows(data) if "where the wall time goes" in r[0]]


def test_the_suites_row_says_how_it_ran():
    data = json.loads((ROOT / "benchmarks" / "results.json").read_text())
    data["measurements"]["suite"]["loopback_only"] = True
    [row] = [r for r in bench_table.rows(data) if r[0].startswith("The project's tests")]
    assert "loopback only, then the registry ones" in row[0]
    data["measurements"]["suite"]["loopback_only"] = False
    [row] = [r for r in bench_table.rows(data) if r[0].startswith("The project's tests")]
    assert "loopback" not in row[0]
