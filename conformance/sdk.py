"""The SDK under test, openai-python, reached only through its public API.

What differs between SDK versions is declared here as data: the version from which each
capability exists. A check asks :func:`require_capability` before it exercises one, so an old
SDK gets ``unsupported``, never a false ``pass``, and a new SDK that lost one gets ``fail``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import inspect
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .registry import unsupported

DISTRIBUTION = "openai"
SDK_TITLE = "openai-python"  # as results and reports call it (sdks.python title)

# Offline runs authenticate with this made-up key; it is still treated as a secret.
TEST_API_KEY = "aoai-conformance-test-key"

# Variables the SDK (or AzureOpenAI) reads from the environment. A check runs with none of
# them set, so a developer's shell cannot change what goes on the wire.
ENVIRONMENT = (
    "OPENAI_API_KEY",
    "OPENAI_ADMIN_KEY",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENAI_BASE_URL",
    "OPENAI_CUSTOM_HEADERS",
    "OPENAI_WEBHOOK_SECRET",
    "OPENAI_LOG",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
)


@dataclass(frozen=True)
class Capability:
    minimum: str
    source: str  # where the minimum comes from


CAPABILITIES: dict[str, Capability] = {
    "callable_api_key": Capability(
        "1.106.0", "sdk-behavior.md §2.7; openai/openai-python#2584 (maintainer reply)"
    ),
    "request_id": Capability("1.46.0", "sdk-behavior.md §2.6 (_request_id on parsed models)"),
    # errors and retries (conformance.policy names these to gate its deviations)
    "retry_after_refusal": Capability(
        "2.52.0",
        "sdk-behavior.md §2.1 (a Retry-After over 120 s stops the retries); released wheels: "
        "2.51.0 honours hints up to 60 s and retries longer ones with backoff, 2.52.0 adds "
        "MAX_RETRY_AFTER_DELAY = 120 and the refusal",
    ),
    "retry_after_overflow_refusal": Capability(
        "3.9.0", "sdk-behavior.md §2.1 (a numeric overflow such as 1e400 counts as too long)"
    ),
    "httpx2": Capability("3.0.0", "sdk-behavior.md §7 (httpx2 is a hard dependency from 3.0.0)"),
    "error_code_str": Capability("3.14.0", "sdk-behavior.md §2.5 (APIError.code coerced to str)"),
    "stream_connection_errors": Capability(
        "3.14.0",
        "sdk-behavior.md §2.8 (transport errors in the middle of a stream become "
        "APIConnectionError/APITimeoutError)",
    ),
    "stream_error_spelling": Capability(
        "1.6.0",
        "_streaming.py: an error payload in a stream raises APIError('An error ocurred during "
        "streaming') up to 1.5.0, spelled 'occurred' from the 1.6.0 wheel (diffed, run against "
        "both)",
    ),
    "stream_error_message": Capability(
        "1.13.4",
        "_streaming.py: APIError.message of an error payload in a stream is the error's message "
        "from the 1.13.4 wheel; up to 1.13.3 it is always 'An error occurred during streaming' "
        "(diffed, run against both)",
    ),
    "stream_byte_lines": Capability(
        "1.16.2",
        "_streaming.py: the SSE decoder splits lines on CR and LF bytes before decoding from the "
        "1.16.2 wheel; up to 1.16.1 it reads httpx's iter_lines(), which in httpx 0.27.2 "
        "(str.splitlines) also ends a line at U+2028, U+2029 and U+0085 inside data (diffed; run "
        "against both)",
    ),
    "responses": Capability(
        "1.66.0",
        "client.responses and Response.output_text first ship in the 1.66.0 wheel "
        "(types/responses/response.py)",
    ),
    "responses_streaming": Capability(
        "1.66.5",
        "up to 1.66.3 the stream event union has no discriminator entry for response.created, "
        ".in_progress, .completed, .failed and .incomplete: a completed event comes back as a "
        "ResponseAudioDeltaEvent holding the response as a plain dict (run against the 1.66.0, "
        "1.66.3 and 1.66.5 wheels; there is no 1.66.4)",
    ),
    "responses_reasoning_summary": Capability(
        "1.66.2",
        "reasoning output items are typed with summary: [summary_text] from 1.66.2; 1.66.0 and "
        "1.66.1 model them with content: [reasoning_summary] (types/responses in the wheels)",
    ),
    "responses_error_event": Capability(
        "1.97.2",
        "_streaming.py: up to 1.97.1 an SSE named `event: error` is wrapped as {data, event} "
        "instead of parsed as a ResponseErrorEvent; 1.97.2 ('refactor streaming slightly') "
        "parses every event but thread.* (wheels diffed; 1.97.2 and 1.98.0 identical; seen by "
        "the gate once the check observed before this table spoke: it said 1.98.0 before)",
    ),
    "mcp": Capability(
        "1.80.0",
        "the mcp tool type and the mcp_list_tools / mcp_call / mcp_approval_request output "
        "items first ship in the 1.80.0 wheel (types/responses/tool.py, response_output_item.py)",
    ),
    "reasoning_effort": Capability(
        "1.58.0",
        "chat.completions.create(reasoning_effort=...) and the developer message type first "
        "ship in the 1.58.0 wheel (absent from 1.57.4)",
    ),
    "chat_stream_helper": Capability(
        "1.40.0",
        "the chat stream helper first ships in the 1.40.0 wheel as client.beta.chat.completions."
        "stream() (openai/lib/streaming/chat absent from 1.39.0); on client.chat from 1.92.0 "
        "(resources/chat/completions/completions.py). The checks probe both places",
    ),
    "chat_stream_helper_azure_chunks": Capability(
        "1.74.0",
        "lib/streaming/chat/_completions.py skips chunks that fail "
        "_is_valid_chat_completion_chunk_weak (Azure's object \"\" filter chunks) from the "
        "1.74.0 wheel; absent from 1.73.0 (sdk-behavior.md §2.8)",
    ),
    "embeddings_base64_default": Capability(
        "1.62.0",
        "sdk-behavior.md §7; released wheels: up to 1.61.1 only when numpy is installed",
    ),
    # Request parameters the checks send (create() raises TypeError before the release that
    # adds them; first release read in openai-python's history and run against the wheels).
    "chat_tools": Capability(
        "1.1.0", "chat.completions.create(tools=...) first ships in the 1.1.0 wheel (DevDay "
        "release; 1.0.0 has only functions=)",
    ),
    "embeddings_dimensions": Capability(
        "1.10.0", "embeddings.create(dimensions=...) first ships in the 1.10.0 wheel "
        "(openai-python #1103)",
    ),
    "chat_stream_options": Capability(
        "1.26.0", "chat.completions.create(stream_options=...) first ships in the 1.26.0 wheel "
        "(openai-python #1395)",
    ),
    # What status errors carry (conformance.policy.ERROR_ATTRIBUTES names these).
    "error_fields": Capability(
        "1.2.2", "APIError.code/param/type are read from the error object from the 1.2.2 wheel; "
        "1.0.0-1.2.1 read them from the whole body (openai-python #759)",
    ),
    "error_body": Capability(
        "1.3.8", "APIError.body is assigned from the 1.3.8 wheel; before it is declared but never "
        "set, so reading it raises AttributeError (openai-python #949)",
    ),
    "error_request_id": Capability(
        "1.19.0", "APIStatusError.request_id (the x-request-id header) first ships in the 1.19.0 "
        "wheel (openai-python #1317)",
    ),
    # The retry loop (conformance.policy names these to gate its per-release refinements).
    "retry_after_float": Capability(
        "1.3.7", "retry-after is read with float() from the 1.3.7 wheel; 1.0.0-1.3.6 use int(), "
        "so '0.25' is ignored (openai-python #902)",
    ),
    "retry_after_ms": Capability(
        "1.9.0", "retry-after-ms is read (first) from the 1.9.0 wheel (_parse_retry_after_header, "
        "openai-python #1086)",
    ),
    "retry_count_header": Capability(
        "1.47.0", "x-stainless-retry-count on retries from the 1.47.0 wheel (sdk-behavior.md §2.2; "
        "absent from 1.46.1, run against 1.45.1, 1.46.0 and 1.47.0)",
    ),
    "retry_count_header_first_attempt": Capability(
        "1.48.0", "x-stainless-retry-count: 0 on the first attempt too from the 1.48.0 wheel "
        "(1.47.x sends it on retries only; openai-python #1745; run against 1.47.0 and 1.48.0)",
    ),
    "backoff_from_half_second": Capability(
        "1.47.0", "the first retry's backoff base is 0.5 s from the 1.47.0 wheel; up to 1.46.1 "
        "_retry_request counts the retry in progress as taken, so bases run 1, 2, 4, 8 s (run "
        "against 1.45.1, 1.46.0 and 1.47.0)",
    ),
    # What the harness uses: openai.DefaultHttpxClient (1.17.0) carries the SDK's defaults;
    # before it a plain client of the HTTP library is passed as http_client= (public API).
    "default_http_client": Capability(
        "1.17.0", "openai.DefaultHttpxClient first ships in the 1.17.0 wheel (openai-python #1302)",
    ),
}


def parse_version(text: str) -> tuple[int, ...]:
    """``"3.57.0"`` -> ``(3, 57, 0)``; pre-release suffixes are ignored."""
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


@dataclass(frozen=True)
class SdkInfo:
    name: str
    version: str
    http_library: str
    http_library_version: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def at_least(self, version: str) -> bool:
        return parse_version(self.version) >= parse_version(version)

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.http_library} {self.http_library_version})"


def installed() -> SdkInfo:
    """The SDK this process imports. Reading package metadata scans every distribution (about
    6 ms, and checks ask often), so it is read once per imported SDK version and metadata
    reader (a test that stands in its own reader gets its answer)."""
    imported = sys.modules.get(DISTRIBUTION)
    return _installed(getattr(imported, "__version__", None), importlib.metadata.version,
                      importlib.metadata.requires)


@functools.lru_cache(maxsize=8)
def _installed(imported_version: str | None, version_of: Callable[[str], str],
               requires_of: Callable[[str], list[str] | None]) -> SdkInfo:
    version = version_of(DISTRIBUTION)
    requirements = requires_of(DISTRIBUTION) or []
    required = [r for r in requirements if "extra ==" not in r]  # optional extras don't count
    library = "httpx2" if any(re.match(r"httpx2\b", r) for r in required) else "httpx"
    try:
        library_version = version_of(library)
    except importlib.metadata.PackageNotFoundError:
        library_version = "missing"
    return SdkInfo(SDK_TITLE, version, library, library_version)


def has(capability: str) -> bool:
    return installed().at_least(CAPABILITIES[capability].minimum)


def since(capability: str) -> str:
    """``"openai>=1.47.0"``: the releases that have ``capability``."""
    return f"{DISTRIBUTION}>={CAPABILITIES[capability].minimum}"


def require_capability(capability: str) -> None:
    """Declare that the check exercises ``capability``: ``unsupported`` below its minimum."""
    info = installed()
    needed = CAPABILITIES[capability]
    if not info.at_least(needed.minimum):
        unsupported(
            f"{capability} needs openai>={needed.minimum} ({needed.source}); "
            f"installed {info.version}"
        )


def call_sdk(method: Callable[..., Any], params: Mapping[str, Any]) -> Any:
    """Call an openai-python method with ``params``: the ones this release names as keywords,
    the rest (fields an older release does not know yet) through its ``extra_body``, so the
    doc's request reaches the wire either way. The one such helper: the python driver and the
    checks that replay a recording both call the SDK through it."""
    accepted = inspect.signature(method).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return method(**params)  # a wrapper that forwards whatever it is given
    known = {k: v for k, v in params.items() if k in accepted}
    extra = {k: v for k, v in params.items() if k not in accepted}
    if extra:
        known["extra_body"] = extra
    return method(**known)


@dataclass
class OpenAIPython:
    """The installed openai-python in a check: builds clients pointed at the wire server and
    closes them after the check."""

    base_url: str
    info: SdkInfo = field(default_factory=installed)
    _clients: list[Any] = field(default_factory=list)

    def client(self, **options: Any) -> Any:
        """An ``openai.OpenAI`` for the wire server; ``options`` go to the constructor."""
        import openai

        from .tls_contexts import share

        share(self.info.http_library)
        options.setdefault("api_key", TEST_API_KEY)
        options.setdefault("base_url", self.base_url)
        client = openai.OpenAI(**options)
        self._clients.append(client)
        return client

    def async_client(self, **options: Any) -> Any:
        import openai

        from .tls_contexts import share

        share(self.info.http_library)
        options.setdefault("api_key", TEST_API_KEY)
        options.setdefault("base_url", self.base_url)
        client = openai.AsyncOpenAI(**options)
        self._clients.append(client)
        return client

    def close(self) -> None:
        import openai

        for client in self._clients:
            if isinstance(client, openai.OpenAI):
                client.close()
            # Async clients are closed by the check that awaited them; their pools die with
            # the event loop.
        self._clients.clear()
