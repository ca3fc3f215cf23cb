"""The aoai-conformance command line."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from conformance import paths
from conformance.cli import main
from conformance.wire import Cassette


def test_list_names_every_check_with_its_claim(capsys):
    assert main(["list", "--feature", "auth"]) == 0
    out = capsys.readouterr().out
    assert "auth.api-key-bearer\n    claim: " in out
    assert "chat." not in out


def test_unknown_check_is_a_usage_error(capsys):
    assert main(["run", "--check", "chat.nope"]) == 2
    assert "unknown check id(s): chat.nope" in capsys.readouterr().err


def test_unknown_feature_is_refused_by_argparse(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["run", "--feature", "vision"])
    assert exited.value.code == 2


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_run_prints_the_table_writes_the_report_and_exits_zero(tmp_path):
    # The user's own conftest files must not reach the run (nor break it).
    for folder in (tmp_path, tmp_path / "tests"):
        folder.mkdir(exist_ok=True)
        (folder / "conftest.py").write_text("raise RuntimeError('a user conftest was loaded')\n")
    result = cli("run", "--feature", "chat", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^chat +chat\.azure-filter-results +pass", result.stdout, re.M)
    assert re.search(r"^ +chat\.request-shape +pass", result.stdout, re.M)
    report = tmp_path / "conformance-report" / f"openai-{openai.__version__}"
    data = json.loads((report / "results.json").read_text())
    assert (report / "report.md").is_file() and (report / "junit.xml").is_file()
    assert {c["verdict"] for c in data["checks"]} == {"pass"}


@pytest.mark.slow
def test_run_exits_one_when_a_check_fails_and_replaces_a_stale_report(tmp_path):
    cassettes = tmp_path / "cassettes"
    shutil.copytree(paths.cassette_root(), cassettes)
    cassette = Cassette.load(cassettes / "chat" / "completion.yaml")
    body = cassette.interactions[0].response_json()
    body["usage"]["total_tokens"] += 1
    cassette.interactions[0].set_response_json(body)
    cassette.save()
    report = tmp_path / "out"
    report.mkdir()
    (report / "results.json").write_text("stale")
    result = cli("run", "--check", "chat.response-contract", f"--cassettes={cassettes}",
                 f"--report-dir={report}", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads((report / "results.json").read_text())
    assert data["checks"][0]["verdict"] == "fail"
    assert "usage.total" in data["checks"][0]["message"]


def test_the_package_finds_its_cassettes_outside_the_source_tree():
    root = paths.cassette_root()
    assert (root / "chat" / "completion.yaml").is_file()
    assert Path(paths.__file__).parent.parent / "cassettes" == root or root.parent.name == (
        "conformance")
