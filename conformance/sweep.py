"""The release sweep: the offline run on a spread of openai-python releases, as one table.

``nox -s sweep`` runs ``aoai-conformance run`` once per release of :data:`RELEASES` (each
into ``conformance-report/sweep/openai-X/``), then renders every ``results.json`` as a Markdown
table of checks x releases::

    python -m conformance.sweep releases                   # the spread, one version a line
    python -m conformance.sweep render --out sweep.md DIR...

``render`` exits 1 when any check ended in ``error`` (the harness broke on some release), else 0:
``fail`` and ``unsupported`` are verdicts about the releases, not about the sweep.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from .registry import Verdict
from .results import FILENAME, Results
from .sdk import parse_version

# One release per minor series in which something the checks see changed (the first release
# with it, or the last one without), from 1.0.0 to the pinned default:
# conformance.sdk.CAPABILITIES and the per-release ranges of conformance.policy name the changes.
RELEASES: tuple[tuple[str, str], ...] = (
    ("1.0.0", "the first 1.x: integer Retry-After, backoff one retry ahead, no err.body"),
    ("1.1.0", "tools="),
    ("1.2.2", "err.code/param/type from the error object"),
    ("1.3.7", "fractional Retry-After"),
    ("1.3.8", "err.body"),
    ("1.6.0", "stream errors spelled 'occurred'"),
    ("1.9.0", "retry-after-ms"),
    ("1.10.0", "embeddings dimensions="),
    ("1.13.4", "a stream error carries the error's message"),
    ("1.16.2", "SSE lines split on CR/LF bytes (U+2028 is data)"),
    ("1.17.0", "openai.DefaultHttpxClient"),
    ("1.19.0", "err.request_id"),
    ("1.26.0", "stream_options="),
    ("1.40.0", "client.beta.chat.completions.stream()"),
    ("1.45.1", "the last without _request_id"),
    ("1.46.0", "_request_id on parsed objects"),
    ("1.47.0", "backoff from 0.5 s; x-stainless-retry-count on retries"),
    ("1.48.0", "x-stainless-retry-count on every attempt"),
    ("1.55.2", "the last that needs httpx<0.28"),
    ("1.58.0", "reasoning_effort="),
    ("1.62.0", "base64 embeddings by default"),
    ("1.66.0", "client.responses"),
    ("1.66.2", "reasoning summary items"),
    ("1.66.5", "Responses streaming events"),
    ("1.74.0", "the stream helper skips Azure's filter chunks"),
    ("1.76.0", "the retry loop without recursion"),
    ("1.80.0", "MCP tool and items"),
    ("1.92.0", "client.chat.completions.stream()"),
    ("1.97.2", "Responses error events"),
    ("1.106.0", "callable api_key"),
    ("1.109.1", "the last 1.x"),
    ("2.0.0", "the first 2.x"),
    ("2.51.0", "the last 60 s Retry-After window"),
    ("2.52.0", "Retry-After over 120 s stops the retries"),
    ("2.54.0", "the last 2.x (httpx)"),
    ("3.0.0", "httpx2"),
    ("3.9.0", "a Retry-After overflow counts as too long"),
    ("3.14.0", "str error codes; wrapped mid-stream errors"),
    ("3.57.0", "the pinned default (noxfile SDK_DEFAULT)"),
)

CELL = {
    Verdict.PASS: "pass",
    Verdict.FAIL: "**FAIL**",
    Verdict.UNSUPPORTED: "n/a",
    Verdict.SKIPPED: "skip",
    Verdict.ERROR: "**ERROR**",
}
_INSTALLED = re.compile(r";? ?installed \S+$")


def load(directories: Sequence[Path]) -> list[Results]:
    """Each directory's ``results.json`` (or the file itself), oldest release first."""
    runs = [Results.load(d / FILENAME if d.is_dir() else d) for d in directories]
    return sorted(runs, key=lambda r: parse_version(r.sdk_info.get("version", "0")))


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def _reason(message: str, width: int = 400) -> str:
    """A failure's reason on one line: its first line, and the next when the first only
    introduces it (ends with a colon)."""
    lines = message.strip().splitlines()
    text = " ".join(lines[:2]) if lines and lines[0].endswith(":") else _first_line(message)
    return text if len(text) <= width else text[: width - 1] + "…"


def render(runs: Sequence[Results]) -> str:
    """The checks x releases table, the verdict counts per release, every failure and error
    with its reason, and why checks were unsupported (with the releases concerned)."""
    versions = [r.sdk_info.get("version", "?") for r in runs]
    ids = sorted({c.id for r in runs for c in r.checks})
    verdicts = [{c.id: c for c in r.checks} for r in runs]
    lines = [
        "# Conformance sweep: checks x openai-python releases",
        "",
        f"{len(runs)} releases, {versions[0] if runs else '-'} to "
        f"{versions[-1] if runs else '-'}; offline run (packaged cassettes). "
        "n/a = unsupported (the release lacks the feature).",
        "",
        "| check | " + " | ".join(versions) + " |",
        "|---|" + "---|" * len(versions),
    ]
    for check_id in ids:
        cells = [CELL[v[check_id].verdict] if check_id in v else "" for v in verdicts]
        lines.append(f"| {check_id} | " + " | ".join(cells) + " |")
    for verdict in Verdict:
        counts = [str(r.summary.get(verdict.value, 0)) for r in runs]
        lines.append(f"| **{verdict.value}** | " + " | ".join(counts) + " |")
    problems = [(version, c) for version, r in zip(versions, runs, strict=True)
                for c in r.checks if c.verdict in (Verdict.FAIL, Verdict.ERROR)]
    lines += ["", "## Failures and errors", ""]
    lines += [f"- openai {version}, `{c.id}` ({c.verdict.value}): {_reason(c.message)}"
              for version, c in problems] or ["None."]
    reasons: dict[str, list[str]] = {}
    for version, r in zip(versions, runs, strict=True):
        for c in r.checks:
            if c.verdict is Verdict.UNSUPPORTED:
                reason = _INSTALLED.sub("", _first_line(c.message))
                if version not in reasons.setdefault(reason, []):
                    reasons[reason].append(version)
    lines += ["", "## Why checks were unsupported", ""]
    lines += [f"- {reason} (releases: {', '.join(found)})"
              for reason, found in reasons.items()] or ["Nothing was unsupported."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("releases", help="print the releases of the sweep, one a line")
    table = commands.add_parser("render", help="render report directories as one table")
    table.add_argument("reports", nargs="+", type=Path, help="report directories or files")
    table.add_argument("--out", type=Path, help="write the table here (default: stdout)")
    args = parser.parse_args(argv)
    if args.command == "releases":
        print("\n".join(version for version, _ in RELEASES))
        return 0
    try:
        runs = load(args.reports)
    except (OSError, ValueError, KeyError) as exc:
        print(f"sweep: cannot read the reports: {exc}", file=sys.stderr)
        return 2
    text = render(runs)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"sweep: {len(runs)} releases -> {args.out}")
    else:
        sys.stdout.write(text)
    errors = sum(r.summary.get(Verdict.ERROR.value, 0) for r in runs)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
