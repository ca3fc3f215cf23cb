"""What user code can see of an SDK outcome, observed one way for every check.

The doc's samples catch exceptions by class and print their attributes; they print typed
fields of results. A check that records all of it, through these helpers, lets ``diff`` show an
SDK release that renames a class, re-parents it, turns ``code`` from int to str, changes the
message or drops the request id, on the check that saw it (ARCHITECTURE.md, "Observe what
user code can see").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from conformance.registry import Observations

# What the doc's samples and users' except clauses read off an SDK exception.
EXCEPTION_ATTRIBUTES = ("status_code", "code", "param", "type", "message", "request_id", "body")
_ABSENT = "<absent>"


def _jsonable(value: Any) -> Any:
    """A value as the report can hold it: models dumped, other objects by their repr."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def exception_view(exc: BaseException | None) -> dict[str, Any] | None:
    """The class and base classes of ``exc``, ``str(exc)``, and each attribute of
    :data:`EXCEPTION_ATTRIBUTES` it has (``code`` with its type), as JSON-like data."""
    if exc is None:
        return None
    kind = type(exc)
    view: dict[str, Any] = {
        "class": f"{kind.__module__}.{kind.__qualname__}",
        "bases": [c.__name__ for c in kind.__mro__[1:] if c not in (BaseException, object)],
        "str": str(exc),
    }
    for name in EXCEPTION_ATTRIBUTES:
        value = getattr(exc, name, _ABSENT)
        view[name] = value if value is _ABSENT else _jsonable(value)
    code = getattr(exc, "code", _ABSENT)
    view["code_type"] = None if code is _ABSENT else type(code).__name__
    cause = exc.__cause__
    view["cause"] = None if cause is None else f"{type(cause).__module__}.{type(cause).__name__}"
    return view


def result_view(result: Any, fields: Sequence[str]) -> dict[str, Any]:
    """Each dotted field of ``result`` (``choices.0.message.content``, ``_request_id``) with
    its type, as user code reading it would get it."""
    view: dict[str, Any] = {}
    for path in fields:
        value: Any = result
        for part in path.split("."):
            if value is _ABSENT:
                break
            if part.isdigit() and isinstance(value, (list, tuple)):
                value = value[int(part)] if int(part) < len(value) else _ABSENT
            elif hasattr(value, "get") and not hasattr(value, part):  # headers, dicts
                value = value.get(part, _ABSENT)
            else:
                value = getattr(value, part, _ABSENT)
        view[path] = {"value": value if value is _ABSENT else _jsonable(value),
                      "type": None if value is _ABSENT else type(value).__name__}
    return view


def observe_exception(observe: Observations, exc: BaseException | None,
                      key: str = "exception") -> dict[str, Any] | None:
    """Record :func:`exception_view` of ``exc`` under ``key``."""
    view: dict[str, Any] | None = observe(key, exception_view(exc))
    return view


def observe_result(observe: Observations, result: Any, fields: Sequence[str],
                   key: str = "result") -> dict[str, Any]:
    """Record :func:`result_view` of ``result`` under ``key``."""
    view: dict[str, Any] = observe(key, result_view(result, fields))
    return view
