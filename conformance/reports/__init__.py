"""The reports of a run, written next to ``results.json`` by every run and regenerable from it
(``aoai-conformance report``): ``report.md`` (for a pull request or ``$GITHUB_STEP_SUMMARY``),
``report.html`` (one self-contained page with filters) and ``junit.xml`` (one testcase per
check, for CI test views).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..results import Results
from ..sdk import DISTRIBUTION, installed
from . import html, junit, markdown

ROOT = "conformance-report"
FILES = {"md": "report.md", "html": "report.html", "junit": "junit.xml"}
FORMATS = tuple(FILES)


def run_name(distribution: str, version: str) -> str:
    """``openai-3.57.0``: the folder of one run, so runs of different SDKs never overwrite each
    other."""
    return f"{distribution}-{version}"


def default_dir() -> Path:
    """``conformance-report/<distribution>-<version>/`` for the installed SDK."""
    return Path(ROOT) / run_name(DISTRIBUTION, installed().version)


def render(fmt: str, runs: Sequence[Results]) -> str:
    if fmt == "md":
        return "\n\n---\n\n".join(markdown.render(run) for run in runs)
    if fmt == "html":
        return html.render(runs)
    if fmt == "junit":
        return junit.render(runs)
    raise ValueError(f"unknown report format {fmt!r}; one of {', '.join(FORMATS)}")


def write(results: Results, directory: Path, formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write the reports of ``results`` into ``directory`` (results.json is not rewritten)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = directory / FILES[fmt]
        path.write_text(render(fmt, [results]), encoding="utf-8")
        written.append(path)
    return written


def write_run(results: Results, directory: Path) -> Path:
    """results.json and every report; returns the path of results.json."""
    path = results.write(directory)
    write(results, directory)
    return path
