"""Responses API event streams (wire §12): the invariants that hold whatever the model or tools.

Validators take the stream as parsed server-sent events (``(event name, data)`` pairs; the
contract does not parse SSE). Unknown event types are tolerated and the ``obfuscation``
padding is ignored; lifecycle snapshots and finished items are checked against the response
contract (:mod:`conformance.contract.responses`), MCP events against :mod:`.mcp`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import (
    Findings,
    SseEvent,
    Violation,
    describe,
    describe_difference,
    is_int,
    is_object,
    mcp,
    responses,
    rule,
)

EVENT = rule(
    "responses-stream.event",
    "each event's data is a JSON object with a string type (a final [DONE] is tolerated)",
    "wire §12.1",
)
EVENT_NAME = rule(
    "responses-stream.event-name",
    "an event: name, when present, equals the type in the event's data",
    "wire §12.1",
)
EVENT_FIELDS = rule(
    "responses-stream.event-fields",
    "each event type wire §12.2 lists carries the fields it lists: item_id string; "
    "output_index, content_index, summary_index, annotation_index int; item, part, annotation "
    "object; delta, text, refusal, arguments, code string",
    "wire §12.2",
)
SEQUENCE = rule(
    "responses-stream.sequence",
    "where events carry sequence_number, every event does, as an integer one more than the "
    "previous event's",
    "wire §12.1, §12.3 #1",
    evidence=("openai/pydantic-ai/responses-stream-mcp.yaml",
              "azure/pydantic-ai/responses-encrypted-reasoning.yaml"),
)
SEQUENCE_START = rule(
    "responses-stream.sequence-start",
    "the first event carries sequence_number 0 (INFERRED in the reference: a resumed stream "
    "starts after its cursor, and streams recorded before the field existed carry none)",
    "wire §12.1 [INFERRED]",
    severity="warning",
    evidence=("openai/pydantic-ai/responses-stream-resumed.yaml",
              "openai/pydantic-ai/responses-stream-function-call.yaml"),
)
FIRST = rule(
    "responses-stream.first",
    "the first event is response.created, or response.queued for a background response",
    "wire §12.2, §12.3 #2",
    evidence=("openai/pydantic-ai/responses-stream-resumed.yaml",),
)
TERMINAL = rule(
    "responses-stream.terminal",
    "exactly one terminal event (response.completed, response.failed, response.incomplete or "
    "error), and it is the last",
    "wire §12.1, §12.3 #2",
)
LIFECYCLE = rule(
    "responses-stream.lifecycle",
    "response.* lifecycle events carry a response object whose status matches the event",
    "wire §12.2",
)
ERROR_EVENT = rule(
    "responses-stream.error-event",
    "an error event has message: string and code, param: string|null at the top level, and no "
    "response or nested error member",
    "wire §12.2, sdk-behavior §2.8",
)
ITEM_ORDER = rule(
    "responses-stream.item-order",
    "output_item.added precedes every event of its output_index and output_item.done follows "
    "them; items are added once, in increasing output_index",
    "wire §12.3 #3",
)
PART_ORDER = rule(
    "responses-stream.part-order",
    "text, refusal and reasoning-summary deltas come between their part's .added and .done",
    "wire §12.3 #4",
)
DELTA_TEXT = rule(
    "responses-stream.delta-text",
    "deltas are strings and a .done event's text equals the concatenation of its deltas",
    "wire §12.3 #4",
)
DONE_ALONE = rule(
    "responses-stream.done-without-deltas",
    "a .done event with no deltas before it has empty text (INFERRED in the reference; no "
    "real stream shows either way)",
    "wire §12.3 #4 [INFERRED]",
    severity="warning",
)
COMPLETED_OUTPUT = rule(
    "responses-stream.completed-output",
    "each output_item.done item equals the item at its output_index in response.completed's "
    "response.output, except encrypted_content (opaque, encrypted anew for each event)",
    "wire §12.3 #5",
    evidence=("openai/pydantic-ai/responses-stream-mcp.yaml",
              "openai/pydantic-ai/responses-stream-reasoning-summary.yaml"),
)
ITEM_DONE = rule(
    "responses-stream.item-done",
    "every added output item gets an output_item.done before response.completed (a real "
    "stream skipped it for mcp_list_tools items that response.completed still lists)",
    "wire §12.3 #3, #5",
    severity="warning",
    evidence=("openai/pydantic-ai/responses-stream-mcp-list-tools.yaml",),
)
USAGE = rule(
    "responses-stream.usage",
    "usage is null in every response snapshot before the terminal event",
    "wire §12.3 #5",
)

TERMINALS = frozenset({"response.completed", "response.failed", "response.incomplete", "error"})
# Lifecycle event -> the statuses its response snapshot may have.
LIFECYCLE_STATUS: dict[str, frozenset[str]] = {
    "response.created": frozenset({"in_progress", "queued"}),
    "response.queued": frozenset({"queued"}),
    "response.in_progress": frozenset({"in_progress"}),
    "response.completed": frozenset({"completed"}),
    "response.failed": frozenset({"failed"}),
    "response.incomplete": frozenset({"incomplete"}),
}
_ITEM = {"output_index": int, "item": dict}
_IN_ITEM = {"item_id": str, "output_index": int}
_IN_CONTENT = {**_IN_ITEM, "content_index": int}
_IN_SUMMARY = {**_IN_ITEM, "summary_index": int}
# The payload of each event type wire §12.2 lists (lifecycle, error and MCP argument events
# have rules of their own). Fields beyond these are tolerated.
FIELDS: dict[str, dict[str, type]] = {
    "response.output_item.added": _ITEM,
    "response.output_item.done": _ITEM,
    "response.content_part.added": {**_IN_CONTENT, "part": dict},
    "response.content_part.done": {**_IN_CONTENT, "part": dict},
    "response.output_text.delta": {**_IN_CONTENT, "delta": str},
    "response.output_text.done": {**_IN_CONTENT, "text": str},
    "response.output_text.annotation.added": {**_IN_CONTENT, "annotation_index": int,
                                              "annotation": dict},
    "response.refusal.delta": {**_IN_CONTENT, "delta": str},
    "response.refusal.done": {**_IN_CONTENT, "refusal": str},
    "response.function_call_arguments.delta": {**_IN_ITEM, "delta": str},
    "response.function_call_arguments.done": {**_IN_ITEM, "arguments": str},
    "response.reasoning_summary_part.added": {**_IN_SUMMARY, "part": dict},
    "response.reasoning_summary_part.done": {**_IN_SUMMARY, "part": dict},
    "response.reasoning_summary_text.delta": {**_IN_SUMMARY, "delta": str},
    "response.reasoning_summary_text.done": {**_IN_SUMMARY, "text": str},
    "response.code_interpreter_call_code.delta": {**_IN_ITEM, "delta": str},
    "response.code_interpreter_call_code.done": {**_IN_ITEM, "code": str},
    "response.image_generation_call.partial_image": {**_IN_ITEM, "partial_image_index": int,
                                                     "partial_image_b64": str},
    "response.mcp_call.in_progress": _IN_ITEM,
    **{f"response.{tool}.{state}": _IN_ITEM
       for tool, states in (("file_search_call", ("in_progress", "searching", "completed")),
                            ("code_interpreter_call", ("in_progress", "interpreting",
                                                       "completed")),
                            ("image_generation_call", ("in_progress", "generating",
                                                       "completed")))
       for state in states},
}
CONTENT_PART = ("response.content_part.added", "response.content_part.done")
SUMMARY_PART = ("response.reasoning_summary_part.added", "response.reasoning_summary_part.done")


@dataclass(frozen=True)
class TextEvents:
    """A delta/done pair: the deltas of one text concatenate to the done event's ``field``."""

    delta: str
    done: str
    field: str
    index: str | None = None  # the part index naming the text within its item
    part: tuple[str, str] | None = None  # the part events that bracket the deltas


