"""An environment cache whose builder makes a real virtual environment (``venv``, no pip)
and "installs" a tiny distribution with a real ``RECORD`` into it: the cache's locking,
integrity checks and deadlines under test, without a package index.

Run as a script, it builds (or finds) ``fakesdk==1.0`` under the root given as argument and
prints the environment's Python: two such processes at once are two gates on one cache.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from pathlib import Path

from conformance.environments import Environments, Pin

PIN = Pin("fakesdk", "1.0")


class FakeEnvironments(Environments):
    def steps(self, pin: Pin, where: Path) -> list[list[str]]:
        hang = os.environ.get("FAKE_HANG")
        if hang:  # a package index that accepts and never answers
            return [["/bin/sh", "-c", 'read x < "$FAKE_HANG"']]
        return [[sys.executable, "-m", "venv", "--without-pip", str(where / "venv")],
                [sys.executable, __file__, "install", str(where), pin.distribution,
                 pin.version]]


def install(where: Path, name: str, version: str) -> None:
    log = os.environ.get("FAKE_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(f"install {name}=={version}\n")
    started, release = os.environ.get("FAKE_STARTED"), os.environ.get("FAKE_RELEASE")
    if started and release:
        Path(started).write_text("started\n")  # a FIFO: the test waits for this line
        Path(release).read_text()  # ... and lets the install finish when it writes one
    site = next((where / "venv" / "lib").glob("python*/site-packages"))
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n",
             f"{name}/extra.py": "EXTRA = 1\n",
             f"{name}-{version}.dist-info/METADATA":
                 f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"}
    record = []
    for relative, text in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
        data = text.encode() if not os.environ.get("FAKE_BROKEN") or "extra" not in relative \
            else b"something else"
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{relative},sha256={digest},{len(data)}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    (site / f"{name}-{version}.dist-info" / "RECORD").write_text("\n".join(record) + "\n")


if __name__ == "__main__":
    if sys.argv[1] == "install":
        install(Path(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        print(FakeEnvironments(Path(sys.argv[1])).python(PIN))
