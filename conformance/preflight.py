"""Before any live check: is the resource there, does the credential work, do the deployments
exist? A problem of setup stops the run with one paragraph naming the cause and the fix,
instead of coming out as a wall of conformance failures.

Preflight goes through the same :class:`~conformance.wire.proxy.Forward` the checks use (same
TLS verification, credential and deployment map) and spends no tokens and none of the request
budget:

1. the credential gives its headers (an Entra credential its first token);
2. ``GET models`` answers 200: the host resolves, TLS verifies, the route is the v1 API and
   the credential is accepted. A gateway may forward only the inference routes: a 404 (or
   405) here is a warning when the deployment probes below answer as the service does, and
   a stop naming both answers when they do not;
3. for each deployment the selected checks need, a request on the route they use whose body
   names only the deployment: the service refuses it without running a model, with 404
   ``DeploymentNotFound`` when the deployment does not exist. Checks needing a missing
   deployment are then skipped with the flag that fixes it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .entra import ROLE
from .secrets import Scrubber
from .target import KEY_VARIABLE, Target
from .wire import RecordedRequest, Reply
from .wire.http import BASE_PATH
from .wire.proxy import Forward, UpstreamError

# Exceptions the forwarder reports for a request that never got an answer.
_TLS = ("SSLError", "SSLCertVerificationError", "SSLZeroReturnError", "SSLEOFError")
_DNS = ("gaierror",)


# What a front answers for a route it does not serve.
_ROUTE_MISSING = (404, 405)


def _said(error: Mapping[str, Any]) -> str:
    """What an error body says, briefly (empty when it says nothing)."""
    code = str(error.get("code") or "")
    message = " ".join(str(error.get("message") or "").split())[:200]
    return ": ".join(p for p in (code, message) if p)


class PreflightFailed(Exception):
    """The run cannot start; the message is one paragraph: cause, then fix."""


@dataclass
class Preflight:
    target: Target
    scrubber: Scrubber
    requests: int = 0
    missing: dict[str, str] = field(default_factory=dict)  # doc name -> why
    warnings: list[str] = field(default_factory=list)  # what did not stop the run

    def run(self, probes: Mapping[str, str]) -> Preflight:
        """``probes``: doc deployment name -> the route (under the v1 base) its checks use."""
        try:
            self.target.credential_headers()
        except Exception as exc:
            raise PreflightFailed(self._no_check(self.scrubber.text(str(exc)))) from None
        forward = Forward(self.target.endpoint or "", self.target.credential_headers,
                          scrub=self.scrubber.text, scrub_body=self.scrubber.binary,
                          rewrite=self.target.deployments.rewrite)
        status, error = self._send(forward, "GET", "models", None)
        models = (status, error)
        if status != 200 and not (status in _ROUTE_MISSING and probes):
            raise PreflightFailed(self._no_check(self._explain(status, error)))
        answered: list[str] = []  # inference routes that answered as the service does
        unrouted: list[str] = []  # ... and those that answered like a missing route
        for doc, route in probes.items():
            status, error = self._send(forward, "POST", route, {"model": doc})
            if status in (401, 403):
                raise PreflightFailed(self._no_check(self._explain(status, error)))
            if status in _ROUTE_MISSING and error.get("code") != "DeploymentNotFound":
                unrouted.append(f"POST {route} answered {status}"
                                + (f" ({_said(error)})" if _said(error) else ""))
                continue
            answered.append(f"POST {route} answered {status}")
            if status == 404:
                self.missing[doc] = (
                    f"deployment {self.target.deployments.describe(doc)} does not exist on the "
                    f"resource (404 {error.get('code') or ''}); map the doc's name to yours: "
                    f"--deployment {doc}=YOUR_DEPLOYMENT")
            elif status == 502 and error.get("code") == "upstream_unreachable":
                raise PreflightFailed(self._no_check(self._explain(status, error)))
        if models[0] != 200:
            seen = (f"GET models answered {models[0]}"
                    + (f" ({_said(models[1])})" if _said(models[1]) else ""))
            if not answered:
                raise PreflightFailed(self._no_check(
                    f"{seen} and {'; '.join(dict.fromkeys(unrouted))}: no route of the v1 API "
                    "answers at this URL. It should look like "
                    "https://RESOURCE.openai.azure.com/openai/v1/ (a gateway must forward "
                    "/openai/v1/ to the resource)."))
            self.warnings.append(
                f"{seen}, but {', '.join(dict.fromkeys(answered))} as the service does: "
                "going on (a gateway that forwards only inference routes answers so; pass "
                "--no-preflight if it blocks the probes too)")
        self.target.missing = set(self.missing)
        return self

    def _send(self, forward: Forward, method: str, route: str,
              body: Any) -> tuple[int, dict[str, Any]]:
        payload = json.dumps(body).encode() if body is not None else b""
        headers = (("content-type", "application/json"),) if payload else ()
        request = RecordedRequest(self.requests, method, BASE_PATH + route, headers, payload,
                                  time.monotonic())
        self.requests += 1
        try:
            reply = forward.respond(request)
        except UpstreamError as exc:  # TLS, DNS, connection, timeout, redirect
            return 502, {"code": "upstream_unreachable", "message": str(exc),
                         "type": exc.cause}
        if not isinstance(reply, Reply):  # pragma: no cover - Forward only replies
            return 0, {}
        try:
            data = json.loads(reply.body or b"".join(reply.chunks or ()))
        except ValueError:
            data = {}
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):  # the bare gateway family: {"statusCode", "message"}
            error = data if isinstance(data, dict) else {}
        return reply.status, error

    def _explain(self, status: int, error: Mapping[str, Any]) -> str:
        message = " ".join(str(error.get("message") or "").split())[:300]
        code = str(error.get("code") or "")
        shown = f"{status} {code}".strip() if code != str(status) else str(status)
        key = self.target.auth == "key"
        if status == 502 and code == "upstream_unreachable":
            kind = str(error.get("type") or "")
            if kind in _TLS:
                return (f"TLS failed with the resource ({message}). Check the endpoint is the "
                        "resource's own https URL, and that this machine trusts its certificate "
                        "(a proxy that intercepts TLS needs its CA in SSL_CERT_FILE).")
            if kind in _DNS:
                return (f"the resource's host name does not resolve ({message}). Check the "
                        "--endpoint URL (https://RESOURCE.openai.azure.com/openai/v1/).")
            return (f"the resource could not be reached ({message}). Check the --endpoint URL "
                    "and the network (a firewall or private endpoint may block this machine).")
        if status == 401:
            fix = (f"check that {KEY_VARIABLE} holds a key of this resource (Keys and Endpoint "
                   "in the portal)" if key else
                   "check that the token is for this resource's tenant and the scope "
                   "https://cognitiveservices.azure.com/.default")
            return f"the resource refused the credential ({shown}: {message}). To fix it: {fix}."
        if status == 403:
            if not key:
                fix = f"give the identity the '{ROLE}' role on the resource"
            elif code == "AuthenticationTypeDisabled":
                fix = "key authentication is disabled on this resource: use --auth entra"
            else:
                fix = "check the resource's network rules and policies for this key"
            return f"the resource denied access ({shown}: {message}). To fix it: {fix}."
        if status == 404:
            return (f"the endpoint answered 404 to GET models ({message}): it is not the v1 API "
                    "route. The URL should look like https://RESOURCE.openai.azure.com/openai/v1/.")
        return (f"the resource is not available (HTTP {shown}: {message}). Try again "
                "later, or check the resource's state in the portal.")

    @staticmethod
    def _no_check(cause: str) -> str:
        return f"setup error, no check ran and nothing was spent: {cause}"
