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
# The on-demand matrix: versions where a checked feature appears (sdk.CAPABILITIES: Responses
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
    # One xdist worker per core, unless the args choose (-n 0, -p no:xdist).
    chosen = any(a.startswith(("-n", "--numprocesses")) or a.endswith("no:xdist") for a in args)
    workers = [] if chosen else ["-n", "auto", "--dist", "loadgroup"]
    if "-m" in args or not _loopback_only_works():  # the caller picks the tests, or no unshare
        session.run("pytest", *workers, *args)
        return
    # Every test but those that install from a registry runs with nothing but loopback (a
    # network namespace of its own: `unshare -rn`), so a test or a driver that reaches outside
    # 127.0.0.1 fails here, on a newcomer's machine as in CI; then the registry ones.
    pytest = str(Path(session.bin) / "pytest")
    session.run("unshare", "-rn", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", pytest,
                *workers, "-m", "not network", *args, external=True)
    session.run("pytest", "-m", "network", *args, success_codes=[0, 5])  # 5: none selected


def _loopback_only_works() -> bool:
    """Whether this machine lets an unprivileged process make a loopback-only namespace."""
    import shutil
    import subprocess

    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up"],
                          capture_output=True).returncode == 0


@nox.session
def conformance(session: nox.Session) -> None:
    """The offline conformance run. ``-- openai==2.54.0`` picks the SDK; other args go to
    ``aoai-conformance run``."""
    pin, args = _split_pins(session.posargs)
    session.install(".", *_sdk_requirements(pin))
    session.run("aoai-conformance", "run", *args)


@nox.session(default=False)
def matrix(session: nox.Session) -> None:
    """Checks x versions: ``aoai-conformance matrix`` over SDK_MATRIX (or the pins given),
    each version in its own cached environment; matrix.md and matrix.html in
    conformance-report/matrix/. Other args go to the command."""
    pins = [a for a in session.posargs if a.startswith("openai==")]
    rest = [a for a in session.posargs if not a.startswith("openai==")]
    session.install(".", *_sdk_requirements(SDK_DEFAULT))
    session.run("aoai-conformance", "matrix", *(pins or [f"openai=={v}" for v in SDK_MATRIX]),
                *rest)


@nox.session(default=False)
def sweep(session: nox.Session) -> None:
    """The offline conformance run under every release of conformance.sweep.RELEASES (1.0.0 to
    the newest), then the checks x releases table: conformance-report/sweep/sweep.md.
    ``-- 1.0.0 1.45.1`` sweeps only those releases."""
    session.install(".")
    listed = session.run("python", "-m", "conformance.sweep", "releases", silent=True)
    releases = session.posargs or str(listed).split()
    reports = []
    for version in releases:
        pin = f"openai=={version}"
        # As a fresh environment would resolve it: httpx<0.28 up to 1.55.2, the newest httpx
        # after (the environment is reused from one release to the next).
        httpx = [] if len(_sdk_requirements(pin)) > 1 else ["httpx>=0.28"]
        session.install(*_sdk_requirements(pin), *httpx)
        report = f"conformance-report/sweep/openai-{version}"
        output = session.run("aoai-conformance", "run", f"--report-dir={report}",
                             success_codes=[0, 1], silent=True)
        summary = [line for line in str(output).splitlines() if " checks: " in line]
        session.log(f"openai {version}: {summary[-1] if summary else 'no summary'}")
        reports.append(report)
    session.run("python", "-m", "conformance.sweep", "render",
                "--out", "conformance-report/sweep/sweep.md", *reports)


@nox.session(default=False)
def gate(session: nox.Session) -> None:
    """Gate an SDK upgrade; everything after -- goes to ``aoai-conformance gate``:
    ``nox -s gate -- --baseline openai==2.54.0 --candidate openai==3.57.0 [--strict]``.
    Two bare pins (``-- openai==A openai==B``) still work."""
    args = list(session.posargs)
    bare = [a for a in args if a.startswith("openai==")]
    if len(bare) == 2 and not any(a.startswith(("--baseline", "--candidate")) for a in args):
        rest = [a for a in args if a not in bare]
        args = ["--baseline", bare[0], "--candidate", bare[1], *rest]
    session.install(".", *_sdk_requirements(SDK_DEFAULT))
    session.run("aoai-conformance", "gate", *args)


@nox.session(default=False)
def bisect(session: nox.Session) -> None:
    """``nox -s bisect -- CHECK_ID --good openai==X --bad openai==Y``: the release where one
    check changes."""
    session.install(".", *_sdk_requirements(SDK_DEFAULT))
    session.run("aoai-conformance", "bisect", *session.posargs)


@nox.session(name="gate-history", default=False)
def gate_history(session: nox.Session) -> None:
    """Score the gate on the real release pairs of benchmarks/gate-history.yaml (two
    environments per pair): ``nox -s gate-history -- --only py-2.52.0 --only py-2.54.0``.
    Writes benchmarks/gate-history-results.json."""
    session.install("-e", ".", *_sdk_requirements(SDK_DEFAULT))
    session.run("python", "benchmarks/gate_history.py", *session.posargs)


@nox.session(name="driver-mutants", default=False)
def driver_mutants(session: nox.Session) -> None:
    """The broken-SDK audit: how many broken JavaScript, Go and Java SDK builds
    (tests/driver_mutants/catalogue.py) the run catches (``-- --sdk go --only go-backoff-removed``;
    about half an hour on 2 cores). Writes benchmarks/driver-mutants-results.json."""
    session.install("-e", ".", *_sdk_requirements(SDK_DEFAULT))
    session.run("python", "benchmarks/driver_mutants.py", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff and mypy --strict on conformance/."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "lint"),
                    *_sdk_requirements(SDK_DEFAULT))
    session.run("ruff", "check", "conformance", "tests", "scripts", "noxfile.py")
    session.run("mypy")


@nox.session(default=False)
def fuzz(session: nox.Session) -> None:
    """The fuzzers (retry policy, cassettes) with the deep hypothesis profile (on demand,
    minutes)."""
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


@nox.session(default=False)
def secrets(session: nox.Session) -> None:
    """No key, token, tenant, subscription, resource host or cookie in any cassette."""
    session.install("-e", ".", *_sdk_requirements(SDK_DEFAULT))
    session.run("aoai-conformance", "scan-secrets", "cassettes", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """The runs people wait on, timed side by side (minutes; on demand, not in CI):
    benchmarks/results.json, results.md and the README's Speed table. Args go to
    benchmarks/bench.py (``-- --only offline --repeat 5``)."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"),
                    *_sdk_requirements(SDK_DEFAULT))
    session.run("python", "benchmarks/bench.py", *session.posargs)
