"""openai-node (npm ``openai``), driven by ``drivers/javascript/driver.mjs``.

Its policy, per release, from the sources as run here (openai 6.49.0 in the driver's
``node_modules/openai/src/client.ts``: ``shouldRetry``, ``retryRequest``,
``calculateDefaultRetryTimeoutMillis``, ``prepareOptions``/``_callApiKey``; ``core/error.ts``)
and openai/openai-node's history for the release boundaries.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from ..policy import Backoff, Deviation, Outcome, RetryAfter, retries_also
from ..policy import changes as _set
from .profile import DriverSpec, Probe, Profile, Tool

_SOURCE = "openai-node 6.49.0 src/client.ts"

DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "javascript.backoff", "javascript", "a brief exponential backoff (no numbers)",
        "min(0.5 s * 2**n, 8 s) * (1 - 0.25 * U)",
        f"{_SOURCE} calculateDefaultRetryTimeoutMillis (initialRetryDelay 0.5, maxRetryDelay "
        "8.0, jitter 1 - random * 0.25); sdk-behavior §1, §3", kind="refines",
        apply=_set(backoff=Backoff(0.5, cap=8.0, jitter=0.25)),
    ),
    Deviation(
        "javascript.retry-after-uncapped", "javascript", "nothing about server wait hints",
        "retry-after-ms, then retry-after (seconds, then a date) are slept in full, however "
        "long (a 150 s hint waits 150 s); a negative one, or a retry-after that is neither a "
        "number nor a date, retries at once",
        f"{_SOURCE} retryRequest (sleep(timeoutMillis) with no bound; Date.parse of junk is "
        "NaN, and sleep(NaN) returns at once); sdk-behavior §9 (a 61 s hint waited in full)",
        kind="refines", until="retry_after_window",
        apply=_set(retry_after=RetryAfter(maximum=math.inf, low_inclusive=True,
                                          negative="zero", junk="zero")),
    ),
    Deviation(
        "javascript.retry-after", "javascript", "nothing about server wait hints",
        "hints with 0 <= d <= 60 s replace the backoff (0: retry at once); longer, negative "
        "or unreadable ones fall back to the backoff and are still retried",
        "openai-node 6eda5b18 (#2360, first released in v7.5.0: timeoutMillis > 60 * 1000 "
        "falls back to the backoff); sdk-behavior §3 (7.57.0)", kind="refines",
        capability="retry_after_window",
        apply=_set(retry_after=RetryAfter(maximum=60.0, low_inclusive=True)),
    ),
    Deviation(
        "javascript.retry-count-header", "javascript", "nothing about a retry counter",
        "every attempt carries X-Stainless-Retry-Count: '0', '1', '2', ...",
        f"{_SOURCE} buildHeaders; sdk-behavior §3 (Headers)", kind="refines",
        apply=_set(retry_count_header="x-stainless-retry-count"),
    ),
    Deviation("javascript.409-retried", "javascript",
              "retried: connection errors, 408, 429, >=500", "409 is retried too",
              f"{_SOURCE} shouldRetry; sdk-behavior §1, §3, §8 #3",
              apply=retries_also(409)),
    Deviation("javascript.timeouts-retried", "javascript",
              "retried: connection errors, 408, 429, >=500", "timeouts are retried too",
              "sdk-behavior §1, §3", apply=_set(retry_timeouts=True)),
    Deviation("javascript.x-should-retry", "javascript", "the retried statuses are fixed",
              "x-should-retry true/false is obeyed", f"{_SOURCE} shouldRetry; sdk-behavior §3",
              apply=_set(x_should_retry=True)),
    Deviation(
        "javascript.error-classes", "javascript",
        "400 Bad Request Error ... 500 Internal Server Error, 503 Service Unavailable, 504 "
        "Gateway Timeout",
        "classes BadRequestError ... RateLimitError, ConflictError for 409, "
        "InternalServerError for every status >= 500, APIError for others",
        "openai-node 6.49.0 src/core/error.ts (APIError.generate); sdk-behavior §3, §8 #6",
        apply=_set(classes={400: "BadRequestError", 401: "AuthenticationError",
                            403: "PermissionDeniedError", 404: "NotFoundError",
                            409: "ConflictError", 422: "UnprocessableEntityError",
                            429: "RateLimitError"},
                   class_from=(500, "InternalServerError"), other_status=Outcome("APIError")),
    ),
    Deviation("javascript.timeout-error", "javascript", "(no timeout error listed)",
              "timeouts raise APIConnectionTimeoutError", "sdk-behavior §3, §8 #6",
              apply=_set(timeout_error=Outcome("APIConnectionTimeoutError"))),
)


# The public API drivers/javascript/driver.mjs calls for each operation, as a path from the
# client (what user code writes after ``client.``).
OPERATION_APIS: Mapping[str, str] = {
    "chat.completions.create": "chat.completions.create",
    "chat.completions.stream": "chat.completions.create",
    "chat.completions.stream_async": "chat.completions.create",
    "chat.completions.stream_helper": "chat.completions.stream",
    "responses.create": "responses.create",
    "responses.stream": "responses.create",
    "fine_tuning.jobs.create": "fineTuning.jobs.create",
    "embeddings.create": "embeddings.create",
}
# Prints the type of what a path names on a client of the installed openai (built without a
# request: the base URL is never reached).
_PROBE = ('import OpenAI from "openai"; '
          'const client = new OpenAI({ apiKey: "probe", baseURL: "http://127.0.0.1:9/" }); '
          "let found = client; "
          'for (const name of process.argv[1].split(".")) found = found?.[name]; '
          "process.stdout.write(typeof found);")
_PROBE_TIMEOUT_S = 30


class JavaScript(Profile):
    name = "javascript"
    title = "openai-node"
    package = "openai"
    language = "JavaScript"
    rank = 1
    pin_example = "javascript@6.49.0"
    azure_host = True
    driver = DriverSpec(
        "javascript", "javascript", ("package.json", "package-lock.json", "driver.mjs"),
        ("node", "npm"),
        "Install Node.js 20 or newer with npm (e.g. `apt-get install nodejs npm`).", "openai",
    )
    capabilities: ClassVar[Mapping[str, str]] = {"retry_after_window": "7.5.0"}
    deviations = DEVIATIONS
    policy_source = (f"{_SOURCE} (maxRetries per client and per call; the apiKey function "
                     "runs before every attempt, _callApiKey in prepareOptions); sdk-behavior "
                     "§3, §9")

    def pinned_version(self, folder: Path) -> str:
        data = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        return str(data["dependencies"]["openai"])

    def toolchain_problem(self, probe: Probe) -> str | None:
        version = probe(["node", "--version"])
        major = re.match(r"v(\d+)", version)
        if not major or int(major.group(1)) < 20:
            return f"node {version.strip() or '?'} is older than 20"
        return None

    def build(self, work: Path, target: Path, repin: str | None, tool: Tool,
              env: Mapping[str, str]) -> list[str]:
        if repin:
            tool(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline",
                  "--save-exact", f"openai@{repin}"], work, env)
        else:
            tool(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], work, env)
        return ["node", str(target / "driver.mjs")]

    def missing_api(self, operation: str, build: Path | None,
                    env: Mapping[str, str]) -> str | None:
        """A release without the API (openai-node before 4.87 has no ``client.responses``;
        the stream helper is ``client.beta.chat.completions.stream`` before 5.0): a node
        started in the driver's build imports its openai, builds a client and looks the path
        up. None when the path is there or the probe cannot tell."""
        import subprocess

        path = OPERATION_APIS.get(operation)
        if path is None or build is None:
            return None
        try:
            done = subprocess.run(["node", "--input-type=module", "-e", _PROBE, path],
                                  cwd=build, env=dict(env), capture_output=True, text=True,
                                  timeout=_PROBE_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode != 0 or done.stdout != "undefined":
            return None
        return f"this release has no client.{path} (the API the doc's code calls for {operation})"

    def released_versions(self, output: Callable[[Sequence[str]], str]) -> list[str]:
        from ..drivers.releases import npm_versions

        return npm_versions(output(["npm", "view", self.package, "versions", "--json"]))
