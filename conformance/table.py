"""The summary table printed at the end of a run, grouped by feature."""

from __future__ import annotations

from typing import Any

from .results import Results

_MESSAGE_WIDTH = 90


def render(results: Results, report: str | None = None) -> str:
    target = results.target.get("mode", "?")
    where = {
        "replay": results.target.get("cassettes", ""),
        "live": results.target.get("endpoint", ""),
        "record": _recording(results.target),
    }.get(target, "")
    lines = [f"Azure OpenAI v1 conformance: {results.sdk_info.get('name')} "
             f"{results.sdk_info.get('version')} ({results.sdk_info.get('http_library')} "
             f"{results.sdk_info.get('http_library_version')}), {target} {where}".rstrip()]
    # What needs a reader first: each failed or errored check with its reason, above the table.
    bad = [c for checks in results.by_feature().values() for c in checks
           if c.verdict.value in ("fail", "error")]
    if bad:
        lines.append(f"FAILED: {len(bad)} check(s) failed or errored:")
        lines += [f"  {c.label}: {c.verdict.value}: {_one_line(c.message)}".rstrip()
                  for c in bad]
    sdks = results_sdks(results)
    if sdks != ["python"] and sdks:
        return "\n".join([*lines, *_matrix(results, sdks, report), *_interrupted(results)])
    grouped = results.by_feature()
    id_width = max([len("check"), *(len(c.id) for c in results.checks)])
    feature_width = max([len("feature"), *(len(f) for f in grouped)])
    lines.append(f"{'feature':<{feature_width}}  {'check':<{id_width}}  {'verdict':<11}  detail")
    for feature, checks in grouped.items():
        counts: dict[str, int] = {}
        for result in checks:
            counts[result.verdict.value] = counts.get(result.verdict.value, 0) + 1
        for n, result in enumerate(checks):
            label = feature if n == 0 else ""
            lines.append(
                f"{label:<{feature_width}}  {result.id:<{id_width}}  {result.verdict.value:<11}  "
                f"{_one_line(result.message)}".rstrip()
            )
    summary = results.summary
    total = ", ".join(f"{n} {v}" for v, n in summary.items() if n)
    tail = f"{len(results.checks)} checks: {total or 'none ran'}"
    if report:
        tail += f"; report: {report}"
    lines.append(tail)
    return "\n".join([*lines, *_interrupted(results)])


def _interrupted(results: Results) -> list[str]:
    """The last line of an interrupted run: it did not pass, whatever the verdicts say."""
    if results.interrupted is None:
        return []
    return [f"INTERRUPTED: {results.interrupted}; the run did not finish and did not pass"]


def _recording(target: dict[str, Any]) -> str:
    """Where a record run recorded into, and how much it wrote: a run that wrote nothing
    does not say it recorded."""
    endpoint, into = target.get("endpoint", ""), target.get("cassettes")
    written = target.get("written")
    if written is None:
        return f"{endpoint} into {into}"
    if not written:
        return f"{endpoint}: nothing written into {into}"
    return f"{endpoint}: {len(written)} cassette(s) written into {into}"


def _one_line(message: str, width: int = _MESSAGE_WIDTH) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= width else first[: width - 1] + "…"


def results_sdks(results: Results) -> list[str]:
    """The SDKs a run covered, in the registry's order."""
    from .sdks import names

    seen = {c.sdk for c in results.checks}
    return [s for s in names() if s in seen] + sorted(seen - set(names()))


def _matrix(results: Results, sdks: list[str], report: str | None) -> list[str]:
    """Features x SDKs: one row per check, one verdict column per SDK (``-``: the check does
    not cover that SDK), then the reason of every verdict that is not a pass."""
    versions: dict[str, str] = {}
    for result in results.checks:
        versions.setdefault(result.sdk, result.sdk_version)
    grouped = results.by_feature()
    # A verdict marked * comes with a recorded departure from the doc (doc_vs_sdk).
    cells: dict[tuple[str, str], str] = {
        (c.id, c.sdk): c.verdict.value + ("*" if c.observations.get("doc_vs_sdk") else "")
        for c in results.checks}
    ids = list(dict.fromkeys(c.id for checks in grouped.values() for c in checks))
    id_width = max([len("check"), *(len(i) for i in ids)])
    feature_width = max([len("feature"), *(len(f) for f in grouped)])
    heads = [f"{s} {versions.get(s, '')}".strip() for s in sdks]
    widths = [max(len(h), 11) for h in heads]
    lines = ["  ".join([f"{'feature':<{feature_width}}", f"{'check':<{id_width}}",
                        *(f"{h:<{w}}" for h, w in zip(heads, widths, strict=True))]).rstrip()]
    for feature, checks in grouped.items():
        for n, check_id in enumerate(dict.fromkeys(c.id for c in checks)):
            row = [f"{feature if n == 0 else '':<{feature_width}}", f"{check_id:<{id_width}}"]
            row += [f"{cells.get((check_id, s), '-'):<{w}}"
                    for s, w in zip(sdks, widths, strict=True)]
            lines.append("  ".join(row).rstrip())
    notes = [c for checks in grouped.values() for c in checks
             if c.verdict.value != "pass" and c.message]
    departures = [(c, d) for checks in grouped.values() for c in checks
                  for d in c.observations.get("doc_vs_sdk") or [] if isinstance(d, dict)]
    if notes or departures:
        lines.append("")
        lines.extend(f"{c.label}: {c.verdict.value}: {_one_line(c.message)}" for c in notes)
        lines.extend(_one_line(f"{c.label}: * {d.get('id')}: doc: {d.get('doc')}; "
                               f"{c.sdk}: {d.get('sdk')}", 2 * _MESSAGE_WIDTH)
                     for c, d in departures)
    per_sdk = []
    for sdk in sdks:
        mine = [c for c in results.checks if c.sdk == sdk]
        counts: dict[str, int] = {}
        for c in mine:
            counts[c.verdict.value] = counts.get(c.verdict.value, 0) + 1
        per_sdk.append(f"{sdk} " + "/".join(f"{n} {v}" for v, n in counts.items()))
    summary = results.summary
    total = ", ".join(f"{n} {v}" for v, n in summary.items() if n)
    tail = f"{len(results.checks)} verdicts ({'; '.join(per_sdk)}): {total or 'none ran'}"
    if report:
        tail += f"; report: {report}"
    lines.append(tail)
    return lines
