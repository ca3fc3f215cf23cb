"""Chat completion streams (wire §8): SSE framing, chunk shapes, Azure's filter chunks, usage.

A validator here sees a stream as its events (:data:`SseEvent`), not as bytes: the caller
parses SSE. Three kinds of JSON event appear in an Azure chat stream:

- *completion chunks* (``object: "chat.completion.chunk"``), including the usage chunk;
- Azure's *prompt-annotation chunk* (``id: ""``, ``object: ""``, ``choices: []``,
  ``prompt_filter_results``), first in every stream of a filtered deployment (wire §8.2);
- Azure's *annotation-only chunks* in asynchronous filter mode (``id: ""``, ``object: ""``,
  choices with ``content_filter_results`` and ``content_filter_offsets`` but no ``delta``)
  (wire §8.3).

A chunk is Azure's when its ``object`` is ``""``: that is the marker the SDK's own stream helper
keys on (sdk-behavior §2.8), and the one the Learn samples show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import Findings, SseEvent, Violation, describe, is_count, is_int, is_object, rule
from .chat import FINISH_REASONS, check_usage
from .content_filter import check_prompt_results, check_results

DONE = "[DONE]"
CHUNK_OBJECT = "chat.completion.chunk"

# -- framing ---------------------------------------------------------------------------------
DATA_ONLY = rule("chat-stream.data-only", "chat stream events are data-only (no event: field)",
                 "wire §8.1")
SINGLE_LINE = rule("chat-stream.single-line", "each event's data is a single line", "wire §8.1")
JSON_EVENT = rule("chat-stream.json", "every event before [DONE] is one JSON object",
                  "wire §8.1, §8.4 #1")
END = rule("chat-stream.done", "the stream ends with data: [DONE]", "wire §8.1")
AFTER_DONE = rule("chat-stream.after-done", "no event follows data: [DONE]", "wire §8.4 #1")

# -- completion chunks -----------------------------------------------------------------------
CHUNK = rule(
    "chat-stream.chunk",
    'a completion chunk has object "chat.completion.chunk", a non-empty string id, an integer '
    "created, a string model and a choices array",
    "wire §8.1",
)
SAME_ID = rule("chat-stream.same-id",
               "every completion chunk of one stream has the same id and created", "wire §8.1")
CHOICE = rule(
    "chat-stream.choice",
    "a chunk choice has an integer index (unique in the chunk), a delta object and a "
    "finish_reason that is null or stop|length|tool_calls|content_filter|function_call; on "
    "Azure a choice may instead carry only content_filter_results (no delta)",
    "wire §8.1, §6.2",
    evidence=("azure/dd-trace-py/chat-stream.yaml",),
)
DELTA = rule(
    "chat-stream.delta",
    'delta.role, when present, is "assistant"; delta.content and delta.refusal are strings or '
    "null",
    "wire §8.1",
)
ROLE = rule("chat-stream.role", "a choice's role appears at most once, in its first delta",
            "wire §8.2, §8.4 #2")
ROLE_FIRST = rule(
    "chat-stream.role-first",
    "a choice's first delta carries its role (OpenAI does; a real Azure stream sent none)",
    "wire §8.2, §8.4 #2",
    severity="warning",
    evidence=("azure/dd-trace-py/chat-stream.yaml",),
)
FINISH = rule(
    "chat-stream.finish-reason",
    "each choice ends exactly once: one completion chunk carries its non-null finish_reason "
    "(unless an async-filter annotation blocks it) and no completion chunk for the choice "
    "follows it",
    "wire §8.4 #3, §8.3",
)
TOOL_CALL_FIRST = rule(
    "chat-stream.tool-call-first",
    'the first fragment of a tool call (per index) has a string id, type "function" and a '
    "string function.name",
    "wire §8.1, §8.4 #5",
)
TOOL_CALL_FRAGMENT = rule(
    "chat-stream.tool-call-fragment",
    "tool-call fragments have an integer index and string function.arguments when present; "
    "id and function.name are not repeated after the first fragment",
    "wire §8.4 #5",
)

# -- Azure filter chunks ---------------------------------------------------------------------
PROMPT_ANNOTATION = rule(
    "chat-stream.prompt-annotation",
    'Azure\'s prompt-annotation chunk has id "", object "", created 0, choices [] and '
    "prompt_filter_results, and precedes every completion chunk",
    "wire §8.2 (row 1)",
)
ANNOTATION = rule(
    "chat-stream.annotation",
    'an async-filter annotation chunk has id "", created 0 and choices with an integer index, '
    "content_filter_results, content_filter_offsets {check_offset, start_offset <= end_offset: "
    "non-negative integers}, finish_reason null or content_filter, and no delta",
    "wire §8.3",
)
CHECK_OFFSET = rule(
    "chat-stream.check-offset",
    "per choice, check_offset never decreases from one annotation to the next, and a later "
    "annotation's end_offset is greater than an earlier check_offset",
    "wire §8.3",
)
BLOCKED = rule(
    "chat-stream.blocked",
    "an annotation that blocks (finish_reason content_filter) marks a category filtered: true "
    "and is the last chunk for its choice",
    "wire §8.3",
)

# -- usage -----------------------------------------------------------------------------------
USAGE_ONCE = rule(
    "chat-stream.usage-once",
    "at most one chunk has a non-null usage: exactly one with stream_options.include_usage, "
    "none without it",
    "wire §8.2, §8.4 #4",
)
USAGE_LAST = rule(
    "chat-stream.usage-last",
    "the usage chunk has choices [] and no chunk with choices follows it (chunks without "
    "choices, such as OpenAI's moderation results, may)",
    "wire §8.2, §8.4 #4",
    evidence=("openai/pydantic-ai/chat-stream-moderation.yaml",),
)

FRAMING_RULES = frozenset({DATA_ONLY, SINGLE_LINE, JSON_EVENT, END, AFTER_DONE})
USAGE_RULES = frozenset({USAGE_ONCE, USAGE_LAST, "usage.counts", "usage.total", "usage.details"})
TOOL_CALL_RULES = frozenset({TOOL_CALL_FIRST, TOOL_CALL_FRAGMENT})

# Kinds of event, as :func:`summarize` names them.
PROMPT_ANNOTATION_KIND = "prompt-annotation"
ANNOTATION_KIND = "annotation"
USAGE_KIND = "usage"


@dataclass
class ToolCall:
    """One tool call as its fragments add up on the wire."""

    id: str | None = None
    name: str | None = None
    arguments: str = ""
    fragments: int = 0


@dataclass
class ChoiceStream:
    """What the wire said about one choice, across all its chunks."""

    index: int
    contents: list[str | None] = field(default_factory=list)  # delta.content per delta
    role: str | None = None
    finish_reason: str | None = None  # from completion chunks
    blocked: bool = False  # an async annotation ended it with content_filter
    tool_calls: dict[int, ToolCall] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "".join(c for c in self.contents if c is not None)


@dataclass
class StreamSummary:
    """A stream as a reader would accumulate it; tolerant, for observations and comparisons."""

    kinds: list[str] = field(default_factory=list)  # one per event
    chunks: list[Mapping[str, Any]] = field(default_factory=list)  # JSON events, in order
    choices: dict[int, ChoiceStream] = field(default_factory=dict)
    usages: list[Any] = field(default_factory=list)
    done: bool = False

    def choice(self, index: int = 0) -> ChoiceStream:
        return self.choices.setdefault(index, ChoiceStream(index))

    @property
    def annotations(self) -> int:
        return self.kinds.count(ANNOTATION_KIND)


def is_azure(chunk: Mapping[str, Any]) -> bool:
    """Azure's filter chunks carry ``object: ""``."""
    return chunk.get("object") == ""


