"""What the installed openai-python must have for a check that runs on every SDK.

openai-python runs in process, so a check asks the installed wheel for the capability its claim
exercises (``unsupported`` below the release that ships it, conformance.sdk.CAPABILITIES). A
driver process answers for its own SDK: an API its release lacks is a ``driver_error`` with
``unsupported: true``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from conformance.drivers.pool import Driver
from conformance.registry import Observations, fail
from conformance.sdk import CAPABILITIES, require_capability

# Capabilities that are a keyword of a create() method: probed in the installed wheel (the
# method's signature names it or not) rather than read from the release table.
KEYWORDS: dict[str, tuple[str, str, str]] = {  # capability: (module, class, keyword)
    "chat_stream_options": ("openai.resources.chat", "Completions", "stream_options"),
    "reasoning_effort": ("openai.resources.chat", "Completions", "reasoning_effort"),
    "embeddings_dimensions": ("openai.resources", "Embeddings", "dimensions"),
}


def keyword_accepted(capability: str) -> bool | None:
    """Whether the installed openai-python's create() names the capability's keyword (None: the
    method cannot be found, so the table decides)."""
    import importlib

    module, name, keyword = KEYWORDS[capability]
    try:
        create = getattr(importlib.import_module(module), name).create
        parameters = inspect.signature(create).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return None
    # A wrapper that forwards whatever it is given takes the keyword (as sdk.call_sdk reads it).
    return keyword in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _client_has(attribute: str) -> bool:
    import openai

    client = openai.OpenAI(api_key="probe", base_url="http://127.0.0.1:9/")  # never sends
    try:
        return hasattr(client, attribute)
    finally:
        client.close()


def _module_has(module: str, name: str) -> bool:
    import importlib

    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


# Capabilities that are a part of the public API, probed in the installed wheel: (what the
# observation is called, the probe).
SURFACES: dict[str, tuple[str, Callable[[], bool]]] = {
    "responses": ("client_responses", lambda: _client_has("responses")),
    "mcp": ("mcp_tool_type", lambda: _module_has("openai.types.responses.tool", "Mcp")),
}


def surface_present(capability: str) -> bool | None:
    """Whether the installed openai-python has the capability's public surface (None: the probe
    itself broke, so the table decides)."""
    try:
        return SURFACES[capability][1]()
    except Exception:
        return None


def python_needs(driver: Driver, *capabilities: str, observe: Observations | None = None) -> None:
    """``require_capability`` for each of ``capabilities`` when ``driver`` is openai-python. A
    keyword capability (:data:`KEYWORDS`) is probed instead, its answer observed
    (``keyword_<name>``): a release whose create() takes the keyword has it whatever its
    version; one without it is ``unsupported`` below the table's release, a fail from it on
    (the doc's call would raise TypeError)."""
    if driver.sdk != "python":
        return
    for capability in capabilities:
        if capability in SURFACES:
            present = surface_present(capability)
            if present is not None and observe is not None:
                observe(SURFACES[capability][0], present)
            if present is None or not present:
                require_capability(capability)
                if present is False:
                    fail(f"python has no {SURFACES[capability][0]} although the release table "
                         f"says it ships from openai {CAPABILITIES[capability].minimum}")
            continue
        accepted = keyword_accepted(capability) if capability in KEYWORDS else None
        if accepted is None:
            require_capability(capability)
            continue
        keyword = KEYWORDS[capability][2]
        if observe is not None:
            observe(f"keyword_{keyword}", accepted)
        if accepted:
            continue
        require_capability(capability)
        fail(f"python's create() takes no {keyword}= keyword although the release table "
             f"says it ships from openai {CAPABILITIES[capability].minimum}: the doc's call "
             "raises TypeError")
