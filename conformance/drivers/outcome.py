"""What a driver answers for one scenario: one typed outcome for every SDK.

A protocol-v2 outcome (docs/driver-protocol.md, "The outcome") is parsed once, by
:func:`parse_outcome`, into a :class:`DriverOutcome`: its ``error`` an :class:`ErrorView` (the
one exception view of every check), its ``read`` a :class:`Read` (the values the doc's samples
read through the SDK's typed accessors). openai-python's in-process driver builds the same
types directly. A driver answer that does not fit is an :class:`OutcomeMalformed`, which the
process driver turns into a ``DriverError``: a harness ``error``, never a ``fail`` of the SDK.

Fields only some drivers send are ``None`` when absent; where absence itself is judged (an
optional error field such as ``cause``, a read such as ``response_request_id``), ``has(name)``
says whether the driver sent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

ErrorKind = Literal["status", "connection", "timeout", "stream", "other"]
CodeType = Literal["string", "number", "null"]
ERROR_KINDS: tuple[ErrorKind, ...] = ("status", "connection", "timeout", "stream", "other")
CODE_TYPES: tuple[CodeType, ...] = ("string", "number", "null")
OUTCOME_KEYS = ("result", "read", "events", "error", "request_id", "token_calls",
                "sdk_retry_count", "elapsed_ms")
# What ``read`` may hold (docs/driver-protocol.md, "read"). A string field is a string or null.
READ_STRINGS = ("content", "output_text", "text", "request_id", "response_request_id",
                "finish_reason", "helper", "sdk_created_at_type")
READ_STRING_LISTS = ("deltas", "dropped_params", "done")
READ_OBJECT_LISTS = ("tool_calls_done", "output_items")
READ_LISTS = ("embeddings", "indices")
READ_OBJECTS = ("response", "usage")
# Values a driver reads through accessors that may throw (openai-java's
# ``{"accessor_error": ...}`` in place of the value) or whose shape is the wire's: any JSON.
READ_ANY = ("embedding", "id", "total_tokens", "status", "content_filters",
            "printed_content_filters")
# The error's optional fields, in the order openai-python's view writes them.
ERROR_OPTIONAL = ("module", "str", "cause", "body", "response_status", "accessor_errors")


class OutcomeMalformed(ValueError):
    """A driver's outcome that is not a protocol-v2 outcome; ``problems`` says why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class ErrorView:
    """What the SDK raised, as user code sees it (docs/driver-protocol.md, "error")."""

    kind: ErrorKind
    class_name: str  # the protocol's "class"
    message: str
    bases: list[str] = field(default_factory=list)
    status: int | None = None
    code: str | int | float | None = None
    code_type: CodeType = "null"
    param: str | None = None
    type: str | None = None
    request_id: str | None = None
    # Optional: only some SDKs expose these (``has`` says which were sent).
    accessor_errors: Mapping[str, str] | None = None
    module: str | None = None
    str_form: str | None = None  # the protocol's "str": openai-python's str(err)
    cause: str | None = None
    body: Any = None
    response_status: int | None = None
    present: frozenset[str] = frozenset()
    # The protocol JSON the driver sent (unknown fields and all), which reports record as is.
    sent: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def has(self, name: str) -> bool:
        """Whether the driver sent the optional field ``name`` (its protocol name)."""
        return name in self.present

    @property
    def classes(self) -> tuple[str, ...]:
        """The class the caller catches, then its bases, nearest first."""
        return (self.class_name, *self.bases)

    def to_json(self) -> dict[str, Any]:
        """The protocol's error object (what a report row records): as the driver sent it,
        or as openai-python's view builds it."""
        if self.sent is not None:
            return dict(self.sent)
        data: dict[str, Any] = {
            "kind": self.kind, "class": self.class_name, "bases": list(self.bases),
            "status": self.status, "code": self.code, "code_type": self.code_type,
            "message": self.message, "request_id": self.request_id, "param": self.param,
            "type": self.type,
        }
        optional = {"module": self.module, "str": self.str_form, "cause": self.cause,
                    "body": self.body, "response_status": self.response_status,
                    "accessor_errors": (None if self.accessor_errors is None
                                        else dict(self.accessor_errors))}
        data.update({name: optional[name] for name in ERROR_OPTIONAL if name in self.present})
        return data


