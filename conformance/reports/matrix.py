"""The checks x versions table of ``aoai-conformance matrix``: each cell a verdict, marked
``*`` where the observations differ (after the normaliser) from the column before."""

from __future__ import annotations

import html as escaping
from collections.abc import Sequence
from dataclasses import dataclass

from ..registry import FEATURES
from ..results import Results, normalise

MARK = "*"


@dataclass(frozen=True)
class GridCell:
    verdict: str | None  # None: the check did not run under this version
    changed: bool = False  # observations differ from the previous column

    def __str__(self) -> str:
        return "-" if self.verdict is None else self.verdict + (MARK if self.changed else "")


@dataclass(frozen=True)
class Grid:
    versions: tuple[str, ...]
    rows: tuple[tuple[str, tuple[GridCell, ...]], ...]  # (check id, a cell per version)

    @classmethod
    def of(cls, runs: Sequence[Results]) -> Grid:
        order = {f: i for i, f in enumerate(FEATURES)}
        ids = sorted({c.id for r in runs for c in r.checks},
                     key=lambda i: (order.get(i.split(".")[0], 99), i))
        by_run = [{c.id: c for c in r.checks} for r in runs]
        rows = []
        for check_id in ids:
            cells = []
            previous = None
            for checks in by_run:
                found = checks.get(check_id)
                if found is None:
                    cells.append(GridCell(None))
                    previous = None
                    continue
                observed = normalise(found.observations)
                cells.append(GridCell(found.verdict.value,
                                      previous is not None and observed != previous))
                previous = observed
            rows.append((check_id, tuple(cells)))
        versions = tuple(str(r.sdk_info.get("version", "?")) for r in runs)
        return cls(versions, tuple(rows))


def text(grid: Grid) -> str:
    width = max([5, *(len(i) for i, _ in grid.rows)])
    columns = [max(12, len(v)) for v in grid.versions]
    lines = [f"{'check':<{width}}  " + "  ".join(f"{v:<{w}}" for v, w in
                                               zip(grid.versions, columns, strict=True))]
    for check_id, cells in grid.rows:
        lines.append(f"{check_id:<{width}}  " + "  ".join(
            f"{c!s:<{w}}" for c, w in zip(cells, columns, strict=True)).rstrip())
    lines.append(f"{MARK}: observations changed from the version before")
    return "\n".join(lines) + "\n"


def markdown(grid: Grid) -> str:
    lines = ["## Conformance matrix: openai-python " + ", ".join(grid.versions), "",
             f"`{MARK}`: the observations changed from the version before "
             "(after the normaliser).", "",
             "| check | " + " | ".join(grid.versions) + " |",
             "|---|" + "---|" * len(grid.versions)]
    for check_id, cells in grid.rows:
        shown = [f"**{c}**" if c.changed else str(c) for c in cells]
        lines.append(f"| `{check_id}` | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#1f2328}
table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:.25em .6em}
th{background:#f6f8fa;position:sticky;top:0}td.id{font-family:ui-monospace,monospace}
.pass{background:#dafbe1}.fail{background:#ffebe9}.error{background:#fff1e5}
.unsupported{background:#ddf4ff}.skipped{background:#eaeef2}
.changed{font-weight:700;outline:2px solid #bf8700;outline-offset:-3px}
"""


def html(grid: Grid) -> str:
    head = "".join(f"<th>{escaping.escape(v)}</th>" for v in grid.versions)
    body = []
    note = ' title="observations changed from the version before"'
    for check_id, cells in grid.rows:
        tds = "".join(
            f'<td class="{c.verdict or "none"}{" changed" if c.changed else ""}"'
            f'{note if c.changed else ""}>{escaping.escape(str(c))}</td>' for c in cells)
        body.append(f'<tr><td class="id">{escaping.escape(check_id)}</td>{tds}</tr>')
    title = "Conformance matrix: openai-python " + ", ".join(grid.versions)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escaping.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escaping.escape(title)}</h1>",
        f"<p>{MARK} and an outline: the observations changed from the version before.</p>",
        f"<table><thead><tr><th>check</th>{head}</tr></thead><tbody>", *body,
        "</tbody></table></body></html>", ""])
