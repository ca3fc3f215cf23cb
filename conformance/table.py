"""The summary table printed at the end of a run, grouped by feature."""

from __future__ import annotations

from .results import Results

_MESSAGE_WIDTH = 90


def render(results: Results, report: str | None = None) -> str:
    target = results.target.get("mode", "?")
    where = {
        "replay": results.target.get("cassettes", ""),
        "live": results.target.get("endpoint", ""),
        "record": f"{results.target.get('endpoint', '')} into {results.target.get('cassettes')}",
    }.get(target, "")
    lines = [f"Azure OpenAI v1 conformance: {results.sdk.get('name')} "
             f"{results.sdk.get('version')} ({results.sdk.get('http_library')} "
             f"{results.sdk.get('http_library_version')}), {target} {where}".rstrip()]
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
    return "\n".join(lines)


def _one_line(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= _MESSAGE_WIDTH else first[: _MESSAGE_WIDTH - 1] + "…"