@dataclass(frozen=True)
class Read:
    """The values the doc's samples read, through the SDK's typed accessors
    (docs/driver-protocol.md, "read"); ``None`` where the operation reads no such value."""

    content: str | None = None
    output_text: str | None = None
    text: str | None = None
    deltas: list[str] | None = None
    helper: str | None = None
    finish_reason: str | None = None
    done: list[str] | None = None
    tool_calls_done: list[Mapping[str, Any]] | None = None
    chunks: int | None = None
    request_id: str | None = None
    response_request_id: str | None = None
    dropped_params: list[str] | None = None
    embedding: Any = None
    embeddings: list[Any] | None = None
    indices: list[Any] | None = None
    id: Any = None
    total_tokens: Any = None
    status: Any = None
    response: Mapping[str, Any] | None = None
    output_items: list[Mapping[str, Any]] | None = None
    usage: Mapping[str, Any] | None = None
    content_filters: Any = None
    # openai-python only
    sdk_created_at_type: str | None = None
    printed_content_filters: Any = None
    present: frozenset[str] = frozenset()

    def has(self, name: str) -> bool:
        """Whether the driver read ``name`` at all (a value of ``None`` included)."""
        return name in self.present


@dataclass(frozen=True)
class DriverOutcome:
    """One scenario's outcome (docs/driver-protocol.md, "The outcome")."""

    result: Mapping[str, Any] | None = None
    read: Read = field(default_factory=Read)
    events: list[Any] = field(default_factory=list)
    error: ErrorView | None = None
    request_id: str | None = None
    token_calls: list[list[str]] = field(default_factory=list)  # each call's scopes
    sdk_retry_count: int | None = None
    elapsed_ms: int = 0
    provider_calls: int | None = None  # None: the credential is the provider
    calls: list[list[str]] | None = None  # per call of ``repeat``: the provider's tokens
    # The retry delays a virtual clock kept (openai-python's; openai-java's sleeper), None
    # where the SDK really waits (its delays are timed at the wire).
    virtual_delays_s: tuple[float, ...] | None = None
    # openai-python only: err.body, chunks' ids.
    error_body: Any = None
    chunk_request_ids: list[str] = field(default_factory=list)
    # The client was built from the scenario's construction part (docs/driver-protocol.md).
    constructed: bool = False

    @property
    def provider_call_count(self) -> int:
        """How often the SDK called its token provider (``provider_calls``, else one per
        credential call)."""
        return len(self.token_calls) if self.provider_calls is None else self.provider_calls


# -- parsing ---------------------------------------------------------------------------------

def parse_outcome(data: object) -> DriverOutcome:
    """The typed outcome of a driver's protocol JSON; :class:`OutcomeMalformed` if it is not
    a protocol-v2 outcome."""
    problems = outcome_problems(data)
    if problems:
        raise OutcomeMalformed(problems)
    outcome = cast("dict[str, Any]", data)
    error = outcome["error"]
    calls = outcome.get("calls")
    return DriverOutcome(
        result=outcome["result"],
        read=_parse_read(outcome["read"]),
        events=list(outcome["events"]),
        error=None if error is None else _parse_error(error),
        request_id=outcome["request_id"],
        token_calls=[[str(s) for s in c["scopes"]] for c in outcome["token_calls"]],
        sdk_retry_count=outcome["sdk_retry_count"],
        elapsed_ms=outcome["elapsed_ms"],
        provider_calls=outcome.get("provider_calls"),
        constructed=outcome.get("constructed") is True,
        virtual_delays_s=(None if outcome.get("virtual_delays_s") is None
                          else tuple(float(d) for d in outcome["virtual_delays_s"])),
        calls=None if calls is None else [list(c.get("provider_tokens") or []) for c in calls],
    )


def outcome_problems(outcome: object) -> list[str]:
    """Why ``outcome`` is not a protocol-v2 outcome, or an empty list."""
    if not isinstance(outcome, dict):
        return ["the outcome must be a JSON object"]
    problems = [f"missing {key!r}" for key in OUTCOME_KEYS if key not in outcome]
    if problems:
        return problems
    if outcome["result"] is not None and not isinstance(outcome["result"], dict):
        problems.append("result must be an object or null")
    read = outcome["read"]
    if not isinstance(read, dict):
        problems.append("read must be an object")
    else:
        problems += _read_problems(read)
    if not isinstance(outcome["events"], list):
        problems.append("events must be a list")
    if not isinstance(outcome["token_calls"], list) or not all(
        isinstance(c, dict) and isinstance(c.get("scopes"), list) for c in outcome["token_calls"]
    ):
        problems.append("token_calls must be a list of {scopes: [...]}")
    if not _is_int(outcome["elapsed_ms"]):
        problems.append("elapsed_ms must be an integer")
    if outcome["sdk_retry_count"] is not None and not _is_int(outcome["sdk_retry_count"]):
        problems.append("sdk_retry_count must be an integer or null")
    if outcome["request_id"] is not None and not isinstance(outcome["request_id"], str):
        problems.append("request_id must be a string or null")
    if outcome.get("constructed") not in (None, True, False):
        problems.append("constructed must be a boolean")
    if outcome.get("provider_calls") is not None and not _is_int(outcome["provider_calls"]):
        problems.append("provider_calls must be an integer")
    delays = outcome.get("virtual_delays_s")
    if delays is not None and not (isinstance(delays, list) and all(
            isinstance(d, (int, float)) and not isinstance(d, bool) and d >= 0 for d in delays)):
        problems.append("virtual_delays_s must be a list of seconds (numbers >= 0)")
    calls = outcome.get("calls")
    if calls is not None and not (isinstance(calls, list) and all(
            isinstance(c, dict) and _strings(c.get("provider_tokens") or []) for c in calls)):
        problems.append("calls must be a list of {provider_tokens: [...]}")
    error = outcome["error"]
    if error is not None:
        if not isinstance(error, dict):
            problems.append("error must be an object or null")
        else:
            problems += _error_problems(error)
    return problems


