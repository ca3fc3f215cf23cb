"""The pytest plugin, through pytester: collection, verdicts, report, options."""

from __future__ import annotations

import json
import textwrap

import jsonschema
import pytest

from conformance.results import SCHEMA_FILE
from conformance.wire import Cassette, make_interaction

HEADER = """
from conformance.registry import check, expect, unsupported
from conformance.suites._requests import CHAT_MESSAGES
"""

COMPLETION = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
              "choices": [{"index": 0, "finish_reason": "stop",
                           "message": {"role": "assistant", "content": "hello"}}]}


def write_cassette(pytester, name, count=1, messages=None):
    from conformance.suites._requests import CHAT_MESSAGES

    interactions = [
        make_interaction(
            method="POST", uri="https://RESOURCE.openai.azure.com/openai/v1/chat/completions",
            request_json={"model": "gpt-4o", "messages": messages or CHAT_MESSAGES},
            response_headers={"content-type": "application/json"}, body=COMPLETION)
        for _ in range(count)
    ]
    Cassette(pytester.path / "cassettes" / name, interactions, {"provenance": "constructed"}
             ).save()


def run(pytester, source, *args):
    pytester.makepyfile(test_checks=HEADER + textwrap.dedent(source))
    result = pytester.runpytest_inprocess(
        f"--conformance-cassettes={pytester.path / 'cassettes'}",
        f"--conformance-report-dir={pytester.path / 'report'}", "-p", "no:cacheprovider", *args)
    report = pytester.path / "report" / "results.json"
    data = json.loads(report.read_text()) if report.exists() else None
    return result, data


def verdicts(data):
    return {c["id"]: (c["verdict"], c["message"]) for c in data["checks"]}


CHAT = """
@check("chat.plugin-probe", doc="d", claim="c", cassette="chat/probe.yaml")
def probe(wire, openai_python, observe):
    openai_python.client(max_retries=0).chat.completions.create(model="gpt-4o",
                                                                messages=CHAT_MESSAGES)
    observe("requests", len(wire.requests))
"""


def test_a_passing_check_and_its_report(pytester):
    write_cassette(pytester, "chat/probe.yaml")
    result, data = run(pytester, CHAT)
    result.assert_outcomes(passed=1)
    assert verdicts(data) == {"chat.plugin-probe": ("pass", "")}
    jsonschema.validate(data, json.loads(SCHEMA_FILE.read_text()))
    check = data["checks"][0]
    assert check["observations"] == {"requests": 1}
    assert (check["feature"], check["doc"], check["claim"]) == ("chat", "d", "c")
    assert data["sdk"]["name"] == "openai-python"
    assert data["target"]["mode"] == "replay"
    assert data["summary"] == {"pass": 1, "fail": 0, "unsupported": 0, "skipped": 0, "error": 0}
    result.stdout.fnmatch_lines(["*conformance*", "feature*check*verdict*detail",
                                 "chat*chat.plugin-probe*pass", "1 checks: 1 pass; report: *"])


def test_missing_cassette_is_an_error_naming_the_record_command(pytester):
    _result, data = run(pytester, CHAT)
    verdict, message = verdicts(data)["chat.plugin-probe"]
    assert verdict == "error"
    assert "cassette not found" in message and "probe.yaml" in message
    assert "aoai-conformance record chat.plugin-probe" in message


def test_an_unused_interaction_fails_the_check(pytester):
    write_cassette(pytester, "chat/probe.yaml", count=2)
    result, data = run(pytester, CHAT)
    result.assert_outcomes(failed=1)
    verdict, message = verdicts(data)["chat.plugin-probe"]
    assert verdict == "fail"
    assert "never requested" in message and "probe.yaml" in message


def test_a_miss_fails_the_check_whatever_the_sdk_raised(pytester):
    write_cassette(pytester, "chat/probe.yaml", messages=[{"role": "user", "content": "other"}])
    _result, data = run(pytester, CHAT)
    verdict, message = verdicts(data)["chat.plugin-probe"]
    assert verdict == "fail"
    assert "matched no unplayed recorded interaction" in message
    assert "expected interaction 0" in message


