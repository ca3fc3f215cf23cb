"""Recording cassettes safely: only what passed, only what replays, never a secret.

A live check's exchanges become its cassette only when the check passed. Before anything is
written, the cassette is made stable (request ids become numbered fakes, the same id the same
fake everywhere in it) and scrubbed again, and the secret detectors
(:mod:`conformance.secret_scan`) run over it: a finding refuses the cassette. A cassette is
then written only after every check that replays it passes offline on the new recording, so
recording one check never breaks the others that share its cassette.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .registry import Verdict
from .secret_scan import scan_cassette
from .secrets import Scrubber
from .wire import Cassette, Interaction

if TYPE_CHECKING:
    from .registry import Check

REQUEST_ID_HEADERS = frozenset({"x-request-id", "apim-request-id", "x-ms-request-id",
                                "x-ms-client-request-id", "request-id"})
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


class RecordingRefused(Exception):
    """The cassette still holds a secret after scrubbing; the message lists where (never
    what)."""


def stabilise(cassette: Cassette, scrubber: Scrubber) -> Cassette:
    """Request ids replaced by numbered fakes of the same shape, every text scrubbed again,
    then scanned: raises :class:`RecordingRefused` on any finding."""
    fakes: dict[str, str] = {}
    for interaction in cassette.interactions:
        for name, values in interaction.response.get("headers", {}).items():
            if name.lower() in REQUEST_ID_HEADERS:
                for value in values if isinstance(values, list) else [values]:
                    fakes.setdefault(str(value), _fake(str(value), len(fakes) + 1))
    for interaction in cassette.interactions:
        _rewrite(interaction, fakes, scrubber)
    cassette.metadata = scrubber.obj(cassette.metadata)
    findings = scan_cassette(cassette, cassette.path.name).findings
    if findings:
        raise RecordingRefused(
            "the recording still holds secrets after scrubbing, so it was not written: "
            + "; ".join(f"{f.interaction} {f.location} {f.kind}" for f in findings))
    return cassette


def _fake(value: str, n: int) -> str:
    if _HEX32.fullmatch(value):
        return f"{n:032x}"
    return f"00000000-0000-0000-0000-{n:012x}"


def _rewrite(interaction: Interaction, fakes: Mapping[str, str], scrubber: Scrubber) -> None:
    def text(value: str) -> str:
        for real, fake in fakes.items():
            value = value.replace(real, fake)
        return scrubber.text(value)

    def data(value: bytes) -> bytes:
        for real, fake in fakes.items():
            value = value.replace(real.encode(), fake.encode())
        return scrubber.binary(value)

    request = interaction.request
    request.uri = scrubber.text(request.uri)
    headers = interaction.response.get("headers", {})
    interaction.response["headers"] = {
        scrubber.header_name(name): [_header(name, text(str(v)), scrubber)
               for v in (values if isinstance(values, list) else [values])]
        for name, values in headers.items()}
    status = interaction.response.get("status", {})
    if isinstance(status, dict) and isinstance(status.get("message"), str):
        status["message"] = text(status["message"])
    interaction.body = data(interaction.body)
    # The request body is left as the SDK sent it (replay matches on it); the forwarder has
    # scrubbed it already, and the scan below would refuse a secret in it.


def _header(name: str, value: str, scrubber: Scrubber) -> str:
    """A header value scrubbed with its name as context (``x-ms-tenant-id: GUID``)."""
    line = scrubber.text(f"{name}: {value}")
    return line.split(": ", 1)[1] if line.startswith(f"{name}: ") else value


@dataclass
class Recordings:
    """Cassettes recorded in this run, held back until they are known to replay."""

    root: Path
    pending: dict[str, Cassette] = field(default_factory=dict)  # relative path -> cassette
    recorded_by: dict[str, list[str]] = field(default_factory=dict)

    def add(self, check_id: str, relative: str, cassette: Cassette) -> None:
        self.pending[relative] = cassette  # a later recording of a shared cassette wins
        self.recorded_by.setdefault(relative, []).append(check_id)

    def keep(self, check: Check, verdict: Verdict, sdk: str, cassette: Cassette | None,
             scrubber: Scrubber) -> str | None:
        """After a live check of a record run: its exchanges (``cassette``, unsaved) held back
        as its cassette when it passed on Python (the SDK whose run records), made stable and
        scanned first (:func:`stabilise`). Returns why the recording is refused (a secret
        left in it: the check becomes an error, :func:`conformance.verdicts.
        recording_refused`), or None."""
        if verdict is not Verdict.PASS or cassette is None or sdk != "python":
            return None
        try:
            stabilise(cassette, scrubber)
        except RecordingRefused as exc:
            return str(exc)
        self.add(check.id, check.cassette or "", cassette)
        return None

    def settle(self, sharers: Mapping[str, Iterable[str]]) -> dict[str, str | None]:
        """Replay every check that uses each pending cassette against the new recordings;
        write the cassettes all of whose checks pass. Returns relative path -> None (written)
        or why it was not written."""
        if not self.pending:
            return {}
        with tempfile.TemporaryDirectory(prefix="aoai-recorded-") as scratch:
            trial = Path(scratch) / "cassettes"
            for relative, cassette in self.pending.items():
                Cassette(trial / relative, cassette.interactions, cassette.metadata).save()
            ids = sorted({i for relative in self.pending for i in sharers.get(relative, ())})
            verdicts = replay(trial, ids, Path(scratch) / "report")
        outcome: dict[str, str | None] = {}
        for relative, cassette in self.pending.items():
            broken = []
            for check_id in sorted(sharers.get(relative, ())):
                verdict, message = verdicts.get(check_id, ("error", "it did not run"))
                if verdict not in ("pass", "unsupported", "skipped"):
                    first = message.splitlines()[0] if message else ""
                    broken.append(f"{check_id} {verdict}: {first}")
            if broken:
                outcome[relative] = ("not written: replaying the new recording, "
                                     + "; ".join(broken))
                continue
            target = self.root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            Cassette(target, cassette.interactions, cassette.metadata).save()
            outcome[relative] = None
        return outcome


def replay(cassettes: Path, ids: Iterable[str], report: Path) -> dict[str, tuple[str, str]]:
    """Run ``ids`` offline against ``cassettes`` in a fresh process (the same interpreter and
    SDK); check id -> (verdict, message)."""
    ids = list(ids)
    if not ids:
        return {}
    command = [sys.executable, "-m", "conformance", "run", "--cassettes", str(cassettes),
               "--report-dir", str(report), *[a for i in ids for a in ("--check", i)]]
    subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    try:
        data = json.loads((report / "results.json").read_text())
    except (OSError, ValueError):
        return {}
    finally:
        shutil.rmtree(report, ignore_errors=True)
    return {c["id"]: (c["verdict"], c.get("message") or "") for c in data.get("checks", [])}