def kind(chunk: Mapping[str, Any]) -> str:
    """``prompt-annotation``, ``annotation``, ``usage``, or for completion chunks what they
    carry: ``finish``, ``tool-call``, ``role``, ``content`` or ``empty``."""
    choices = chunk.get("choices")
    choices = choices if isinstance(choices, list) else []
    if is_azure(chunk):
        return ANNOTATION_KIND if choices else PROMPT_ANNOTATION_KIND
    if not choices and chunk.get("usage") is not None:
        return USAGE_KIND
    deltas = [c.get("delta") for c in choices if is_object(c)]
    deltas = [d for d in deltas if is_object(d)]
    if any(is_object(c) and c.get("finish_reason") is not None for c in choices):
        return "finish"
    if any(d.get("tool_calls") for d in deltas):
        return "tool-call"
    if any(d.get("role") is not None for d in deltas):
        return "role"
    if any(d.get("content") for d in deltas):
        return "content"
    return "empty"


def summarize(events: Sequence[SseEvent]) -> StreamSummary:
    """Accumulate a stream the way a reader would: text per choice, tool calls per index,
    usage. Events that do not parse are skipped (``validate_chat_stream`` reports them)."""
    summary = StreamSummary()
    for _, data in events:
        if summary.done:
            summary.kinds.append("after-done")
            continue
        if data == DONE:
            summary.done = True
            summary.kinds.append("done")
            continue
        chunk = _parse(data)
        if chunk is None:
            summary.kinds.append("invalid")
            continue
        summary.kinds.append(kind(chunk))
        summary.chunks.append(chunk)
        if chunk.get("usage") is not None:
            summary.usages.append(chunk["usage"])
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if not (is_object(choice) and is_int(choice.get("index"))):
                continue
            state = summary.choice(choice["index"])
            if is_azure(chunk):
                if choice.get("finish_reason") == "content_filter":
                    state.blocked = True
                continue
            if choice.get("finish_reason") is not None:
                state.finish_reason = choice["finish_reason"]
            delta = choice.get("delta")
            if not is_object(delta):
                continue
            content = delta.get("content")
            state.contents.append(content if isinstance(content, str) else None)
            if state.role is None and isinstance(delta.get("role"), str):
                state.role = delta["role"]
            for fragment in delta.get("tool_calls") or []:
                if not (is_object(fragment) and is_int(fragment.get("index"))):
                    continue
                call = state.tool_calls.setdefault(fragment["index"], ToolCall())
                call.fragments += 1
                if isinstance(fragment.get("id"), str) and call.id is None:
                    call.id = fragment["id"]
                function = fragment.get("function")
                if is_object(function):
                    if isinstance(function.get("name"), str) and call.name is None:
                        call.name = function["name"]
                    if isinstance(function.get("arguments"), str):
                        call.arguments += function["arguments"]
    return summary


