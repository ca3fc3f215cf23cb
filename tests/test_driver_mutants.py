"""The broken-SDK audit's catalogue (tests/driver_mutants/catalogue.py): every category on the
driver SDKs, every edit fits the pinned SDK, and a few representative broken builds are caught,
each by a fail. The whole catalogue is scored by benchmarks/driver_mutants.py (minutes)."""

from __future__ import annotations

import collections
import subprocess
from pathlib import Path

import pytest

from conformance.drivers import DriverUnavailable
from conformance.drivers import build as builder
from conformance.drivers import pool as driver_pool
from conformance.registry import Verdict

from . import driver_mutants
from .conftest import Suite
from .driver_mutants import catalogue

DRIVER_SDKS = ("javascript", "go", "java")


def test_the_catalogue_has_eight_builds_per_sdk_across_every_category():
    ids = [m.id for m in catalogue.CATALOGUE]
    assert len(ids) == len(set(ids))
    per_sdk = collections.Counter(m.sdk for m in catalogue.CATALOGUE)
    assert set(per_sdk) == set(DRIVER_SDKS) and min(per_sdk.values()) >= 8, per_sdk
    assert {m.category for m in catalogue.CATALOGUE} == set(catalogue.CATEGORIES)
    for mutant in catalogue.CATALOGUE:
        assert mutant.id.startswith(f"{mutant.sdk}-") and mutant.sees and mutant.edits


def _sdk_sources(sdk: str) -> Path:
    if sdk == "javascript":
        return builder.build("javascript").directory / "node_modules" / "openai"
    built = builder.build("go")
    cache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                           check=True, env=dict(built.env)).stdout.strip()
    return Path(cache) / f"{driver_mutants.GO_MODULE}@v{built.sdk_version}"


@pytest.mark.drivers
@pytest.mark.parametrize("sdk", ["javascript", "go"])
def test_every_source_edit_finds_its_text_once_in_the_pinned_sdk(sdk: str):
    try:
        sources = _sdk_sources(sdk)
    except DriverUnavailable as exc:
        pytest.skip(str(exc))
    for mutant in (m for m in catalogue.CATALOGUE if m.sdk == sdk):
        for relative, old, _new in mutant.edits:
            text = (sources / relative).read_text(encoding="utf-8")
            assert text.count(old) == 1, f"{mutant.id}: {relative} has {old!r} " \
                f"{text.count(old)} times"


@pytest.mark.drivers
def test_every_jar_patch_finds_its_method_in_the_pinned_sdk(tmp_path: Path):
    # All of them in one jar: JarPatcher stops on a patch whose class or method is missing.
    patches = [p for m in catalogue.CATALOGUE if m.sdk == "java" for p in m.edits]
    try:
        mutant = driver_mutants.java(tmp_path, patches)  # type: ignore[arg-type]
    except DriverUnavailable as exc:
        pytest.skip(str(exc))
    assert (mutant.directory / "driver.jar").is_file()


# Representative broken builds (one per patch kind or edit style the catalogue adds), each with
# the checks that catch it (at least one fails, none errs).
CAUGHT = [
    ("javascript-retry-after-ms-ignored", ("retries.retry-after",)),
    ("go-hint-5s-refused", ("retries.backoff", "retries.retry-after")),
    ("java-retry-after-ms-ignored", ("retries.retry-after",)),
    ("java-max-tokens-dropped", ("image-input.chat-doc-sample",)),
    # typed fields the result's raw JSON (Go) or Jackson view (Java) still had
    ("go-completion-id-not-decoded", ("chat.response-contract", "request-ids.parsed-object")),
    ("java-usage-total-zero", ("chat.response-contract",)),
]


@pytest.mark.drivers
@pytest.mark.slow
@pytest.mark.parametrize(("mutant_id", "check_ids"), CAUGHT)
def test_a_catalogued_broken_build_is_caught(suite: Suite, monkeypatch, tmp_path: Path,
                                            mutant_id: str, check_ids: tuple[str, ...]):
    mutant = catalogue.by_id(mutant_id)
    try:
        built = mutant.build(tmp_path / "mutant")
    except DriverUnavailable as exc:
        pytest.skip(f"{mutant.sdk} driver unavailable: {exc}")
    monkeypatch.setattr(driver_pool, "start", driver_mutants.pool_start(built))
    run = suite.run(*check_ids, args=(f"--conformance-sdk={mutant.sdk}",))
    verdicts = {c.id: c.verdict for c in run.results.checks if c.sdk == mutant.sdk}
    assert Verdict.FAIL in {verdicts.get(c) for c in check_ids}, run.outcome.stdout.str()
    assert Verdict.ERROR not in verdicts.values(), verdicts
    # Judged by the release the build says it is (a patched copy keeps its version).
    assert {c.sdk_version for c in run.results.checks if c.sdk == mutant.sdk} == {
        builder.pinned_version(mutant.sdk)}