TEXTS = (
    TextEvents("response.output_text.delta", "response.output_text.done", "text",
               "content_index", CONTENT_PART),
    TextEvents("response.refusal.delta", "response.refusal.done", "refusal",
               "content_index", CONTENT_PART),
    TextEvents("response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
               "text", "summary_index", SUMMARY_PART),
    TextEvents("response.reasoning_text.delta", "response.reasoning_text.done", "text",
               "content_index"),
    TextEvents("response.function_call_arguments.delta",
               "response.function_call_arguments.done", "arguments"),
    TextEvents("response.custom_tool_call_input.delta", "response.custom_tool_call_input.done",
               "input"),
    TextEvents("response.code_interpreter_call_code.delta",
               "response.code_interpreter_call_code.done", "code"),
    *(TextEvents(delta, done, "arguments") for delta, done in mcp.ARGUMENT_EVENTS),
)
_BY_DELTA = {t.delta: t for t in TEXTS}
_BY_DONE = {t.done: t for t in TEXTS}


def payloads(events: Sequence[SseEvent]) -> list[Mapping[str, Any]]:
    """The JSON objects of a stream, in order; unparsable events and ``[DONE]`` left out."""
    found: list[Mapping[str, Any]] = []
    for _, data in events:
        try:
            value = json.loads(data)
        except ValueError:
            continue
        if is_object(value):
            found.append(value)
    return found


