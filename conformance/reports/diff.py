"""The diff of two runs, for a terminal (``text``) or a pull request (``md``): the decision
first, then the blocking changes with their old and new values, then the rest (regressions,
behaviour changes, other verdict changes, fixes, added and removed checks), and last, apart,
a single note when the policy tables say something else about the two releases (labels: never
a change)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..results import MISSING, Change, LabelChange, Results, Value
from .text import cell, code, compact, first_line, scrub

# Sections in reading order: (kind, heading).
SECTIONS = (
    ("regression", "Regressions"),
    ("observations", "Behaviour changes (same verdict, different observations)"),
    ("verdict", "Other verdict changes"),
    ("fix", "Fixes"),
    ("new", "Added checks"),
    ("removed", "Removed checks"),
    ("renamed", "Renamed checks (a retired id paired with the check that carries its claim)"),
)
LABELS = {"regression": "regression", "observations": "behaviour", "verdict": "verdict",
          "fix": "fix", "new": "added", "removed": "removed",
          "renamed": "renamed"}
VALUE_WIDTH = 72
MAX_VALUES = 20  # per check in a terminal; the rest is counted
MAX_VALUES_MD = 80  # per check in Markdown, folded


def judged(results: Results) -> str:
    """The SDK(s) the run's checks judged: the environment's openai-python when its checks are
    Python's, else each driver SDK with the version its checks carry (``javascript 6.49.0``)."""
    judged = dict.fromkeys((c.sdk, c.sdk_version) for c in results.checks)
    python = f"{results.sdk_info.get('name', '?')} {results.sdk_info.get('version', '?')}"
    if not judged or all(sdk == "python" for sdk, _ in judged):
        return python
    return ", ".join(python if sdk == "python" else f"{sdk} {version or '?'}"
                     for sdk, version in judged)


def _sdk(results: Results) -> str:
    """:func:`judged`, scrubbed and on one line (results.json may come from anyone)."""
    return " ".join(scrub(judged(results)).split())


def decision(blocked: Sequence[Change], policy: str) -> str:
    """The gate's decision in words: what a reader must see first."""
    if not blocked:
        return f"passed: nothing blocks under policy {policy}"
    return f"blocked: {len(blocked)} change(s) block under policy {policy}"


def _ordered(changes: Sequence[Change], blocked: Sequence[Change]) -> list[Change]:
    """The blocking changes first, then the rest, each in section order."""
    rank = {kind: n for n, (kind, _) in enumerate(SECTIONS)}
    return sorted(changes, key=lambda c: (c not in blocked, rank.get(c.kind, 99)))


def labels_note(labels: Sequence[LabelChange]) -> list[str]:
    """One line per policy-table label that differs (shown once, with how many checks carry
    it): what the project's tables say about the releases, not what the SDK did."""
    lines = []
    for label in labels:
        checks = ", ".join(label.checks[:3]) + (
            f" and {len(label.checks) - 3} more" if len(label.checks) > 3 else "")
        lines.append(f"{label.key} ({len(label.checks)} check(s): {checks}): "
                     f"{_value(label.before)} -> {_value(label.after)}")
    return lines


LABELS_HEADING = ("Policy tables (what conformance/policy.py declares about each release; not "
                  "an observation, never a change)")


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
         blocked: Sequence[Change], policy: str,
         labels: Sequence[LabelChange] = ()) -> str:
    lines = [decision(blocked, policy),
             f"baseline:  {_sdk(baseline)}", f"candidate: {_sdk(candidate)}"]
    width = max([44, *(len(c.id) for c in changes)])
    for change in _ordered(changes, blocked):
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
    if labels:
        lines += [f"{LABELS_HEADING}:", *(f"  {line}" for line in labels_note(labels))]
    lines.append(summary(changes, blocked, policy))
    return "\n".join(lines) + "\n"


def markdown(baseline: Results, candidate: Results, changes: Sequence[Change],
             blocked: Sequence[Change], policy: str,
             labels: Sequence[LabelChange] = ()) -> str:
    verdict = "**blocked**" if blocked else "**passed**"
    lines = [f"## Conformance diff: {cell(_sdk(baseline))} → {cell(_sdk(candidate))}", "",
             f"{verdict}: {summary(changes, blocked, policy)}"]
    if not changes:
        lines += ["", "No check changed its verdict or observations."]
    if blocked:
        lines += ["", f"### Blocking ({len(blocked)})", ""]
        for change in _ordered(blocked, blocked):
            lines += _change(change, True)
    for kind, heading in SECTIONS:
        picked = [c for c in changes if c.kind == kind and c not in blocked]
        if not picked:
            continue
        lines += ["", f"### {heading} ({len(picked)})", ""]
        for change in picked:
            lines += _change(change, False)
    if labels:
        lines += ["", f"### {LABELS_HEADING}", ""]
        lines += [f"- {cell(line)}" for line in labels_note(labels)]
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


