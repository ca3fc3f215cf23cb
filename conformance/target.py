"""What the checks run against: cassettes (replay), a live resource, or a live resource while
recording cassettes.

Live and record runs forward through the wire server (:class:`conformance.wire.proxy.Forward`)
with the real credential, which this module alone reads: ``AZURE_OPENAI_API_KEY`` for key
auth, or the azure-identity credential named by ``--credential`` for Entra ID
(:mod:`conformance.entra`). A request budget and a token budget
bound what a live run can spend.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote_plus, urlsplit

from .deployments import DeploymentMap
from .entra import CREDENTIALS, EntraToken
from .secrets import Scrubber
from .settings import DEFAULT_BUDGET as DEFAULT_BUDGET
from .settings import KEY_VARIABLE as KEY_VARIABLE
from .usage import (
    DEFAULT_TOKEN_BUDGET,
    MCP_LISTING_TOKENS,
    Usage,
    mcp_tools,
    of_body,
    request_bound,
)
from .wire.proxy import LOOPBACK, Answers, Forward, parse_endpoint

if TYPE_CHECKING:
    from .registry import Check

Mode = Literal["replay", "live", "record"]


class TargetError(ValueError):
    """Options that cannot describe a target; the message says what to change."""


@dataclass
class Target:
    mode: Mode = "replay"
    endpoint: str | None = None
    auth: Literal["key", "entra"] = "key"
    budget: int = DEFAULT_BUDGET
    used: int = 0
    _credential: Callable[[], Mapping[str, str]] | None = field(default=None, repr=False)
    deployments: DeploymentMap = field(default_factory=DeploymentMap)
    credential_name: str | None = None  # the azure-identity credential of --auth entra
    # Doc deployment names preflight found missing on the resource.
    missing: set[str] = field(default_factory=set)
    max_tokens: int = DEFAULT_TOKEN_BUDGET
    tokens_used: int = 0
    # Tokens held for requests upstream now (their bound), released when they answer.
    tokens_held: int = 0
    # The largest MCP tool listing seen this run (its prior until one is seen).
    listing: int = MCP_LISTING_TOKENS
    listings_seen: int = 0
    # Answers the resource gave this run, reused for an identical request (any check, any SDK).
    answers: Answers = field(default_factory=Answers, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # When the run must stop sending (time.monotonic()), and the option that set it.
    deadline: float | None = None
    run_timeout_s: float = 0.0

    @classmethod
    def from_options(
        cls,
        *,
        endpoint: str | None,
        record: bool,
        auth: str,
        budget: int,
        scrubber: Scrubber,
        credential_name: str = "default",
        max_tokens: int = DEFAULT_TOKEN_BUDGET,
        environ: Mapping[str, str] = os.environ,
    ) -> Target:
        if endpoint is None:
            if record:
                raise TargetError("recording needs --conformance-endpoint (the resource's "
                                  "https://RESOURCE.openai.azure.com/openai/v1/ URL)")
            return cls()
        _register_endpoint(endpoint, scrubber)
        try:
            parse_endpoint(endpoint)
        except ValueError as exc:
            raise TargetError(scrubber.text(str(exc))) from None
        if budget < 1:
            raise TargetError("the request budget must be at least 1")
        if max_tokens < 1:
            raise TargetError("the token budget must be at least 1")
        mode: Mode = "record" if record else "live"
        if auth == "key":
            key = environ.get(KEY_VARIABLE, "")
            if not key:
                raise TargetError(f"live runs with key auth read the key from {KEY_VARIABLE}, "
                                  "which is not set")
            if len(key) < 8:  # also the scrubber's floor: it could not hide a shorter one
                raise TargetError(f"the key in {KEY_VARIABLE} is shorter than 8 characters: "
                                  "not an Azure OpenAI key")
            scrubber.add(key, "api-key")
            credential: Callable[[], Mapping[str, str]] = lambda: {  # noqa: E731
                "Authorization": f"Bearer {key}"}
        elif auth == "entra":
            if credential_name not in CREDENTIALS:
                raise TargetError(f"unknown --credential {credential_name!r}: use one of "
                                  + ", ".join(CREDENTIALS))
            credential = EntraToken(credential_name, scrubber)
        else:
            raise TargetError(f"unknown auth {auth!r}: use key or entra")
        target = cls(mode, endpoint, "key" if auth == "key" else "entra", budget, 0, credential)
        target.credential_name = credential_name if auth == "entra" else None
        target.max_tokens = max_tokens
        return target

    def __repr__(self) -> str:
        # The endpoint names the resource, a secret too.
        return f"Target({self.mode}, {self.auth}, {self.used}/{self.budget} requests)"

    @property
    def forwards(self) -> bool:
        return self.mode != "replay"

    @property
    def remaining(self) -> int:
        return max(self.budget - self.used, 0)

    @property
    def tokens_left(self) -> int:
        return max(self.max_tokens - self.tokens_used, 0)

    def admit(self, check: Check) -> str | None:
        """Why a check with a cassette must not go to the live resource (None: it may): it
        replays answers a resource does not give on demand, the credential failed, the run's
        deadline has passed, the budgets cannot cover what its cassette spent, or a
        deployment it needs does not exist. The reason is the check's skip message."""
        from . import deployments, paths, usage

        if not check.live:
            return ("replay only: the cassette forces answers a live resource does not give "
                    "on demand")
        if self.credential_failure is not None:
            return f"not sent: {self.credential_failure}"
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return ("the run's deadline (--conformance-run-timeout "
                    f"{self.run_timeout_s:g} s) has passed")
        _, expected = usage.estimate(paths.cassette_root() / (check.cassette or ""))
        refused = self._within_budgets(expected.total)
        if refused is not None:
            return refused
        missing = [n for n in deployments.needed_by(check, paths.cassette_root())
                   if n in self.missing]
        if missing:
            return "; ".join(
                f"deployment {self.deployments.describe(n)} does not exist on the resource; "
                f"map the doc's name to yours: --deployment {n}=YOUR_DEPLOYMENT"
                for n in missing)
        return None

    def _within_budgets(self, estimate: int) -> str | None:
        """Why a check expected to spend about ``estimate`` tokens must not start (None: it
        may)."""
        if self.remaining == 0:
            return f"the live request budget ({self.budget}) is spent"
        if estimate > self.tokens_left - self.tokens_held:
            return (f"the live token budget ({self.max_tokens}) has {self.tokens_left} "
                    f"token(s) left and this check needs about {estimate} (raise it with "
                    "--max-tokens)")
        return None

    def reserve(self, body: bytes) -> tuple[int, str | None]:
        """Before a request goes upstream: hold the most it can cost (:func:`usage.
        request_bound`), or say why it must not be sent (it could cross the token
        budget)."""
        with self._lock:
            bound = request_bound(body, self.listing)
            if self.tokens_used + self.tokens_held + bound > self.max_tokens:
                return 0, (f"not sent: this request could cost up to {bound} token(s) and the "
                           f"live token budget ({self.max_tokens}) has "
                           f"{max(self.max_tokens - self.tokens_used - self.tokens_held, 0)} "
                           "left (raise it with --max-tokens)")
            self.tokens_held += bound
            return bound, None

    def settle(self, held: int, body: bytes, spent: Usage) -> None:
        """A request held ``held`` tokens and spent ``spent``, as the answer reports it."""
        with self._lock:
            self.tokens_held = max(self.tokens_held - held, 0)
            self.tokens_used += spent.total
            tools = mcp_tools(_json(body))
            if tools and spent.input:  # the listing cost at most the whole input
                seen = -(-spent.input // tools)
                self.listing = max(self.listing, seen) if self.listings_seen else seen
                self.listings_seen += 1

    def charge(self, forward: Forward) -> dict[str, int]:
        """After a live check: what it sent through ``forward`` charged to the request budget
        (failed sends count too; its tokens were settled request by request through its
        :class:`Tab`). Returns what the check spent, its ``live_usage`` observation."""
        spent = forward.spending.spent if isinstance(forward.spending, Tab) else Usage()
        self.used += forward.sent
        return {"requests": forward.sent, "reused": forward.reused,
                "input_tokens": spent.input, "output_tokens": spent.output}

    @property
    def credential_failure(self) -> str | None:
        """Why the Entra credential stopped giving tokens during the run, or None."""
        return self._credential.failure if isinstance(self._credential, EntraToken) else None

    def credential_headers(self) -> Mapping[str, str]:
        if self._credential is None:
            raise RuntimeError("a replay target has no credential")
        return self._credential()

    def describe(self, scrubber: Scrubber) -> dict[str, Any]:
        if not self.forwards:
            return {"mode": self.mode}
        return {"mode": self.mode, "endpoint": scrubber.text(self.endpoint or ""),
                "auth": self.auth,
                **({"credential": self.credential_name} if self.credential_name else {}),
                "request_budget": self.budget, "requests_sent": self.used,
                "token_budget": self.max_tokens, "tokens_used": self.tokens_used,
                "deployments": dict(self.deployments.names)}


def _register_endpoint(endpoint: str, scrubber: Scrubber) -> None:
    """Everything secret in the endpoint as the user wrote it, registered before anything can
    print it (a refusal included).

    The host is a secret: Azure hostnames are scrubbed by pattern; any other host (a custom
    domain, a gateway, a local stand-in) is registered as a whole name in any letter case,
    whatever its length, alone and with the port the URL names (``:443`` included, so a TLS
    error naming the bare host is scrubbed too). A loopback host alone is not registered (it
    would also match the wire server); with its port it is. The values of the query (an Azure
    Functions ``code``, an API Management ``subscription-key``), as written and decoded, are
    registered too (:func:`~conformance.wire.proxy.parse_endpoint` refuses a value too short
    to hide), and so is a user name or password (refused too)."""
    parts = urlsplit(endpoint.strip())
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # a port that is not a number: the netloc as written is the host
        host, port = parts.netloc.rpartition("@")[2], None
    for name in ([f"{host}:{port}"] if port else []) if host in LOOPBACK else (
            [host, *([f"{host}:{port}"] if port else [])] if host else []):
        if scrubber.text(name) == name:  # not an Azure host the patterns already hide
            scrubber.add_host(name)
    secrets = [parts.username or "", parts.password or "", *_query_values(parts.query)]
    for value in secrets:
        for form in {value, unquote_plus(value)}:
            if len(form) >= 8:
                scrubber.add(form, "endpoint-secret")


def _query_values(query: str) -> list[str]:
    return [pair.partition("=")[2] for pair in query.split("&") if pair.partition("=")[2]]


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


@dataclass
class Tab:
    """One live check's spending: each request is reserved with and settled to the run's
    :class:`Target`; what the answers report adds up in ``spent``."""

    target: Target
    spent: Usage = field(default_factory=Usage)

    def reserve(self, body: bytes) -> tuple[int, str | None]:
        return self.target.reserve(body)

    def settle(self, held: int, body: bytes, answer: bytes, content_type: str | None) -> None:
        used = of_body(answer, content_type) if answer else Usage()
        self.spent = self.spent + used
        self.target.settle(held, body, used)
