"""Image input in chat requests (wire §9.1, §5.1): image_url content parts.

These rules judge the request the SDK sends, not a response: a part must reach the service in
the shape the service accepts, whatever the caller wrote.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import urlsplit

from . import Findings, Violation, describe, is_object, rule

CONTENT = rule(
    "image-input.content",
    "a message's content is a string or an array of parts, each an object with a string type",
    "wire §5.1",
)
TEXT_PART = rule("image-input.text-part", 'a text part is {type: "text", text: string}',
                 "wire §5.1")
PART = rule(
    "image-input.part",
    'an image part is {type: "image_url", image_url: {url: string, detail?}}: image_url is an '
    "object (in chat; Responses' input_image takes a plain string)",
    "wire §9.1, §9.2",
)
URL = rule("image-input.url",
           "image_url.url is an http(s) URL with a host, or a data: URL", "wire §9.1")
DATA_URL = rule(
    "image-input.data-url",
    "a data URL is data:image/<type>;base64,<data>, the data non-empty, valid base64",
    "wire §9.1",
)
DETAIL = rule("image-input.detail", "image_url.detail, when present, is auto, low or high",
              "wire §9.1")
USER_ONLY = rule(
    "image-input.user-only",
    "image parts appear only in user messages (system, developer, tool: text only)",
    "wire §9.1, §5.1",
)

DETAILS = frozenset({"auto", "low", "high"})
_DATA_URL = re.compile(r"data:image/(?P<type>[A-Za-z0-9.+-]+);base64,(?P<data>.*)", re.DOTALL)


def validate_chat_image_request(body: Any) -> list[Violation]:
    """Validate the image parts (and the content arrays holding them) of a chat request body.
    Messages without parts, and fields other than content, are not this module's concern."""
    found = Findings()
    messages = body.get("messages") if is_object(body) else None
    for n, message in enumerate(messages if isinstance(messages, list) else []):
        if not is_object(message):
            continue
        content = message.get("content")
        where = f"messages[{n}].content"
        if content is None or isinstance(content, str):
            continue
        if not found.require(isinstance(content, list), CONTENT, where,
                             f"expected a string or an array of parts, got {describe(content)}"):
            continue
        for m, part in enumerate(content):
            check_part(found, part, f"{where}[{m}]", message.get("role"))
    return found.violations


def check_part(found: Findings, part: Any, where: str, role: Any) -> None:
    if not found.require(is_object(part) and isinstance(part.get("type"), str), CONTENT, where,
                         f"expected a part {{type, ...}}, got {describe(part)}"):
        return
    kind = part["type"]
    if kind == "text":
        found.require(isinstance(part.get("text"), str), TEXT_PART, where,
                      f"expected {{type: 'text', text: string}}, got {describe(part)}")
        return
    if kind != "image_url":
        return  # input_audio, file, refusal: other features' parts
    found.require(role == "user", USER_ONLY, where,
                  f"an image part in a {describe(role)} message")
    image = part.get("image_url")
    if not found.require(is_object(image) and isinstance(image.get("url"), str), PART,
                         f"{where}.image_url",
                         f"expected {{url: string, detail?}}, got {describe(image)}"):
        return
    check_url(found, image["url"], f"{where}.image_url.url")
    if "detail" in image:
        found.require(image["detail"] in DETAILS, DETAIL, f"{where}.image_url.detail",
                      f"expected one of {sorted(DETAILS)}, got {describe(image['detail'])}")


def check_url(found: Findings, url: str, where: str) -> None:
    if url.startswith("data:"):
        match = _DATA_URL.fullmatch(url)
        found.require(match is not None and _is_base64(match["data"]), DATA_URL, where,
                      f"expected data:image/<type>;base64,<data>, got {describe(url)}")
        return
    parts = urlsplit(url)
    found.require(parts.scheme in ("http", "https") and bool(parts.hostname), URL, where,
                  f"expected an http(s) URL or a data URL, got {describe(url)}")


def _is_base64(data: str) -> bool:
    if not data:
        return False
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
