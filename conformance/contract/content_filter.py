"""Azure's content-filter result objects, shared by chat, streams and Responses (wire §7).

Only categories that are configured or annotated appear, so no category is required; the ones
that do appear must have their documented shape. Unknown categories are tolerated.
"""

from __future__ import annotations

from typing import Any

from . import Findings, describe, is_int, is_object, rule

RESULTS = rule(
    "content-filter.results",
    "content_filter_results is an object of category results",
    "wire §7",
)
SEVERITY = rule(
    "content-filter.severity",
    "a severity category is {filtered: bool, severity: safe|low|medium|high}",
    "wire §7",
)
DETECTION = rule(
    "content-filter.detection",
    "a detection category is {filtered: bool, detected: bool}",
    "wire §7",
)
ERROR = rule(
    "content-filter.error",
    "a filter error is {code: int|string, message: string}",
    "wire §7, §6.3",
)
LISTS = rule(
    "content-filter.lists",
    "custom_blocklists/custom_topics are {filtered: bool, details?: [{id: string, ...}]}",
    "wire §7",
)
PROMPT_RESULTS = rule(
    "content-filter.prompt-results",
    "prompt_filter_results is an array of {prompt_index: int, content_filter_results: object}; "
    "Azure also spells the member content_filter_result, and may send it empty",
    "wire §6.1, §7",
    evidence=("azure/crewai/chat-image.yaml",),
)

SEVERITY_CATEGORIES = frozenset({"hate", "sexual", "violence", "self_harm"})
DETECTION_CATEGORIES = frozenset(
    {
        "profanity",
        "jailbreak",
        "indirect_attack",
        "protected_material_text",
        "protected_material_code",
        "ungrounded_material",
        "personally_identifiable_information",
    }
)
SEVERITIES = frozenset({"safe", "low", "medium", "high"})


def check_results(found: Findings, results: Any, path: str) -> None:
    """Validate one ``content_filter_results`` object. An empty object is valid (the role
    chunk of a stream carries ``{}``)."""
    if not found.require(is_object(results), RESULTS, path, f"expected an object, got "
                         f"{describe(results)}"):
        return
    for category, value in results.items():
        where = f"{path}.{category}"
        if category in SEVERITY_CATEGORIES:
            found.require(
                is_object(value)
                and isinstance(value.get("filtered"), bool)
                and value.get("severity") in SEVERITIES,
                SEVERITY,
                where,
                f"expected {{filtered: bool, severity: {'|'.join(sorted(SEVERITIES))}}}, got "
                f"{describe(value)}",
            )
        elif category in DETECTION_CATEGORIES:
            found.require(
                is_object(value)
                and isinstance(value.get("filtered"), bool)
                and isinstance(value.get("detected"), bool),
                DETECTION,
                where,
                f"expected {{filtered: bool, detected: bool}}, got {describe(value)}",
            )
        elif category == "error":
            found.require(
                is_object(value)
                and (is_int(value.get("code")) or isinstance(value.get("code"), str))
                and isinstance(value.get("message"), str),
                ERROR,
                where,
                f"expected {{code: int|string, message: string}}, got {describe(value)}",
            )
        elif category in ("custom_blocklists", "custom_topics"):
            details = value.get("details", []) if is_object(value) else None
            found.require(
                is_object(value)
                and isinstance(value.get("filtered"), bool)
                and isinstance(details, list)
                and all(is_object(d) and isinstance(d.get("id"), str) for d in details),
                LISTS,
                where,
                f"expected {{filtered: bool, details?: [{{id, ...}}]}}, got {describe(value)}",
            )


# Azure's image-prompt annotations (a real recording, azure/crewai/chat-image.yaml) use the
# singular spelling.
RESULTS_KEYS = ("content_filter_results", "content_filter_result")


def _results_key(entry: Any) -> str | None:
    return next((k for k in RESULTS_KEYS if k in entry), None)


def check_prompt_results(found: Findings, payload: Any, path: str = "") -> None:
    """Validate ``prompt_filter_results`` (or its older name ``prompt_annotations``) if
    present on ``payload``."""
    for key in ("prompt_filter_results", "prompt_annotations"):
        if key not in payload:
            continue
        where = f"{path}{key}"
        entries = payload[key]
        if not found.require(isinstance(entries, list), PROMPT_RESULTS, where,
                             f"expected an array, got {describe(entries)}"):
            continue
        for n, entry in enumerate(entries):
            item = f"{where}[{n}]"
            if found.require(
                is_object(entry) and is_int(entry.get("prompt_index"))
                and _results_key(entry) is not None,
                PROMPT_RESULTS,
                item,
                f"expected {{prompt_index: int, content_filter_results}}, got {describe(entry)}",
            ):
                key = _results_key(entry) or RESULTS_KEYS[0]
                check_results(found, entry[key], f"{item}.{key}")
