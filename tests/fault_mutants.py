"""Broken SDKs for the errors and retries tests: each function patches openai (through
``monkeypatch``) the way a faulty release could behave.

These reach into openai internals on purpose, like tests/mutants.py; the names patched exist in
openai 1.x, 2.x and 3.x (``_should_retry``, ``_parse_retry_after_header``, ``_make_status_error``,
the module constants of ``openai._base_client``) except where a docstring says otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .mutants import rewrite_requests, wrap_client_init

Mutant = Callable[[pytest.MonkeyPatch], None]


def retries_by_default(n: int) -> Mutant:
    """The default max_retries is ``n`` instead of 2."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        wrap_client_init(monkeypatch, lambda kwargs: kwargs.setdefault("max_retries", n))

    return apply


def never_retries(status: int) -> Mutant:
    """``status`` is not retried."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        from openai._base_client import BaseClient

        original = BaseClient._should_retry

        def should_retry(self: Any, response: Any) -> bool:
            return False if response.status_code == status else original(self, response)

        monkeypatch.setattr(BaseClient, "_should_retry", should_retry)

    return apply


def retries_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every error status is retried, 400 included."""
    from openai._base_client import BaseClient

    monkeypatch.setattr(BaseClient, "_should_retry", lambda self, response: True)


def ignores_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry-After and retry-after-ms are never read."""
    from openai._base_client import BaseClient

    monkeypatch.setattr(BaseClient, "_parse_retry_after_header", lambda self, headers=None: None)


def long_retry_after_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Server hints up to 10 minutes are slept (openai >= 2.52.0 names the limit)."""
    import openai._base_client

    monkeypatch.setattr(openai._base_client, "MAX_RETRY_AFTER_DELAY", 600)


def raises_for(status: int, exception: str) -> Mutant:
    """``status`` raises ``openai.<exception>`` instead of its class."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        import openai

        original = openai.OpenAI._make_status_error
        cls = getattr(openai, exception)

        def make(self: Any, err_msg: str, *, body: object, response: Any) -> Any:
            if response.status_code == status:
                data = body.get("error", body) if isinstance(body, dict) else body
                return cls(err_msg, response=response, body=data)
            return original(self, err_msg, body=body, response=response)

        monkeypatch.setattr(openai.OpenAI, "_make_status_error", make)

    return apply


def whole_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """err.body is the whole decoded body, not its error object (so code/param/type are lost)."""
    import openai

    original = openai.OpenAI._make_status_error

    def make(self: Any, err_msg: str, *, body: object, response: Any) -> Any:
        made = original(self, err_msg, body=body, response=response)
        return type(made)(err_msg, response=response, body={"wrapped": body})

    monkeypatch.setattr(openai.OpenAI, "_make_status_error", make)


def drops_text_bodies(monkeypatch: pytest.MonkeyPatch) -> None:
    """A body that is not JSON (an HTML page, plain text) is dropped: err.body is None."""
    import openai

    original = openai.OpenAI._make_status_error

    def make(self: Any, err_msg: str, *, body: object, response: Any) -> Any:
        kept = None if isinstance(body, str) else body
        return original(self, err_msg, body=kept, response=response)

    monkeypatch.setattr(openai.OpenAI, "_make_status_error", make)


def timeouts_outside_connection_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeout raises an APIError that is no APIConnectionError (so the doc's ``except
    openai.APIConnectionError`` misses it)."""
    import openai
    import openai._base_client

    class APITimeoutError(openai.APIError):
        def __init__(self, request: Any) -> None:
            super().__init__("Request timed out.", request, body=None)

    monkeypatch.setattr(openai._base_client, "APITimeoutError", APITimeoutError)


def drops_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """APIStatusError.request_id is always None."""
    import openai

    original = openai.APIStatusError.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.request_id = None

    monkeypatch.setattr(openai.APIStatusError, "__init__", init)


def unwrapped_transport_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Transport errors escape as the HTTP library's own exceptions, unretried, also in the
    middle of a stream (openai >= 3.14: ``request_exceptions`` in ``openai._base_client`` and
    ``openai._streaming``)."""
    import openai._base_client
    import openai._streaming

    monkeypatch.setattr(openai._base_client, "request_exceptions", lambda: ())
    monkeypatch.setattr(openai._streaming, "request_exceptions", lambda: ())


def no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every backoff delay is exactly its base."""
    import openai._base_client

    monkeypatch.setattr(openai._base_client, "random", lambda: 0.0)


def flat_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backoff never grows past 0.5 s."""
    import openai._base_client

    monkeypatch.setattr(openai._base_client, "MAX_RETRY_DELAY", 0.5)


def frozen_retry_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every attempt says x-stainless-retry-count: 0."""

    def freeze(request: Any) -> None:
        request.headers["x-stainless-retry-count"] = "0"

    rewrite_requests(monkeypatch, freeze)


def no_retry_count_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """No x-stainless-retry-count header, as releases before 1.47.0 sent."""

    def drop(request: Any) -> None:
        request.headers.pop("x-stainless-retry-count", None)

    rewrite_requests(monkeypatch, drop)


def with_options_ignores_max_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """client.with_options(max_retries=N) keeps the client's own max_retries."""
    import openai

    original = openai.OpenAI.with_options

    def with_options(self: Any, **kwargs: Any) -> Any:
        kwargs.pop("max_retries", None)
        return original(self, **kwargs)

    monkeypatch.setattr(openai.OpenAI, "with_options", with_options)


def token_once_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """The token provider is asked once and the token reused for every attempt (as Java does,
    sdk-behavior §5)."""

    def memoize(kwargs: dict[str, Any]) -> None:
        provider, cache = kwargs.get("api_key"), []
        if callable(provider):
            kwargs["api_key"] = lambda: cache[0] if cache else cache.append(provider()) or cache[0]

    wrap_client_init(monkeypatch, memoize)


def conflict_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """409 is not retried: the SDK now follows the doc's list."""
    never_retries(409)(monkeypatch)


def backoff_one_retry_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first retry waits as openai <= 1.46 did: bases 1, 2, 4, 8 s instead of 0.5, 1, 2, 4
    s (the retry loop counted the retry in progress as taken)."""
    import openai._base_client

    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 1.0)


def loses_a_stream_event(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream's loop never yields its second event (``Stream.__iter__``)."""
    from openai import Stream

    original = Stream.__iter__

    def iterate(self: Any) -> Any:
        return (event for n, event in enumerate(original(self)) if n != 1)

    monkeypatch.setattr(Stream, "__iter__", iterate)
