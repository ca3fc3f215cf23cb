"""Small text helpers the report renderers share."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from ..secrets import Scrubber

_SCRUBBER = Scrubber()
# Control characters (an SDK message may carry one) would garble a page or a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def scrub(value: Any) -> Any:
    """Pattern-scrub once more (a report may be regenerated from any results.json) and make
    control characters visible as U+FFFD."""
    if isinstance(value, str):
        return _CONTROL.sub("\ufffd", _SCRUBBER.text(value))
    if isinstance(value, dict):
        return {scrub(str(k)): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value


def compact(value: Any, width: int = 120) -> str:
    """``value`` as one line of JSON (strings as they are), cut to ``width`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           separators=(", ", ": "))
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""


def fence(text: str, info: str = "text") -> str:
    """A fenced code block that survives backticks inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text.rstrip()}\n{ticks}"


def cell(text: object) -> str:
    """``text`` fit for one Markdown table cell, list item or heading: one line, no pipes, no
    ``<...>`` or ``&`` that a Markdown renderer would take for HTML, and no ``[...]`` that it
    would take for a link or an image. Every field of a results.json may be hostile."""
    flat = " ".join(scrub(str(text)).split()).replace("\\", "\\\\").replace("|", "\\|")
    return html.escape(flat, quote=False).replace("[", "\\[").replace("]", "\\]")


_UNSAFE_IN_CODE = re.compile(r"[`<>&|\\]")


def code(text: object) -> str:
    """``text`` as inline code when that is safe (no backtick to break out, nothing a reader
    could mistake for HTML, no pipe to split a table), else as an escaped :func:`cell`."""
    flat = " ".join(scrub(str(text)).split())
    if flat and not _UNSAFE_IN_CODE.search(flat):
        return f"`{flat}`"
    return cell(flat)
