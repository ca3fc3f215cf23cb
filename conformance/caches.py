"""The shared caches on disk (the SDK environments, the driver builds): a lock per entry,
build steps under a deadline that end their whole process group, and scratch folders that
never outlive the build that made them.

An entry is built while its lock is held: an exclusive ``fcntl.flock`` on ``<entry>.lock``
next to it. Two runs on one machine (two gates on one ``--env-dir``, CI jobs sharing a cache)
therefore build an entry once; the second waits, then finds it finished, and neither ever
removes the other's work. A build's scratch folder, ``<entry>.tmp-XXXXXXXX``, is made only
under that lock, so whoever holds the lock may remove every scratch folder of the entry it
finds (:func:`sweep`): they were left by a build that was killed.

A build step (:func:`run_step`) runs in a session of its own, so a terminal's Ctrl-C reaches
only this process, which decides: on a deadline or an interrupt the step's whole process group
is ended (``npm ci`` and its children, ``mvn`` and its JVM), never left running.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

LOCK_SUFFIX = ".lock"
SCRATCH_INFIX = ".tmp-"
# How long a build step may take unless the caller's deadline is sooner: a cold Go or Java
# build takes minutes on a busy machine.
BUILD_TIMEOUT_VARIABLE = "AOAI_CONFORMANCE_BUILD_TIMEOUT"
DEFAULT_BUILD_TIMEOUT_S = 1200.0
# After SIGTERM, a step's process group has this long to exit before SIGKILL.
TERMINATE_GRACE_S = 5.0


class StepTimedOut(Exception):
    """A build step did not finish by its deadline; its process group was ended."""

    def __init__(self, command: Sequence[str], seconds: float, output: str) -> None:
        self.command = list(command)
        self.seconds = seconds
        self.output = output
        super().__init__(f"{' '.join(command)} did not finish within {seconds:.0f} s "
                         "(it was stopped)")


def build_timeout() -> float:
    """``$AOAI_CONFORMANCE_BUILD_TIMEOUT`` seconds, else :data:`DEFAULT_BUILD_TIMEOUT_S`."""
    text = os.environ.get(BUILD_TIMEOUT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_BUILD_TIMEOUT_S
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"{BUILD_TIMEOUT_VARIABLE}={text!r} is not a positive number of "
                         "seconds")
    return seconds


def deadline(limit: float | None = None) -> float:
    """The monotonic time a build started now must end by: :func:`build_timeout` from now,
    or ``limit`` (a monotonic deadline, such as the run's) when that is sooner."""
    own = time.monotonic() + build_timeout()
    return own if limit is None else min(own, limit)


@contextlib.contextmanager
def locked(entry: Path, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold ``entry``'s lock (``<entry>.lock``) for the block; says so when another process
    holds it and this one waits."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    lock = entry.with_name(entry.name + LOCK_SUFFIX)
    with open(lock, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if say is not None:
                say(f"aoai-conformance: waiting for another run that is building {entry}")
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def scratch(entry: Path) -> Path:
    """A new scratch folder for building ``entry``, beside it (same file system, so it can be
    renamed into place). Make one only while holding ``entry``'s lock."""
    return Path(tempfile.mkdtemp(prefix=entry.name + SCRATCH_INFIX, dir=entry.parent))


def sweep(root: Path, held: Path | None = None) -> list[Path]:
    """Remove the scratch folders under ``root`` that no build is using (their entry's lock
    is free, so the build that made them is gone; ``held`` is an entry whose lock this
    process holds); returns what was removed."""
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for folder in sorted(root.glob(f"*{SCRATCH_INFIX}*")):
        name = folder.name.rsplit(SCRATCH_INFIX, 1)[0]
        lock = root / (name + LOCK_SUFFIX)
        if not folder.is_dir() or not lock.exists():
            continue
        if held is not None and name == held.name:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            continue
        with open(lock, "a+b") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # being built right now
            try:
                if folder.exists():
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return removed


def run_step(
    command: Sequence[str],
    *,
    until: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run one build step to completion by the monotonic deadline ``until``, in a session of
    its own. On the deadline, an interrupt or any other exception its whole process group is
    terminated (SIGTERM, then SIGKILL after :data:`TERMINATE_GRACE_S`): nothing it started
    keeps running. Raises :class:`StepTimedOut` on the deadline."""
    remaining = until - time.monotonic()
    if remaining <= 0:
        raise StepTimedOut(command, 0.0, "")
    started = time.monotonic()
    process = subprocess.Popen(
        list(command), cwd=cwd, env=dict(env) if env is not None else None,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=remaining)
    except subprocess.TimeoutExpired:
        end_group(process)
        out, err = _leftover(process)
        raise StepTimedOut(command, time.monotonic() - started, out + err) from None
    except BaseException:
        end_group(process)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        raise
    return subprocess.CompletedProcess(list(command), process.returncode, out, err)


def end_group(process: subprocess.Popen[str]) -> None:
    """Terminate the process group ``process`` leads (it was started in a session of its
    own), then kill what is left of it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=TERMINATE_GRACE_S)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # children that outlived their leader
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=TERMINATE_GRACE_S)


def _leftover(process: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        out, err = process.communicate(timeout=TERMINATE_GRACE_S)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        return "", ""
    return out or "", err or ""


def manifest(folder: Path, *, skip: Sequence[str] = ()) -> dict[str, str]:
    """Every file under ``folder`` (paths relative to it, ``/``-separated, ``skip`` left out)
    as ``SIZE:SHA256`` (a symbolic link as ``link:TARGET``): what a finished build held, to
    tell later whether it still does."""
    found: dict[str, str] = {}
    for path in _files(folder):
        relative = path.relative_to(folder).as_posix()
        if relative not in skip:
            found[relative] = ("link:" + os.readlink(path) if path.is_symlink()
                               else _digest(path))
    return found


def damage(folder: Path, expected: Mapping[str, str], *, deep: bool = False) -> list[str]:
    """How ``folder`` differs from its :func:`manifest` ``expected``: the files missing,
    changed in size (or, ``deep``, in content) or in what a link points to. A file added
    since is no damage (a runtime may keep a cache of its own). Without ``deep`` only sizes
    are compared: a stat per file, fast enough for every use of a large entry."""
    problems: list[str] = []
    for relative, want in sorted(expected.items()):
        path = folder / relative
        try:
            if want.startswith("link:"):
                same = path.is_symlink() and "link:" + os.readlink(path) == want
            elif deep:
                same = not path.is_symlink() and _digest(path) == want
            else:
                info = path.lstat()
                same = stat.S_ISREG(info.st_mode) and want.split(":", 1)[0] == str(info.st_size)
        except OSError:
            problems.append(f"{relative} is missing")
            continue
        if not same:
            problems.append(f"{relative} has changed")
    return problems


def _files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, directories, files in os.walk(folder):
        found.extend(Path(root) / name for name in files)
        found.extend(Path(root) / name for name in directories
                     if (Path(root) / name).is_symlink())
    return sorted(found)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{path.stat().st_size}:{digest.hexdigest()}"


__all__ = [
    "BUILD_TIMEOUT_VARIABLE",
    "DEFAULT_BUILD_TIMEOUT_S",
    "StepTimedOut",
    "build_timeout",
    "damage",
    "deadline",
    "end_group",
    "locked",
    "manifest",
    "run_step",
    "scratch",
    "sweep",
]
