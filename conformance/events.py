"""What a conformance run tells the parts that keep its results: a small stream of events.

The pytest plugin (:mod:`conformance.pytest_plugin`) turns pytest's hooks into these events
and emits them; the results and the recordings are handlers that subscribe to the stream, as
schemathesis feeds its report writers. A handler is any object with an ``on_event`` method;
handlers hear each event in the order they subscribed.

- :class:`VerdictReached`: a phase of a check item has a verdict (on the process that reports:
  an xdist controller hears its workers' verdicts);
- :class:`RunFinished`: every verdict is in; the handlers settle (recordings), then write
  (results.json and the reports).

Light on purpose: the plugin imports this at load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .interruption import Interrupted


@dataclass(frozen=True)
class VerdictReached:
    """One phase's verdict, as the plugin put it in the report's user properties: the keys of
    a results.json check row (``id``, ``sdk``, ``sdk_version``, ``phase``, ``verdict``,
    ``message``, ``observations``, ``duration_s``)."""

    data: dict[str, Any]


@dataclass
class RunFinished:
    """The run is over. ``interrupted``: how far it got, when a signal ended it. ``notes``
    carries what the plugin knows for the handlers (``finish``), and what a handler leaves for
    the ones after it (the recordings tell the results which cassettes were written:
    ``recorded``)."""

    interrupted: Interrupted | None = None
    terminal: Any = None  # pytest's terminal reporter, for handlers that print
    notes: dict[str, Any] = field(default_factory=dict)


Event = VerdictReached | RunFinished


class Handler(Protocol):
    def on_event(self, event: Event) -> None: ...


@dataclass
class EventStream:
    """The run's handlers, in subscription order."""

    handlers: list[Handler] = field(default_factory=list)

    def subscribe(self, handler: Handler, *, before: Handler | None = None) -> None:
        """Add ``handler`` last, or just before ``before`` (a handler whose work depends on
        it)."""
        at = self.handlers.index(before) if before is not None else len(self.handlers)
        self.handlers.insert(at, handler)

    def emit(self, event: Event) -> None:
        for handler in self.handlers:
            handler.on_event(event)
