"""The run's results as an event handler (:mod:`conformance.events`).

:class:`RunResults` keeps one row per check and SDK as the verdicts arrive (a later phase's
verdict replaces an earlier one only as :func:`conformance.verdicts.stands` allows) and, when
the run finishes, builds :class:`~conformance.results.Results`, writes results.json and the
reports, and prints the verdict table.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import verdicts
from .events import Event, RunFinished, VerdictReached
from .interruption import Interrupted
from .registry import REGISTRY, Verdict
from .results import CheckResult, Results
from .secrets import Scrubber


@dataclass
class Finish:
    """What the plugin knows about the run that results.json says (RunFinished.notes)."""

    sdk_info: dict[str, str]
    target: dict[str, Any]  # the target's description (and the live tally)
    record: bool  # a record run: results.json lists the cassettes written and not
    cassettes: str
    sse_chunking: str
    report_dir: Path


@dataclass
class RunResults:
    started: float = field(default_factory=time.time)
    rows: dict[tuple[str, str], CheckResult] = field(default_factory=dict)
    selected: int = 0  # check items the session runs
    interrupted: str | None = None  # the signal that ended the run
    written: Path | None = None

    def on_event(self, event: Event) -> None:
        if isinstance(event, VerdictReached):
            self.add(event.data)
        elif isinstance(event, RunFinished):
            self.finish(event)

    def add(self, data: dict[str, Any]) -> None:
        check = REGISTRY.get(data["id"])
        key = (data["id"], data.get("sdk", "python"))
        previous = self.rows.get(key)
        if previous is not None and verdicts.stands(previous.verdict):
            previous.observations.update(data["observations"])
            return
        self.rows[key] = CheckResult(
            id=data["id"],
            sdk=key[1],
            sdk_version=data.get("sdk_version") or "",
            feature=check.feature if check else data["id"].split(".")[0],
            verdict=Verdict(data["verdict"]),
            message=data["message"],
            observations=data["observations"],
            doc=check.doc if check else "",
            claim=check.claim if check else "",
            cassette=check.cassette if check else None,
            duration_s=data["duration_s"],
        )

    def interruption(self) -> Interrupted | None:
        if self.interrupted is None:
            return None
        return Interrupted(self.interrupted, len(self.rows), max(self.selected, len(self.rows)))

    def results(self, finish: Finish, recorded: dict[str, str | None]) -> Results:
        # Pattern scrubbing again on the controller: secrets a worker could not know about.
        scrubber = Scrubber()
        checks = []
        for row in self.rows.values():
            row.message = scrubber.text(row.message)
            row.observations = scrubber.obj(row.observations)
            checks.append(row)
        return Results(
            sdk_info=finish.sdk_info,
            target={
                **finish.target,
                **({"written": sorted(c for c, p in recorded.items() if p is None),
                    "not_written": {c: p for c, p in sorted(recorded.items()) if p}}
                   if finish.record else {}),
                "cassettes": finish.cassettes,
                "sse_chunking": finish.sse_chunking,
            },
            checks=checks,
            started_at=dt.datetime.fromtimestamp(self.started, dt.timezone.utc).isoformat(
                timespec="seconds"
            ),
            duration_s=time.time() - self.started,
            interrupted=self.interruption(),
        )

    def finish(self, event: RunFinished) -> None:
        from .reports import write_run
        from .table import render

        finish: Finish = event.notes["finish"]
        results = self.results(finish, event.notes.get("recorded", {}))
        self.written = write_run(results, finish.report_dir)
        if event.terminal is not None:
            event.terminal.write_sep("=", "conformance")
            event.terminal.write_line(render(results, report=display_path(self.written)))


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
