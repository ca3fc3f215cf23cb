"""The recordings of a record run as an event handler (:mod:`conformance.events`).

:class:`RecordingSettler` hears :class:`~conformance.events.RunFinished` before the results
(:class:`~conformance.run_results.RunResults`) do: it writes each cassette held back during the
run (:class:`conformance.recording.Recordings`) once every check sharing it replays it, prints
what was and was not written, and leaves that for the results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .events import Event, RunFinished
from .interruption import Interrupted
from .recording import Recordings
from .results import CheckResult


@dataclass
class RecordingSettler:
    """The recordings as an event handler (:mod:`conformance.events`): when the run finishes,
    each held-back cassette is written once every check sharing it replays it (an interrupted
    run writes none); what was not recorded, and why, is printed, and a passing check whose
    recording was not written becomes an error (:func:`conformance.verdicts.recorded`).
    Leaves ``recorded`` (cassette -> None, written, or why not) for the results."""

    recordings: Recordings
    rows: dict[tuple[str, str], CheckResult]  # the run's results (RunResults.rows)

    def on_event(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            event.notes["recorded"] = self.settle(event.interrupted, event.terminal)

    def settle(self, interrupted: Interrupted | None, terminal: Any) -> dict[str, str | None]:
        from .registry import REGISTRY
        from .verdicts import recorded as after_recording

        recordings = self.recordings
        if interrupted is not None:
            # An interrupted recording is unfinished: nothing of it is written.
            terminal.write_line(
                f"record: {interrupted}: no cassette written"
                + (f" ({len(recordings.pending)} recording(s) discarded)"
                   if recordings.pending else ""))
            recordings.pending.clear()
            return {}
        sharers = {relative: [c.id for c in REGISTRY.values() if c.cassette == relative]
                   for relative in recordings.pending}
        settled = recordings.settle(sharers) if recordings.pending else {}
        recorded = dict(settled)
        for (check_id, sdk), unrecorded in sorted(self.rows.items()):
            if (sdk != "python" or unrecorded.cassette is None
                    or unrecorded.cassette in recorded):
                continue  # what was not recorded, and why
            why = " ".join(unrecorded.message.split())[:300] or "no exchange to record"
            recorded.setdefault(unrecorded.cassette, f"not written: {check_id} "
                                f"{unrecorded.verdict.value} ({why})")
        for relative, problem in sorted(recorded.items()):
            terminal.write_line(
                f"record: {relative}: " + (problem or "written (replayed by "
                                           + ", ".join(sorted(sharers[relative])) + ")"))
        written = sum(1 for problem in recorded.values() if problem is None)
        terminal.write_line(f"record: {written} cassette(s) written, "
                            f"{len(recorded) - written} not written")
        for relative, problem in settled.items():
            for check_id in recordings.recorded_by[relative]:
                row = self.rows.get((check_id, "python"))
                if row is None:
                    continue
                row.observations["recording"] = problem or "written"
                row.verdict, row.message = after_recording(row.verdict, row.message, problem)
        return recorded