def _read_problems(read: dict[str, Any]) -> list[str]:
    problems = []
    for key in READ_STRINGS:
        if read.get(key) is not None and not isinstance(read[key], str):
            problems.append(f"read.{key} must be a string or null")
    for key in READ_STRING_LISTS:
        if read.get(key) is not None and not _strings(read[key]):
            problems.append(f"read.{key} must be a list of strings")
    for key in READ_OBJECT_LISTS:
        if read.get(key) is not None and not (
                isinstance(read[key], list) and all(isinstance(v, dict) for v in read[key])):
            problems.append(f"read.{key} must be a list of objects")
    for key in READ_LISTS:
        if read.get(key) is not None and not isinstance(read[key], list):
            problems.append(f"read.{key} must be a list")
    for key in READ_OBJECTS:
        if read.get(key) is not None and not isinstance(read[key], dict):
            problems.append(f"read.{key} must be an object or null")
    if read.get("chunks") is not None and not _is_int(read["chunks"]):
        problems.append("read.chunks must be an integer")
    return problems


def _error_problems(error: dict[str, Any]) -> list[str]:
    problems = []
    if error.get("kind") not in ERROR_KINDS:
        problems.append(f"error.kind must be one of {', '.join(ERROR_KINDS)}")
    if not isinstance(error.get("class"), str):
        problems.append("error.class must be a string")
    if not isinstance(error.get("message"), str):
        problems.append("error.message must be a string")
    if error.get("code_type") not in CODE_TYPES:
        problems.append("error.code_type must be string, number or null")
    if not _strings(error.get("bases") or []):
        problems.append("error.bases must be a list of strings")
    for key in ("status", "response_status"):
        if error.get(key) is not None and not _is_int(error[key]):
            problems.append(f"error.{key} must be an integer or null")
    code = error.get("code")
    if code is not None and (isinstance(code, bool) or not isinstance(code, (str, int, float))):
        problems.append("error.code must be a string, a number or null")
    for key in ("param", "type", "request_id", "module", "str", "cause"):
        if error.get(key) is not None and not isinstance(error[key], str):
            problems.append(f"error.{key} must be a string or null")
    accessor_errors = error.get("accessor_errors")
    if accessor_errors is not None and not (isinstance(accessor_errors, dict) and all(
            isinstance(v, str) for v in accessor_errors.values())):
        problems.append("error.accessor_errors must be an object of strings")
    return problems


def _parse_read(read: dict[str, Any]) -> Read:
    known = {name: read[name] for name in _READ_FIELDS if name in read}
    return Read(**known, present=frozenset(known))


def _parse_error(error: dict[str, Any]) -> ErrorView:
    return ErrorView(
        kind=error["kind"], class_name=error["class"], message=error["message"],
        bases=list(error.get("bases") or []), status=error.get("status"),
        code=error.get("code"), code_type=error["code_type"], param=error.get("param"),
        type=error.get("type"), request_id=error.get("request_id"),
        accessor_errors=error.get("accessor_errors"), module=error.get("module"),
        str_form=error.get("str"), cause=error.get("cause"), body=error.get("body"),
        response_status=error.get("response_status"),
        present=frozenset(name for name in ERROR_OPTIONAL if name in error),
        sent=error,
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


_READ_FIELDS = tuple(name for name in Read.__dataclass_fields__ if name != "present")


__all__ = [
    "ERROR_KINDS",
    "DriverOutcome",
    "ErrorView",
    "OutcomeMalformed",
    "Read",
    "outcome_problems",
    "parse_outcome",
]
