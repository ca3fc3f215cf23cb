"""Interrupted runs: SIGINT and SIGTERM end a run; they never become verdicts.

Under :func:`interruptible` both signals raise a :class:`KeyboardInterrupt` in the main thread
(SIGTERM as its subclass :class:`Terminated`) and the signal is remembered: pytest stops at the
check that was running, which gets no verdict; the checks that finished are reported with
``interrupted`` (:class:`Interrupted`: which signal, after how many of how many checks), and
the command exits :data:`EXIT_SIGINT` (130) or :data:`EXIT_SIGTERM` (143), never 0 or 1.
Driver processes run in sessions of their own (:mod:`conformance.drivers.process`), so a
terminal's Ctrl-C reaches the harness alone, which closes them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType
from typing import Any

EXIT_SIGINT, EXIT_SIGTERM = 130, 143
_EXITS = {"SIGINT": EXIT_SIGINT, "SIGTERM": EXIT_SIGTERM}


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread was (as SIGINT raises KeyboardInterrupt)."""


# The signal that interrupted this process under interruptible(), if one did.
_received: list[str] = []


def received() -> str | None:
    """``SIGINT`` or ``SIGTERM`` when one arrived under :func:`interruptible`, else None."""
    return _received[-1] if _received else None


def _raise(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    _received.append(name)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """For the block, SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated`, and
    either is remembered (:func:`received`). Outside the main thread it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, _raise)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def signal_of(exc: BaseException) -> str:
    """The signal a KeyboardInterrupt stands for."""
    return "SIGTERM" if isinstance(exc, Terminated) else (received() or "SIGINT")


def exit_status(name: str | None = None) -> int:
    """130 for SIGINT, 143 for SIGTERM (``name``, else the signal received, else SIGINT)."""
    return _EXITS.get(name or received() or "SIGINT", EXIT_SIGINT)


def raise_for(returncode: int) -> None:
    """A child run that exited 130 or 143 was interrupted: so is this one."""
    if returncode == EXIT_SIGTERM:
        raise Terminated()
    if returncode == EXIT_SIGINT:
        raise KeyboardInterrupt()


@dataclass(frozen=True)
class Interrupted:
    """A run that a signal ended: ``after`` checks finished of the ``of`` selected."""

    signal: str
    after: int
    of: int

    def __str__(self) -> str:
        return f"interrupted ({self.signal}) after {self.after} of {self.of} checks"

    def as_dict(self) -> dict[str, Any]:
        return {"signal": self.signal, "after": self.after, "of": self.of}

    @classmethod
    def from_dict(cls, data: object) -> Interrupted | None:
        """None for None; ValueError for anything but ``{signal, after, of}``."""
        if data is None:
            return None
        if (not isinstance(data, dict) or not isinstance(data.get("signal"), str)
                or not all(isinstance(data.get(k), int) and not isinstance(data.get(k), bool)
                           and data[k] >= 0 for k in ("after", "of"))):
            raise ValueError("'interrupted' must be {signal: string, after: int, of: int}")
        return cls(data["signal"], data["after"], data["of"])


__all__ = [
    "EXIT_SIGINT",
    "EXIT_SIGTERM",
    "Interrupted",
    "Terminated",
    "exit_status",
    "interruptible",
    "raise_for",
    "received",
    "signal_of",
]
