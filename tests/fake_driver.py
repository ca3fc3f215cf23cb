"""A stand-in SDK driver speaking protocol v1 (docs/driver-protocol.md), in Python, for tests.

It performs ``chat.completions.create`` over real HTTP against the loopback wire server and
retries like the generated SDKs do: 408, 409, 429 and >= 500; ``x-should-retry``; backoff
``min(0.5 * 2**n, 8) * (1 - 0.25 * U)``; ``retry-after-ms`` then ``retry-after`` (seconds)
within a cap, a longer hint refused (or clamped). ``FAKE_DRIVER`` (JSON) says which SDK and
version it claims to be and how it misbehaves:

- ``sdk``, ``version``: its hello;
- ``cap_s``, ``above``: the Retry-After cap and what a longer hint does (``no-retry``,
  ``clamp``, ``backoff``);
- ``no_backoff``: retries without waiting when there is no hint (a broken build);
- ``flat_backoff``: every retry without a hint waits the first backoff (it does not double: a
  broken build);
- ``classes``: the error classes it claims (by status, ``5xx``, ``default``, ``connection``);
- ``give_up_at_s``: a hint of this many seconds or more ends the retries (a broken build);
- ``token_provider``: when the Entra path asks the token provider: ``attempt`` (before every
  attempt) or ``request`` (once per request: retries reuse the header); ``provider_calls``
  reports the calls apart from the credential's (its ``token_calls``); ``asks``: how many
  times each of those asks the provider (openai-java on an Azure host: 2).

Run as a script (``python fake_driver.py``); it imports nothing from the project.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import random
import sys
import time
import urllib.parse
from typing import Any

CONFIG: dict[str, Any] = {"sdk": "standin", "version": "1.0.0", "cap_s": 120.0,
                          "above": "no-retry", "no_backoff": False, "give_up_at_s": None,
                          "default_max_retries": 2, "token_provider": "attempt"}
CONFIG.update(json.loads(os.environ.get("FAKE_DRIVER") or "{}"))


def error_class(status: int | None) -> str:
    """The class the claimed SDK raises (``classes``: by status, ``5xx``, ``default``;
    ``connection`` for no response)."""
    classes = CONFIG.get("classes") or {}
    if status is None:
        return str(classes.get("connection", "StandInError"))
    return str(classes.get(str(status)) or (classes.get("5xx") if status >= 500 else None)
               or classes.get("default", "StandInError"))


def say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def retryable(status: int, headers: http.client.HTTPMessage) -> bool:
    should = headers.get("x-should-retry")
    if should in ("true", "false"):
        return should == "true"
    return status in (408, 409, 429) or status >= 500


def hint_of(headers: http.client.HTTPMessage) -> float | None:
    for name, unit in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * unit
        except ValueError:
            continue
        if seconds >= 0 and seconds == seconds:
            return seconds
    try:  # an HTTP-date
        when = email.utils.parsedate_to_datetime(headers.get("retry-after") or "")
    except (TypeError, ValueError):
        return None
    seconds = when.timestamp() - time.time()
    return seconds if seconds > 0 else None


def perform(scenario: dict[str, Any]) -> dict[str, Any]:
    started = time.monotonic()
    url = urllib.parse.urlsplit(scenario["base_url"])
    client_options = scenario.get("client") or {}
    request_options = scenario["operation"].get("request_options") or {}
    max_retries = next((m for m in (request_options.get("max_retries"),
                                    client_options.get("max_retries")) if m is not None),
                       CONFIG["default_max_retries"])
    auth = client_options.get("auth") or {}
    body = json.dumps(scenario["operation"].get("params") or {}).encode()
    outcome: dict[str, Any] = {"result": None, "events": [], "error": None, "request_id": None,
                               "token_calls": [], "sdk_retry_count": None, "elapsed_ms": 0,
                               "read": {}}  # protocol 2: what user code reads (nothing typed)
    tokens = list(auth.get("tokens") or ["stand-in-token"])
    provider_calls = asked = 0

    def bearer() -> str:
        nonlocal provider_calls, asked
        if auth.get("kind") != "token_provider":
            return str(auth.get("key", "stand-in"))
        asked += 1
        provider_calls += int(CONFIG.get("asks", 1))  # an SDK may ask twice (openai-java)
        outcome["token_calls"].append({"scopes": [auth["scope"]]})
        return tokens[min(asked, len(tokens)) - 1]

    deadline = started + (scenario.get("deadline_ms") or 30000) / 1000

    def wait(delay: float) -> bool:
        """Sleep ``delay``, or up to the scenario's deadline (then the outcome says so)."""
        if time.monotonic() + delay <= deadline:
            time.sleep(delay)
            return True
        time.sleep(max(0.0, deadline - time.monotonic()))
        outcome["error"] = {"kind": "other", "class": "Error", "bases": [], "status": None,
                            "code": None, "code_type": "null", "param": None, "type": None,
                            "message": "driver deadline", "request_id": None}
        return False

    # `repeat` calls on one client (docs/driver-protocol.md), one after the other.
    for _ in range(max(1, int(scenario["operation"].get("repeat") or 1))):
        header = bearer()
        attempt = 0
        while True:
            if attempt and CONFIG["token_provider"] == "attempt":
                header = bearer()
            timeout_ms = client_options.get("timeout_ms")
            connection = http.client.HTTPConnection(
                url.hostname, url.port, timeout=timeout_ms / 1000 if timeout_ms else 30)
            try:
                connection.request("POST", url.path + "chat/completions", body=body, headers={
                    "content-type": "application/json",
                    "authorization": f"Bearer {header}",
                    "x-stainless-retry-count": str(attempt)})
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:  # a reset or a timeout
                connection.close()
                if attempt >= max_retries:
                    outcome["error"] = {
                        "kind": "connection", "class": error_class(None), "bases": [],
                        "status": None,
                        "code": None, "code_type": "null", "param": None, "type": None,
                        "message": str(exc), "request_id": None}
                    break
                delay = 0.0 if CONFIG["no_backoff"] else (
                    min(0.5 * (1 if CONFIG.get("flat_backoff") else 2 ** attempt), 8.0)
                    * (1 - 0.25 * random.random()))
                if not wait(delay):
                    break
                attempt += 1
                continue
            connection.close()
            status, headers = response.status, response.headers
            if status < 400:
                outcome["result"] = json.loads(data)
                outcome["request_id"] = headers.get("x-request-id")
                break
            hint = hint_of(headers)
            give_up = CONFIG["give_up_at_s"]
            if not retryable(status, headers) or attempt >= max_retries or (
                    hint is not None and give_up is not None and hint >= give_up) or (
                    hint is not None and hint > CONFIG["cap_s"] and CONFIG["above"] == "no-retry"):
                error = (json.loads(data or b"{}").get("error") or {})
                outcome["error"] = {
                    "kind": "status", "class": error_class(status), "bases": [], "status": status,
                    "code": error.get("code"),
                    "code_type": "string" if error.get("code") else "null",
                    "param": None, "type": None, "message": f"{status}",
                    "request_id": headers.get("x-request-id")}
                break
            if hint is not None and not (hint > CONFIG["cap_s"] and CONFIG["above"] == "backoff"):
                delay = min(hint, CONFIG["cap_s"])
            else:
                delay = 0.0 if CONFIG["no_backoff"] else (
                    min(0.5 * (1 if CONFIG.get("flat_backoff") else 2 ** attempt), 8.0)
                    * (1 - 0.25 * random.random()))
            if not wait(delay):
                break
            attempt += 1
    if auth.get("kind") == "token_provider":
        outcome["provider_calls"] = provider_calls
    outcome["elapsed_ms"] = int((time.monotonic() - started) * 1000)
    return outcome


def main() -> None:
    say({"type": "hello", "protocol": 2, "sdk": CONFIG["sdk"], "sdk_version": CONFIG["version"],
         "runtime": f"python {sys.version.split()[0]} (stand-in)"})
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("type") == "shutdown":
            return
        scenario = message["scenario"]
        if scenario["operation"]["name"] != "chat.completions.create":
            say({"type": "driver_error", "id": message["id"], "unsupported": True,
                 "message": f"unsupported: {scenario['operation']['name']}"})
            continue
        say({"type": "outcome", "id": message["id"], "outcome": perform(scenario)})


if __name__ == "__main__":
    main()