def validate_chat_stream(
    events: Sequence[SseEvent], *, include_usage: bool | None = None
) -> list[Violation]:
    """Validate a chat completion stream, given as its SSE events in order.

    ``include_usage`` is what the request said in ``stream_options`` (``None``: unknown, so a
    usage chunk is neither required nor forbidden).
    """
    found = Findings()
    chunks: list[tuple[int, Mapping[str, Any]]] = []
    done_at: int | None = None
    for n, (name, data) in enumerate(events):
        where = f"event[{n}]"
        found.require(name is None, DATA_ONLY, where, f"unexpected event: {describe(name)}")
        found.require("\n" not in data, SINGLE_LINE, where,
                      f"data spans {data.count(chr(10)) + 1} lines")
        if done_at is not None:
            found.add(AFTER_DONE, where, f"{describe(data)} after data: [DONE] at "
                      f"event[{done_at}]")
            continue
        if data == DONE:
            done_at = n
            continue
        chunk = _parse(data)
        if found.require(chunk is not None, JSON_EVENT, where,
                         f"expected a JSON object, got {describe(data)}"):
            assert chunk is not None  # narrowed by the requirement above
            chunks.append((n, chunk))
    found.require(done_at is not None, END, "", "the stream does not end with data: [DONE]")
    _check_chunks(found, chunks)
    _check_usage(found, chunks, include_usage)
    return found.violations


def _parse(data: str) -> Mapping[str, Any] | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if is_object(value) else None


@dataclass
class _ChoiceState:
    deltas: int = 0
    finished_at: int | None = None  # event index of the finish_reason chunk
    finishes: int = 0
    blocked_at: int | None = None
    check_offset: int | None = None
    tool_calls: set[int] = field(default_factory=set)


def _check_chunks(found: Findings, chunks: list[tuple[int, Mapping[str, Any]]]) -> None:
    states: dict[int, _ChoiceState] = {}
    identity: tuple[Any, Any] | None = None
    seen_completion = False
    for n, chunk in chunks:
        where = f"event[{n}]"
        if is_azure(chunk):
            choices = chunk.get("choices")
            if isinstance(choices, list) and choices:
                _check_annotation(found, chunk, n, states)
            else:
                _check_prompt_annotation(found, chunk, where, seen_completion)
            continue
        seen_completion = True
        if not _check_chunk_shape(found, chunk, where):
            continue
        if identity is None:
            identity = (chunk["id"], chunk["created"])
        else:
            found.require((chunk["id"], chunk["created"]) == identity, SAME_ID, where,
                          f"id/created {(chunk['id'], chunk['created'])!r} differ from the "
                          f"first chunk's {identity!r}")
        indexes: set[int] = set()
        for m, choice in enumerate(chunk["choices"]):
            _check_choice(found, choice, f"{where}.choices[{m}]", n, indexes, states)
    for index, state in sorted(states.items()):
        if state.finishes == 0 and state.blocked_at is None and state.deltas:
            found.add(FINISH, f"choices[{index}]",
                      "the choice never got a finish_reason (nor a blocking annotation)")


