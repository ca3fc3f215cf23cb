"""Error responses (wire §4): the four envelope families Azure answers a non-2xx with.

| Family | Shape (wire §4.2) |
|---|---|
| A. OpenAI-style | ``{"error": {"message", "type", "param", "code"}}`` |
| B. content filter | A + ``"status": 400`` + ``"innererror": {"code", "content_filter_result"}`` |
| C. Azure gateway short | ``{"error": {"code": "<string>", "message"}}`` |
| D. bare gateway | ``{"statusCode": <int>, "message", ["activityId"]}`` |

All members of the spec's ``AzureErrorResponse`` are optional and real traffic departs from it
(wire §4.1, §17 #1): ``type`` is null or an OpenAI type, the inner object is spelled
``innererror``, and ``code`` is a string on the wire where Azure's own numeric codes appear as
``"401"``/``"429"`` (an integer is tolerated: SDKs coerce or keep it, sdk-behavior §2.5). What
is strict: an error body is one of the four families, says what went wrong in a string
``message``, and any status it repeats is the HTTP status.
"""

from __future__ import annotations

from typing import Any, Literal

from . import Findings, Violation, describe, is_int, is_object, rule
from .content_filter import check_results

STATUS = rule("error.status", "an error response has a 4xx or 5xx HTTP status", "wire §4.1, §4.3")
ENVELOPE = rule(
    "error.envelope",
    'the body is an object: {"error": {...}} (families A-C) or {"statusCode", "message"} '
    "(family D)",
    "wire §4.1, §4.2",
)
MESSAGE = rule("error.message", "message is a non-empty string", "wire §4.2, §4.3")
CODE = rule(
    "error.code",
    "error.code is a non-empty string (Azure numeric codes as strings: \"401\", \"429\"), an "
    "integer, or null",
    "wire §4.1, §4.2, §4.3; sdk-behavior §2.5",
)
PARAM = rule("error.param", "error.param, when present, is a string or null", "wire §4.1, §4.3")
TYPE = rule("error.type", "error.type, when present, is a string or null", "wire §4.1, §17 #1")
STATUS_MEMBER = rule(
    "error.status-member",
    "a status the body repeats (error.status, statusCode) equals the HTTP status",
    "wire §4.2, §4.4",
)
INNERERROR = rule(
    "error.innererror",
    "innererror (or inner_error), when present, is an object; its code, when present, is a "
    "string",
    "wire §4.1, §4.4, §17 #1",
)
CONTENT_FILTER = rule(
    "error.content-filter",
    'a content_filter error is a 400 and its innererror.content_filter_result (singular), when '
    "present, is a content-filter results object",
    "wire §4.3, §4.4, §17 #4",
)
BARE = rule(
    "error.bare",
    "a bare envelope has an integer statusCode and a string message; activityId, when "
    "present, is a string",
    "wire §2.2, §4.2 (family D)",
)

Family = Literal["A", "B", "C", "D"]

CONTENT_FILTER_CODE = "content_filter"


def family(body: Any) -> Family | None:
    """The envelope family of ``body`` (wire §4.2), or None if it is none of them."""
    if not is_object(body):
        return None
    error = body.get("error")
    if is_object(error):
        inner = _inner(error)
        if error.get("code") == CONTENT_FILTER_CODE or (
            is_object(inner) and "content_filter_result" in inner
        ):
            return "B"
        if "type" in error or "param" in error:
            return "A"
        return "C"
    if "error" not in body and "statusCode" in body:
        return "D"
    return None


def validate_error(status: int, body: Any) -> list[Violation]:
    """Validate an error response: its HTTP ``status`` and decoded JSON ``body`` (pass the
    text itself when the body is not JSON; it breaks ``error.envelope``)."""
    found = Findings()
    found.require(is_int(status) and 400 <= status <= 599, STATUS, "",
                  f"expected a 4xx or 5xx status, got {describe(status)}")
    kind = family(body)
    if kind is None:
        found.add(ENVELOPE, "", f"expected {{error: {{...}}}} or {{statusCode, message}}, got "
                  f"{describe(body)}")
        return found.violations
    if kind == "D":
        _check_bare(found, status, body)
    else:
        _check_error(found, status, body["error"], kind)
    return found.violations


def _check_error(found: Findings, status: int, error: Any, kind: Family) -> None:
    message = error.get("message")
    found.require(isinstance(message, str) and message, MESSAGE, "error.message",
                  f"expected a non-empty string, got {describe(message)}")
    code = error.get("code")
    found.require(code is None or (isinstance(code, str) and code) or is_int(code), CODE,
                  "error.code", f"expected a non-empty string, an integer or null, got "
                  f"{describe(code)}")
    if "param" in error:
        found.require(error["param"] is None or isinstance(error["param"], str), PARAM,
                      "error.param", f"expected a string or null, got {describe(error['param'])}")
    if "type" in error:
        found.require(error["type"] is None or isinstance(error["type"], str), TYPE,
                      "error.type", f"expected a string or null, got {describe(error['type'])}")
    if "status" in error:
        found.require(error["status"] == status and is_int(error["status"]), STATUS_MEMBER,
                      "error.status", f"the body says {describe(error['status'])}, the HTTP "
                      f"status is {status}")
    inner_key = "innererror" if "innererror" in error else "inner_error"
    inner = error.get(inner_key)
    if inner_key in error and found.require(
        is_object(inner) and (inner.get("code") is None or isinstance(inner.get("code"), str)),
        INNERERROR, f"error.{inner_key}",
        f"expected an object with a string code, got {describe(inner)}",
    ) and "content_filter_result" in inner:
        result = inner["content_filter_result"]
        if found.require(is_object(result), CONTENT_FILTER,
                         f"error.{inner_key}.content_filter_result",
                         f"expected a content-filter results object, got {describe(result)}"):
            check_results(found, result, f"error.{inner_key}.content_filter_result")
    if code == CONTENT_FILTER_CODE:
        found.require(status == 400, CONTENT_FILTER, "error.code",
                      f"a content_filter error is a 400, this one came with {status}")


def _check_bare(found: Findings, status: int, body: Any) -> None:
    status_code = body.get("statusCode")
    found.require(is_int(status_code), BARE, "statusCode",
                  f"expected an integer, got {describe(status_code)}")
    if is_int(status_code):
        found.require(status_code == status, STATUS_MEMBER, "statusCode",
                      f"the body says {status_code}, the HTTP status is {status}")
    message = body.get("message")
    found.require(isinstance(message, str) and message, MESSAGE, "message",
                  f"expected a non-empty string, got {describe(message)}")
    if "activityId" in body:
        found.require(isinstance(body["activityId"], str), BARE, "activityId",
                      f"expected a string, got {describe(body['activityId'])}")


def _inner(error: Any) -> Any:
    return error.get("innererror", error.get("inner_error"))


__all__ = ["CONTENT_FILTER_CODE", "Family", "family", "validate_error"]
