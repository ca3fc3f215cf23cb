"""A driver process: one long-lived SDK driver speaking protocol v2 (docs/driver-protocol.md).

:class:`DriverProcess` starts the driver, reads its hello, sends one scenario at a time and
reads the outcome under a hard per-scenario deadline. Whatever the driver does wrong, malformed
output, a crash, silence, becomes a :class:`DriverError` that carries the tail of the driver's
stderr; the run never hangs. After a crash or a hang the process is killed and the next
scenario starts a fresh one.

Stdout and stderr are drained by two reader threads into a queue and a bounded tail, so a
driver that logs a lot never blocks on a full pipe.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .environment import run_environment
from .outcome import (
    ERROR_KINDS,
    DriverOutcome,
    OutcomeMalformed,
    outcome_problems,
    parse_outcome,
)

PROTOCOL = 2
STDERR_TAIL_LINES = 40
# What the runner adds to a scenario's own deadline_ms before it gives up on the driver: the
# driver must answer a scenario it could not finish by itself ("driver deadline") first.
GRACE_S = 5.0

_EOF = object()  # the reader thread's last word: stdout closed


class DriverError(Exception):
    """The driver failed the protocol: it crashed, hung, or wrote something that is not a
    well-formed answer. A harness problem (an ``error`` verdict), never an SDK ``fail``."""

    def __init__(self, sdk: str, problem: str, stderr_tail: str = "") -> None:
        self.sdk = sdk
        self.problem = problem
        self.stderr_tail = stderr_tail
        text = f"{sdk} driver: {problem}"
        if stderr_tail:
            text += "\n--- driver stderr (tail) ---\n" + stderr_tail
        super().__init__(text)


class ScenarioRejected(Exception):
    """The driver answered ``driver_error``: it could not perform the scenario at all (an
    unknown operation, params that do not fit the SDK's types, an option the SDK lacks)."""

    def __init__(self, sdk: str, message: str, *, unsupported: bool) -> None:
        self.sdk = sdk
        self.message = message
        self.unsupported = unsupported
        super().__init__(f"{sdk} driver could not perform the scenario: {message}")


@dataclass(frozen=True)
class Hello:
    protocol: int
    sdk: str
    sdk_version: str
    runtime: str


@dataclass
class DriverProcess:
    """One driver process. Use it as a context manager, or call :meth:`close`.

    ``command`` starts the driver; ``startup_timeout`` bounds the wait for its hello (a cold JVM
    takes seconds on a busy machine)."""

    sdk: str
    command: Sequence[str]
    cwd: Path | None = None
    # None: :func:`~.environment.run_environment`, never the whole of this process's (it
    # holds AZURE_OPENAI_API_KEY...). Never in a repr, which pytest prints for a failing
    # test's fixtures.
    env: Mapping[str, str] | None = field(default=None, repr=False)
    startup_timeout: float = 60.0
    hello: Hello | None = None
    starts: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _lines: queue.Queue[object] = field(default_factory=queue.Queue, repr=False)
    _stderr: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_TAIL_LINES),
                                repr=False)
    _counter: int = field(default=0, repr=False)
    _stderr_thread: threading.Thread | None = field(default=None, repr=False)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> Hello:
        """Start the driver (if it is not running) and return its hello."""
        if self._process is not None and self._process.poll() is None and self.hello:
            return self.hello
        self._kill()
        self._lines = queue.Queue()
        self._stderr = deque(maxlen=STDERR_TAIL_LINES)
        try:
            process = subprocess.Popen(
                list(self.command), cwd=self.cwd,
                env=dict(self.env) if self.env is not None else run_environment(),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                # A session of its own: a terminal's Ctrl-C (SIGINT to the foreground process
                # group) reaches the harness alone, which ends the run and closes the driver;
                # a driver killed by that signal mid-scenario never becomes a verdict.
                start_new_session=True,
            )
        except OSError as exc:
            raise DriverError(self.sdk, f"cannot start {self.command[0]!r}: {exc}") from exc
        self._process = process
        self.starts += 1
        assert process.stdout is not None
        assert process.stderr is not None
        threading.Thread(target=_pump_lines, args=(process.stdout, self._lines), daemon=True,
                         name=f"driver-stdout:{self.sdk}").start()
        self._stderr_thread = threading.Thread(
            target=_pump_tail, args=(process.stderr, self._stderr), daemon=True,
            name=f"driver-stderr:{self.sdk}")
        self._stderr_thread.start()
        try:
            message = self._read(time.monotonic() + self.startup_timeout, "its hello")
        except DriverError:
            self._kill()
            raise
        self.hello = self._parse_hello(message)
        return self.hello

    def close(self) -> None:
        """Ask the driver to shut down; kill it if it does not exit promptly."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            try:
                self._write({"type": "shutdown"})
                process.wait(timeout=5)
            except (DriverError, subprocess.TimeoutExpired):
                pass
        self._kill()

    def __enter__(self) -> DriverProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- scenarios -----------------------------------------------------------------------------

    def run(
        self, scenario: Mapping[str, Any], *, deadline_s: float | None = None
    ) -> DriverOutcome:
        """Perform one scenario and return its outcome (parsed from the protocol-v2 JSON).

        The hard deadline is ``deadline_s``, by default the scenario's ``deadline_ms`` plus
        :data:`GRACE_S`. Raises :class:`ScenarioRejected` for a ``driver_error`` answer and
        :class:`DriverError` for a crash, a hang or malformed output (the driver is then
        killed; the next call starts a new one)."""
        self.start()
        if deadline_s is None:
            deadline_s = float(scenario.get("deadline_ms", 30_000)) / 1000 + GRACE_S
        self._counter += 1
        run_id = f"{self.starts}-{self._counter}"
        try:
            self._write({"type": "run", "id": run_id, "scenario": dict(scenario)})
            message = self._read(time.monotonic() + deadline_s, f"the outcome of run {run_id}")
            return self._parse_answer(message, run_id)
        except DriverError:
            self._kill()
            raise

    # -- the pipe ------------------------------------------------------------------------------

    def _write(self, message: Mapping[str, Any]) -> None:
        process = self._process
        if process is None or process.stdin is None:
            raise DriverError(self.sdk, "the driver is not running", self._tail())
        try:
            process.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise DriverError(self.sdk, f"the driver stopped reading its input ({exc})",
                              self._tail_after_exit()) from exc

    def _read(self, until: float, waiting_for: str) -> dict[str, Any]:
        while True:
            remaining = until - time.monotonic()
            if remaining <= 0:
                raise DriverError(self.sdk, f"no answer within the deadline while waiting for "
                                  f"{waiting_for} (the driver hangs; it was killed)", self._tail())
            try:
                item = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if item is _EOF:
                raise DriverError(self.sdk, f"the driver exited ({self._exit_status()}) while "
                                  f"waiting for {waiting_for}", self._tail_after_exit())
            assert isinstance(item, bytes)
            line = item.strip()
            if not line:
                continue
            try:
                message = json.loads(line)
            except ValueError:
                raise DriverError(self.sdk, f"malformed output (not a JSON line): "
                                  f"{_clip(line)}", self._tail_after_kill()) from None
            if not isinstance(message, dict):
                raise DriverError(self.sdk, f"malformed output (not a JSON object): "
                                  f"{_clip(line)}", self._tail_after_kill())
            return message

    def _parse_hello(self, message: dict[str, Any]) -> Hello:
        problems = []
        if message.get("type") != "hello":
            problems.append(f"the first line must be a hello, got type {message.get('type')!r}")
        elif message.get("protocol") != PROTOCOL:
            problems.append(f"protocol {message.get('protocol')!r} (this runner speaks "
                            f"{PROTOCOL})")
        elif message.get("sdk") != self.sdk:
            problems.append(f"it says it drives {message.get('sdk')!r}, not {self.sdk!r}")
        for key in ("sdk_version", "runtime"):
            if not isinstance(message.get(key), str):
                problems.append(f"hello.{key} must be a string")
        if problems:
            self._kill()
            raise DriverError(self.sdk, "bad hello: " + "; ".join(problems), self._tail())
        return Hello(PROTOCOL, self.sdk, message["sdk_version"], message["runtime"])

    def _parse_answer(self, message: dict[str, Any], run_id: str) -> DriverOutcome:
        kind = message.get("type")
        if message.get("id") != run_id:
            raise DriverError(self.sdk, f"answer for id {message.get('id')!r}, expected "
                              f"{run_id!r}", self._tail())
        if kind == "driver_error":
            text = message.get("message")
            raise ScenarioRejected(self.sdk, text if isinstance(text, str) else repr(text),
                                   unsupported=message.get("unsupported") is True)
        if kind != "outcome":
            raise DriverError(self.sdk, f"unexpected message type {kind!r}", self._tail())
        try:
            return parse_outcome(message.get("outcome"))
        except OutcomeMalformed as exc:
            raise DriverError(self.sdk, f"malformed outcome: {exc}", self._tail()) from None

    # -- the process ---------------------------------------------------------------------------

    def _kill(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):  # one that ignores SIGKILL
            process.wait(timeout=10)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._process = None
        self.hello = None

    def _exit_status(self) -> str:
        process = self._process
        if process is None:
            return "not running"
        try:
            code = process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "stdout closed, still running"
        return f"exit status {code}"

    def _tail(self) -> str:
        return "\n".join(self._stderr)

    def _tail_after_kill(self) -> str:
        # A driver that wrote garbage is killed anyway; killed first, all it wrote on stderr
        # before the garbage (maybe not yet read) is in the tail.
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        return self._tail_after_exit()

    def _tail_after_exit(self) -> str:
        # The stderr thread may still be draining what the dying driver wrote last.
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=1.0)
        return self._tail()


def _pump_lines(stream: IO[bytes], lines: queue.Queue[object]) -> None:
    try:
        for line in iter(stream.readline, b""):
            lines.put(line)
    except (OSError, ValueError):
        pass
    finally:
        lines.put(_EOF)


def _pump_tail(stream: IO[bytes], tail: deque[str]) -> None:
    try:
        for line in iter(stream.readline, b""):
            tail.append(line.decode("utf-8", "replace").rstrip("\n"))
    except (OSError, ValueError):
        pass


def _clip(line: bytes, limit: int = 200) -> str:
    text = line.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = [
    "ERROR_KINDS",
    "GRACE_S",
    "PROTOCOL",
    "DriverError",
    "DriverProcess",
    "Hello",
    "ScenarioRejected",
    "outcome_problems",
]
