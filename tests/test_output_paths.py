"""Every output path and input folder is judged before any check runs: an unusable
--report-dir (a file, /dev/null, read-only, under a file), --cassettes or report --out is exit
2 with one line, and a live run sends nothing upstream."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance import paths
from conformance.cli import main
from conformance.outputs import unreadable_dir, unwritable_dir

from .fake_resource import FakeResource, serving

KEY = "live-secret-key-0123456789abcdef"


def _unusable(tmp_path: Path) -> dict[str, Path]:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    found = {"an existing file": a_file, "/dev/null": Path(os.devnull),
             "under a file": a_file / "report", "/proc/self (read-only)": Path("/proc/self")}
    if os.name == "posix" and os.geteuid() != 0:  # root writes into a 0o555 folder anyway
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        found["a read-only folder"] = locked / "report"
    return {k: v for k, v in found.items() if k != "/proc/self (read-only)"
            or Path("/proc/self").is_dir()}


@pytest.fixture
def upstream():
    with serving(FakeResource(KEY, paths.cassette_root())) as fake:
        yield fake


def test_usable_folders_pass_and_leave_nothing_behind(tmp_path):
    assert unwritable_dir(tmp_path) is None
    assert unwritable_dir(tmp_path / "new" / "deeper") is None
    assert not (tmp_path / "new").exists() and list(tmp_path.iterdir()) == []
    assert unreadable_dir(tmp_path, "--cassettes") is None


def test_each_unusable_report_dir_is_named(tmp_path):
    for name, path in _unusable(tmp_path).items():
        problem = unwritable_dir(path)
        assert problem is not None and str(path) in problem, name


def test_a_live_run_with_an_unusable_report_dir_spends_nothing(tmp_path, capsys, upstream,
                                                               monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    for name, path in _unusable(tmp_path).items():
        code = main(["run", "--report-dir", str(path), "--endpoint", upstream.endpoint,
                     "--check", "chat.response-contract"])
        err = capsys.readouterr().err
        assert code == 2, name
        assert err.count("\n") == 1 and "--report-dir" in err and "Traceback" not in err, err
    assert upstream.seen == []


def test_the_plugin_refuses_an_unusable_report_dir_before_any_check(pytester, upstream,
                                                                    monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={os.devnull}", f"--conformance-endpoint={upstream.endpoint}",
        "--conformance-check=chat.response-contract")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    assert "--conformance-report-dir" in outcome.stderr.str()
    assert upstream.seen == []


def test_record_refuses_unusable_cassettes_and_run_a_missing_cassette_folder(tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    report = str(tmp_path / "report")
    assert main(["record", "chat.response-contract", "--endpoint",
                 "https://example.invalid/openai/v1/", "--cassettes", str(a_file),
                 "--report-dir", report]) == 2
    assert "--cassettes" in capsys.readouterr().err
    assert main(["run", "--cassettes", str(tmp_path / "missing"), "--report-dir", report]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["run", "--cassettes", str(a_file), "--report-dir", report]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_report_refuses_an_unusable_out(tmp_path, capsys):
    results = Path(__file__).parent / "corpus" / "hostile" / "results.json"
    assert main(["report", str(results), "--out", os.devnull]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--out" in err


@pytest.mark.parametrize("argv", [
    ["gate", "--baseline", "openai==3.56.0", "--candidate", "openai==3.57.0"],
    ["matrix", "openai==3.56.0", "openai==3.57.0"],
    ["bisect", "chat.response-contract", "--good", "openai==3.56.0", "--bad",
     "openai==3.57.0"],
])
def test_upgrade_commands_refuse_an_unusable_report_dir_before_installing(argv, capsys,
                                                                         monkeypatch):
    from conformance import gate

    def never(args):
        raise AssertionError("an environment was made before the report folder was checked")

    monkeypatch.setattr(gate, "runner", never)
    monkeypatch.setattr("conformance.matrix.runner", never)
    monkeypatch.setattr("conformance.bisection.runner", never)
    assert main([*argv, "--report-dir", os.devnull]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err
