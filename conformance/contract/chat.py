"""Chat completions, non-streamed (wire §6), and the usage object chat shares with streams."""

from __future__ import annotations

from typing import Any

from . import Findings, Violation, describe, is_count, is_int, is_object, rule
from . import usage as usage_module
from .content_filter import check_prompt_results, check_results
from .usage import Vocabulary

OBJECT = rule("chat.object", 'object is "chat.completion"', "wire §6.1")
ID = rule("chat.id", "id is a non-empty string", "wire §6.1")
CREATED = rule("chat.created", "created is an integer (Unix seconds)", "wire §6.1")
MODEL = rule("chat.model", "model is a non-empty string (the served snapshot)", "wire §6.1")
CHOICES = rule("chat.choices", "choices is a non-empty array", "wire §6.1")
CHOICE_INDEX = rule(
    "chat.choice.index", "each choice has an integer index, unique within choices", "wire §6.2"
)
FINISH_REASON = rule(
    "chat.choice.finish-reason",
    "finish_reason is stop|length|tool_calls|content_filter|function_call",
    "wire §6.2",
)
MESSAGE = rule(
    "chat.message",
    'message is {role: "assistant", content: string|null, refusal?: string|null}; Azure '
    "leaves it out of a choice its output filter stopped (finish_reason content_filter)",
    "wire §6.2",
    evidence=("azure/openllmetry/chat-content-filtered.yaml",),
)
TOOL_CALLS = rule(
    "chat.message.tool-calls",
    'tool_calls items are {id, type: "function", function: {name, arguments: string}} or, '
    'for custom tools, {id, type: "custom", custom: {name, input: string}}',
    "wire §5.1, §6.2",
    evidence=("openai/dd-trace-py/chat-custom-tool-call.yaml",),
)
USAGE = rule(
    "usage.counts",
    "prompt_tokens, completion_tokens and total_tokens are non-negative integers",
    "wire §6.4",
)
USAGE_TOTAL = rule(
    "usage.total", "total_tokens == prompt_tokens + completion_tokens", "wire §6.4"
)
USAGE_DETAILS = rule(
    "usage.details",
    "detail counts are null or non-negative integers; reasoning_tokens <= completion_tokens; "
    "cached_tokens <= prompt_tokens",
    "wire §6.4, §10.1",
)

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})


def validate_completion(body: Any) -> list[Violation]:
    """Validate a ``chat.completion`` response body."""
    found = Findings()
    if not found.require(is_object(body), OBJECT, "", f"expected an object, got {describe(body)}"):
        return found.violations
    found.require(body.get("object") == "chat.completion", OBJECT, "object",
                  f"expected 'chat.completion', got {describe(body.get('object'))}")
    found.require(isinstance(body.get("id"), str) and body["id"], ID, "id",
                  f"expected a non-empty string, got {describe(body.get('id'))}")
    found.require(is_count(body.get("created")), CREATED, "created",
                  f"expected an integer, got {describe(body.get('created'))}")
    found.require(isinstance(body.get("model"), str) and body["model"], MODEL, "model",
                  f"expected a non-empty string, got {describe(body.get('model'))}")
    choices = body.get("choices")
    if found.require(isinstance(choices, list) and choices, CHOICES, "choices",
                     f"expected a non-empty array, got {describe(choices)}"):
        seen: set[int] = set()
        for n, choice in enumerate(choices):
            check_choice(found, choice, f"choices[{n}]", seen)
    if "usage" in body and body["usage"] is not None:
        check_usage(found, body["usage"], "usage")
    check_prompt_results(found, body)
    return found.violations


def check_choice(found: Findings, choice: Any, path: str, seen: set[int]) -> None:
    if not found.require(is_object(choice), CHOICES, path,
                         f"expected an object, got {describe(choice)}"):
        return
    index = choice.get("index")
    found.require(is_int(index) and index not in seen, CHOICE_INDEX, f"{path}.index",
                  f"expected a unique integer, got {describe(index)}")
    if is_int(index):
        seen.add(index)
    found.require(choice.get("finish_reason") in FINISH_REASONS, FINISH_REASON,
                  f"{path}.finish_reason",
                  f"expected one of {sorted(FINISH_REASONS)}, got "
                  f"{describe(choice.get('finish_reason'))}")
    if "message" in choice or choice.get("finish_reason") != "content_filter":
        check_message(found, choice.get("message"), f"{path}.message")
    if "content_filter_results" in choice:
        check_results(found, choice["content_filter_results"], f"{path}.content_filter_results")


def check_message(found: Findings, message: Any, path: str) -> None:
    ok = (
        is_object(message)
        and message.get("role") == "assistant"
        and isinstance(message.get("content"), (str, type(None)))
        and isinstance(message.get("refusal"), (str, type(None)))
    )
    if not found.require(ok, MESSAGE, path,
                         f"expected {{role: 'assistant', content: string|null}}, got "
                         f"{describe(message)}"):
        return
    tool_calls = message.get("tool_calls")
    if tool_calls is None:
        return
    if not found.require(isinstance(tool_calls, list), TOOL_CALLS, f"{path}.tool_calls",
                         f"expected an array, got {describe(tool_calls)}"):
        return
    for n, call in enumerate(tool_calls):
        found.require(
            _is_tool_call(call),
            TOOL_CALLS,
            f"{path}.tool_calls[{n}]",
            f"expected {{id, type: 'function', function: {{name, arguments: string}}}} or "
            f"{{id, type: 'custom', custom: {{name, input: string}}}}, got {describe(call)}",
        )


def _is_tool_call(call: Any) -> bool:
    if not (is_object(call) and isinstance(call.get("id"), str)):
        return False
    kind, value = call.get("type"), "arguments"
    if kind == "custom":
        value = "input"
    elif kind != "function":
        return False
    body = call.get(kind)
    return (is_object(body) and isinstance(body.get("name"), str)
            and isinstance(body.get(value), str))


CHAT_USAGE = Vocabulary("prompt_tokens", "completion_tokens", USAGE, USAGE_TOTAL, USAGE_DETAILS)


def check_usage(found: Findings, usage: Any, path: str) -> None:
    """Chat usage (wire §6.4): counts, their sum, and the detail objects."""
    usage_module.check_usage(found, usage, path, CHAT_USAGE)
