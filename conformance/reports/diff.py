"""The diff of two runs, for a terminal (``text``) or a pull request (``md``): regressions,
fixes, behaviour changes with the old and new values, other verdict changes, added and removed
checks."""

from __future__ import annotations

from collections.abc import Sequence

from ..results import MISSING, Change, Results, Value
from .text import cell, code, compact, first_line, scrub

# Sections in reading order: (kind, heading).
SECTIONS = (
    ("regression", "Regressions"),
    ("observations", "Behaviour changes (same verdict, different observations)"),
    ("verdict", "Other verdict changes"),
    ("fix", "Fixes"),
    ("new", "Added checks"),
    ("removed", "Removed checks"),
)
LABELS = {"regression": "regression", "observations": "behaviour", "verdict": "verdict",
          "fix": "fix", "new": "added", "removed": "removed"}
VALUE_WIDTH = 72
MAX_VALUES = 20  # per check in a terminal; the rest is counted
MAX_VALUES_MD = 80  # per check in Markdown, folded


def _sdk(results: Results) -> str:
    return " ".join(scrub(f"{results.sdk.get('name', '?')} {results.sdk.get('version', '?')}")
                    .split())


def _value(value: object) -> str:
    return "-" if value == MISSING else compact(scrub(value), VALUE_WIDTH)


def _shown(values: Sequence[Value], limit: int = MAX_VALUES) -> tuple[Sequence[Value], int]:
    return values[:limit], max(0, len(values) - limit)


def summary(changes: Sequence[Change], blocked: Sequence[Change], policy: str) -> str:
    counts = ", ".join(f"{sum(1 for c in changes if c.kind == kind)} {LABELS[kind]}"
                       for kind, _ in SECTIONS if any(c.kind == kind for c in changes))
    return (f"{len(changes)} change(s), {len(blocked)} blocking ({counts + '; ' if counts else ''}"
            f"policy: {policy})")


def text(baseline: Results, candidate: Results, changes: Sequence[Change],
         blocked: Sequence[Change], policy: str) -> str:
    lines = [f"baseline:  {_sdk(baseline)}", f"candidate: {_sdk(candidate)}"]
    width = max([44, *(len(c.id) for c in changes)])
    for change in changes:
        mark = "!" if change in blocked else " "
        lines.append(f"{mark} {LABELS[change.kind]:<10} {scrub(change.id):<{width}} "
                     f"{change.before or '-':>11} -> {change.after or '-':<11} "
                     f"{first_line(scrub(change.detail)) if change.kind != 'observations' else ''}"
                     .rstrip())
        shown, more = _shown(change.values)
        for value in shown:
            lines.append(f"      {scrub(value.path)}: {_value(value.before)} -> "
                         f"{_value(value.after)}")
        if more:
            lines.append(f"      … and {more} more")
    lines.append(summary(changes, blocked, policy))
    return "\n".join(lines) + "\n"


def markdown(baseline: Results, candidate: Results, changes: Sequence[Change],
             blocked: Sequence[Change], policy: str) -> str:
    verdict = "**blocked**" if blocked else "**passed**"
    lines = [f"## Conformance diff: {cell(_sdk(baseline))} → {cell(_sdk(candidate))}", "",
             f"{verdict}: {summary(changes, blocked, policy)}"]
    if not changes:
        lines += ["", "No check changed its verdict or observations."]
    for kind, heading in SECTIONS:
        picked = [c for c in changes if c.kind == kind]
        if not picked:
            continue
        lines += ["", f"### {heading} ({len(picked)})", ""]
        for change in picked:
            lines += _change(change, change in blocked)
    return "\n".join(lines).rstrip() + "\n"


def _change(change: Change, blocks: bool) -> list[str]:
    head = (f"- {'**blocking** ' if blocks else ''}{code(change.id)}: {change.before or '-'} → "
            f"{change.after or '-'}")
    lines = [head]
    if change.detail and change.kind != "observations":
        lines.append(f"  {cell(first_line(scrub(change.detail)))}")
    if change.values:
        shown, more = _shown(change.values, MAX_VALUES_MD)
        table = ["", "  | observation | before | after |", "  |---|---|---|"]
        table += [f"  | {code(v.path)} | {cell(_value(v.before))} | {cell(_value(v.after))} |"
                  for v in shown]
        if more:
            table.append(f"  | … and {more} more | | |")
        if len(shown) > 4:
            lines += ["", f"  <details><summary>{len(change.values)} observation(s) "
                      "changed</summary>", *table, "", "  </details>"]
        else:
            lines += table
        lines.append("")
    return lines
