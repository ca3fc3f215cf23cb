"""Shared fixtures for the suite's own tests.

``suite`` runs packaged checks in-process (through ``pytester``) against a private copy of the
cassettes, which a test may break first; it returns the verdicts from results.json. That is
how tests show a check failing against a misbehaving server. A misbehaving *SDK* is the same
with ``monkeypatch`` applied to ``openai`` before ``suite.run``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Imported once here so that in-process suite runs (pytester restores sys.modules after each)
# do not import the SDK and azure-identity again every time.
import azure.identity  # noqa: F401
import openai
import openai.resources.chat  # patched by mutants: must outlive each inner run
import openai.resources.embeddings  # noqa: F401
import pytest

# httpx2 imports httpcore2 only when its first transport is built. Imported inside an in-process
# run it would be dropped afterwards and imported anew by the next run, whose transport errors
# (new classes) httpx2 then no longer maps: ReadError escapes the SDK. (openai < 3.0 uses httpx,
# which imports httpcore eagerly.)
with contextlib.suppress(ImportError):
    import httpcore2  # noqa: F401

import conformance
from conformance import paths
from conformance.drivers.build import cache_root
from conformance.registry import Verdict
from conformance.results import CheckResult, Results
from conformance.wire import Cassette, Interaction

# The pytest plugin imports its heavy half (harness, wire, drivers, reports) on first use. A
# module first imported inside an in-process run is dropped when the run ends, and a test that
# patched the package's copy would then patch one the next run no longer uses: every module of
# the package (the suites aside, which collection imports) is imported once, here.
for _module in pkgutil.walk_packages(conformance.__path__, "conformance."):
    if not _module.name.startswith("conformance.suites") and _module.name != "conformance.__main__":
        importlib.import_module(_module.name)

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    pass
else:
    # `ci`: fast and derandomized, for every run. `deep`: exploration, run on demand
    # (nox -s fuzz). A failure `deep` finds is pinned with @example in the test.
    settings.register_profile(
        "ci",
        settings.get_profile("ci"),
        max_examples=200,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.register_profile("deep", max_examples=5000, deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass
class SuiteRun:
    results: Results
    outcome: pytest.RunResult

    def result(self, check_id: str, sdk: str = "python") -> CheckResult:
        for check in self.results.checks:
            if check.id == check_id and check.sdk == sdk:
                return check
        raise KeyError(f"{check_id} did not run for {sdk}; ran "
                       f"{[c.label for c in self.results.checks]}")

    def verdict(self, check_id: str, sdk: str = "python") -> Verdict:
        return self.result(check_id, sdk).verdict

    def message(self, check_id: str, sdk: str = "python") -> str:
        return self.result(check_id, sdk).message


class Suite:
    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.cassettes = pytester.path / "cassettes"
        shutil.copytree(paths.cassette_root(), self.cassettes)

    def cassette(self, name: str) -> Cassette:
        """Load this run's copy of a packaged cassette, to break it and ``save()``."""
        return Cassette.load(self.cassettes / name)

    def edit(self, name: str, change: Callable[[list[Interaction]], Any]) -> None:
        """Apply ``change`` to the interactions of a cassette copy and save it."""
        cassette = self.cassette(name)
        change(cassette.interactions)
        cassette.save()

    def edit_json(self, name: str, index: int, change: Callable[[Any], object]) -> None:
        """Edit, in place, the JSON response body of interaction ``index``. What ``change``
        returns is ignored (so ``lambda body: body.pop("usage")`` does what it says); to
        replace a body wholesale use :meth:`edit`."""

        def apply(interactions: list[Interaction]) -> None:
            body = interactions[index].response_json()
            change(body)
            interactions[index].set_response_json(body)

        self.edit(name, apply)

    def run(self, *check_ids: str, args: tuple[str, ...] = ()) -> SuiteRun:
        report = self.pytester.path / "report"
        outcome = self.pytester.runpytest_inprocess(
            "--pyargs", "conformance.suites",
            "-p", "no:cacheprovider",
            f"--conformance-cassettes={self.cassettes}",
            f"--conformance-report-dir={report}",
            *[f"--conformance-check={c}" for c in check_ids],
            *args,
        )
        results_file = report / "results.json"
        if not results_file.exists():
            raise AssertionError(f"no results.json; pytest said:\n{outcome.stdout.str()}")
        return SuiteRun(Results.load(results_file), outcome)


# pytester points HOME at a scratch directory; the drivers' build cache stays the real one, so
# a suite run that drives javascript, go or java reuses the builds instead of building cold.
DRIVER_CACHE = cache_root().parent


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Suite:
    monkeypatch.setenv("AOAI_CONFORMANCE_CACHE", str(DRIVER_CACHE))
    return Suite(pytester)


@pytest.fixture
def reference() -> Path:
    """The reference examples (payloads with provenance, see its README)."""
    return Path(__file__).parent / "corpus" / "reference"