def validate_responses_stream(events: Sequence[SseEvent]) -> list[Violation]:
    """Validate one Responses event stream, given as ``(event name, data)`` pairs."""
    found = Findings()
    parsed = _parse(found, events)
    if not parsed:
        found.add(FIRST, "", "the stream has no events")
        return found.violations
    _check_sequence(found, parsed)
    _check_fields(found, parsed)
    _check_lifecycle(found, parsed)
    _check_items(found, parsed)
    _check_texts(found, parsed)
    mcp.check_stream(found, parsed)
    return found.violations


def _parse(found: Findings, events: Sequence[SseEvent]) -> list[tuple[int, Mapping[str, Any]]]:
    parsed: list[tuple[int, Mapping[str, Any]]] = []
    last = len(events) - 1
    for position, (name, data) in enumerate(events):
        where = f"[{position}]"
        if data.strip() == "[DONE]" and position == last:
            continue
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        if not found.require(is_object(payload) and isinstance(payload.get("type"), str),
                             EVENT, where, f"expected a JSON object with a type, got "
                             f"{describe(data)}"):
            continue
        found.require(name is None or name == payload["type"], EVENT_NAME, where,
                      f"event: {name!r} but the data says type {payload['type']!r}")
        parsed.append((position, payload))
    return parsed


def _check_sequence(found: Findings, parsed: list[tuple[int, Mapping[str, Any]]]) -> None:
    if all(payload.get("sequence_number") is None for _, payload in parsed):
        found.add(SEQUENCE_START, "", "no event carries a sequence_number")
        return
    first_position, first = parsed[0]
    start = first.get("sequence_number")
    found.require(start == 0, SEQUENCE_START, f"[{first_position}]",
                  f"the first sequence_number is {describe(start)}, not 0")
    previous: Any = None
    for position, payload in parsed:
        number = payload.get("sequence_number")
        expected = previous + 1 if is_int(previous) else None
        if not found.require(is_int(number) and (expected is None or number == expected),
                             SEQUENCE, f"[{position}]",
                             f"expected sequence_number {describe(expected)}, got "
                             f"{describe(number)}" if expected is not None else
                             f"expected an integer sequence_number, got {describe(number)}"):
            return  # one gap or repeat would make every later number "wrong"
        previous = number


def _check_fields(found: Findings, parsed: list[tuple[int, Mapping[str, Any]]]) -> None:
    for position, payload in parsed:
        fields = FIELDS.get(payload["type"])
        if fields is None:
            continue
        wrong = sorted(
            name for name, kind in fields.items()
            if not (is_int(payload.get(name)) if kind is int
                    else is_object(payload.get(name)) if kind is dict
                    else isinstance(payload.get(name), kind))
        )
        found.require(not wrong, EVENT_FIELDS, f"[{position}]",
                      f"{payload['type']} lacks or mistypes {', '.join(wrong)}")


def _check_lifecycle(found: Findings, parsed: list[tuple[int, Mapping[str, Any]]]) -> None:
    first_position, first = parsed[0]
    found.require(first["type"] in ("response.created", "response.queued"), FIRST,
                  f"[{first_position}]",
                  f"the first event is {first['type']!r}")
    terminals = [(p, e) for p, e in parsed if e["type"] in TERMINALS]
    if not terminals:
        found.add(TERMINAL, "", "the stream ends without a terminal event")
    elif len(terminals) > 1:
        found.add(TERMINAL, f"[{terminals[1][0]}]",
                  f"{len(terminals)} terminal events: {[e['type'] for _, e in terminals]}")
    elif terminals[0][1] is not parsed[-1][1]:
        found.add(TERMINAL, f"[{terminals[0][0]}]",
                  f"{terminals[0][1]['type']} is followed by {parsed[-1][1]['type']!r}")
    for position, payload in parsed:
        kind = payload["type"]
        where = f"[{position}]"
        if kind == "error":
            _check_error_event(found, payload, where)
        statuses = LIFECYCLE_STATUS.get(kind)
        if statuses is None:
            continue
        snapshot: Any = payload.get("response")
        if not found.require(is_object(snapshot), LIFECYCLE, f"{where}.response",
                             f"{kind} carries no response object"):
            continue
        found.require(snapshot.get("status") in statuses, LIFECYCLE, f"{where}.response.status",
                      f"{kind} carries status {describe(snapshot.get('status'))}, expected "
                      f"{'|'.join(sorted(statuses))}")
        responses.check_response(found, snapshot, f"{where}.response")
        if kind not in TERMINALS:
            found.require(snapshot.get("usage") is None, USAGE, f"{where}.response.usage",
                          f"{kind} already carries usage {describe(snapshot.get('usage'))}")


