"""Malformed inputs outside cassettes get a clear message and a usage exit, not a traceback:
a results.json given to ``diff``, a key too short to be one."""

from __future__ import annotations

import json

import pytest

from conformance.cli import main
from conformance.registry import Verdict
from conformance.results import CheckResult, Results


def _good(tmp_path):
    return Results(sdk_info={"name": "openai-python", "version": "1"}, target={"mode": "replay"},
                   checks=[CheckResult("chat.a", "chat", Verdict.PASS)]).write(tmp_path / "good")


def _with(data, **changes):
    return {**data, **changes}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "not JSON"),
        ("{", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        ("[]", "not a results file (a JSON list, not an object)"),
        ("null", "not a results file (a JSON NoneType"),
        (lambda d: _with(d, checks={}), "'checks' is not a list"),
        (lambda d: _with(d, checks=[1]), "checks[0] is not an object"),
        (lambda d: _with(d, checks=[{"id": "x"}]), "checks[0] needs a string id and a verdict"),
        (lambda d: _with(d, checks=[{"id": "x", "verdict": "great"}]), "needs a string id"),
        (lambda d: _with(d, checks=[{"id": "x", "verdict": "pass", "message": 3}]),
         "checks[0].message has the wrong type"),
        (lambda d: _with(d, checks=[{"id": "x", "verdict": "pass", "observations": []}]),
         "checks[0].observations has the wrong type"),
        (lambda d: _with(d, sdk="openai"), "'sdk' is not an object"),
    ],
)
def test_diff_of_a_malformed_results_file_is_exit_2_with_a_message(tmp_path, capsys, content,
                                                                  reason):
    good = _good(tmp_path)
    bad = tmp_path / "bad.json"
    if callable(content):
        bad.write_text(json.dumps(content(json.loads(good.read_text()))))
    elif isinstance(content, bytes):
        bad.write_bytes(content)
    else:
        bad.write_text(content)
    for argv in ([str(good), str(bad)], [str(bad), str(good)]):
        assert main(["diff", *argv]) == 2
        err = capsys.readouterr().err
        assert f"aoai-conformance: cannot read {bad}: " in err and reason in err, err


def test_a_key_shorter_than_8_characters_is_a_usage_error(pytester, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "short")
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        "--conformance-endpoint=https://x.openai.azure.com/openai/v1/")
    err = outcome.stderr.str()
    assert "INTERNALERROR" not in outcome.stdout.str() + err
    assert "the key in AZURE_OPENAI_API_KEY is shorter than 8 characters" in err
    assert "short" not in err.replace("shorter", "")
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
