"""What user code can see of an SDK outcome, observed one way for every check.

The doc's samples print typed fields of results (:func:`result_view`); what they read off an
exception is the protocol's error view, one for every SDK (``drivers.python.error_of`` for
openai-python). A check that records all of it lets ``diff`` show an SDK release that renames
a class, re-parents it, turns ``code`` from int to str, changes the message or drops the
request id, on the check that saw it (ARCHITECTURE.md, "Observe what user code can see").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conformance.drivers.python import jsonable as _jsonable
from conformance.registry import Observations

_ABSENT = "<absent>"


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


def observe_result(observe: Observations, result: Any, fields: Sequence[str],
                   key: str = "result") -> dict[str, Any]:
    """Record :func:`result_view` of ``result`` under ``key``."""
    view: dict[str, Any] = observe(key, result_view(result, fields))
    return view
