"""Sessions people and CI run: ``nox -s tests``, ``nox -s conformance -- openai==2.54.0``.

The SDK version is the dimension that matters. Every session installs one pinned ``openai``
(``SDK_DEFAULT`` unless a pin is given), so a run says exactly which SDK it judged.
"""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "conformance"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

SDK_DEFAULT = "openai==3.57.0"
# The on-demand matrix: the first 1.x with callable api_key and the last 1.x, the last httpx
# 2.x, the first and the latest httpx2 3.x, and one 1.x from before callable api_key.
SDK_MATRIX = ["1.50.0", "1.106.0", "1.109.1", "2.54.0", "3.0.0", "3.57.0"]


def _sdk_requirements(pin: str) -> list[str]:
    """``openai==X`` plus what that version needs to import at all."""
    match = re.fullmatch(r"openai==(\d+)\.(\d+)\.(\d+)", pin)
    if match and tuple(map(int, match.groups())) <= (1, 55, 2):
        return [pin, "httpx<0.28"]  # these versions pass `proxies=` to httpx
    return [pin]


def _split_pins(posargs: list[str]) -> tuple[str, list[str]]:
    pins = [a for a in posargs if a.startswith("openai")]
    rest = [a for a in posargs if not a.startswith("openai")]
    if len(pins) > 1:
        raise ValueError(f"one SDK pin per session, got {pins}")
    return (pins[0] if pins else SDK_DEFAULT), rest


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The suite's own tests (pytest args after --; an openai==X pin is honoured too)."""
    pin, args = _split_pins(session.posargs)
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"),
                    *_sdk_requirements(pin))
    session.run("pytest", *args)


@nox.session(python="3.11")
def conformance(session: nox.Session) -> None:
    """The offline conformance run. ``-- openai==2.54.0`` picks the SDK; other args go to
    ``aoai-conformance run``."""
    pin, args = _split_pins(session.posargs)
    session.install(".", *_sdk_requirements(pin))
    session.run("aoai-conformance", "run", *args)


@nox.session(python="3.11", default=False)
@nox.parametrize("sdk", SDK_MATRIX, ids=[f"openai-{v}" for v in SDK_MATRIX])
def matrix(session: nox.Session, sdk: str) -> None:
    """The conformance run under each SDK of the matrix (on demand; results per version)."""
    session.install(".", *_sdk_requirements(f"openai=={sdk}"))
    session.run("aoai-conformance", "run", f"--report-dir=conformance-report/openai-{sdk}",
                *session.posargs, success_codes=[0, 1])


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict on conformance/."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "lint"),
                    *_sdk_requirements(SDK_DEFAULT))
    session.run("ruff", "check", "conformance", "tests", "scripts", "noxfile.py")
    session.run("mypy")


@nox.session(python="3.11", default=False)
def cassettes(session: nox.Session) -> None:
    """The constructed cassettes are up to date with their builders."""
    session.install("-e", ".", *_sdk_requirements(SDK_DEFAULT))
    session.run("python", "scripts/construct_cassettes.py", "--check")