def _check_error_event(found: Findings, payload: Mapping[str, Any], where: str) -> None:
    found.require(
        isinstance(payload.get("message"), str)
        and isinstance(payload.get("code"), (str, type(None)))
        and isinstance(payload.get("param"), (str, type(None)))
        and "response" not in payload
        and not payload.get("error"),
        ERROR_EVENT,
        where,
        f"expected {{type: 'error', code, message, param}}, got {describe(payload)}",
    )


def _check_items(found: Findings, parsed: list[tuple[int, Mapping[str, Any]]]) -> None:
    added: set[int] = set()
    done: dict[int, Any] = {}
    reported: set[int] = set()

    def wrong(index: int, where: str, message: str) -> None:
        if index not in reported:  # one finding per item is enough to locate the fault
            reported.add(index)
            found.add(ITEM_ORDER, where, message)

    for position, payload in parsed:
        index: Any = payload.get("output_index")
        if not is_int(index):
            continue
        kind = payload["type"]
        where = f"[{position}]"
        if kind == "response.output_item.added":
            if index in added:
                wrong(index, where, f"output item {index} is added twice")
            elif added and index < max(added):
                wrong(index, where, f"output item {index} is added after item {max(added)}")
            added.add(index)
        elif index not in added:
            wrong(index, where, f"{kind} for output item {index} before its output_item.added")
        elif index in done:
            wrong(index, where, f"{kind} for output item {index} after its output_item.done")
        elif kind == "response.output_item.done":
            done[index] = payload.get("item")
            responses.check_item(found, payload.get("item"), f"{where}.item")
    terminal = parsed[-1][1]
    if terminal["type"] != "response.completed" or not is_object(terminal.get("response")):
        return
    output = terminal["response"].get("output")
    if not isinstance(output, list):
        return  # responses.output reports it
    where = f"[{parsed[-1][0]}].response.output"
    for index in sorted(added - set(done)):
        found.add(ITEM_DONE, f"{where}[{index}]",
                  f"output item {index} was added but never got an output_item.done")
    for index, streamed in sorted(done.items()):
        if index >= len(output):
            found.add(COMPLETED_OUTPUT, where, f"{len(output)} items, but output_item.done "
                      f"finished item {index}")
            continue
        final = _comparable(output[index])
        if final != _comparable(streamed):
            found.add(COMPLETED_OUTPUT, f"{where}[{index}]",
                      "differs from the output_item.done item "
                      + describe_difference(final, _comparable(streamed), ("completed", "done")))


def _comparable(item: Any) -> Any:
    """An output item without its ``encrypted_content``, which the service encrypts anew for
    each event that carries it (real streams: see COMPLETED_OUTPUT's evidence)."""
    if is_object(item) and "encrypted_content" in item:
        return {k: v for k, v in item.items() if k != "encrypted_content"}
    return item


def _check_texts(found: Findings, parsed: list[tuple[int, Mapping[str, Any]]]) -> None:
    open_parts: set[tuple[str, Any, Any]] = set()
    texts: dict[tuple[str, Any, Any], list[str]] = {}
    for position, payload in parsed:
        kind = payload["type"]
        where = f"[{position}]"
        item = payload.get("output_index")
        for events in (CONTENT_PART, SUMMARY_PART):
            index = payload.get("content_index" if events is CONTENT_PART else "summary_index")
            if kind == events[0]:
                open_parts.add((events[0], item, index))
            elif kind == events[1]:
                open_parts.discard((events[0], item, index))
        text = _BY_DELTA.get(kind) or _BY_DONE.get(kind)
        if text is None:
            continue
        index = payload.get(text.index) if text.index else None
        key = (text.delta, item, index)
        if text.part is not None and (text.part[0], item, index) not in open_parts:
            found.add(PART_ORDER, where, f"{kind} outside its part ({text.part[0]} .. "
                      f"{text.part[1]}) for output item {item}, index {index}")
        if kind == text.delta:
            delta: Any = payload.get("delta")
            if found.require(isinstance(delta, str), DELTA_TEXT, f"{where}.delta",
                             f"expected a string, got {describe(delta)}"):
                texts.setdefault(key, []).append(delta)
            continue
        final = payload.get(text.field)
        deltas = texts.pop(key, None)
        if deltas is None:
            found.require(final == "", DONE_ALONE, f"{where}.{text.field}",
                          f"{describe(final)} with no deltas before it")
            continue
        joined = "".join(deltas)
        found.require(final == joined, DELTA_TEXT, f"{where}.{text.field}",
                      "differs from the concatenated deltas "
                      + describe_difference(final, joined, ("done", "deltas")))