def test_an_sdk_exception_is_a_fail_and_a_check_bug_is_an_error(pytester):
    write_cassette(pytester, "chat/probe.yaml")
    source = """
    @check("chat.sdk-raises", doc="d", claim="c", cassette=None)
    def sdk_raises(wire, openai_python):
        from conformance.wire import Reply
        class Answer:
            def respond(self, request):
                return Reply(200, [("content-type", "application/json")], b"[1, 2")
        wire.use(Answer())
        openai_python.client(max_retries=0).chat.completions.create(model="m",
                                                                    messages=CHAT_MESSAGES)

    @check("chat.check-bug", doc="d", claim="c", cassette=None)
    def check_bug(wire):
        {}["missing"]
    """
    _result, data = run(pytester, source)
    found = verdicts(data)
    assert found["chat.sdk-raises"][0] == "fail"
    assert found["chat.sdk-raises"][1].startswith("the SDK raised ")
    assert found["chat.check-bug"] == ("error", "check error: KeyError: 'missing'")


def test_unsupported_and_skipped_are_pytest_skips_with_distinct_verdicts(pytester):
    source = """
    import pytest

    @check("auth.too-new", doc="d", claim="c", cassette=None)
    def too_new(wire):
        unsupported("needs openai>=99")

    @check("auth.not-here", doc="d", claim="c", cassette=None)
    def not_here(wire):
        pytest.skip("no resource configured")
    """
    result, data = run(pytester, source, "-rs")
    result.assert_outcomes(skipped=2)
    assert verdicts(data) == {"auth.too-new": ("unsupported", "needs openai>=99"),
                              "auth.not-here": ("skipped", "no resource configured")}
    result.stdout.fnmatch_lines(["*unsupported: needs openai>=99*"])


def test_a_failed_expectation_is_a_fail_with_its_message(pytester):
    _result, data = run(pytester, """
    @check("chat.expectation", doc="d", claim="c", cassette=None)
    def expectation(wire):
        expect(1 == 2, "one is not two")
    """)
    assert verdicts(data) == {"chat.expectation": ("fail", "one is not two")}


def test_secrets_do_not_reach_the_report(pytester):
    _result, data = run(pytester, """
    from conformance.sdk import TEST_API_KEY

    @check("auth.leaky", doc="d", claim="c", cassette=None)
    def leaky(wire, observe, scrubber):
        scrubber.add("token-value-123456", "token#1")
        observe("seen", f"Bearer {TEST_API_KEY} and token-value-123456 "
                        "at https://contoso.openai.azure.com/")
        expect(False, f"sent {TEST_API_KEY}")
    """)
    text = (pytester.path / "report" / "results.json").read_text()
    from conformance.sdk import TEST_API_KEY

    assert TEST_API_KEY not in text and "token-value-123456" not in text
    assert "contoso" not in text
    assert verdicts(data)["auth.leaky"] == ("fail", "sent <api-key>")


def test_ordinary_tests_are_left_alone(pytester):
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "conformance-report").exists()
    assert "= conformance =" not in result.stdout.str()


def test_conformance_fixtures_outside_a_check_are_a_usage_error(pytester):
    pytester.makepyfile(test_plain="def test_plain(wire):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*is not a registered check*"])


@pytest.mark.parametrize(
    ("option", "message"),
    [("--sse-chunking=sideways", "unknown SSE chunking"),
     ("--conformance-check=chat.nope", "unknown check id(s): chat.nope")],
)
def test_bad_options_are_usage_errors(pytester, option, message):
    result, _ = run(pytester, CHAT, option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_selection_by_feature_and_id(pytester):
    write_cassette(pytester, "chat/probe.yaml")
    source = CHAT + textwrap.dedent("""
    @check("auth.other", doc="d", claim="c", cassette=None)
    def other(wire):
        pass
    """)
    _, by_feature = run(pytester, source, "--conformance-feature=auth")
    assert set(verdicts(by_feature)) == {"auth.other"}
    _, by_id = run(pytester, source, "--conformance-check=chat.plugin-probe")
    assert set(verdicts(by_id)) == {"chat.plugin-probe"}


def test_invalid_check_ids_are_refused_at_import():
    from conformance.registry import check

    with pytest.raises(ValueError, match=r"<feature>\.<name>"):
        check("nonsense.thing", doc="d", claim="c")
    with pytest.raises(ValueError, match=r"<feature>\.<name>"):
        check("chat", doc="d", claim="c")
