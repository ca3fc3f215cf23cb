"""openai-go (module ``github.com/openai/openai-go/v3``), driven by ``drivers/go/main.go``.

The doc's Go section says nothing about retries or error classes, so Go is judged by its own
policy alone: ``OWN`` and the release-ranged refinements below, read from the module sources as
built here (``internal/requestconfig/requestconfig.go``: ``shouldRetry``,
``parseRetryAfterHeader``, ``retryDelay``, ``Execute``) at v3.100.0 and, for the boundaries, at
v3.52.0, v3.53.0, v3.66.0 and v3.67.0 (``go mod download``) with the module's CHANGELOG.md.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from ..policy import Backoff, Deviation, Outcome, RetryAfter, RetryPolicy
from ..policy import changes as _set
from .profile import DriverSpec, Probe, Profile, Tool

MODULE = "github.com/openai/openai-go/v3"
_SOURCE = "openai-go v3.100.0 internal/requestconfig/requestconfig.go"

OWN = RetryPolicy(
    sdk="go",
    default_max_retries=2,  # NewRequestConfig: MaxRetries: 2
    retry_statuses=frozenset({408, 409, 429}),
    retry_from=500,
    retry_connection_errors=True,  # no response: retried
    retry_timeouts=False,  # an expired context returns ctx.Err() at once
    x_should_retry=True,
    retry_after=None,  # per release, below
    backoff=Backoff(0.5, cap=8.0, jitter=0.25),  # 0.5 s * 2**n, cap 8 s, minus up to delay/4
    classes={},
    class_from=(400, "*openai.Error"),  # one type, StatusCode carries the status
    other_status=Outcome("*openai.Error"),
    connection_error=Outcome("*url.Error"),
    timeout_error=Outcome("context.deadlineExceededError"),
    retry_count_header="x-stainless-retry-count",
    token_provider_called="attempt",  # azure.WithTokenCredential: azcore's policy per attempt
)

DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "go.retry-after-window", "go", "(the Go section says nothing about retries)",
        "retry-after-ms, then retry-after (seconds, then an RFC1123 date) replace the backoff "
        "when 0 <= d < 60 s; other hints fall back to the backoff",
        "sdk-behavior §4 (v2.1.1 ... v3.24.x)", kind="refines",
        until="retry_after_unbounded",
        apply=_set(retry_after=RetryAfter(maximum=60.0, low_inclusive=True)),
    ),
    Deviation(
        "go.retry-after-unbounded", "go", "(the Go section says nothing about retries)",
        "server hints are waited for in full, however long; a negative one retries at once",
        "sdk-behavior §4 (v3.25.0 ... v3.52.0)", kind="refines",
        capability="retry_after_unbounded", until="retry_after_clamped",
        apply=_set(retry_after=RetryAfter(maximum=math.inf, low_inclusive=True,
                                          negative="zero")),
    ),
    Deviation(
        "go.retry-after-clamped", "go", "(the Go section says nothing about retries)",
        "server hints are clamped to MaxRetryDelay (8 s by default): a longer one waits 8 s",
        "openai-go v3.53.0 parseRetryAfterHeader (retryAfter >= maxDelay returns maxDelay); "
        "CHANGELOG 3.53.0 'bound retry and polling delays (#828)'", kind="refines",
        capability="retry_after_clamped", until="retry_after_refusal",
        apply=_set(retry_after=RetryAfter(maximum=8.0, low_inclusive=True, above="clamp")),
    ),
    Deviation(
        "go.retry-after-refusal", "go", "(the Go section says nothing about retries)",
        "retry-after-ms, then retry-after (seconds, then an RFC1123 date) replace the backoff "
        "when 0 <= d <= 120 s; a longer hint (or one that overflows) stops the retries and "
        "returns that response's error at once",
        f"{_SOURCE} (defaultMaxRetryAfterDelay = 2 * time.Minute; retryDelay returns "
        "!exceedsLimit); v3.67.0 is the first with it (CHANGELOG 3.67.0 'honor Retry-After "
        "delays in line with the Python SDK (#987)'); sdk-behavior §9.1", kind="refines",
        capability="retry_after_refusal",
        apply=_set(retry_after=RetryAfter(maximum=120.0, low_inclusive=True,
                                          above="no-retry", overflow_is_too_long=True)),
    ),
)


class Go(Profile):
    name = "go"
    title = "openai-go"
    package = MODULE
    language = "Go"
    rank = 2
    pin_example = "go@v3.100.0"
    version_prefix = "v"
    azure_host = True
    driver = DriverSpec(
        "go", "go", ("go.mod", "go.sum", "main.go"), ("go",),
        "Install Go 1.26 or newer (https://go.dev/doc/install) and put `go` on PATH.", MODULE,
    )
    capabilities: ClassVar[Mapping[str, str]] = {
        "retry_after_unbounded": "3.25.0", "retry_after_clamped": "3.53.0",
        "retry_after_refusal": "3.67.0"}
    own = OWN
    deviations = DEVIATIONS
    policy_source = (f"{_SOURCE} (option.WithMaxRetries per client and per call; one "
                     "*openai.Error with StatusCode for every status); sdk-behavior §4, §9")

    def pinned_version(self, folder: Path) -> str:
        text = (folder / "go.mod").read_text(encoding="utf-8")
        found = re.search(r"github\.com/openai/openai-go/v3 v(\S+)", text)
        if not found:
            raise ValueError("drivers/go/go.mod does not require github.com/openai/openai-go/v3")
        return found.group(1)

    def toolchain_problem(self, probe: Probe) -> str | None:
        # openai-go v3 and azcore declare `go 1.26.0`; an older go would try to download a
        # toolchain (GOTOOLCHAIN is set to local for the build, so it would fail instead).
        version = probe(["go", "env", "GOVERSION"]).strip()
        found = re.match(r"go(\d+)\.(\d+)", version)
        if not found or (int(found.group(1)), int(found.group(2))) < (1, 26):
            return f"go {version or '?'} is older than 1.26"
        return None

    def build_env(self, env: Mapping[str, str], probe: Probe) -> dict[str, str]:
        built = dict(env)
        # The module proxy alone: never fall back to fetching a module's VCS host directly.
        proxies = [p for p in re.split(r"[,|]", built.get("GOPROXY")
                                       or probe(["go", "env", "GOPROXY"]).strip())
                   if p and p != "direct"]
        if proxies:
            built["GOPROXY"] = ",".join(proxies)
        flags = built.get("GOFLAGS", "").split()
        for flag in ("-mod=mod", "-buildvcs=false"):
            if flag not in flags:
                flags.append(flag)
        built["GOFLAGS"] = " ".join(flags)
        built["GOTOOLCHAIN"] = "local"  # never download a toolchain
        return built

    def build(self, work: Path, target: Path, repin: str | None, tool: Tool,
              env: Mapping[str, str]) -> list[str]:
        if repin:
            tool(["go", "mod", "edit", f"-require={MODULE}@v{repin}"], work, env)
            tool(["go", "mod", "tidy"], work, env)
        binary = "driver.exe" if os.name == "nt" else "driver"
        tool(["go", "build", "-o", binary, "."], work, env)
        return [str(target / binary)]

    def released_versions(self, output: Callable[[Sequence[str]], str]) -> list[str]:
        from ..drivers.releases import go_versions

        return go_versions(output(["go", "list", "-m", "-versions", MODULE]))
