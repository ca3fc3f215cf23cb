"""openai-java (``com.openai:openai-java``), driven by ``drivers/java`` (one shaded jar).

The doc's Java section says nothing about retries or error classes, so Java is judged by its
own policy alone: ``OWN`` and the release-ranged refinements below, read from the sources jar of
the pinned release on Maven Central (``openai-java-core-4.105.0-sources.jar``:
``core/http/RetryingHttpClient.kt``, ``core/PrepareRequest.kt``,
``credential/BearerTokenCredential.kt``, ``core/ClientOptions.kt``) and, for the boundary of the
Retry-After clamp, the sources jars of 4.70.0 (no bound) and 4.71.0 (the clamp).
"""

from __future__ import annotations

import math
import shutil
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from ..policy import Backoff, Deviation, Outcome, RetryAfter, RetryPolicy
from ..policy import changes as _set
from .profile import DriverSpec, Profile, Tool

# The driver JVM's options, added at every start (Java.launch). A driver lives seconds to a
# minute and spends most of it starting and warming up: the client compiler alone (C1, no C2)
# starts it and its first scenarios in about half the time and CPU
# (benchmarks/bench_sdk_all.py, "driver_starts").
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1",)
MAVEN_METADATA = "https://repo1.maven.org/maven2/com/openai/openai-java/maven-metadata.xml"
_SOURCE = "openai-java 4.105.0 core/http/RetryingHttpClient.kt"

OWN = RetryPolicy(
    sdk="java",
    default_max_retries=2,  # ClientOptions.Builder: maxRetries = 2
    retry_statuses=frozenset({408, 409, 429}),
    retry_from=500,
    retry_connection_errors=True,  # IOException, OpenAIIoException, OpenAIRetryableException
    retry_timeouts=True,  # OkHttp timeouts are IOExceptions
    x_should_retry=True,
    retry_after=None,  # per release, below
    backoff=Backoff(0.5, cap=8.0, jitter=0.25),  # min(0.5 * 2**(k-1), 8) * (1 - 0.25 * U)
    classes={400: "BadRequestException", 401: "UnauthorizedException",
             403: "PermissionDeniedException", 404: "NotFoundException",
             422: "UnprocessableEntityException", 429: "RateLimitException"},
    class_from=(500, "InternalServerException"),
    other_status=Outcome("UnexpectedStatusCodeException"),  # 408 and 409 included
    connection_error=Outcome("OpenAIIoException"),
    timeout_error=Outcome("OpenAIIoException"),
    retry_count_header="x-stainless-retry-count",
    # PrepareRequest.prepare puts clientOptions.securityHeaders (the supplier's token) on the
    # request once per API call; RetryingHttpClient re-sends that request on every retry.
    token_provider_called="request",
    # On an Azure host (the doc's base URL) the supplier is asked twice per API call:
    # ClientOptions.securityHeaders, then HttpRequestBuilderExtensions.replaceBearerTokenForAzure
    # (openai-java core; found when the drivers first ran against the doc's Azure host).
    token_provider_calls=2,
    per_request_max_retries=False,  # RequestOptions has timeout and responseValidation only
)

DEVIATIONS: tuple[Deviation, ...] = (
    Deviation(
        "java.retry-after-window", "java", "(the Java section says nothing about retries)",
        "retry-after-ms, then retry-after (seconds, then an RFC1123 date) replace the backoff "
        "when 0 <= d <= 60 s", "sdk-behavior §5 (<= 4.24.x)", kind="refines",
        until="retry_after_unbounded",
        apply=_set(retry_after=RetryAfter(maximum=60.0, low_inclusive=True)),
    ),
    Deviation(
        "java.retry-after-unbounded", "java", "(the Java section says nothing about retries)",
        "server hints are waited for in full, however long",
        "sdk-behavior §5 (4.25.0 ... 4.52.0); Maven Central openai-java-core-4.70.0 sources",
        kind="refines", capability="retry_after_unbounded", until="retry_after_clamped",
        apply=_set(retry_after=RetryAfter(maximum=math.inf, low_inclusive=True)),
    ),
    Deviation(
        "java.retry-after-clamped", "java", "(the Java section says nothing about retries)",
        "retry-after-ms, then retry-after (seconds, then an RFC1123 date) are clamped to "
        "[0, 8 s]: a longer hint waits 8 s and is retried, a negative one retries at once; a "
        "numeric overflow (1e400: toFloatOrNull gives Infinity, toLong the largest Long) is a "
        "longer hint",
        f"{_SOURCE} getRetryBackoffDuration (coerceIn(0, MAX_RETRY_DELAY), MAX_RETRY_DELAY = 8 "
        "s); first in 4.71.0 (Maven Central sources jars: 4.70.0 has no bound); sdk-behavior "
        "§9.1", kind="refines", capability="retry_after_clamped",
        apply=_set(retry_after=RetryAfter(maximum=8.0, low_inclusive=True, above="clamp",
                                          negative="zero", overflow_is_too_long=True)),
    ),
)


class Java(Profile):
    name = "java"
    title = "openai-java"
    package = "com.openai:openai-java"
    language = "Java"
    rank = 3
    pin_example = "java@4.105.0"
    azure_host = True
    driver = DriverSpec(
        "java", "java", ("pom.xml", "src"), ("java", "mvn"),
        "Install a JDK 17 or newer and Maven (e.g. `apt-get install openjdk-17-jdk maven`).",
        "com.openai:openai-java",
    )
    capabilities: ClassVar[Mapping[str, str]] = {
        "retry_after_unbounded": "4.25.0", "retry_after_clamped": "4.71.0"}
    own = OWN
    deviations = DEVIATIONS
    policy_source = (f"{_SOURCE} (no per-call max retries; BearerTokenCredential's supplier "
                     "is asked once per API call; no ConflictException: 408/409 are "
                     "UnexpectedStatusCodeException); sdk-behavior §5, §9")

    def pinned_version(self, folder: Path) -> str:
        root = ET.parse(folder / "pom.xml").getroot()
        element = root.find("m:properties/m:openai.java.version",
                            {"m": "http://maven.apache.org/POM/4.0.0"})
        if element is None or not element.text:
            raise ValueError("drivers/java/pom.xml has no <openai.java.version> property")
        return element.text.strip()

    def build(self, work: Path, target: Path, repin: str | None, tool: Tool,
              env: Mapping[str, str]) -> list[str]:
        command = ["mvn", "-B", "-q", "package", "-DskipTests"]
        if repin:
            command.append(f"-Dopenai.java.version={repin}")
        try:
            # Offline first: once the dependencies are in ~/.m2 a build needs no network.
            tool([*command[:1], "-o", *command[1:]], work, env)
        except Exception:  # the build step failed offline: try again with the network
            tool(command, work, env)
        (work / "target" / "driver.jar").rename(work / "driver.jar")
        shutil.rmtree(work / "target", ignore_errors=True)
        return ["java", "-jar", str(target / "driver.jar")]

    def launch(self, command: Sequence[str]) -> tuple[str, ...]:
        if command and Path(command[0]).name == "java":
            return (command[0], *JVM_OPTIONS, *command[1:])
        return tuple(command)

    def released_versions(self, output: Callable[[Sequence[str]], str]) -> list[str]:
        from ..drivers.releases import ListingFailed, maven_versions

        try:
            with urllib.request.urlopen(MAVEN_METADATA, timeout=120) as answer:
                return maven_versions(answer.read().decode("utf-8"))
        except OSError as exc:
            raise ListingFailed(f"cannot read {MAVEN_METADATA}: {exc}") from exc
