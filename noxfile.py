"""Sessions people and CI run: ``nox -s tests``, ``nox -s conformance -- openai==2.54.0``.

The SDK version is the dimension that matters. Every session installs one pinned ``openai``
(``SDK_DEFAULT`` unless a pin is given), so a run says exactly which SDK it judged.
"""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
# Sessions use the interpreter nox runs under (python3 via dev.py): nothing to download.
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests", "conformance"]

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")

SDK_DEFAULT = "openai==3.57.0"
# The on-demand matrix: versions where a checked feature appears (sdk.FEATURES: Responses
# streaming 1.66.5, MCP 1.80.0, the chat stream helper 1.92.0, typed error events 1.98.0,
# callable api_key 1.106.0, the >120 s retry-after refusal 2.52.0, httpx2 3.0.0, str error
# codes and wrapped stream errors 3.14.0), one version before all of them, the last of each
# major, and the pinned default.
SDK_MATRIX = ["1.50.0", "1.66.5", "1.80.0", "1.92.0", "1.98.0", "1.106.0", "1.109.1",
              "2.52.0", "2.54.0", "3.0.0", "3.14.0", "3.57.0"]


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


@nox.session
def tests(session: nox.Session) -> None:
    """The suite's own tests (pytest args after --; an openai==X pin is honoured too)."""
    pin, args = _split_pins(session.posargs)
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"),
                    *_sdk_requirements(pin))
    session.run("pytest", *args)


@nox.session
def conformance(session: nox.Session) -> None:
    """The offline conformance run. ``-- openai==2.54.0`` picks the SDK; other args go to
    ``aoai-conformance run``."""
    pin, args = _split_pins(session.posargs)
    session.install(".", *_sdk_requirements(pin))
    session.run("aoai-conformance", "run", *args)


@nox.session(default=False)
@nox.parametrize("sdk", SDK_MATRIX, ids=[f"openai-{v}" for v in SDK_MATRIX])
def matrix(session: nox.Session, sdk: str) -> None:
    """The conformance run under each SDK of the matrix (on demand; results per version)."""
    session.install(".", *_sdk_requirements(f"openai=={sdk}"))
    session.run("aoai-conformance", "run", f"--report-dir=conformance-report/openai-{sdk}",
                *session.posargs, success_codes=[0, 1])


@nox.session(default=False)
def gate(session: nox.Session) -> None:
    """Gate an SDK upgrade: ``nox -s gate -- openai==BASELINE openai==CANDIDATE`` runs the
    offline conformance under both and fails on a regression (``aoai-conformance diff``)."""
    pins = [a for a in session.posargs if a.startswith("openai==")]
    if len(pins) != 2:
        session.error("give two pins: nox -s gate -- openai==2.54.0 openai==3.57.0")
    reports = []
    for role, pin in zip(("baseline", "candidate"), pins, strict=True):
        session.install(".", *_sdk_requirements(pin))
        report = f"conformance-report/gate-{role}"
        session.run("aoai-conformance", "run", f"--report-dir={report}", success_codes=[0, 1])
        reports.append(report)
    session.run("aoai-conformance", "diff", *reports)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict on conformance/."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "lint"),
                    *_sdk_requirements(SDK_DEFAULT))
    session.run("ruff", "check", "conformance", "tests", "scripts", "noxfile.py")
    session.run("mypy")


@nox.session(default=False)
def fuzz(session: nox.Session) -> None:
    """The retry-policy fuzzers with the deep hypothesis profile (on demand, minutes)."""
    pin, args = _split_pins(session.posargs)
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"),
                    *_sdk_requirements(pin))
    session.run("pytest", "-m", "fuzz", "--hypothesis-show-statistics", *args,
                env={"HYPOTHESIS_PROFILE": "deep"})


@nox.session(default=False)
def cassettes(session: nox.Session) -> None:
    """The cassettes conform to the contract and the constructed ones match their builders."""
    session.install("-e", ".", *_sdk_requirements(SDK_DEFAULT))
    session.run("aoai-conformance", "check-cassettes", "cassettes")
    session.run("python", "scripts/construct_cassettes.py", "--check")
    session.run("python", "scripts/package_recordings.py", "--check")
