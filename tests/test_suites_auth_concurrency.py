"""auth.entra-token-concurrent fails against an SDK that lets a request built while another is
in flight go out with the other's token, and passes on the pinned SDK; the sequential checks
do not see that SDK. (Its other SDKs: tests/test_sdk_claims.py.)"""

from __future__ import annotations

import threading

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk

CHECK = "auth.entra-token-concurrent"


@broken_sdk
def shares_the_header_while_in_flight(suite, monkeypatch):
    """An SDK that keeps the Authorization of the request in flight on the client and puts it
    on any request built before that one is answered."""
    from openai._base_client import SyncAPIClient

    lock = threading.Lock()
    in_flight: list[str] = []
    mine = threading.local()
    request, build = SyncAPIClient.request, SyncAPIClient._build_request

    def sharing_build(self, options, *args, **kwargs):
        built = build(self, options, *args, **kwargs)
        with lock:
            previous = getattr(mine, "header", None)  # this request's own earlier attempt
            if previous in in_flight:
                in_flight.remove(previous)
            if in_flight:
                built.headers["Authorization"] = in_flight[0]
            mine.header = built.headers.get("Authorization")
            in_flight.append(mine.header)
        return built

    def tracking_request(self, *args, **kwargs):
        try:
            return request(self, *args, **kwargs)
        finally:
            header, mine.header = getattr(mine, "header", None), None
            with lock:
                if header in in_flight:
                    in_flight.remove(header)

    monkeypatch.setattr(SyncAPIClient, "_build_request", sharing_build)
    monkeypatch.setattr(SyncAPIClient, "request", tracking_request)


def test_passes_on_the_pinned_sdk(suite):
    run = suite.run(CHECK)
    assert run.verdict(CHECK) is Verdict.PASS, run.message(CHECK)
    observed = run.result(CHECK).observations
    assert observed["overlapped"] is True
    assert observed["each_request_carries_its_calls_token"] is True
    assert observed["tokens_given"] == observed["tokens_carried"] == ["token#1", "token#2"]


def test_an_sdk_sharing_the_header_in_flight_fails_only_the_concurrent_check(suite, monkeypatch):
    """The concurrent check fails (a row below); the sequential checks do not see it."""
    shares_the_header_while_in_flight(suite, monkeypatch)
    run = suite.run("auth.entra-token-per-attempt", "retries.token-per-attempt")
    assert run.verdict("auth.entra-token-per-attempt") is Verdict.PASS
    assert run.verdict("retries.token-per-attempt") is Verdict.PASS


def _stringify(kwargs):
    if callable(kwargs.get("api_key")):
        kwargs["api_key"] = str(kwargs["api_key"])


def test_unsupported_before_callable_api_keys(suite, monkeypatch):
    """A release before 1.106.0 formats the provider into the header: observed, then
    unsupported; the same behaviour from a release that should call it fails (a row below); a
    release that calls it passes whatever its version (observed, not read from the table)."""
    from .mutants import pretend_release, wrap_client_init

    pretend_release(monkeypatch, "1.105.0")
    assert suite.run(CHECK).verdict(CHECK) is Verdict.PASS
    wrap_client_init(monkeypatch, _stringify)
    run = suite.run(CHECK, "retries.token-per-attempt")
    for check in (CHECK, "retries.token-per-attempt"):
        assert run.verdict(check) is Verdict.UNSUPPORTED, run.message(check)
        assert "1.106.0" in run.message(check)
        assert run.result(check).observations["authorization_sent"].startswith("Bearer <the")


@broken_sdk
def provider_stringified_by_a_release_that_should_call_it(suite, monkeypatch):
    from .mutants import pretend_release, wrap_client_init

    pretend_release(monkeypatch, "1.106.0")
    wrap_client_init(monkeypatch, _stringify)


CAUGHT = [
    (shares_the_header_while_in_flight, CHECK, "python", "carry a token its own call was given"),
    (provider_stringified_by_a_release_that_should_call_it, CHECK, "python", "repr"),
    (provider_stringified_by_a_release_that_should_call_it, "retries.token-per-attempt",
     "python", "repr"),
]
test_caught = caught(CAUGHT)
