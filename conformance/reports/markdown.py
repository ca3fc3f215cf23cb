"""``report.md``: totals, every check that did not pass with its full message, the feature
table. Fit for ``$GITHUB_STEP_SUMMARY`` and a pull-request comment: long parts fold away in
``<details>``."""

from __future__ import annotations

from ..registry import Verdict
from ..results import CheckResult, Results
from .text import cell, code, fence, first_line, scrub

# Messages longer than this fold into <details> under their first line.
FOLD_LINES = 8
FOLD_CHARS = 800
_ATTENTION = (Verdict.FAIL, Verdict.ERROR, Verdict.UNSUPPORTED)
_COLUMNS = tuple(Verdict)


def title(results: Results) -> str:
    return cell(f"{results.sdk_info.get('name', '?')} {results.sdk_info.get('version', '?')}")


def totals(results: Results) -> str:
    counts = ", ".join(f"{n} {v}" for v, n in results.summary.items() if n)
    if results.interrupted is not None:
        return (f"**INTERRUPTED**: {results.interrupted}; the run did not finish and did not "
                f"pass: {counts or 'none ran'}")
    outcome = "passed" if results.ok else "FAILED"
    return f"**{outcome}**: {len(results.checks)} checks: {counts or 'none ran'}"


def render(results: Results) -> str:
    info = results.sdk_info
    target = results.target
    where = target.get("endpoint") or target.get("cassettes") or ""
    lines = [
        f"## Azure OpenAI v1 conformance: {title(results)}",
        "",
        f"{cell(info.get('http_library', '?'))} {cell(info.get('http_library_version', '?'))} · "
        f"{cell(target.get('mode', '?'))} {code(where) if where else ''} · "
        f"started {cell(results.started_at or '?')} · {results.duration_s:.1f} s",
        "",
        totals(results),
    ]
    grouped = results.by_feature()
    ordered = [c for checks in grouped.values() for c in checks]
    for verdict in _ATTENTION:
        picked = [c for c in ordered if c.verdict is verdict]
        if not picked:
            continue
        lines += [*([""] if lines[-1] else []), f"### {verdict.value} ({len(picked)})", ""]
        if verdict is Verdict.UNSUPPORTED:
            # An old SDK has many; one line each, the whole list folded.
            lines += [f"<details><summary>{len(picked)} check(s) this SDK version does not "
                      "support</summary>", ""]
            lines += [f"- {code(c.label)}: {cell(scrub(c.message))}" for c in picked]
            lines += ["", "</details>"]
            continue
        for check in picked:
            lines += _problem(check)
    lines += [*([""] if lines[-1] else []), "### Features", "",
              "| feature | checks | " + " | ".join(v.value for v in _COLUMNS) + " |",
              "|---|---:|" + "---:|" * len(_COLUMNS)]
    for feature, checks in grouped.items():
        counts = [sum(1 for c in checks if c.verdict is v) for v in _COLUMNS]
        lines.append(f"| {cell(feature)} | {len(checks)} | "
                     + " | ".join(str(n) if n else "" for n in counts) + " |")
    lines += ["", f"<details><summary>All {len(ordered)} checks</summary>", "",
              "| check | verdict | doc section |", "|---|---|---|"]
    lines += [f"| {code(c.label)} | {c.verdict.value} | {cell(c.doc)} |" for c in ordered]
    lines += ["", "</details>", ""]
    return "\n".join(lines)


def _problem(check: CheckResult) -> list[str]:
    message = scrub(check.message).rstrip() or "(no message)"
    head = [f"#### {code(check.label)}", "", f"{cell(check.claim)}  ",
            f"doc: {cell(check.doc)}", ""]
    if message.count("\n") < FOLD_LINES and len(message) <= FOLD_CHARS:
        return [*head, fence(message), ""]
    return [*head, f"<details><summary>{cell(first_line(message))[:160]}</summary>", "",
            fence(message), "", "</details>", ""]
