"""The Responses API response object (wire §11.3), its output items (§11.4, §10.2, §13.2) and
Azure's ``content_filters`` array.

``output_text`` is not part of the wire contract: the SDK computes it (wire §11.3).
:func:`output_text` computes it the same way from a wire body, so a check can compare.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from . import Findings, Violation, describe, is_count, is_int, is_object, mcp, rule
from . import usage as usage_module
from .content_filter import check_results
from .usage import Vocabulary

OBJECT = rule("responses.object", 'object is "response"', "wire §11.3")
ID = rule("responses.id", "id is a non-empty string", "wire §11.3")
CREATED_AT = rule(
    "responses.created-at", "created_at is an integer (Unix seconds), not a float", "wire §11.3"
)
STATUS = rule(
    "responses.status",
    "status, when present, is completed|failed|in_progress|cancelled|queued|incomplete",
    "wire §11.3",
)
MODEL = rule("responses.model", "model is a non-empty string", "wire §11.3")
OUTPUT = rule(
    "responses.output",
    "output is an array of items, each an object with a string type and a non-empty string id",
    "wire §11.3, §11.4",
)
ERROR = rule(
    "responses.error",
    "error is null or {code: string, message: string}; a failed response carries one",
    "wire §11.3, §12.2",
)
INCOMPLETE = rule(
    "responses.incomplete-details",
    "incomplete_details is null or {reason: max_output_tokens|content_filter}; an incomplete "
    "response carries one",
    "wire §11.3",
)
MESSAGE = rule(
    "responses.message",
    'a message item is {role: "assistant", status: in_progress|completed|incomplete, '
    "content: array of {type: string}}",
    "wire §11.4",
)
CONTENT_PART = rule(
    "responses.content-part",
    'an output_text part is {text: string, annotations: array}; a refusal part is '
    "{refusal: string}",
    "wire §11.4",
)
REASONING = rule(
    "responses.reasoning",
    'a reasoning item is {summary: [{type: "summary_text", text: string}], '
    "encrypted_content?: string|null}",
    "wire §10.2, §11.4",
)
FUNCTION_CALL = rule(
    "responses.function-call",
    "a function_call item is {call_id: string, name: string, arguments: JSON string}",
    "wire §11.4",
)
USAGE = rule(
    "responses.usage.counts",
    "input_tokens, output_tokens and total_tokens are non-negative integers",
    "wire §11.3",
)
USAGE_TOTAL = rule(
    "responses.usage.total", "total_tokens == input_tokens + output_tokens", "wire §11.3"
)
USAGE_DETAILS = rule(
    "responses.usage.details",
    "detail counts are null or non-negative integers; reasoning_tokens <= output_tokens; "
    "cached_tokens <= input_tokens",
    "wire §10.2, §11.3",
)
CONTENT_FILTERS = rule(
    "responses.content-filters",
    "content_filters (Azure) is null or an array of {blocked: bool, source_type: string, "
    "content_filter_results: object, content_filter_offsets: {check_offset, start_offset, "
    "end_offset: int}, content_filter_raw?: array}",
    "wire §11.3, §7",
)

STATUSES = frozenset({"completed", "failed", "in_progress", "cancelled", "queued", "incomplete"})
MESSAGE_STATUSES = frozenset({"in_progress", "completed", "incomplete"})
INCOMPLETE_REASONS = frozenset({"max_output_tokens", "content_filter"})
OFFSETS = ("check_offset", "start_offset", "end_offset")


def validate_response(body: Any) -> list[Violation]:
    """Validate a Responses API response object (``object: "response"``)."""
    found = Findings()
    check_response(found, body, "")
    return found.violations


def validate_item(item: Any) -> list[Violation]:
    """Validate one output item, as ``response.output`` or ``output_item.done`` carries it."""
    found = Findings()
    check_item(found, item, "")
    return found.violations


def output_text(body: Mapping[str, Any]) -> str:
    """What the SDK's ``output_text`` should be for this wire body: the text of every
    ``output_text`` part of every ``message`` item, in order (wire §11.3)."""
    texts: list[str] = []
    for item in body.get("output") or []:
        if is_object(item) and item.get("type") == "message":
            for part in item.get("content") or []:
                if is_object(part) and part.get("type") == "output_text":
                    text = part.get("text")
                    if isinstance(text, str):
                        texts.append(text)
    return "".join(texts)


def check_response(found: Findings, body: Any, path: str) -> None:
    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    if not found.require(is_object(body), OBJECT, path,
                         f"expected an object, got {describe(body)}"):
        return
    found.require(body.get("object") == "response", OBJECT, at("object"),
                  f"expected 'response', got {describe(body.get('object'))}")
    found.require(isinstance(body.get("id"), str) and body["id"], ID, at("id"),
                  f"expected a non-empty string, got {describe(body.get('id'))}")
    found.require(is_count(body.get("created_at")), CREATED_AT, at("created_at"),
                  f"expected an integer, got {describe(body.get('created_at'))}")
    status = body.get("status")
    found.require(status is None or status in STATUSES, STATUS, at("status"),
                  f"expected one of {sorted(STATUSES)}, got {describe(status)}")
    found.require(isinstance(body.get("model"), str) and body["model"], MODEL, at("model"),
                  f"expected a non-empty string, got {describe(body.get('model'))}")
    _check_error(found, body, status, at)
    output = body.get("output")
    if found.require(isinstance(output, list), OUTPUT, at("output"),
                     f"expected an array, got {describe(output)}"):
        for n, item in enumerate(output):
            check_item(found, item, at(f"output[{n}]"))
    if body.get("usage") is not None:
        check_usage(found, body["usage"], at("usage"))
    if body.get("content_filters") is not None:
        check_content_filters(found, body["content_filters"], at("content_filters"))


def _check_error(
    found: Findings, body: Mapping[str, Any], status: Any, at: Callable[[str], str]
) -> None:
    error = body.get("error")
    found.require(
        error is None or (is_object(error) and isinstance(error.get("code"), str)
                          and isinstance(error.get("message"), str)),
        ERROR, at("error"), f"expected null or {{code: string, message: string}}, got "
        f"{describe(error)}",
    )
    if status == "failed":
        found.require(error is not None, ERROR, at("error"),
                      "a failed response carries no error")
    details = body.get("incomplete_details")
    found.require(
        details is None or (is_object(details) and details.get("reason") in INCOMPLETE_REASONS),
        INCOMPLETE, at("incomplete_details"),
        f"expected null or {{reason: {'|'.join(sorted(INCOMPLETE_REASONS))}}}, got "
        f"{describe(details)}",
    )
    if status == "incomplete":
        found.require(details is not None, INCOMPLETE, at("incomplete_details"),
                      "an incomplete response says nothing about why")


def check_item(found: Findings, item: Any, path: str) -> None:
    """One output item: the common fields, then the rules of its type (unknown types pass)."""
    if not found.require(
        is_object(item) and isinstance(item.get("type"), str)
        and isinstance(item.get("id"), str) and item["id"],
        OUTPUT, path, f"expected {{type: string, id: string, ...}}, got {describe(item)}",
    ):
        return
    checker = _ITEMS.get(item["type"])
    if checker is not None:
        checker(found, item, path)


def _check_message(found: Findings, item: Mapping[str, Any], path: str) -> None:
    content: Any = item.get("content")
    if not found.require(
        item.get("role") == "assistant"
        and item.get("status") in MESSAGE_STATUSES
        and isinstance(content, list)
        and all(is_object(p) and isinstance(p.get("type"), str) for p in content),
        MESSAGE, path, "expected {role: 'assistant', status, content: [{type, ...}]}, got "
        f"{describe(item)}",
    ):
        return
    for n, part in enumerate(content):
        where = f"{path}.content[{n}]"
        if part["type"] == "output_text":
            found.require(isinstance(part.get("text"), str)
                          and isinstance(part.get("annotations"), list),
                          CONTENT_PART, where,
                          f"expected {{text: string, annotations: array}}, got {describe(part)}")
        elif part["type"] == "refusal":
            found.require(isinstance(part.get("refusal"), str), CONTENT_PART, where,
                          f"expected {{refusal: string}}, got {describe(part)}")


def _check_reasoning(found: Findings, item: Mapping[str, Any], path: str) -> None:
    summary = item.get("summary")
    found.require(
        isinstance(summary, list)
        and all(is_object(s) and s.get("type") == "summary_text"
                and isinstance(s.get("text"), str) for s in summary)
        and isinstance(item.get("encrypted_content"), (str, type(None))),
        REASONING, path,
        "expected {summary: [{type: 'summary_text', text}], encrypted_content?: string|null}, "
        f"got {describe(item)}",
    )


def _check_function_call(found: Findings, item: Mapping[str, Any], path: str) -> None:
    arguments: Any = item.get("arguments")
    ok = (isinstance(item.get("call_id"), str) and isinstance(item.get("name"), str)
          and isinstance(arguments, str))
    if ok:
        try:
            json.loads(arguments)
        except ValueError:
            ok = False
    found.require(ok, FUNCTION_CALL, path,
                  f"expected {{call_id, name, arguments: JSON string}}, got {describe(item)}")


_ITEMS: dict[str, Callable[[Findings, Mapping[str, Any], str], None]] = {
    "message": _check_message,
    "reasoning": _check_reasoning,
    "function_call": _check_function_call,
    "mcp_list_tools": mcp.check_list_tools,
    "mcp_call": mcp.check_call,
    "mcp_approval_request": mcp.check_approval_request,
}


RESPONSES_USAGE = Vocabulary("input_tokens", "output_tokens", USAGE, USAGE_TOTAL,
                             USAGE_DETAILS)


def check_usage(found: Findings, usage: Any, path: str) -> None:
    """Responses usage (wire §11.3): counts, their sum, and the detail objects."""
    usage_module.check_usage(found, usage, path, RESPONSES_USAGE)


def check_content_filters(found: Findings, filters: Any, path: str) -> None:
    if not found.require(isinstance(filters, list), CONTENT_FILTERS, path,
                         f"expected an array, got {describe(filters)}"):
        return
    for n, entry in enumerate(filters):
        where = f"{path}[{n}]"
        offsets: Any = entry.get("content_filter_offsets") if is_object(entry) else None
        if not found.require(
            is_object(entry)
            and isinstance(entry.get("blocked"), bool)
            and isinstance(entry.get("source_type"), str)
            and "content_filter_results" in entry
            and is_object(offsets)
            and all(is_int(offsets.get(k)) for k in OFFSETS)
            and isinstance(entry.get("content_filter_raw", []), list),
            CONTENT_FILTERS, where,
            "expected {blocked: bool, source_type: string, content_filter_results, "
            f"content_filter_offsets: {{{', '.join(OFFSETS)}}}}}, got {describe(entry)}",
        ):
            continue
        check_results(found, entry["content_filter_results"], f"{where}.content_filter_results")