def _check_chunk_shape(found: Findings, chunk: Mapping[str, Any], where: str) -> bool:
    ok = (
        chunk.get("object") == CHUNK_OBJECT
        and isinstance(chunk.get("id"), str) and bool(chunk["id"])
        and is_count(chunk.get("created"))
        and isinstance(chunk.get("model"), str)
        and isinstance(chunk.get("choices"), list)
    )
    missing = {k: chunk.get(k) for k in ("object", "id", "created", "model")}
    return found.require(ok, CHUNK, where,
                         f"expected a chat.completion.chunk with id, created, model and choices, "
                         f"got {describe(missing)}")


def _check_choice(
    found: Findings,
    choice: Any,
    where: str,
    event: int,
    indexes: set[int],
    states: dict[int, _ChoiceState],
) -> None:
    index = choice.get("index") if is_object(choice) else None
    delta = choice.get("delta") if is_object(choice) else None
    finish = choice.get("finish_reason") if is_object(choice) else None
    if (is_object(choice) and "delta" not in choice and "content_filter_results" in choice
            and is_int(index) and finish is None):
        # Azure: a completion chunk whose choice carries only its filter results.
        check_results(found, choice["content_filter_results"], f"{where}.content_filter_results")
        return
    if not (
        isinstance(index, int) and is_int(index) and index not in indexes
        and isinstance(delta, Mapping) and (finish is None or finish in FINISH_REASONS)
    ):
        found.add(CHOICE, where,
                  f"expected {{index, delta, finish_reason}}, got index {describe(index)}, "
                  f"delta {describe(delta)}, finish_reason {describe(finish)}")
        return
    indexes.add(index)
    state = states.setdefault(index, _ChoiceState())
    if "content_filter_results" in choice:
        check_results(found, choice["content_filter_results"], f"{where}.content_filter_results")
    if state.blocked_at is not None:
        found.add(BLOCKED, where, f"a completion chunk for choice {index} follows the annotation "
                  f"that blocked it at event[{state.blocked_at}]")
    elif state.finished_at is not None:
        found.add(FINISH, where, f"a completion chunk for choice {index} follows its "
                  f"finish_reason at event[{state.finished_at}]")
    role = delta.get("role")
    found.require(
        role in (None, "assistant")
        and isinstance(delta.get("content"), (str, type(None)))
        and isinstance(delta.get("refusal"), (str, type(None))),
        DELTA, f"{where}.delta",
        f"expected role 'assistant' and string|null content/refusal, got {describe(delta)}",
    )
    if state.deltas == 0:
        found.require(role is not None, ROLE_FIRST, f"{where}.delta",
                      f"the first delta of choice {index} has no role")
    else:
        found.require(role is None, ROLE, f"{where}.delta.role",
                      f"role repeated in a later delta of choice {index}")
    state.deltas += 1
    _check_tool_calls(found, delta.get("tool_calls"), f"{where}.delta.tool_calls", state)
    if finish is not None:
        state.finishes += 1
        if state.finishes > 1:
            found.add(FINISH, f"{where}.finish_reason",
                      f"a second finish_reason {finish!r} for choice {index}")
        state.finished_at = event


def _check_tool_calls(found: Findings, calls: Any, where: str, state: _ChoiceState) -> None:
    if calls is None:
        return
    if not found.require(isinstance(calls, list), TOOL_CALL_FRAGMENT, where,
                         f"expected an array, got {describe(calls)}"):
        return
    for m, fragment in enumerate(calls):
        item = f"{where}[{m}]"
        index = fragment.get("index") if is_object(fragment) else None
        function = fragment.get("function") if is_object(fragment) else None
        arguments = function.get("arguments") if isinstance(function, Mapping) else None
        if not (
            isinstance(index, int) and is_int(index)
            and (function is None or isinstance(function, Mapping))
            and isinstance(arguments, (str, type(None)))
        ):
            found.add(TOOL_CALL_FRAGMENT, item,
                      f"expected {{index: int, function?: {{arguments?: string}}}}, got "
                      f"{describe(fragment)}")
            continue
        name = function.get("name") if function is not None else None
        if index not in state.tool_calls:
            state.tool_calls.add(index)
            found.require(
                isinstance(fragment.get("id"), str) and fragment.get("type") == "function"
                and isinstance(name, str),
                TOOL_CALL_FIRST, item,
                f"the first fragment of tool call {index} needs id, type 'function' and "
                f"function.name, got {describe(fragment)}",
            )
        else:
            found.require(
                fragment.get("id") is None and name is None, TOOL_CALL_FRAGMENT, item,
                f"tool call {index} repeats id/name after its first fragment: "
                f"{describe(fragment)}",
            )