def html_section(baseline: Results, candidate: Results, changes: Sequence[Change],
                 blocked: Sequence[Change], policy: str,
                 labels: Sequence[LabelChange] = ()) -> str:
    """The head of a gate's report.html: the decision, the blocking changes with their values,
    the other changes, and the policy-table note, before any run's table."""
    from html import escape

    def e(value: object) -> str:
        return escape(str(value), quote=True)

    state = "blocked" if blocked else "passed"
    parts = [f'<section class="gate gate-{state}" id="decision">',
             f'<p class="decision"><span class="d d-{state}">{state}</span> '
             f"{e(_sdk(baseline))} → {e(_sdk(candidate))}: "
             f"{e(summary(changes, blocked, policy))}</p>"]
    if not changes:
        parts.append("<p>No check changed its verdict or observations.</p>")
    for title, picked in (("Blocking", [c for c in _ordered(blocked, blocked)]),
                          ("Other changes", [c for c in _ordered(changes, blocked)
                                             if c not in blocked])):
        if not picked:
            continue
        parts.append(f"<h2>{title} ({len(picked)})</h2><ul class=\"changes\">")
        for change in picked:
            detail = (first_line(scrub(change.detail))
                      if change.detail and change.kind != "observations" else "")
            parts.append(f"<li><strong>{e(LABELS[change.kind])}</strong> <code>"
                         f"{e(change.id)}</code>: {e(change.before or '-')} → "
                         f"{e(change.after or '-')}"
                         + (f' <span class="why">{e(detail)}</span>' if detail else ""))
            shown, more = _shown(change.values, MAX_VALUES_MD)
            if shown:
                parts.append("<table class=\"values\"><tr><th>observation</th><th>before</th>"
                             "<th>after</th></tr>" + "".join(
                                 f"<tr><td><code>{e(v.path)}</code></td><td>{e(_value(v.before))}"
                                 f"</td><td>{e(_value(v.after))}</td></tr>" for v in shown)
                             + (f"<tr><td colspan=\"3\">… and {more} more</td></tr>"
                                if more else "") + "</table>")
            parts.append("</li>")
        parts.append("</ul>")
    if labels:
        parts.append(f"<h2>{e(LABELS_HEADING)}</h2><ul class=\"labels\">"
                     + "".join(f"<li>{e(line)}</li>" for line in labels_note(labels))
                     + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def junit_suite(baseline: Results, candidate: Results, changes: Sequence[Change],
                blocked: Sequence[Change], policy: str) -> ET.Element:
    """The first testsuite of a gate's junit.xml: the decision, one failing testcase per
    blocking change (with its values), one passing testcase per other change."""
    suite = ET.Element("testsuite", name=f"gate decision: {decision(blocked, policy)}",
                       tests=str(max(1, len(changes))), failures=str(len(blocked)),
                       errors="0", skipped="0")
    properties = ET.SubElement(suite, "properties")
    for name, value in (("decision", "blocked" if blocked else "passed"), ("policy", policy),
                        ("baseline", _sdk(baseline)), ("candidate", _sdk(candidate))):
        ET.SubElement(properties, "property", name=name, value=_xml(value))
    if not changes:
        ET.SubElement(suite, "testcase", name="no change", classname="gate")
    for change in _ordered(changes, blocked):
        case = ET.SubElement(suite, "testcase", name=change.id,
                             classname=f"gate.{LABELS[change.kind]}")
        lines = [f"{change.id}: {change.before or '-'} -> {change.after or '-'}"]
        if change.detail and change.kind != "observations":
            lines.append(scrub(change.detail))
        lines += [f"{v.path}: {_value(v.before)} -> {_value(v.after)}" for v in change.values]
        body = _xml("\n".join(lines))
        if change in blocked:
            ET.SubElement(case, "failure", type="blocking",
                          message=_xml(f"blocks ({LABELS[change.kind]}): {lines[0]}")
                          ).text = body
        else:
            ET.SubElement(case, "system-out").text = body
    return suite


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", scrub(text))
