"""Token usage, the same arithmetic under two vocabularies: chat's prompt/completion tokens
(wire §6.4) and Responses' input/output tokens (wire §11.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import Findings, describe, is_count, is_object


@dataclass(frozen=True)
class Vocabulary:
    """The field names of one API's usage object and the rule ids that judge it."""

    prompt: str
    completion: str
    counts_rule: str
    total_rule: str
    details_rule: str

    @property
    def names(self) -> tuple[str, str, str]:
        return (self.prompt, self.completion, "total_tokens")


def check_usage(found: Findings, usage: Any, path: str, words: Vocabulary) -> None:
    """Counts are non-negative integers, total = prompt + completion, detail counts are null
    or non-negative, reasoning tokens fit in the completion and cached tokens in the prompt."""
    if not found.require(is_object(usage) and all(is_count(usage.get(n)) for n in words.names),
                         words.counts_rule, path,
                         f"expected non-negative integer {', '.join(words.names)}, got "
                         f"{describe(usage)}"):
        return
    prompt, completion = usage[words.prompt], usage[words.completion]
    found.require(
        usage["total_tokens"] == prompt + completion,
        words.total_rule,
        f"{path}.total_tokens",
        f"{usage['total_tokens']} != {words.prompt} {prompt} + {words.completion} {completion}",
    )
    for bound, bounded in ((words.completion, "reasoning_tokens"), (words.prompt,
                                                                     "cached_tokens")):
        name = f"{bound}_details"
        details = usage.get(name)
        if details is None:
            continue
        where = f"{path}.{name}"
        if not found.require(
            is_object(details) and all(v is None or is_count(v) for v in details.values()),
            words.details_rule, where,
            f"expected null or non-negative integers, got {describe(details)}",
        ):
            continue
        value = details.get(bounded)
        if value is not None:
            found.require(value <= usage[bound], words.details_rule, f"{where}.{bounded}",
                          f"{bounded} {value} exceeds {bound} {usage[bound]}")
