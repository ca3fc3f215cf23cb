"""The request's headers are observed as a set: a release that adds, drops or changes an SDK
header shows in the diff on the check that saw it, while version strings do not."""

from __future__ import annotations

from conformance.registry import Verdict
from conformance.results import compare

from .mutants import rewrite_requests

CHECKS = ("chat.request-shape", "responses.request-shape")


def _run(suite):
    run = suite.run(*CHECKS)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(CHECKS, Verdict.PASS)
    return run.results


def test_every_request_shape_check_observes_the_header_set(suite):
    results = _run(suite)
    for check in results.checks:
        headers = check.observations["headers"]
        assert headers["authorization"] == "Bearer <credential>"
        assert headers["user-agent"] == "OpenAI/Python <version>"
        assert headers["x-stainless-package-version"] == "<version>"
        assert headers["host"] == "<host>" and headers["content-length"] == "<length>"
        assert "aoai-conformance-test-key" not in str(headers)


def test_an_added_header_and_a_changed_one_show_in_the_diff(suite, monkeypatch):
    before = _run(suite)

    def release_that_changes_headers(request):
        request.headers["x-stainless-new-telemetry"] = "1"
        request.headers["x-stainless-read-timeout"] = "30"
        del request.headers["accept"]

    rewrite_requests(monkeypatch, release_that_changes_headers)
    after = _run(suite)
    changes = {c.id: c for c in compare(before, after)}
    assert set(changes) == set(CHECKS)
    paths = {v.path: (v.before, v.after) for v in changes["chat.request-shape"].values}
    assert paths["headers.x-stainless-new-telemetry"][1] == "1"
    assert paths["headers.x-stainless-read-timeout"] == ("600", "30")
    assert "headers.accept" in paths


def test_a_version_bump_alone_changes_nothing(suite, monkeypatch):
    before = _run(suite)

    def bump(request):
        request.headers["user-agent"] = "OpenAI/Python 99.1.0"
        request.headers["x-stainless-package-version"] = "99.1.0"

    rewrite_requests(monkeypatch, bump)
    assert compare(before, _run(suite)) == []
