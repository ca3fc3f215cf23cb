"""Run a nox session with nothing but python3 installed.

    python3 dev.py run     # the offline conformance run (nox -s conformance)
    python3 dev.py test    # the suite's own tests (nox -s tests)
    python3 dev.py SESSION [ARGS...]   # any nox session; ARGS go after --
    python3 dev.py SESSION -- ARGS     # the same (nox's own form)
    python3 dev.py -R test             # nox options first: reuse the environment, no installs

The first call makes ``.venv-dev/`` with nox and uv in it (pinned below); nox then builds
each session's own environment under ``.nox/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".venv-dev"
REQUIREMENTS = ["nox==2026.10.20", "uv==0.13.9"]
ALIASES = {"run": "conformance", "test": "tests"}


def _bin(name: str) -> Path:
    return TOOLS / ("Scripts" if os.name == "nt" else "bin") / name


def _bootstrap() -> None:
    stamp = TOOLS / "requirements.txt"
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print(f"dev.py: installing {', '.join(REQUIREMENTS)} into {TOOLS.name}/", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    pip = [str(_bin("python")), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, *REQUIREMENTS], check=True)
    stamp.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    # nox's own options come first: `dev.py --install-only test`, `dev.py -R test` (reuse the
    # session's environment, install nothing: works without a network).
    options = []
    while len(argv) > 1 and argv[0].startswith("-"):
        options.append(argv.pop(0))
    session, args = ALIASES.get(argv[0], argv[0]), argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]  # `dev.py sweep -- 1.0.0`: the `--` nox needs is added below
    _bootstrap()
    env = dict(os.environ, PATH=f"{_bin('python').parent}{os.pathsep}{os.environ['PATH']}")
    command = [str(_bin("nox")), "-f", str(ROOT / "noxfile.py"), *options, "-s", session]
    if args:
        command += ["--", *args]
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