def _check_prompt_annotation(
    found: Findings, chunk: Mapping[str, Any], where: str, seen_completion: bool
) -> None:
    has_results = "prompt_filter_results" in chunk or "prompt_annotations" in chunk
    found.require(
        chunk.get("id") == "" and chunk.get("created") == 0 and chunk.get("choices") == []
        and has_results and not seen_completion,
        PROMPT_ANNOTATION, where,
        "expected id '', created 0, choices [] and prompt_filter_results before any completion "
        f"chunk, got id {describe(chunk.get('id'))}, created {describe(chunk.get('created'))}, "
        f"prompt_filter_results {'present' if has_results else 'missing'}"
        + (", after a completion chunk" if seen_completion else ""),
    )
    check_prompt_results(found, chunk, f"{where}.")


def _check_annotation(
    found: Findings, chunk: Mapping[str, Any], event: int, states: dict[int, _ChoiceState]
) -> None:
    where = f"event[{event}]"
    found.require(chunk.get("id") == "" and chunk.get("created") == 0, ANNOTATION, where,
                  f"expected id '' and created 0, got {describe(chunk.get('id'))}, "
                  f"{describe(chunk.get('created'))}")
    for m, choice in enumerate(chunk["choices"]):
        item = f"{where}.choices[{m}]"
        index = choice.get("index") if is_object(choice) else None
        offsets = choice.get("content_filter_offsets") if is_object(choice) else None
        finish = choice.get("finish_reason") if is_object(choice) else None
        names = ("check_offset", "start_offset", "end_offset")
        if not (
            isinstance(index, int) and is_int(index)
            and "delta" not in choice
            and "content_filter_results" in choice
            and finish in (None, "content_filter")
            and isinstance(offsets, Mapping)
            and all(is_count(offsets.get(k)) for k in names)
            and offsets["start_offset"] <= offsets["end_offset"]
        ):
            found.add(ANNOTATION, item,
                      "expected {index, content_filter_results, content_filter_offsets, "
                      f"finish_reason: null|content_filter}} without delta, got "
                      f"{describe(choice)}")
            continue
        check_results(found, choice["content_filter_results"], f"{item}.content_filter_results")
        state = states.setdefault(index, _ChoiceState())
        if state.blocked_at is not None:
            found.add(BLOCKED, item, f"an annotation for choice {index} follows the one that "
                      f"blocked it at event[{state.blocked_at}]")
        previous = state.check_offset
        if previous is not None:
            found.require(offsets["check_offset"] >= previous, CHECK_OFFSET,
                          f"{item}.content_filter_offsets.check_offset",
                          f"check_offset went back from {previous} to {offsets['check_offset']}")
            found.require(offsets["end_offset"] > previous, CHECK_OFFSET,
                          f"{item}.content_filter_offsets.end_offset",
                          f"end_offset {offsets['end_offset']} is not past the earlier "
                          f"check_offset {previous}")
        state.check_offset = max(offsets["check_offset"], previous or 0)
        if finish == "content_filter":
            results = choice["content_filter_results"]
            found.require(
                is_object(results) and any(is_object(v) and v.get("filtered") is True
                                           for v in results.values()),
                BLOCKED, f"{item}.content_filter_results",
                "a blocking annotation marks no category filtered: true",
            )
            state.blocked_at = event


def _check_usage(
    found: Findings, chunks: list[tuple[int, Mapping[str, Any]]], include_usage: bool | None
) -> None:
    with_usage = [(n, c) for n, c in chunks if c.get("usage") is not None]
    if include_usage is True:
        found.require(len(with_usage) == 1, USAGE_ONCE, "",
                      f"expected exactly one chunk with usage, found {len(with_usage)}")
    elif include_usage is False:
        found.require(not with_usage, USAGE_ONCE, "",
                      f"usage was not requested, yet {len(with_usage)} chunk(s) carry it")
    else:
        found.require(len(with_usage) <= 1, USAGE_ONCE, "",
                      f"expected at most one chunk with usage, found {len(with_usage)}")
    for n, chunk in with_usage:
        where = f"event[{n}]"
        later = next((m for m, c in chunks if m > n and c.get("choices") != []), None)
        found.require(chunk.get("choices") == [] and later is None, USAGE_LAST, where,
                      "the usage chunk must have choices [] and no chunk with choices may "
                      f"follow it (choices {describe(chunk.get('choices'))}"
                      + (f", event[{later}] has choices)" if later is not None else ")"))
        check_usage(found, chunk["usage"], f"{where}.usage")
